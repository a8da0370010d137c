#include "relay.h"

#include "accept-path.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <vector>

namespace sluice {

namespace {

// Counters advance at least this often on a long flow (DESIGN.md: "at least every 64 KiB").
constexpr uint64_t kCounterFlushBytes = 64 * 1024;
// Bytes one direction may move per loop wake-up before it yields to the rest of the loop. The
// poll is level-triggered, so a direction that stops early is woken again on the next turn.
constexpr size_t kBytesPerWake = 4 << 20;
// A throttled direction wakes at least this often, so a cap raised or removed by a reload
// takes effect within this long even after a long computed wait.
constexpr int64_t kMaxThrottleWaitNs = 1000000000;
// A direction that could not get a pipe (the process or the system is out of descriptors, or
// the kernel out of memory) retries after this long, doubling up to the maximum. Its bytes wait
// in the socket's receive buffer meanwhile, and the sender sees backpressure, not a reset.
constexpr uint64_t kPipeRetryFirstMs = 10;
constexpr uint64_t kPipeRetryMaxMs = 1000;
// The owner's quota ran out: how often to look whether what was read has been delivered, and
// how long a reader that does not read may hold the reset back.
constexpr uint64_t kQuotaDrainPollMs = 5;
constexpr uint64_t kQuotaDrainMs = 2000;

bool IsUnsupported(int err) { return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP; }

bool IsOutOfPipes(int err) { return err == EMFILE || err == ENFILE || err == ENOMEM; }

// Deadlines in loop milliseconds: a sum past the clock's range means "never", not a wrap into
// the past (which would fire the timer at once, again and again).
uint64_t SaturatingAdd(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

int SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  if ((flags & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return -errno;
  return 0;
}

// Abortive: close(2), or the kernel closing the descriptor when the process dies, sends a reset
// instead of a FIN. Off: the default, a FIN after whatever is still queued.
void SetAbortiveClose(int fd, bool abortive) {
  struct linger lg;
  lg.l_onoff = abortive ? 1 : 0;
  lg.l_linger = 0;
  (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

}  // namespace

const char* CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kEof: return "eof";
    case CloseReason::kClientReset: return "client_reset";
    case CloseReason::kUpstreamReset: return "upstream_reset";
    case CloseReason::kError: return "error";
    case CloseReason::kIdleTimeout: return "idle_timeout";
    case CloseReason::kDestroyed: return "destroyed";
    case CloseReason::kUnsupported: return "unsupported";
    case CloseReason::kQuotaExhausted: return "quota_exhausted";
  }
  return "error";
}

Relay::Relay(ThreadState* state, uint32_t id) : state_(state), id_(id) {
  state_->allocated.insert(this);
}

Relay::~Relay() { state_->allocated.erase(this); }

int64_t Relay::Start(ThreadState* state, int client_fd, int upstream_fd, uint32_t row,
                     uint64_t half_close_ms, int64_t qos_owner, int64_t qos_rule, napi_value on_close) {
  // Our own descriptors for the two connections: the caller closes its handles right after this
  // returns, and the connections stay open through these. CLOEXEC so a child never inherits one.
  int fds[2];
  fds[0] = fcntl(client_fd, F_DUPFD_CLOEXEC, 0);
  if (fds[0] < 0) return -errno;
  fds[1] = fcntl(upstream_fd, F_DUPFD_CLOEXEC, 0);
  if (fds[1] < 0) {
    int err = errno;
    close(fds[0]);
    return -err;
  }
  // O_NONBLOCK lives on the open file description, shared with the caller's descriptor (Node's
  // are non-blocking already). It matters: SPLICE_F_NONBLOCK only makes the pipe side
  // non-blocking; a socket read by tcp_splice_read blocks unless the file itself is O_NONBLOCK.
  for (int fd : fds) {
    int err = SetNonBlocking(fd);
    if (err < 0) {
      close(fds[0]);
      close(fds[1]);
      return err;
    }
  }
  return Begin(state, fds, row, half_close_ms, qos_owner, qos_rule, on_close, nullptr);
}

int64_t Relay::Adopt(ThreadState* state, int client_fd, int upstream_fd, uint32_t row, uint64_t half_close_ms,
                     int64_t qos_owner, int64_t qos_rule, RelaySink* sink) {
  // Begin closes both descriptors on every path that returns -errno (a failed handle init, or
  // splice refusing the pair, which Finish closes).
  const int fds[2] = {client_fd, upstream_fd};
  return Begin(state, fds, row, half_close_ms, qos_owner, qos_rule, nullptr, sink);
}

int64_t Relay::Begin(ThreadState* state, const int fds[2], uint32_t row, uint64_t half_close_ms,
                     int64_t qos_owner, int64_t qos_rule, napi_value on_close, RelaySink* sink) {
  // Ids stay positive int32 (so -errno can never look like one) and skip any still open.
  uint32_t id;
  do {
    id = state->next_id++;
    if (state->next_id > 0x7fffffffu) state->next_id = 1;
  } while (state->relays.count(id) != 0);
  Relay* r = new Relay(state, id);
  r->fd_[0] = fds[0];
  r->fd_[1] = fds[1];
  r->row_ = row;
  r->half_close_ms_ = half_close_ms;
  r->qos_owner_ = state->qos == nullptr ? -1 : qos_owner;
  r->qos_rule_ = state->qos == nullptr ? -1 : qos_rule;
  r->last_activity_ = uv_now(state->loop);
  r->dir_[kIn].src = kClient;
  r->dir_[kIn].dst = kUpstream;
  r->dir_[kIn].counter_word = row + state->field_in;
  r->dir_[kIn].throttle_word = row + state->field_throttled[kIn];
  r->dir_[kOut].src = kUpstream;
  r->dir_[kOut].dst = kClient;
  r->dir_[kOut].counter_word = row + state->field_out;
  r->dir_[kOut].throttle_word = row + state->field_throttled[kOut];

  int err = uv_timer_init(state->loop, &r->timer_);
  if (err != 0) {
    // Nothing was relayed: close our duplicates, call nothing.
    close(fds[0]);
    close(fds[1]);
    r->fd_[0] = r->fd_[1] = -1;
    delete r;
    state->MaybeFinishTeardown();
    return err;
  }
  r->timer_.data = r;
  for (int side = 0; side < 2; side++) {
    r->watch_[side].ready = OnReady;
    r->watch_[side].owner = r;
    r->watch_[side].fd = fds[side];
  }
  // Both sides are watched for reading from the start, which is what a new pair waits for first
  // (so the first Run rarely changes it): a descriptor epoll cannot watch is refused here,
  // before a byte has moved, and the caller keeps its own.
  for (int side = 0; side < 2 && err == 0; side++) err = state->sockets.Set(state->loop, &r->watch_[side], EPOLLIN);
  if (err != 0) {
    // Nothing was relayed: close our duplicates and the timer, call nothing.
    for (Watch& w : r->watch_) (void)state->sockets.Set(state->loop, &w, 0);
    r->closing_ = true;
    r->silent_ = true;
    close(fds[0]);
    close(fds[1]);
    r->fd_[0] = r->fd_[1] = -1;
    uv_close(reinterpret_cast<uv_handle_t*>(&r->timer_), OnHandleClosed);
    return err;
  }

  if (on_close != nullptr) {
    r->on_close_ = Napi::Persistent(Napi::Function(state->env, on_close));
    napi_value name = nullptr;
    if (napi_create_string_utf8(state->env, "sluice:splice:relay", NAPI_AUTO_LENGTH, &name) == napi_ok) {
      (void)napi_async_init(state->env, nullptr, name, &r->async_context_);
    }
  }
  r->sink_ = sink;
  state->relays.emplace(id, r);

  // Try the splice first; readiness is waited for only after EAGAIN.
  r->Run(true, true);
  if (r->closing_ && r->reason_ == CloseReason::kUnsupported) {
    // splice(2) refused these sockets before a byte left them: the caller still owns intact
    // connections and falls back to its own relay. No onClose for this one.
    r->silent_ = true;
    return -static_cast<int64_t>(r->errno_);
  }
  // Only sockets the relay keeps are changed: a pair handed back above goes to the JS relay
  // as the caller left it.
  // An adopted pair came prepared (Adopt).
  if (!r->closing_ && sink == nullptr) {
    for (int fd : r->fd_) PrepareRelaySocket(fd);
  }
  return id;
}

void PrepareRelaySocket(int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Until the stream has ended whole, any close is a cut: if the process dies (SIGKILL, the OOM
  // killer), the kernel closes the socket with a reset, so neither peer can take a stream cut
  // mid-way for a complete one. Finish turns this off for a clean end.
  SetAbortiveClose(fd, true);
}

void Relay::CutForQuota() {
  if (closing_) return;
  if (!quota_spent_) {
    quota_spent_ = true;
    quota_spent_at_ms_ = uv_now(state_->loop);
  }
  for (Direction& d : dir_) d.wait_read = false;
  Run(false, false);
}

void Relay::Abandon() {
  silent_ = true;
  on_close_.Reset();
  DestroyAsyncContext();
  Finish(CloseReason::kDestroyed, 0);
}

void Relay::Run(bool pump_in, bool pump_out) {
  for (int dir = 0; dir < 2; dir++) {
    if (closing_) return;
    if (dir == kIn ? !pump_in : !pump_out) continue;
    if (dir_[dir].ended || dir_[dir].throttled || dir_[dir].pipe_wait) continue;
    int side = -1;
    int err = Pump(dir, &side);
    if (err < 0) {
      Fail(side, -err);
      return;
    }
  }
  if (!closing_ && quota_spent_ && !InFlight()) Finish(CloseReason::kQuotaExhausted, 0);
  if (!closing_) UpdatePolls();
  if (!closing_) ArmTimer();
}

int Relay::Pump(int dir, int* failed_side) {
  Direction& d = dir_[dir];
  const int src = fd_[d.src];
  const int dst = fd_[d.dst];
  size_t budget = kBytesPerWake;
  bool short_read = false;
  d.wait_read = false;
  d.wait_write = false;
  for (;;) {
    // Out of the pipe first: a direction reads again only once its pipe is empty, so EAGAIN
    // from a read always means "socket empty", never "pipe full".
    while (d.in_pipe > 0) {
      ssize_t n = splice(d.pipe.rd, nullptr, dst, nullptr, d.in_pipe, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0) {
        size_t moved = static_cast<size_t>(n);
        d.in_pipe -= moved;
        Account(d, moved);
        budget = moved >= budget ? 0 : budget - moved;
        if (d.in_pipe > 0) {
          // A short write means the socket's send buffer is full.
          d.wait_write = true;
          return 0;
        }
      } else if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          d.wait_write = true;
          return 0;
        }
        *failed_side = d.dst;
        return -errno;
      } else {
        *failed_side = -1;  // a pipe with bytes in it and our own writer cannot say EOF
        return -EIO;
      }
    }
    if (d.src_eof) {
      ReleasePipe(d);
      EndDirection(dir);
      return 0;
    }
    if (budget == 0 || short_read) {
      // Probably drained (short read) or this direction had its share of this turn; the
      // level-triggered poll wakes us at once if more is queued.
      ReleasePipe(d);
      d.wait_read = true;
      return 0;
    }
    int64_t wait_ns = 0;
    size_t allowance = Allowance(dir, &wait_ns);
    if (allowance == 0) {
      // Out of tokens: read nothing (the sender sees backpressure) until the timer says so.
      ReleasePipe(d);
      Throttle(dir, wait_ns);
      return 0;
    }
    allowance = TakeQuota(dir, allowance);
    if (allowance == 0) {
      // The owner's quota is spent: this direction reads no more (its pipe is empty here), and
      // once what both directions already read has reached its reader the pair is reset; JS
      // counts it as quota_exhausted. Bytes counted against the quota are never thrown away.
      Settle(dir, 0);
      ReleasePipe(d);
      if (!quota_spent_) {
        quota_spent_ = true;
        quota_spent_at_ms_ = uv_now(state_->loop);
      }
      return 0;
    }
    if (!d.has_pipe) {
      int err = state_->pipes.Take(&d.pipe);
      if (err < 0) {
        Settle(dir, 0);
        if (IsOutOfPipes(-err)) {
          // Never a reason to close a healthy connection: its bytes wait in the socket.
          WaitForPipe(dir);
          return 0;
        }
        *failed_side = -1;
        return err;
      }
      d.has_pipe = true;
      d.retry_ms = 0;
    }
    size_t len = std::min(allowance, d.pipe.capacity);
    ssize_t n = splice(src, nullptr, d.pipe.wr, nullptr, len, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
    const int err = n < 0 ? errno : 0;  // before any other call can change errno
    const bool capped = d.granted_owner || d.granted_rule;
    Settle(dir, n > 0 ? static_cast<size_t>(n) : 0);
    if (n > 0) {
      d.in_pipe = static_cast<size_t>(n);
      any_read_ = true;
      short_read = static_cast<size_t>(n) < len;
      // A capped direction moves one grant per wake and yields: the connections sharing its
      // bucket (woken by their timers earlier in this loop turn) get their slice first.
      if (capped) budget = 0;
      continue;
    }
    if (err == EINTR) continue;
    if (n == 0 || err == EAGAIN) {
      // splice stops at the urgent mark, answering EAGAIN (or 0 once a FIN follows) with
      // ordinary bytes still queued behind it: skip the urgent byte and go on.
      int skipped = SkipUrgent(dir);
      if (skipped < 0) {
        *failed_side = d.src;
        return skipped;
      }
      if (skipped > 0) continue;
    }
    if (n == 0) {
      d.src_eof = true;
      continue;
    }
    if (err == EAGAIN) {
      ReleasePipe(d);
      d.wait_read = true;
      return 0;
    }
    *failed_side = d.src;
    return -err;
  }
}

int Relay::SkipUrgent(int dir) {
  Direction& d = dir_[dir];
  const int src = fd_[d.src];
  int at_mark = 0;
  if (ioctl(src, SIOCATMARK, &at_mark) != 0) return -errno;
  if (!at_mark) return 0;
  // An ordinary read steps over the urgent byte and clears the mark (SO_OOBINLINE is off); a
  // MSG_OOB read would return the byte but leave the mark, and splice stopped at it. One byte
  // of room: whatever ordinary byte comes with it goes into the (empty) pipe, in order.
  unsigned char byte;
  ssize_t n;
  do {
    n = recv(src, &byte, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN) return -errno;
    // Stepped over the urgent byte with nothing behind it yet; unless the read was turned back
    // before reaching it (a signal pending), then it is still to be skipped on the next wake.
    if (ioctl(src, SIOCATMARK, &at_mark) != 0) return -errno;
    if (at_mark) return 0;
  }
  AddCounter(row_ + state_->field_urgent, 1);
  any_read_ = true;
  if (n == 0) {
    d.src_eof = true;
  } else if (n == 1) {
    if (write(d.pipe.wr, &byte, 1) != 1) return -EIO;
    d.in_pipe = 1;
  }
  return 1;
}

void Relay::WaitForPipe(int dir) {
  Direction& d = dir_[dir];
  d.retry_ms = d.retry_ms == 0 ? kPipeRetryFirstMs : std::min(d.retry_ms * 2, kPipeRetryMaxMs);
  d.pipe_wait = true;
  d.wake_at_ms = SaturatingAdd(uv_now(state_->loop), d.retry_ms);
  AddCounter(row_ + state_->field_pipe_waits, 1);
}

bool Relay::InFlight() const {
  for (const Direction& d : dir_) {
    if (d.in_pipe > 0 || d.pipe_wait) return true;
  }
  // Bytes already handed to a socket but not yet taken by its reader (unsent or unacked).
  for (int fd : fd_) {
    int queued = 0;
    if (fd >= 0 && ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0) return true;
  }
  return false;
}

void Relay::AddCounter(size_t word, uint64_t value) {
  if (state_->counters == nullptr || value == 0) return;
  __atomic_fetch_add(&state_->counters[word], static_cast<int64_t>(value), __ATOMIC_SEQ_CST);
}

void Relay::ReleasePipe(Direction& d) {
  if (!d.has_pipe) return;
  if (d.in_pipe == 0) {
    state_->pipes.Give(d.pipe);
  } else {
    state_->pipes.Discard(d.pipe);
  }
  d.has_pipe = false;
  d.in_pipe = 0;
  d.pipe = Pipe();
}

void Relay::EndDirection(int dir) {
  Direction& d = dir_[dir];
  if (d.ended) return;
  d.ended = true;
  // The source sent FIN and everything before it has been written: pass the FIN on. ENOTCONN
  // (the destination was reset meanwhile) surfaces on the next write or poll.
  (void)shutdown(fd_[d.dst], SHUT_WR);
  if (dir_[1 - dir].ended) {
    Finish(CloseReason::kEof, 0);
    return;
  }
  if (half_close_ms_ > 0 && !half_closed_) {
    half_closed_ = true;
    last_activity_ = uv_now(state_->loop);
    ArmTimer();
  }
}

int64_t* Relay::Bucket(int64_t entity, int dir) const {
  return entity < 0 ? nullptr : state_->qos + entity + state_->qos_bandwidth[dir];
}

size_t Relay::Allowance(int dir, int64_t* wait_ns) {
  Direction& d = dir_[dir];
  d.granted = 0;
  d.granted_owner = false;
  d.granted_rule = false;
  int64_t* owner = Bucket(qos_owner_, dir);
  int64_t* rule = Bucket(qos_rule_, dir);
  const qos::BucketLayout& l = state_->bucket;
  const bool owner_capped = owner != nullptr && qos::Capped(owner, l);
  const bool rule_capped = rule != nullptr && qos::Capped(rule, l);
  if (!owner_capped && !rule_capped) return PipePool::kPipeBytes;
  const int64_t now = static_cast<int64_t>(uv_hrtime());
  uint64_t want = PipePool::kPipeBytes;
  // The owner first, as for connections; the rule then grants at most what the owner did.
  if (owner_capped) {
    qos::Grant g = qos::GrantUnits(owner, l, now, want);
    if (g.granted == 0) {
      *wait_ns = g.wait_ns;
      return 0;
    }
    want = g.granted;
  }
  if (rule_capped) {
    qos::Grant g = qos::GrantUnits(rule, l, now, want);
    if (owner_capped) qos::Refund(owner, l, want, g.granted);
    if (g.granted == 0) {
      *wait_ns = g.wait_ns;
      return 0;
    }
    want = g.granted;
  }
  d.granted = want;
  d.granted_owner = owner_capped;
  d.granted_rule = rule_capped;
  return static_cast<size_t>(want);
}

size_t Relay::TakeQuota(int dir, size_t want) {
  if (qos_owner_ < 0) return want;
  uint64_t granted = quota::Take(state_->qos + qos_owner_, state_->quota, want);
  dir_[dir].quota_granted = granted;
  return static_cast<size_t>(granted);
}

void Relay::Settle(int dir, size_t used) {
  Direction& d = dir_[dir];
  if (d.granted_owner) qos::Refund(Bucket(qos_owner_, dir), state_->bucket, d.granted, used);
  if (d.granted_rule) qos::Refund(Bucket(qos_rule_, dir), state_->bucket, d.granted, used);
  if (d.quota_granted > 0) quota::Refund(state_->qos + qos_owner_, state_->quota, d.quota_granted, used);
  d.quota_granted = 0;
  d.granted = 0;
  d.granted_owner = false;
  d.granted_rule = false;
}

void Relay::Throttle(int dir, int64_t wait_ns) {
  Direction& d = dir_[dir];
  if (wait_ns > kMaxThrottleWaitNs) wait_ns = kMaxThrottleWaitNs;
  // Loop time counts whole milliseconds: round up, so tokens are there when we wake.
  uint64_t wait_ms = static_cast<uint64_t>((wait_ns + 999999) / 1000000);
  if (wait_ms == 0) wait_ms = 1;
  d.throttled = true;
  d.throttled_since_ns = uv_hrtime();
  d.wake_at_ms = SaturatingAdd(uv_now(state_->loop), wait_ms);
}

void Relay::ArmTimer() {
  uint64_t due = UINT64_MAX;
  if (half_closed_) due = SaturatingAdd(last_activity_, half_close_ms_);
  // Delivered bytes leave the send queues without waking us: look again soon.
  if (quota_spent_) due = std::min(due, SaturatingAdd(uv_now(state_->loop), kQuotaDrainPollMs));
  for (const Direction& d : dir_) {
    if ((d.throttled || d.pipe_wait) && d.wake_at_ms < due) due = d.wake_at_ms;
  }
  // A timer set for earlier stays: OnTimer looks at every deadline and sets the next one.
  if (due == UINT64_MAX || (timer_due_ != 0 && timer_due_ <= due)) return;
  timer_due_ = due;
  uint64_t now = uv_now(state_->loop);
  uv_timer_start(&timer_, OnTimer, due > now ? due - now : 0, 0);
}

void Relay::Account(Direction& d, size_t bytes) {
  d.total += bytes;
  d.unflushed += bytes;
  last_activity_ = uv_now(state_->loop);
  if (d.unflushed >= kCounterFlushBytes && state_->counters != nullptr) {
    AddCounter(d.counter_word, d.unflushed);
    d.unflushed = 0;
  }
}

void Relay::FlushCounters() {
  for (Direction& d : dir_) {
    if (d.unflushed == 0 || state_->counters == nullptr) continue;
    AddCounter(d.counter_word, d.unflushed);
    d.unflushed = 0;
  }
}

void Relay::UpdatePolls() {
  // One watch per descriptor, for the union of what both directions wait for on it.
  uint32_t want[2] = {0, 0};
  if (dir_[kIn].wait_read) want[kClient] |= EPOLLIN;
  if (dir_[kIn].wait_write) want[kUpstream] |= EPOLLOUT;
  if (dir_[kOut].wait_read) want[kUpstream] |= EPOLLIN;
  if (dir_[kOut].wait_write) want[kClient] |= EPOLLOUT;
  for (int side = 0; side < 2; side++) {
    int err = state_->sockets.Set(state_->loop, &watch_[side], want[side]);
    if (err != 0) {
      Fail(-1, -err);
      return;
    }
  }
}

void Relay::Fail(int side, int err) {
  if (IsUnsupported(err) && !any_read_) {
    Finish(CloseReason::kUnsupported, err);
    return;
  }
  CloseReason reason = CloseReason::kError;
  if (err == ECONNRESET || err == EPIPE) {
    if (side == kClient) reason = CloseReason::kClientReset;
    if (side == kUpstream) reason = CloseReason::kUpstreamReset;
  }
  Finish(reason, err);
}

void Relay::Finish(CloseReason reason, int err) {
  if (closing_) return;
  closing_ = true;
  reason_ = reason;
  errno_ = err;
  FlushCounters();
  // A direction still waiting for tokens waited until now.
  for (Direction& d : dir_) {
    if (d.throttled) AddCounter(d.throttle_word, uv_hrtime() - d.throttled_since_ns);
  }
  state_->relays.erase(id_);

  // Out of the epoll set before the close: a caller's descriptor may still hold the socket open
  // (relay() takes duplicates), and the set would go on reporting it for this freed relay.
  for (Watch& w : watch_) (void)state_->sockets.Set(state_->loop, &w, 0);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnHandleClosed);

  // A reset or an error on one side becomes a reset on the other (as the kernel's own
  // forwarding would), not a polite FIN. A pair cut short by us (drain timeout, rule removed,
  // shard exiting, the half-close idle timeout) is reset too: a peer that only reads must not
  // take a cut stream for a complete one. Only EOF closes normally; an unsupported socket is
  // handed back untouched (we only drop our duplicates).
  bool abortive = reason == CloseReason::kClientReset || reason == CloseReason::kUpstreamReset ||
                  reason == CloseReason::kError || reason == CloseReason::kDestroyed ||
                  reason == CloseReason::kIdleTimeout || reason == CloseReason::kQuotaExhausted;
  for (int side = 0; side < 2; side++) {
    if (fd_[side] < 0) continue;
    // The pair has been abortive since Begin; only a stream that ended whole closes with a FIN.
    SetAbortiveClose(fd_[side], abortive);
    close(fd_[side]);
    fd_[side] = -1;
  }
  ReleasePipe(dir_[kIn]);
  ReleasePipe(dir_[kOut]);
}

void Relay::OnReady(Watch* watch, uint32_t events) {
  Relay* r = static_cast<Relay*>(watch->owner);
  if (r->closing_) return;
  const int side = watch == &r->watch_[kClient] ? kClient : kUpstream;
  if (events & EPOLLERR) {
    // The socket knows the real error.
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(r->fd_[side], SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    r->Fail(side, err != 0 ? err : EIO);
    return;
  }
  // Readable side feeds the direction whose source it is; writable, the one whose destination.
  bool pump_in = false;
  bool pump_out = false;
  if (events & EPOLLIN) (side == kClient ? pump_in : pump_out) = true;
  if (events & EPOLLOUT) (side == kClient ? pump_out : pump_in) = true;
  r->Run(pump_in, pump_out);
}

void Relay::OnTimer(uv_timer_t* handle) {
  Relay* r = static_cast<Relay*>(handle->data);
  if (r->closing_) return;
  r->timer_due_ = 0;
  const uint64_t now = uv_now(r->state_->loop);
  if (r->quota_spent_ && (!r->InFlight() || now - r->quota_spent_at_ms_ >= kQuotaDrainMs)) {
    r->Finish(CloseReason::kQuotaExhausted, 0);
    return;
  }
  if (r->half_closed_ && now - r->last_activity_ >= r->half_close_ms_) {
    // Idle means nothing moves and nothing waits to: bytes held for a slow reader (or for a
    // pipe) are not silence, so the deadline starts over; the peers' own progress or close
    // ends that wait.
    if (!r->InFlight()) {
      r->Finish(CloseReason::kIdleTimeout, 0);
      return;
    }
    r->last_activity_ = now;
  }
  bool pump[2] = {false, false};
  for (int dir = 0; dir < 2; dir++) {
    Direction& d = r->dir_[dir];
    if (d.pipe_wait && d.wake_at_ms <= now) {
      d.pipe_wait = false;
      pump[dir] = true;
    }
    if (!d.throttled || d.wake_at_ms > now) continue;
    d.throttled = false;
    pump[dir] = true;
    r->AddCounter(d.throttle_word, uv_hrtime() - d.throttled_since_ns);
  }
  // Run re-arms the timer for whatever deadline is left.
  r->Run(pump[kIn], pump[kOut]);
}

void Relay::OnHandleClosed(uv_handle_t* handle) {
  Relay* r = static_cast<Relay*>(handle->data);
  // The timer is the relay's only libuv handle: once it has closed, nothing refers to the relay.
  r->Complete();
}

void Relay::Complete() {
  ThreadState* state = state_;
  if (!silent_ && !state->tearing_down) {
    if (sink_ != nullptr) {
      sink_->RelayClosed(id_, static_cast<int>(reason_), errno_);
    } else if (!on_close_.IsEmpty()) {
      CallOnClose();
    }
  }
  if (!state->tearing_down) DestroyAsyncContext();
  delete this;
  state->MaybeFinishTeardown();
}

void Relay::DestroyAsyncContext() {
  if (async_context_ == nullptr) return;
  (void)napi_async_destroy(state_->env, async_context_);
  async_context_ = nullptr;
}

void Relay::CallOnClose() {
  // We are in a libuv close callback, not inside a JS call: open a scope ourselves, and call
  // through napi_make_callback so nextTicks and microtasks run after it as for any I/O callback.
  // Raw N-API on purpose: the environment may be stopping (process.exit() or terminate() in a
  // worker, with this close callback still queued); then these calls fail and we skip the
  // callback, where node-addon-api's error path would abort the process.
  napi_env env = state_->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value result = nullptr;
  napi_value value = nullptr;
  bool ok = napi_create_object(env, &result) == napi_ok;
  ok = ok && napi_create_string_utf8(env, CloseReasonName(reason_), NAPI_AUTO_LENGTH, &value) == napi_ok &&
       napi_set_named_property(env, result, "reason", value) == napi_ok;
  ok = ok && napi_create_int32(env, errno_, &value) == napi_ok &&
       napi_set_named_property(env, result, "errno", value) == napi_ok;
  ok = ok && napi_create_double(env, static_cast<double>(dir_[kIn].total), &value) == napi_ok &&
       napi_set_named_property(env, result, "bytesIn", value) == napi_ok;
  ok = ok && napi_create_double(env, static_cast<double>(dir_[kOut].total), &value) == napi_ok &&
       napi_set_named_property(env, result, "bytesOut", value) == napi_ok;
  napi_value global = nullptr;
  napi_value callback = nullptr;
  ok = ok && async_context_ != nullptr && napi_get_global(env, &global) == napi_ok &&
       napi_get_reference_value(env, static_cast<napi_ref>(on_close_), &callback) == napi_ok && callback != nullptr;
  if (ok) {
    napi_value ignored;
    napi_status status = napi_make_callback(env, async_context_, global,
                                            callback, 1, &result, &ignored);
    bool pending = false;
    if (status != napi_ok && napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      // Nothing above us can catch it: make it an uncaught exception, as any event handler's.
      // (napi_fatal_exception itself declines when the environment can no longer run JS.)
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

void ThreadState::OnTeardown(napi_async_cleanup_hook_handle handle, void* arg) {
  ThreadState* state = static_cast<ThreadState*>(arg);
  state->cleanup = handle;
  state->tearing_down = true;
  // Open relays close now; those already closing only lose their callback. Either way the
  // last close callback frees them, and the last of those finishes the teardown.
  std::vector<Relay*> all(state->allocated.begin(), state->allocated.end());
  for (Relay* relay : all) relay->Abandon();
  accept::Teardown(state);
  // The environment is still whole here; after this hook it is not. Drop every JS reference now.
  state->counters = nullptr;
  state->counters_ref.Reset();
  state->qos = nullptr;
  state->qos_ref.Reset();
  state->sab_growable.Reset();
  // Every relay and connect has left the set above. Last: the callback may finish the teardown.
  state->sockets.Close(OnSocketsClosed, state);
}

void ThreadState::OnSocketsClosed(void* arg) {
  ThreadState* state = static_cast<ThreadState*>(arg);
  state->sockets_closed = true;
  state->MaybeFinishTeardown();
}

void ThreadState::MaybeFinishTeardown() {
  if (!tearing_down || !allocated.empty() || accept_handles > 0 || !sockets_closed) return;
  pipes.CloseAll();
  napi_remove_async_cleanup_hook(cleanup);
  delete this;
}

}  // namespace sluice
