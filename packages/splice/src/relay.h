// The splice relay: two connected TCP sockets (duplicated descriptors) joined through kernel
// pipes, driven by the calling thread's libuv loop. No threads, no blocking calls.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "epoll-set.h"
#include "pipe-pool.h"
#include "qos-bucket.h"
#include "quota-budget.h"

namespace sluice {

class Relay;
namespace accept {
struct Registry;
}

// Who hears that a relay closed when no JS callback does: the native accept path collects
// these and tells JS in batches (accept-path.h).
class RelaySink {
 public:
  virtual void RelayClosed(uint32_t id, int reason, int err) = 0;

 protected:
  ~RelaySink() = default;
};

// Everything the addon holds for one Node.js environment (main thread or one worker). Created
// when the module is loaded into that environment; freed by the async cleanup hook once every
// relay's handles have closed. There is no per-process mutable state.
struct ThreadState {
  explicit ThreadState(napi_env env_in) : env(env_in) {}

  napi_env env;
  uv_loop_t* loop = nullptr;
  napi_async_cleanup_hook_handle cleanup = nullptr;
  bool tearing_down = false;

  // init(): the counters words and where the byte and throttle fields sit in a row. The offsets
  // come from the one JS layout (packages/counters) through init(); relay() refuses to run
  // before it, so these zeros are never used as offsets.
  Napi::ObjectReference counters_ref;
  int64_t* counters = nullptr;
  size_t counter_words = 0;
  uint32_t field_in = 0;
  uint32_t field_out = 0;
  uint32_t field_throttled[2] = {0, 0};  // ns a direction waited for tokens (in, out)
  uint32_t field_urgent = 0;             // urgent (MSG_OOB) bytes skipped, both directions
  uint32_t field_pipe_waits = 0;         // times a direction had to wait for a pipe

  // init(): the QoS buffer (null: no caps on this thread), where each direction's bandwidth
  // bucket sits in an entity, and a bucket's word layout.
  Napi::ObjectReference qos_ref;
  int64_t* qos = nullptr;
  size_t qos_words = 0;
  uint32_t qos_bandwidth[2] = {0, 0};  // in, out: from init(), i.e. packages/qos's layout
  qos::BucketLayout bucket;
  quota::QuotaLayout quota;  // where an owner entity keeps its monthly quota

  // SharedArrayBuffer.prototype's `growable` getter, taken when the module loads: init() asks
  // it of a buffer (a brand check too: it throws for anything but a SharedArrayBuffer), so a
  // caller's own property or a later change to the prototype cannot answer for the buffer.
  Napi::FunctionReference sab_growable;
  // relay() calls under way (a getter among one's arguments may call relay() again): while any
  // runs, init() must not change the state its arguments are checked against.
  int relay_calls = 0;
  PipePool pipes;
  // Every relayed socket and connect attempt of this thread is watched here (epoll-set.h).
  EpollSet sockets;

  // Open relays by id (a relay leaves the map when it starts closing), and every Relay object
  // still allocated, open or with libuv handles still closing.
  std::unordered_map<uint32_t, Relay*> relays;
  std::unordered_set<Relay*> allocated;
  uint32_t next_id = 1;

  // The native accept path's listeners, connects and groups (accept-path.cc), and how many of
  // their libuv handles are still open: teardown waits for those as for the relays.
  accept::Registry* accept = nullptr;
  int accept_handles = 0;

  bool sockets_closed = false;

  static void OnTeardown(napi_async_cleanup_hook_handle handle, void* arg);
  static void OnSocketsClosed(void* arg);
  void MaybeFinishTeardown();
};

// The options a relayed socket runs with: no Nagle delay, and an abortive close until the stream
// has ended whole. Set on a listening socket, they come with every socket it accepts (Linux).
void PrepareRelaySocket(int fd);

enum class CloseReason { kEof, kClientReset, kUpstreamReset, kError, kIdleTimeout, kDestroyed, kUnsupported, kQuotaExhausted };

const char* CloseReasonName(CloseReason reason);

class Relay {
 public:
  enum Side { kClient = 0, kUpstream = 1 };
  enum Dir { kIn = 0, kOut = 1 };  // in = client -> upstream, out = upstream -> client

  // Returns the relay id (> 0), or -errno when nothing was taken over: either the descriptors
  // could not be duplicated, or splice(2) is not supported on these sockets (EINVAL, ENOSYS,
  // EOPNOTSUPP) and no byte has left them, so the caller can still use its own sockets.
  // qos_owner / qos_rule: the first word of the connection's owner and rule entities in the
  // QoS buffer, or -1 for none.
  static int64_t Start(ThreadState* state, int client_fd, int upstream_fd, uint32_t row,
                       uint64_t half_close_ms, int64_t qos_owner, int64_t qos_rule, napi_value on_close);
  // As Start, for descriptors the caller hands over (the native accept path's own), already
  // prepared (PrepareRelaySocket): the relay owns them from here, whatever it returns, and tells
  // `sink` (not JS) when it closes.
  static int64_t Adopt(ThreadState* state, int client_fd, int upstream_fd, uint32_t row, uint64_t half_close_ms,
                       int64_t qos_owner, int64_t qos_rule, RelaySink* sink);

  // destroy(id): close both sides now (drain timeout, rule removed).
  void Destroy() { Finish(CloseReason::kDestroyed, 0); }
  // The owner's quota ran out while this relay sat idle: read no more, deliver what was read,
  // then reset (kQuotaExhausted), as a relay that meets the spent quota in a read does.
  void CutForQuota();
  // Environment teardown: close everything (if not closing already), call nothing, and drop the
  // JS callback while the environment can still take it.
  void Abandon();

 private:
  struct Direction {
    int src = 0;  // Side
    int dst = 0;  // Side
    Pipe pipe;
    bool has_pipe = false;
    size_t in_pipe = 0;      // bytes spliced into the pipe, not yet out of it
    bool src_eof = false;    // splice from src returned 0
    bool ended = false;      // drained after EOF and shutdown(dst, SHUT_WR) done
    bool wait_read = false;  // waiting for src readable (pipe empty, splice said EAGAIN)
    bool wait_write = false; // waiting for dst writable (pipe holds bytes)
    uint64_t total = 0;      // bytes written to dst
    uint64_t unflushed = 0;  // bytes not yet added to the counters
    size_t counter_word = 0;
    size_t throttle_word = 0;
    // Bandwidth caps: tokens granted for the splice in progress (refunded if it moves less),
    // and, while out of tokens, since when and until when (loop time, ms) it waits.
    uint64_t granted = 0;
    bool granted_owner = false;
    bool granted_rule = false;
    // The owner's monthly quota: bytes taken for the splice in progress (refunded likewise).
    uint64_t quota_granted = 0;
    bool throttled = false;
    uint64_t throttled_since_ns = 0;
    uint64_t wake_at_ms = 0;
    // No pipe could be had (out of descriptors or memory): the source is not polled and the
    // bytes wait in its socket buffer until the retry at wake_at_ms, after retry_ms.
    bool pipe_wait = false;
    uint64_t retry_ms = 0;
  };

  Relay(ThreadState* state, uint32_t id);
  static int64_t Begin(ThreadState* state, const int fds[2], uint32_t row, uint64_t half_close_ms,
                       int64_t qos_owner, int64_t qos_rule, napi_value on_close, RelaySink* sink);
  ~Relay();

  // The most bytes direction `dir` may read with its next splice: one full pipe when neither
  // the owner nor the rule caps it, otherwise the tokens both buckets grant. 0 means "out of
  // tokens for *wait_ns"; Settle() must follow every non-zero allowance.
  size_t Allowance(int dir, int64_t* wait_ns);
  void Settle(int dir, size_t used);
  // Up to `want` bytes from the owner's monthly quota (all of them when it has none); 0: spent.
  size_t TakeQuota(int dir, size_t want);
  int64_t* Bucket(int64_t entity, int dir) const;
  void Throttle(int dir, int64_t wait_ns);
  void WaitForPipe(int dir);
  // Skips the urgent byte when `src` is at the urgent mark (splice stops there): 1 when it did
  // (any ordinary byte read with it is in the pipe), 0 when not at the mark, -errno.
  int SkipUrgent(int dir);
  // Adds to counters word `word` (a row plus a field), if init() gave counters.
  void AddCounter(size_t word, uint64_t value);
  // Bytes wait in a pipe, for a pipe, or in a socket's send queue: the pair is not idle.
  bool InFlight() const;
  // One timer serves the half-close idle deadline and every throttled direction's wake-up.
  void ArmTimer();

  // Moves bytes for one direction until the kernel says EAGAIN or a per-wake budget is spent.
  // Returns 0, or -errno with *failed_side set to the side whose descriptor failed (-1: local).
  int Pump(int dir, int* failed_side);
  void ReleasePipe(Direction& d);
  void EndDirection(int dir);
  void Account(Direction& d, size_t bytes);
  void FlushCounters();
  void UpdatePolls();
  void Fail(int side, int err);
  void Finish(CloseReason reason, int err);
  void Run(bool pump_in, bool pump_out);

  static void OnReady(Watch* watch, uint32_t events);
  static void OnTimer(uv_timer_t* handle);
  static void OnHandleClosed(uv_handle_t* handle);
  void Complete();
  void CallOnClose();

  ThreadState* state_;
  uint32_t id_;
  int fd_[2] = {-1, -1};
  Watch watch_[2];
  uv_timer_t timer_;
  uint64_t timer_due_ = 0;   // loop time (ms) the timer is set for; 0 = not set
  bool half_closed_ = false; // one direction ended: the idle deadline runs
  // The owner's quota ran out: nothing more is read, what was read and counted is delivered,
  // then the pair is reset (kQuotaExhausted). Waits at most kQuotaDrainMs for a slow reader.
  bool quota_spent_ = false;
  uint64_t quota_spent_at_ms_ = 0;
  Direction dir_[2];
  uint64_t half_close_ms_ = 0;
  int64_t qos_owner_ = -1;
  int64_t qos_rule_ = -1;
  uint64_t last_activity_ = 0;
  uint32_t row_ = 0;
  bool any_read_ = false;  // some byte has left a socket (fallback is no longer possible)
  bool closing_ = false;
  bool silent_ = false;    // close without calling onClose
  CloseReason reason_ = CloseReason::kEof;
  int errno_ = 0;
  Napi::FunctionReference on_close_;
  RelaySink* sink_ = nullptr;  // set instead of on_close_ for adopted pairs
  // Each relay's own async context, made in relay(): onClose runs in the async context (and the
  // AsyncLocalStorage stores) of the relay() call that started it.
  napi_async_context async_context_ = nullptr;
  void DestroyAsyncContext();
};

}  // namespace sluice
