// The native connection path: a rule's listening sockets accepted with accept4(2) in a loop,
// admission asked of JS once per batch, the upstream connected non-blocking (trying targets in
// the order JS gives, with a connect timeout), and the pair handed to a splice Relay. What JS
// must hear (connects that failed or succeeded, accept errors, connections that ended) is
// collected and told once per loop turn. No thread, no blocking call.
#pragma once

#include <napi.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "relay.h"

namespace sluice {
namespace accept {

// Event records told to JS: kEventWords int32 each, [kind, a, b, c].
enum EventKind : int32_t {
  kClosed = 1,         // a = owner entity, b = CloseReason (or kNoRelay), c = errno
  kConnectFailed = 2,  // a = target index, b = errno
  kConnected = 3,      // a = target index, b = attempt (0: the first target tried)
  kAcceptFailed = 4,   // a = errno (the host ran out of descriptors or memory)
};
constexpr int32_t kNoRelay = -1;  // kClosed before a relay ran: nothing to report as a failure
constexpr size_t kEventWords = 4;

// Verdicts JS writes for each accepted connection (else the owner entity it was admitted under).
constexpr int32_t kRefuse = -1;  // reset it
constexpr int32_t kTakenByJs = -2;  // JS wrapped the descriptor in a socket of its own

struct Target {
  sockaddr_storage addr;
  socklen_t len = 0;
};
using Targets = std::shared_ptr<const std::vector<Target>>;

// Parses an IP literal and port; false when `host` is not one.
bool ParseAddress(const std::string& host, uint32_t port, Target* out);

struct Group;

struct Listener {
  Group* group = nullptr;
  uint32_t id = 0;
  int fd = -1;
  uv_poll_t poll;
  // Accepting waits on this timer instead of spinning: out of descriptors or memory (backing off,
  // pause_ms doubling up to kMaxPauseMs), or at the edge's connection limit (connections wait in
  // the kernel's backlog meanwhile).
  uv_timer_t pause;
  uint64_t pause_ms = 0;  // the last pause for exhaustion; 0 after a connection was taken
  bool at_limit = false;  // paused for the edge's limit, and no connection taken since
  int open_handles = 0;
  bool closing = false;
  Targets targets;
};

struct Connect;

// One rule on this thread: its listeners, its connections being set up and relayed, and the
// JS callbacks and arrays it talks through.
struct Group final : RelaySink {
  ThreadState* state = nullptr;
  uint32_t id = 0;
  uint32_t row = 0;
  int64_t qos_rule = -1;
  uint64_t half_close_ms = 0;
  uint64_t connect_timeout_ms = 0;

  Napi::FunctionReference on_accept;  // (listenerId, count) => void: fills verdicts and order
  Napi::FunctionReference on_events;  // (records) => void: reads events
  Napi::ObjectReference verdicts_ref;
  int32_t* verdicts = nullptr;  // [0, batch): verdicts; [batch, 2 batch): the descriptors
  size_t batch = 0;
  Napi::ObjectReference order_ref;
  int32_t* order = nullptr;  // [count, index...]: the target order for the batch just admitted
  size_t order_len = 0;
  Napi::ObjectReference events_ref;
  int32_t* events = nullptr;
  size_t events_len = 0;
  napi_async_context async_context = nullptr;

  std::vector<int32_t> pending_events;
  uv_timer_t flush;
  bool flush_open = false;
  std::unordered_set<Listener*> listeners;
  std::unordered_set<Connect*> connects;
  std::unordered_map<uint32_t, int64_t> relays;  // relay id -> owner entity
  int live = 0;  // listeners and connects not yet freed, and the flush timer
  bool disposed = false;

  void Emit(int32_t kind, int32_t a, int32_t b, int32_t c);
  void RelayClosed(uint32_t id, int reason, int err) override;
  void MaybeFree();
};

// The edge's connection budget (core's edge-connections.ts, an Int32Array over a
// SharedArrayBuffer every shard maps): a connection is accepted only into a place taken here
// first. JS gives the place back when the connection ends.
struct Budget {
  Napi::ObjectReference ref;
  int32_t* words = nullptr;
  uint32_t limit = 0;  // word: the most connections the edge holds (0: no limit)
  uint32_t open = 0;   // word: connections the edge holds now
  uint32_t reached = 0;  // word: times a listener paused at the limit
  uint32_t mine = 0;   // word: those this thread holds (the supervisor forgets them if it dies)
};

struct Registry {
  std::unordered_map<uint32_t, Group*> groups;
  std::unordered_map<uint32_t, Listener*> listeners;
  uint32_t next_group = 1;
  uint32_t next_listener = 1;
  Budget budget;
};

// Takes a place in the budget for one connection: false when the edge holds its limit (counted
// in `reached` by the caller, once per pause).
bool TakePlace(Registry* reg);
void GivePlace(Registry* reg);

Registry* RegistryOf(ThreadState* state);

// Creates a group; `verdicts` holds 2 x batch words, `order` 1 + the most targets a rule has.
Group* CreateGroup(ThreadState* state, napi_value on_accept, napi_value on_events, Napi::Int32Array verdicts,
                   Napi::Int32Array order, Napi::Int32Array events);
// Binds and listens (SO_REUSEPORT); answers the listener id (> 0) or -errno.
int64_t Listen(Group* group, const Target& address, Targets targets);
void CloseListener(Listener* listener);
// Every connection of the group: closed now (owner < 0), or cut for its spent quota.
void DestroyConnections(Group* group, int64_t owner);
// Tears down every listener and connect of the thread (the environment is going away).
void Teardown(ThreadState* state);
// The N-API functions of this path, added to the addon's exports.
void Register(Napi::Env env, Napi::Object exports, ThreadState* state);

}  // namespace accept
}  // namespace sluice
