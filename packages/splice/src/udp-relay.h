// The native UDP flow path: a rule's listening UDP socket and its flows' connected upstream
// sockets, owned by the addon and driven by the thread's libuv loop. Datagrams move in batches
// (recvmmsg/sendmmsg) with no JS per datagram. JS keeps the decisions: it admits each new flow
// (max_flows, quota), picks and resolves its target, builds its PROXY v2 header, and hears in
// one call per loop wake which flows are new, which got their first reply, and which met an
// ICMP error. Caps are charged per datagram with the arithmetic of packages/qos.
#pragma once

#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay.h"
#include "udp-pacer.h"

namespace sluice {
namespace udp {

// Word offsets, within a counters row, of what the UDP path adds to (from packages/counters).
struct UdpFields {
  uint32_t packets_in = 0;
  uint32_t packets_out = 0;
  uint32_t bytes_in = 0;
  uint32_t bytes_out = 0;
  uint32_t datagrams_dropped = 0;
  uint32_t quota_rejected = 0;
  uint32_t receive_buffer_drops = 0;
};

// Datagrams a flow keeps until its target first replies (as udp-rule.ts's HELD_DATAGRAMS).
constexpr size_t kHeldDatagrams = 64;

class Listener;
struct ThreadUdp;

// What a loop wake tells JS about one flow.
struct FlowEvent {
  enum Kind { kNew, kAnswered, kError } kind;
  uint32_t flow;
  int err;  // kError: the errno
  std::string address;  // kNew: the client
  int port;
};

struct Flow {
  Listener* listener;
  uint32_t id;
  std::string key;
  sockaddr_storage client;
  socklen_t client_len;
  int fd = -1;
  uv_poll_t* poll = nullptr;
  bool open = false;        // JS admitted it and the upstream socket is connected
  bool holding = true;      // keeps what it sends until the target's first reply
  bool error_told = false;  // the upstream socket failed and JS was told
  bool charged = false;     // what it held while JS admitted it has been charged to the caps
  std::vector<std::string> held;
  std::string proxy_header;
  int64_t qos_owner = -1;
  uint64_t last_active_ms = 0;
  PaceState pace;
  // The kernel's drop count of `fd` (a full receive buffer) when last read.
  uint32_t drops_seen = 0;
};

class Listener {
 public:
  static int64_t Start(ThreadUdp* udp, const sockaddr_storage& addr, socklen_t len, uint32_t row,
                       const UdpFields& fields, int64_t qos_rule, int receive_buffer, napi_value on_events);
  // Ends every flow and closes the socket; JS hears nothing more.
  void Close();
  // (Re)connects a flow to a target and sends what it holds. 0 or -errno.
  int Open(uint32_t flow_id, const sockaddr_storage& target, socklen_t len, const std::string& header,
           int64_t qos_owner);
  void End(uint32_t flow_id);
  // Ends the flows idle since before `cutoff_ms` (loop time) and answers their ids.
  std::vector<uint32_t> Expire(uint64_t idle_ms);
  size_t flows() const { return by_id_.size(); }
  // Adds what the kernel dropped on every socket since the last read to the counters.
  void CountDrops();
  // The receive buffer the kernel granted the listening socket, in bytes of payload asked for.
  int GrantedReceiveBuffer() const;

  ThreadUdp* udp_;
  uint32_t id_ = 0;

 private:
  friend struct ThreadUdp;
  Listener(ThreadUdp* udp, uint32_t id) : udp_(udp), id_(id) {}
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnUpstream(uv_poll_t* handle, int status, int events);
  // Both answer how many datagrams they read.
  int ReadClients();
  int ReadUpstream(Flow* flow);
  // Charges one datagram to the caps; false: over budget (counted and dropped).
  bool Pass(Flow* flow, int dir, size_t bytes);
  void SendUpstream(Flow* flow, struct mmsghdr* msgs, unsigned n);
  void UpstreamFailed(Flow* flow, int err);
  void DropFlow(Flow* flow);
  // Counts the flow's socket's last drops and closes it.
  void CloseUpstream(Flow* flow);
  void FlushCounters();
  void Tell();

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  uint32_t row_ = 0;
  UdpFields fields_;
  int64_t qos_rule_ = -1;
  int receive_buffer_ = 0;
  uint32_t drops_seen_ = 0;
  PaceState pace_;
  Napi::FunctionReference on_events_;
  napi_async_context async_context_ = nullptr;
  std::unordered_map<std::string, Flow*> by_key_;
  std::unordered_map<uint32_t, Flow*> by_id_;
  uint32_t next_flow_ = 1;
  std::vector<FlowEvent> events_;
  // Counted during one wake, added to the shared counters once at its end.
  uint64_t count_[7] = {0, 0, 0, 0, 0, 0, 0};
  bool closed_ = false;
};

// The UDP path's share of one Node.js environment, freed by its own cleanup hook once every
// socket's poll handle has closed.
struct ThreadUdp {
  ThreadUdp(ThreadState* state_in) : state(state_in) {}
  ThreadState* state;
  napi_async_cleanup_hook_handle cleanup = nullptr;
  bool tearing_down = false;
  std::unordered_map<uint32_t, Listener*> listeners;
  uint32_t next_id = 1;
  int closing = 0;  // poll handles whose close callback is still due
  // Receive buffers shared by every socket of the thread: one batch at a time. Left
  // uninitialised (not a zero-filled vector): a page becomes resident only once a datagram lands
  // in it, so an idle UDP rule costs no RSS for its 2 MiB.
  std::unique_ptr<char[]> buffers;
  // UDP GSO (UDP_SEGMENT) for runs of equal datagrams to one target, until the kernel refuses it.
  bool gso = true;
  std::vector<char> gso_buffer;
  Pacer pacer;
  bool pacer_tried = false;

  uv_loop_t* loop() const { return state->loop; }
  // Gives the pacer its timer on first use; without one, every socket keeps its poll.
  void StartPacer();
  void ClosePoll(uv_poll_t* poll);
  static void OnPollClosed(uv_handle_t* handle);
  static void OnTeardown(napi_async_cleanup_hook_handle handle, void* arg);
  void MaybeFinish();
};

}  // namespace udp
}  // namespace sluice
