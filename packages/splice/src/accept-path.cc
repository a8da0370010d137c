#include "accept-path.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice {
namespace accept {

namespace {

// How long a listener rests after the host ran out of descriptors or memory for a new one: the
// first pause, doubled on each failure in a row up to the last. Waiting connections stay in the
// kernel's backlog meanwhile (libuv's way, accepting and closing them, is what this avoids).
constexpr uint64_t kFirstPauseMs = 10;
constexpr uint64_t kMaxPauseMs = 1000;
// How often a listener at the edge's connection limit looks again for a place (another shard's
// connection may have ended: no message crosses threads for that).
constexpr uint64_t kLimitRecheckMs = 10;
// Batches one readable listener takes before it lets the rest of the loop run.
constexpr int kBatchesPerWake = 4;

bool IsExhausted(int err) { return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS; }

void ResetAndClose(int fd) {
  struct linger lg;
  lg.l_onoff = 1;
  lg.l_linger = 0;
  (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  (void)close(fd);
}

// Calls a JS function from the loop (not from inside a JS call): its own scope, and
// napi_make_callback so microtasks run after it as after any I/O callback. A throw becomes an
// uncaught exception, as an event handler's would.
void CallJs(Group* g, Napi::FunctionReference& fn, size_t argc, const napi_value* argv) {
  napi_env env = g->state->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value global = nullptr;
  napi_value callback = nullptr;
  if (g->async_context != nullptr && napi_get_global(env, &global) == napi_ok &&
      napi_get_reference_value(env, static_cast<napi_ref>(fn), &callback) == napi_ok && callback != nullptr) {
    napi_value ignored;
    if (napi_make_callback(env, g->async_context, global, callback, argc, argv, &ignored) != napi_ok) {
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
        napi_value error;
        if (napi_get_and_clear_last_exception(env, &error) == napi_ok) (void)napi_fatal_exception(env, error);
      }
    }
  }
  (void)napi_close_handle_scope(env, scope);
}

void OnListenerReadable(uv_poll_t* handle, int status, int events);

}  // namespace

// One connection from accept until its relay starts (or it gives up).
struct Connect {
  Group* group = nullptr;
  int client_fd = -1;
  int fd = -1;  // the upstream attempt under way
  int64_t owner = -1;
  Targets targets;
  std::vector<int32_t> order;
  size_t attempt = 0;
  Watch watch;  // the attempt under way, while its connect is in progress
  uv_timer_t timer;
  int open_handles = 0;
  bool done = false;

  void TryNext();
  void Succeeded();
  void AttemptFailed(int err);
  void DropAttempt();
  void Finish(int32_t reason);
};

namespace {

void CountHandle(ThreadState* state) { state->accept_handles++; }

void OnFlushClosed(uv_handle_t* handle) {
  Group* g = static_cast<Group*>(handle->data);
  ThreadState* state = g->state;
  g->live--;
  g->MaybeFree();
  state->accept_handles--;
  state->MaybeFinishTeardown();
}

void OnListenerHandleClosed(uv_handle_t* handle) {
  Listener* l = static_cast<Listener*>(handle->data);
  ThreadState* state = l->group->state;
  if (--l->open_handles == 0) {
    Group* g = l->group;
    delete l;
    g->live--;
    g->MaybeFree();
  }
  state->accept_handles--;
  state->MaybeFinishTeardown();
}

void OnConnectTimerClosed(uv_handle_t* handle) {
  Connect* c = static_cast<Connect*>(handle->data);
  ThreadState* state = c->group->state;
  Group* g = c->group;
  if (--c->open_handles == 0) {
    delete c;
    g->live--;
    g->MaybeFree();
  }
  state->accept_handles--;
  state->MaybeFinishTeardown();
}

void OnFlush(uv_timer_t* timer) {
  Group* g = static_cast<Group*>(timer->data);
  if (g->state->tearing_down) return;
  // JS may hear of more while it reads these (it never does today): loop until none are left.
  while (!g->pending_events.empty()) {
    size_t words = std::min(g->pending_events.size(), g->events_len - g->events_len % kEventWords);
    std::memcpy(g->events, g->pending_events.data(), words * sizeof(int32_t));
    g->pending_events.erase(g->pending_events.begin(), g->pending_events.begin() + static_cast<long>(words));
    napi_env env = g->state->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value count = nullptr;
    if (napi_create_uint32(env, static_cast<uint32_t>(words / kEventWords), &count) == napi_ok) {
      CallJs(g, g->on_events, 1, &count);
    }
    (void)napi_close_handle_scope(env, scope);
  }
  g->MaybeFree();
}

void OnConnectReady(Watch* watch, uint32_t events) {
  Connect* c = static_cast<Connect*>(watch->owner);
  if (c->done) return;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0 && (events & EPOLLERR)) err = EIO;
  if (err != 0) {
    c->AttemptFailed(err);
  } else {
    c->Succeeded();
  }
}

void OnConnectTimeout(uv_timer_t* timer) {
  Connect* c = static_cast<Connect*>(timer->data);
  if (!c->done) c->AttemptFailed(ETIMEDOUT);
}

void StartConnect(Group* g, Listener* l, int client_fd, int64_t owner) {
  Connect* c = new Connect();
  c->group = g;
  c->client_fd = client_fd;
  c->owner = owner;
  c->targets = l->targets;
  int32_t count = g->order_len > 0 ? g->order[0] : 0;
  for (int32_t i = 0; i < count && static_cast<size_t>(i) + 1 < g->order_len; i++) c->order.push_back(g->order[i + 1]);
  if (uv_timer_init(g->state->loop, &c->timer) != 0) {
    delete c;
    ResetAndClose(client_fd);
    g->Emit(kClosed, static_cast<int32_t>(owner), kNoRelay, 0);
    return;
  }
  c->timer.data = c;
  c->open_handles = 1;
  CountHandle(g->state);
  g->connects.insert(c);
  g->live++;
  c->TryNext();
}

// A non-blocking connect to a near target (loopback above all) has often finished by the time
// connect() returns EINPROGRESS: asking again says so in one call (0 once established, the
// connect's errno once it failed, EALREADY while under way), and saves watching the socket.
// Answers 0 (connected), the connect's errno, or EINPROGRESS.
int ConnectedYet(int fd, const Target& t) {
  if (connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len) == 0) return 0;
  int err = errno;
  if (err == EISCONN) return 0;
  if (err == EALREADY || err == EINPROGRESS) return EINPROGRESS;
  return err;
}

// Stops watching the listener for `ms`; then it is watched again (and, if still full or out of
// descriptors, pauses again). Connections that arrive meanwhile wait in the kernel's backlog.
void PauseAccepting(Listener* l, uint64_t ms) {
  if (l->closing) return;
  uv_poll_stop(&l->poll);
  uv_timer_start(&l->pause, [](uv_timer_t* t) {
    Listener* self = static_cast<Listener*>(t->data);
    if (!self->closing) uv_poll_start(&self->poll, UV_READABLE, OnListenerReadable);
  }, ms, 0);
}

// Accepts up to one batch, asks JS for the verdicts, and acts on them; false when the listener
// has nothing more waiting (or stopped, or paused).
bool AcceptBatch(Listener* l) {
  Group* g = l->group;
  Registry* reg = RegistryOf(g->state);
  size_t n = 0;
  bool more = true;
  while (n < g->batch) {
    if (!TakePlace(reg)) {
      // The edge holds its limit: the rest wait in the backlog until a place frees.
      if (!l->at_limit) __atomic_fetch_add(reg->budget.words + reg->budget.reached, 1, __ATOMIC_SEQ_CST);
      l->at_limit = true;
      more = false;
      PauseAccepting(l, kLimitRecheckMs);
      break;
    }
    l->at_limit = false;
    int fd = accept4(l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      // Prepared for the relay (PrepareRelaySocket) by the listener's own options (Listen).
      g->verdicts[g->batch + n] = fd;
      n++;
      l->pause_ms = 0;
      continue;
    }
    int err = errno;
    GivePlace(reg);
    if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
    more = false;
    // accept4 takes a descriptor before it looks at the queue: with connections already taken
    // in this batch, running out says nothing about a waiting one (their connects count it).
    if (IsExhausted(err) && n > 0) break;
    if (err != EAGAIN && err != EWOULDBLOCK) {
      g->Emit(kAcceptFailed, err, 0, 0);
      if (IsExhausted(err)) {
        l->pause_ms = l->pause_ms == 0 ? kFirstPauseMs : std::min(l->pause_ms * 2, kMaxPauseMs);
        PauseAccepting(l, l->pause_ms);
      }
    }
    break;
  }
  if (n == 0) return false;
  std::vector<int> fds(n);
  for (size_t i = 0; i < n; i++) {
    fds[i] = g->verdicts[g->batch + i];
    g->verdicts[i] = kRefuse;
  }
  napi_env env = g->state->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value argv[2] = {nullptr, nullptr};
    if (napi_create_uint32(env, l->id, &argv[0]) == napi_ok &&
        napi_create_uint32(env, static_cast<uint32_t>(n), &argv[1]) == napi_ok) {
      CallJs(g, g->on_accept, 2, argv);
    }
    (void)napi_close_handle_scope(env, scope);
  }
  const int64_t qos_words = static_cast<int64_t>(g->state->qos_words);
  for (size_t i = 0; i < n; i++) {
    int32_t verdict = g->verdicts[i];
    if (verdict == kTakenByJs) continue;
    // An owner entity outside the QoS buffer would have the relay write outside it: refused.
    bool admitted = verdict >= 0 && g->state->qos != nullptr && verdict + 16 <= qos_words;
    if (!admitted || g->state->tearing_down) {
      ResetAndClose(fds[i]);
      if (verdict >= 0) g->Emit(kClosed, verdict, kNoRelay, 0);
      continue;
    }
    StartConnect(g, l, fds[i], verdict);
  }
  return more && !l->closing;
}

void OnListenerReadable(uv_poll_t* handle, int status, int events) {
  Listener* l = static_cast<Listener*>(handle->data);
  for (int i = 0; i < kBatchesPerWake && !l->closing && AcceptBatch(l); i++) {
  }
}

}  // namespace

void Connect::TryNext() {
  Group* g = group;
  while (attempt < order.size()) {
    int32_t index = order[attempt];
    if (index < 0 || static_cast<size_t>(index) >= targets->size()) {
      attempt++;
      continue;
    }
    const Target& t = (*targets)[static_cast<size_t>(index)];
    fd = socket(t.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      int err = errno;
      if (IsExhausted(err)) {
        // This host, not the target, is out of descriptors or memory.
        g->Emit(kAcceptFailed, err, 0, 0);
        Finish(kNoRelay);
        return;
      }
      g->Emit(kConnectFailed, index, err, 0);
      attempt++;
      continue;
    }
    PrepareRelaySocket(fd);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len) == 0) {
      Succeeded();
      return;
    }
    int err = errno;
    if (err == EINPROGRESS) err = ConnectedYet(fd, t);
    if (err == 0) {
      Succeeded();
      return;
    }
    if (IsExhausted(err)) {
      close(fd);
      fd = -1;
      g->Emit(kAcceptFailed, err, 0, 0);
      Finish(kNoRelay);
      return;
    }
    if (err == EINPROGRESS) {
      watch.ready = OnConnectReady;
      watch.owner = this;
      watch.fd = fd;
      int watch_err = g->state->sockets.Set(g->state->loop, &watch, EPOLLOUT);
      if (watch_err != 0) {
        close(fd);
        fd = -1;
        g->Emit(kAcceptFailed, -watch_err, 0, 0);
        Finish(kNoRelay);
        return;
      }
      if (g->connect_timeout_ms > 0) uv_timer_start(&timer, OnConnectTimeout, g->connect_timeout_ms, 0);
      return;
    }
    close(fd);
    fd = -1;
    g->Emit(kConnectFailed, index, err, 0);
    attempt++;
  }
  Finish(kNoRelay);
}

void Connect::DropAttempt() {
  uv_timer_stop(&timer);
  // Out of the set before its descriptor is closed or handed to the relay, which watches it anew.
  (void)group->state->sockets.Set(group->state->loop, &watch, 0);
}

void Connect::AttemptFailed(int err) {
  DropAttempt();
  close(fd);
  fd = -1;
  if (IsExhausted(err)) {
    // The kernel had no memory or buffers for the attempt: this host's shortage, not the target's.
    group->Emit(kAcceptFailed, err, 0, 0);
    Finish(kNoRelay);
    return;
  }
  group->Emit(kConnectFailed, order[attempt], err, 0);
  attempt++;
  TryNext();
}

void Connect::Succeeded() {
  Group* g = group;
  DropAttempt();
  g->Emit(kConnected, order[attempt], static_cast<int32_t>(attempt), 0);
  int upstream = fd;
  int client = client_fd;
  fd = -1;
  client_fd = -1;
  int64_t id = Relay::Adopt(g->state, client, upstream, g->row, g->half_close_ms, owner, g->qos_rule, g);
  if (id < 0) {
    g->Emit(kClosed, static_cast<int32_t>(owner), static_cast<int32_t>(CloseReason::kError), static_cast<int32_t>(-id));
  } else {
    g->relays.emplace(static_cast<uint32_t>(id), owner);
  }
  done = true;
  g->connects.erase(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), OnConnectTimerClosed);
}

void Connect::Finish(int32_t reason) {
  Group* g = group;
  DropAttempt();
  if (fd >= 0) ResetAndClose(fd);
  fd = -1;
  if (client_fd >= 0) ResetAndClose(client_fd);
  client_fd = -1;
  g->Emit(kClosed, static_cast<int32_t>(owner), reason, 0);
  done = true;
  g->connects.erase(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), OnConnectTimerClosed);
}

void Group::Emit(int32_t kind, int32_t a, int32_t b, int32_t c) {
  if (state->tearing_down) return;
  pending_events.insert(pending_events.end(), {kind, a, b, c});
  if (flush_open && !uv_is_active(reinterpret_cast<uv_handle_t*>(&flush))) uv_timer_start(&flush, OnFlush, 0, 0);
}

void Group::RelayClosed(uint32_t id, int reason, int err) {
  auto it = relays.find(id);
  if (it == relays.end()) return;
  int64_t owner = it->second;
  relays.erase(it);
  Emit(kClosed, static_cast<int32_t>(owner), reason, err);
  MaybeFree();
}

void Group::MaybeFree() {
  if (!disposed || !listeners.empty() || !connects.empty() || !relays.empty() || !pending_events.empty()) return;
  if (flush_open) {
    flush_open = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&flush), OnFlushClosed);
    return;
  }
  if (live > 0) return;
  Registry* reg = RegistryOf(state);
  reg->groups.erase(id);
  if (state->tearing_down && reg->groups.empty()) {
    delete reg;
    state->accept = nullptr;
  }
  if (!state->tearing_down) {
    on_accept.Reset();
    on_events.Reset();
    verdicts_ref.Reset();
    order_ref.Reset();
    events_ref.Reset();
    if (async_context != nullptr) (void)napi_async_destroy(state->env, async_context);
  }
  delete this;
}

bool TakePlace(Registry* reg) {
  Budget& b = reg->budget;
  if (b.words == nullptr) return true;
  int32_t limit = __atomic_load_n(b.words + b.limit, __ATOMIC_SEQ_CST);
  int32_t before = __atomic_fetch_add(b.words + b.open, 1, __ATOMIC_SEQ_CST);
  if (limit > 0 && before >= limit) {
    __atomic_fetch_sub(b.words + b.open, 1, __ATOMIC_SEQ_CST);
    return false;
  }
  __atomic_fetch_add(b.words + b.mine, 1, __ATOMIC_SEQ_CST);
  return true;
}

void GivePlace(Registry* reg) {
  Budget& b = reg->budget;
  if (b.words == nullptr) return;
  __atomic_fetch_sub(b.words + b.mine, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_sub(b.words + b.open, 1, __ATOMIC_SEQ_CST);
}

Registry* RegistryOf(ThreadState* state) {
  if (state->accept == nullptr) state->accept = new Registry();
  return state->accept;
}

bool ParseAddress(const std::string& host, uint32_t port, Target* out) {
  std::memset(&out->addr, 0, sizeof out->addr);
  if (port > 65535) return false;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out->addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out->addr);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

Group* CreateGroup(ThreadState* state, napi_value on_accept, napi_value on_events, Napi::Int32Array verdicts,
                   Napi::Int32Array order, Napi::Int32Array events) {
  Registry* reg = RegistryOf(state);
  Group* g = new Group();
  g->state = state;
  if (uv_timer_init(state->loop, &g->flush) != 0) {
    delete g;
    return nullptr;
  }
  g->flush.data = g;
  g->flush_open = true;
  g->live = 1;
  CountHandle(state);
  do {
    g->id = reg->next_group++;
    if (reg->next_group > 0x7fffffffu) reg->next_group = 1;
  } while (reg->groups.count(g->id) != 0);
  reg->groups.emplace(g->id, g);
  g->on_accept = Napi::Persistent(Napi::Function(state->env, on_accept));
  g->on_events = Napi::Persistent(Napi::Function(state->env, on_events));
  g->verdicts_ref = Napi::Persistent(verdicts.As<Napi::Object>());
  g->verdicts = verdicts.Data();
  g->batch = verdicts.ElementLength() / 2;
  g->order_ref = Napi::Persistent(order.As<Napi::Object>());
  g->order = order.Data();
  g->order_len = order.ElementLength();
  g->events_ref = Napi::Persistent(events.As<Napi::Object>());
  g->events = events.Data();
  g->events_len = events.ElementLength();
  napi_value name = nullptr;
  if (napi_create_string_utf8(state->env, "sluice:splice:accept", NAPI_AUTO_LENGTH, &name) == napi_ok) {
    (void)napi_async_init(state->env, nullptr, name, &g->async_context);
  }
  return g;
}

int64_t Listen(Group* g, const Target& address, Targets targets) {
  Registry* reg = RegistryOf(g->state);
  int fd = socket(address.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.len) != 0 || listen(fd, 4096) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  // Each accepted socket inherits these, so none costs the relay two setsockopt calls. The
  // listener's own abortive close is harmless: closing a listener resets its queue anyway.
  PrepareRelaySocket(fd);
  Listener* l = new Listener();
  l->group = g;
  l->fd = fd;
  l->targets = std::move(targets);
  if (uv_poll_init(g->state->loop, &l->poll, fd) != 0) {
    close(fd);
    delete l;
    return -ENOMEM;
  }
  l->poll.data = l;
  l->open_handles = 1;
  CountHandle(g->state);
  (void)uv_timer_init(g->state->loop, &l->pause);
  l->pause.data = l;
  l->open_handles++;
  CountHandle(g->state);
  do {
    l->id = reg->next_listener++;
    if (reg->next_listener > 0x7fffffffu) reg->next_listener = 1;
  } while (reg->listeners.count(l->id) != 0);
  reg->listeners.emplace(l->id, l);
  g->listeners.insert(l);
  g->live++;
  uv_poll_start(&l->poll, UV_READABLE, OnListenerReadable);
  return l->id;
}

void CloseListener(Listener* l) {
  if (l->closing) return;
  l->closing = true;
  RegistryOf(l->group->state)->listeners.erase(l->id);
  l->group->listeners.erase(l);
  uv_close(reinterpret_cast<uv_handle_t*>(&l->poll), OnListenerHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&l->pause), OnListenerHandleClosed);
  close(l->fd);
  l->fd = -1;
}

void DestroyConnections(Group* g, int64_t owner) {
  std::vector<uint32_t> ids;
  for (const auto& [id, relay_owner] : g->relays) {
    if (owner < 0 || relay_owner == owner) ids.push_back(id);
  }
  for (uint32_t id : ids) {
    auto it = g->state->relays.find(id);
    if (it == g->state->relays.end()) continue;
    if (owner < 0) {
      it->second->Destroy();
    } else {
      it->second->CutForQuota();
    }
  }
  std::vector<Connect*> connects;
  for (Connect* c : g->connects) {
    if (owner < 0 || c->owner == owner) connects.push_back(c);
  }
  for (Connect* c : connects) {
    c->Finish(owner < 0 ? kNoRelay : static_cast<int32_t>(CloseReason::kQuotaExhausted));
  }
}

void Teardown(ThreadState* state) {
  if (state->accept == nullptr) return;
  Registry* reg = state->accept;
  reg->budget.ref.Reset();
  reg->budget.words = nullptr;
  std::vector<Group*> groups;
  for (const auto& [id, g] : reg->groups) groups.push_back(g);
  for (Group* g : groups) {
    g->on_accept.Reset();
    g->on_events.Reset();
    g->verdicts_ref.Reset();
    g->order_ref.Reset();
    g->events_ref.Reset();
    if (g->async_context != nullptr) (void)napi_async_destroy(state->env, g->async_context);
    g->async_context = nullptr;
    g->disposed = true;
    g->pending_events.clear();
    g->relays.clear();  // the relays themselves were abandoned before this
    std::vector<Listener*> listeners(g->listeners.begin(), g->listeners.end());
    for (Listener* l : listeners) CloseListener(l);
    std::vector<Connect*> connects(g->connects.begin(), g->connects.end());
    for (Connect* c : connects) c->Finish(kNoRelay);
    g->MaybeFree();
  }
  if (state->accept != nullptr && state->accept->groups.empty()) {
    delete state->accept;
    state->accept = nullptr;
  }
}

}  // namespace accept
}  // namespace sluice
