#include "udp-relay.h"

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qos-bucket.h"
#include "quota-budget.h"

namespace sluice {
namespace udp {

namespace {

// One recvmmsg takes up to kBatch datagrams of up to kSlot bytes (the largest UDP payload).
constexpr unsigned kBatch = 32;
constexpr size_t kSlot = 65536;
// Batches a socket may read per loop wake before it yields to the rest of the loop; the poll is
// level-triggered, so what is left is read on the next turn.
constexpr int kBatchesPerWake = 8;
// One UDP GSO send (UDP_SEGMENT): at most this many segments (the kernel's UDP_MAX_SEGMENTS is
// 64 or more) and this many payload bytes (under the 65,507 of one IPv4 UDP datagram).
constexpr unsigned kGsoMaxSegments = 64;
constexpr size_t kGsoMaxBytes = 65000;

enum Count { kPacketsIn, kPacketsOut, kBytesIn, kBytesOut, kDropped, kQuota, kReceiveDrops };

// A poll handle and the descriptor it watches, freed (and the descriptor closed) once libuv has
// closed the handle. `listener` is set for a listener's own socket: it is freed with it.
struct PollBox {
  uv_poll_t handle;
  int fd = -1;
  ThreadUdp* udp = nullptr;
  Listener* listener = nullptr;
};

// A poll handle for `fd` (its descriptor from now on, closed with it). nullptr, with the
// descriptor closed and *err set, when libuv refuses it.
PollBox* Watch(ThreadUdp* udp, int fd, int* err) {
  PollBox* box = new PollBox();
  box->fd = fd;
  box->udp = udp;
  *err = uv_poll_init_socket(udp->loop(), &box->handle, fd);
  if (*err == 0) return box;
  close(fd);
  delete box;
  return nullptr;
}

// Points each of `n` receive headers at its slot of `buffers` (and its address at `names[i]`,
// when given), as recvmmsg takes them.
void PrepareReceive(mmsghdr* msgs, iovec* iovs, sockaddr_storage* names, char* buffers, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    iovs[i].iov_base = buffers + i * kSlot;
    iovs[i].iov_len = kSlot;
    std::memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    if (names != nullptr) {
      msgs[i].msg_hdr.msg_name = &names[i];
      msgs[i].msg_hdr.msg_namelen = sizeof names[i];
    }
  }
}

std::string KeyOf(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    std::string key(7, '\0');
    key[0] = '4';
    std::memcpy(&key[1], &in->sin_port, 2);
    std::memcpy(&key[3], &in->sin_addr, 4);
    return key;
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  std::string key(23, '\0');
  key[0] = '6';
  std::memcpy(&key[1], &in6->sin6_port, 2);
  std::memcpy(&key[3], &in6->sin6_addr, 16);
  std::memcpy(&key[19], &in6->sin6_scope_id, 4);
  return key;
}

void Describe(const sockaddr_storage& addr, std::string* address, int* port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    *port = ntohs(in->sin_port);
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    *port = ntohs(in6->sin6_port);
  }
  *address = text;
}

// All `units` or none (packages/qos/src/token-bucket.ts take()): true when taken.
bool TakeAll(int64_t* bucket, const qos::BucketLayout& l, int64_t now, uint64_t units) {
  const int64_t rate = qos::Load(bucket + l.rate);
  if (rate == 0) return true;
  const int64_t limit = qos::Load(bucket + l.limit_ns);
  const int64_t cost = qos::CostNs(units, rate);
  for (;;) {
    int64_t tat = qos::Load(bucket + l.tat_ns);
    const int64_t next = (tat > now ? tat : now) + cost;
    if (next - now > limit) return false;
    if (__atomic_compare_exchange_n(bucket + l.tat_ns, &tat, next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      return true;
    }
  }
}

// The rule's udp_receive_buffer. SO_RCVBUFFORCE passes net.core.rmem_max when the edge has
// CAP_NET_ADMIN (it often runs as root); without it the kernel caps SO_RCVBUF at rmem_max, and
// JS logs what was granted (GrantedReceiveBuffer).
void SetReceiveBuffer(int fd, int size) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
}

// The kernel's count of datagrams it dropped on `fd` since the socket was made (sk_drops:
// mostly a full receive buffer). False when it cannot be read.
bool ReadDrops(int fd, uint32_t* drops) {
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mem;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0) return false;
  if (len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) return false;
  *drops = mem[SK_MEMINFO_DROPS];
  return true;
}

// The drops on `fd` since `*seen`, which moves up to now. Unsigned arithmetic: the kernel's
// counter is 32 bits and may wrap.
uint64_t NewDrops(int fd, uint32_t* seen) {
  uint32_t now = 0;
  if (fd < 0 || !ReadDrops(fd, &now)) return 0;
  const uint32_t fresh = now - *seen;
  *seen = now;
  return fresh;
}

bool IsTransient(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR; }

}  // namespace

void ThreadUdp::ClosePoll(uv_poll_t* poll) {
  pacer.Forget(poll);
  poll->data = nullptr;
  closing++;
  uv_close(reinterpret_cast<uv_handle_t*>(poll), OnPollClosed);
}

void ThreadUdp::OnPollClosed(uv_handle_t* handle) {
  PollBox* box = reinterpret_cast<PollBox*>(handle);
  ThreadUdp* udp = box->udp;
  if (box->fd >= 0) close(box->fd);
  delete box->listener;
  delete box;
  udp->closing--;
  udp->MaybeFinish();
}

void ThreadUdp::StartPacer() {
  if (pacer_tried) return;
  pacer_tried = true;
  int fd = Pacer::OpenTimer();
  if (fd < 0) return;
  int err = 0;
  PollBox* box = Watch(this, fd, &err);
  if (box != nullptr) pacer.Attach(&box->handle);
}

void ThreadUdp::OnTeardown(napi_async_cleanup_hook_handle handle, void* arg) {
  ThreadUdp* udp = static_cast<ThreadUdp*>(arg);
  udp->cleanup = handle;
  udp->tearing_down = true;
  std::vector<Listener*> all;
  for (auto& entry : udp->listeners) all.push_back(entry.second);
  for (Listener* listener : all) listener->Close();
  uv_poll_t* timer = udp->pacer.Detach();
  if (timer != nullptr) udp->ClosePoll(timer);
  udp->MaybeFinish();
}

void ThreadUdp::MaybeFinish() {
  if (!tearing_down || closing > 0) return;
  napi_remove_async_cleanup_hook(cleanup);
  delete this;
}

int64_t Listener::Start(ThreadUdp* udp, const sockaddr_storage& addr, socklen_t len, uint32_t row,
                        const UdpFields& fields, int64_t qos_rule, int receive_buffer, napi_value on_events) {
  int fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  SetReceiveBuffer(fd, receive_buffer);
  if (udp->buffers == nullptr) udp->buffers.reset(new char[kBatch * kSlot]);
  udp->StartPacer();
  int err = 0;
  PollBox* box = Watch(udp, fd, &err);
  if (box == nullptr) return err;
  Listener* l = new Listener(udp, udp->next_id++);
  box->listener = l;
  box->handle.data = l;
  l->fd_ = fd;
  l->poll_ = &box->handle;
  l->row_ = row;
  l->fields_ = fields;
  l->qos_rule_ = qos_rule;
  l->receive_buffer_ = receive_buffer;
  napi_env env = udp->state->env;
  l->on_events_ = Napi::Persistent(Napi::Function(env, on_events));
  napi_value name = nullptr;
  if (napi_create_string_utf8(env, "sluice:splice:udp", NAPI_AUTO_LENGTH, &name) == napi_ok) {
    (void)napi_async_init(env, nullptr, name, &l->async_context_);
  }
  udp->listeners.emplace(l->id_, l);
  uv_poll_start(l->poll_, UV_READABLE, OnReadable);
  return l->id_;
}

void Listener::Close() {
  if (closed_) return;
  // What the kernel dropped up to now is counted; the sockets' counts go with them.
  CountDrops();
  closed_ = true;
  for (auto& entry : by_id_) {
    Flow* flow = entry.second;
    if (flow->poll != nullptr) udp_->ClosePoll(flow->poll);
    delete flow;
  }
  by_id_.clear();
  by_key_.clear();
  udp_->listeners.erase(id_);
  on_events_.Reset();
  if (!udp_->tearing_down && async_context_ != nullptr) (void)napi_async_destroy(udp_->state->env, async_context_);
  async_context_ = nullptr;
  udp_->ClosePoll(poll_);  // frees this listener once closed
}

void Listener::OnReadable(uv_poll_t* handle, int status, int events) {
  Listener* l = static_cast<Listener*>(handle->data);
  if (l == nullptr) return;
  if (status < 0) {
    // A pending socket error (libuv stops the poll on POLLERR): clear it and listen on.
    int err = 0;
    socklen_t len = sizeof err;
    (void)getsockopt(l->fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    uv_poll_start(l->poll_, UV_READABLE, OnReadable);
    return;
  }
  const int n = l->ReadClients();
  l->FlushCounters();
  l->Tell();
  // Tell ran JS, which may have closed this listener.
  if (!l->closed_) l->udp_->pacer.After(l->poll_, OnReadable, &l->pace_, n);
}

void Listener::OnUpstream(uv_poll_t* handle, int status, int events) {
  Flow* flow = static_cast<Flow*>(handle->data);
  if (flow == nullptr) return;
  Listener* l = flow->listener;
  if (status < 0) {
    // An ICMP error on the connected socket (port unreachable and the like).
    int err = 0;
    socklen_t len = sizeof err;
    (void)getsockopt(flow->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    l->UpstreamFailed(flow, err != 0 ? err : EIO);
    l->FlushCounters();
    l->Tell();
    return;
  }
  const int n = l->ReadUpstream(flow);
  l->FlushCounters();
  l->Tell();
  // Tell ran JS, which may have ended this flow or closed its listener: then the handle has no
  // data any more.
  if (handle->data == flow) l->udp_->pacer.After(handle, OnUpstream, &flow->pace, n);
}

bool Listener::Pass(Flow* flow, int dir, size_t bytes) {
  ThreadState* s = udp_->state;
  if (s->qos != nullptr) {
    const int64_t now = static_cast<int64_t>(uv_hrtime());
    int64_t* owner = flow->qos_owner >= 0 ? s->qos + flow->qos_owner : nullptr;
    int64_t* owner_bucket = owner != nullptr ? owner + s->qos_bandwidth[dir] : nullptr;
    int64_t* rule_bucket = qos_rule_ >= 0 ? s->qos + qos_rule_ + s->qos_bandwidth[dir] : nullptr;
    if (owner_bucket != nullptr && !TakeAll(owner_bucket, s->bucket, now, bytes)) {
      count_[kDropped]++;
      return false;
    }
    if (rule_bucket != nullptr && !TakeAll(rule_bucket, s->bucket, now, bytes)) {
      if (owner_bucket != nullptr) qos::Refund(owner_bucket, s->bucket, bytes, 0);
      count_[kDropped]++;
      return false;
    }
    if (owner != nullptr) {
      uint64_t granted = quota::Take(owner, s->quota, bytes);
      if (granted < bytes) {
        quota::Refund(owner, s->quota, granted, 0);
        if (owner_bucket != nullptr) qos::Refund(owner_bucket, s->bucket, bytes, 0);
        if (rule_bucket != nullptr) qos::Refund(rule_bucket, s->bucket, bytes, 0);
        count_[kQuota]++;
        return false;
      }
    }
  }
  flow->last_active_ms = uv_now(udp_->loop());
  count_[dir == 0 ? kPacketsIn : kPacketsOut]++;
  count_[dir == 0 ? kBytesIn : kBytesOut] += bytes;
  return true;
}

int Listener::ReadClients() {
  static thread_local mmsghdr msgs[kBatch];
  static thread_local iovec iovs[kBatch];
  static thread_local sockaddr_storage names[kBatch];
  static thread_local mmsghdr out[kBatch];
  static thread_local iovec out_iovs[kBatch][2];
  char* buffers = udp_->buffers.get();
  int total = 0;
  for (int round = 0; round < kBatchesPerWake && !closed_; round++) {
    PrepareReceive(msgs, iovs, names, buffers, kBatch);
    int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    total += n;
    // Consecutive datagrams of one open flow leave in one sendmmsg.
    Flow* run = nullptr;
    unsigned queued = 0;
    for (int i = 0; i < n; i++) {
      const size_t len = msgs[i].msg_len;
      std::string key = KeyOf(names[i]);
      auto found = by_key_.find(key);
      Flow* flow;
      if (found == by_key_.end()) {
        flow = new Flow();
        flow->listener = this;
        flow->id = next_flow_++;
        flow->key = key;
        flow->client = names[i];
        flow->client_len = msgs[i].msg_hdr.msg_namelen;
        flow->last_active_ms = uv_now(udp_->loop());
        by_key_.emplace(std::move(key), flow);
        by_id_.emplace(flow->id, flow);
        FlowEvent event{FlowEvent::kNew, flow->id, 0, std::string(), 0};
        Describe(flow->client, &event.address, &event.port);
        events_.push_back(std::move(event));
      } else {
        flow = found->second;
      }
      const char* data = static_cast<const char*>(iovs[i].iov_base);
      if (!flow->open) {
        // Not admitted yet (JS decides; charged when it leaves) or between targets (charged now).
        if (flow->charged && !Pass(flow, 0, len)) continue;
        if (flow->holding && flow->held.size() < kHeldDatagrams) {
          flow->held.emplace_back(data, len);
        } else {
          count_[kDropped]++;
        }
        continue;
      }
      if (!Pass(flow, 0, len)) continue;
      if (flow->holding) {
        if (flow->held.size() < kHeldDatagrams) {
          flow->held.emplace_back(data, len);
        } else {
          // The target takes datagrams without a word: it stays the target.
          flow->holding = false;
          flow->held.clear();
        }
      }
      if (run != flow && queued > 0) {
        SendUpstream(run, out, queued);
        queued = 0;
      }
      run = flow;
      mmsghdr& m = out[queued];
      std::memset(&m, 0, sizeof m);
      iovec* iov = out_iovs[queued];
      int parts = 0;
      if (!flow->proxy_header.empty()) {
        iov[parts].iov_base = const_cast<char*>(flow->proxy_header.data());
        iov[parts++].iov_len = flow->proxy_header.size();
      }
      iov[parts].iov_base = const_cast<char*>(data);
      iov[parts++].iov_len = len;
      m.msg_hdr.msg_iov = iov;
      m.msg_hdr.msg_iovlen = parts;
      queued++;
    }
    if (queued > 0) SendUpstream(run, out, queued);
    if (static_cast<unsigned>(n) < kBatch) break;
  }
  return total;
}

namespace {

// How many datagrams from the start of `msgs` (one iovec each) can leave as one UDP GSO send:
// equal sizes, the last possibly shorter, within one maximal UDP payload.
unsigned GsoRun(const mmsghdr* msgs, unsigned n) {
  if (msgs[0].msg_hdr.msg_iovlen != 1) return 0;
  const size_t size = msgs[0].msg_hdr.msg_iov[0].iov_len;
  size_t total = 0;
  unsigned k = 0;
  while (k < n && k < kGsoMaxSegments && msgs[k].msg_hdr.msg_iovlen == 1) {
    const size_t len = msgs[k].msg_hdr.msg_iov[0].iov_len;
    if (len > size || len == 0 || total + len > kGsoMaxBytes) break;
    total += len;
    k++;
    if (len < size) break;
  }
  return k;
}

// Sends `n` datagrams as one buffer cut by the kernel into segments of the first one's size.
// 0 or -errno.
int SendSegments(int fd, const mmsghdr* msgs, unsigned n, char* buffer) {
  size_t total = 0;
  for (unsigned i = 0; i < n; i++) {
    const iovec& iov = msgs[i].msg_hdr.msg_iov[0];
    std::memcpy(buffer + total, iov.iov_base, iov.iov_len);
    total += iov.iov_len;
  }
  iovec whole{buffer, total};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))] = {};
  msghdr m;
  std::memset(&m, 0, sizeof m);
  m.msg_iov = &whole;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  const uint16_t segment = static_cast<uint16_t>(msgs[0].msg_hdr.msg_iov[0].iov_len);
  std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
  return sendmsg(fd, &m, MSG_DONTWAIT) < 0 ? -errno : 0;
}

}  // namespace

void Listener::SendUpstream(Flow* flow, mmsghdr* msgs, unsigned n) {
  unsigned sent = 0;
  while (sent < n && flow->fd >= 0) {
    const unsigned run = udp_->gso ? GsoRun(msgs + sent, n - sent) : 0;
    if (run >= 2) {
      if (udp_->gso_buffer.empty()) udp_->gso_buffer.resize(kGsoMaxBytes);
      int err = SendSegments(flow->fd, msgs + sent, run, udp_->gso_buffer.data());
      if (err == 0) {
        sent += run;
        continue;
      }
      if (err == -EIO || err == -EINVAL || err == -ENOPROTOOPT || err == -EOPNOTSUPP) {
        // This kernel (or route) takes no UDP GSO: batches of single datagrams from now on.
        udp_->gso = false;
        continue;
      }
      count_[kDropped] += n - sent;
      if (!IsTransient(-err)) UpstreamFailed(flow, -err);
      return;
    }
    int r = sendmmsg(flow->fd, msgs + sent, n - sent, MSG_DONTWAIT);
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      count_[kDropped] += n - sent;
      if (!IsTransient(err)) UpstreamFailed(flow, err);
      return;
    }
    sent += static_cast<unsigned>(r);
  }
}

int Listener::ReadUpstream(Flow* flow) {
  static thread_local mmsghdr msgs[kBatch];
  static thread_local iovec iovs[kBatch];
  char* buffers = udp_->buffers.get();
  int total = 0;
  for (int round = 0; round < kBatchesPerWake && flow->fd >= 0; round++) {
    PrepareReceive(msgs, iovs, nullptr, buffers, kBatch);
    int n = recvmmsg(flow->fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (!IsTransient(errno)) UpstreamFailed(flow, errno);
      return total;
    }
    if (n == 0) return total;
    total += n;
    if (flow->holding) {
      // The first reply: this target is up, and what the flow held has arrived.
      flow->holding = false;
      flow->held.clear();
      events_.push_back(FlowEvent{FlowEvent::kAnswered, flow->id, 0, std::string(), 0});
    }
    // Replies leave from the listening socket, to the client, in place.
    unsigned keep = 0;
    for (int i = 0; i < n; i++) {
      if (!Pass(flow, 1, msgs[i].msg_len)) continue;
      iovs[keep].iov_base = iovs[i].iov_base;
      iovs[keep].iov_len = msgs[i].msg_len;
      mmsghdr& m = msgs[keep];
      std::memset(&m.msg_hdr, 0, sizeof m.msg_hdr);
      m.msg_hdr.msg_iov = &iovs[keep];
      m.msg_hdr.msg_iovlen = 1;
      m.msg_hdr.msg_name = &flow->client;
      m.msg_hdr.msg_namelen = flow->client_len;
      keep++;
    }
    unsigned sent = 0;
    while (sent < keep) {
      int r = sendmmsg(fd_, msgs + sent, keep - sent, MSG_DONTWAIT);
      if (r < 0) {
        if (errno == EINTR) continue;
        // Send errors on the listening socket concern one client (ICMP back from it): dropped.
        count_[kDropped] += keep - sent;
        break;
      }
      sent += static_cast<unsigned>(r);
    }
    if (static_cast<unsigned>(n) < kBatch) return total;
  }
  return total;
}

void Listener::UpstreamFailed(Flow* flow, int err) {
  if (flow->error_told) return;
  flow->error_told = true;
  flow->open = false;
  CloseUpstream(flow);
  events_.push_back(FlowEvent{FlowEvent::kError, flow->id, err, std::string(), 0});
}

int Listener::Open(uint32_t flow_id, const sockaddr_storage& target, socklen_t len, const std::string& header,
                   int64_t qos_owner) {
  auto found = by_id_.find(flow_id);
  if (found == by_id_.end()) return -ENOENT;
  Flow* flow = found->second;
  CloseUpstream(flow);
  flow->open = false;
  int fd = socket(target.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&target), len) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  SetReceiveBuffer(fd, receive_buffer_);
  int err = 0;
  PollBox* box = Watch(udp_, fd, &err);
  if (box == nullptr) return err;
  box->handle.data = flow;
  flow->fd = fd;
  flow->drops_seen = 0;
  flow->pace = PaceState();
  flow->poll = &box->handle;
  flow->open = true;
  flow->error_told = false;
  flow->proxy_header = header;
  flow->qos_owner = qos_owner;
  uv_poll_start(flow->poll, UV_READABLE, OnUpstream);
  if (!flow->charged) {
    flow->charged = true;
    // The datagrams held while JS admitted the flow are charged now, as they leave.
    std::vector<std::string> passed;
    for (std::string& datagram : flow->held) {
      if (Pass(flow, 0, datagram.size())) passed.push_back(std::move(datagram));
    }
    flow->held.swap(passed);
  }
  for (const std::string& datagram : flow->held) {
    iovec iov[2];
    int parts = 0;
    if (!header.empty()) {
      iov[parts].iov_base = const_cast<char*>(header.data());
      iov[parts++].iov_len = header.size();
    }
    iov[parts].iov_base = const_cast<char*>(datagram.data());
    iov[parts++].iov_len = datagram.size();
    msghdr m;
    std::memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = parts;
    if (sendmsg(fd, &m, MSG_DONTWAIT) < 0 && !IsTransient(errno)) {
      int send_err = errno;
      flow->open = false;
      CloseUpstream(flow);
      FlushCounters();
      return -send_err;
    }
  }
  if (!flow->holding) flow->held.clear();
  FlushCounters();
  return 0;
}

void Listener::CloseUpstream(Flow* flow) {
  count_[kReceiveDrops] += NewDrops(flow->fd, &flow->drops_seen);
  if (flow->poll != nullptr) udp_->ClosePoll(flow->poll);
  flow->poll = nullptr;
  flow->fd = -1;
}

void Listener::CountDrops() {
  if (closed_) return;
  count_[kReceiveDrops] += NewDrops(fd_, &drops_seen_);
  for (auto& entry : by_id_) count_[kReceiveDrops] += NewDrops(entry.second->fd, &entry.second->drops_seen);
  FlushCounters();
}

int Listener::GrantedReceiveBuffer() const {
  int size = 0;
  socklen_t len = sizeof size;
  if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, &len) != 0) return -errno;
  // Linux doubles what it was asked for (its own bookkeeping shares the buffer) and answers that.
  return size / 2;
}

void Listener::DropFlow(Flow* flow) {
  CloseUpstream(flow);
  by_key_.erase(flow->key);
  by_id_.erase(flow->id);
  delete flow;
}

void Listener::End(uint32_t flow_id) {
  auto found = by_id_.find(flow_id);
  if (found != by_id_.end()) DropFlow(found->second);
}

std::vector<uint32_t> Listener::Expire(uint64_t idle_ms) {
  const uint64_t now = uv_now(udp_->loop());
  std::vector<Flow*> idle;
  for (auto& entry : by_id_) {
    if (entry.second->last_active_ms + idle_ms <= now) idle.push_back(entry.second);
  }
  std::vector<uint32_t> ids;
  for (Flow* flow : idle) {
    ids.push_back(flow->id);
    DropFlow(flow);
  }
  return ids;
}

void Listener::FlushCounters() {
  ThreadState* s = udp_->state;
  const uint32_t fields[7] = {fields_.packets_in,        fields_.packets_out,    fields_.bytes_in,
                              fields_.bytes_out,         fields_.datagrams_dropped, fields_.quota_rejected,
                              fields_.receive_buffer_drops};
  for (int i = 0; i < 7; i++) {
    if (count_[i] == 0) continue;
    if (!udp_->tearing_down && s->counters != nullptr) {
      __atomic_fetch_add(s->counters + row_ + fields[i], static_cast<int64_t>(count_[i]), __ATOMIC_SEQ_CST);
    }
    count_[i] = 0;
  }
}

void Listener::Tell() {
  if (events_.empty()) return;
  std::vector<FlowEvent> events;
  events.swap(events_);
  if (closed_ || udp_->tearing_down || on_events_.IsEmpty() || async_context_ == nullptr) return;
  // A libuv callback, not a JS call: our own scope, and napi_make_callback so microtasks run
  // after it. Raw N-API so a stopping environment makes these calls fail, not abort.
  napi_env env = udp_->state->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value list = nullptr;
  bool ok = napi_create_array_with_length(env, events.size(), &list) == napi_ok;
  static const char* kKinds[] = {"new", "answered", "error"};
  for (size_t i = 0; ok && i < events.size(); i++) {
    const FlowEvent& e = events[i];
    napi_value item = nullptr;
    napi_value value = nullptr;
    ok = napi_create_object(env, &item) == napi_ok &&
         napi_create_string_utf8(env, kKinds[e.kind], NAPI_AUTO_LENGTH, &value) == napi_ok &&
         napi_set_named_property(env, item, "type", value) == napi_ok &&
         napi_create_uint32(env, e.flow, &value) == napi_ok && napi_set_named_property(env, item, "flow", value) == napi_ok;
    if (ok && e.kind == FlowEvent::kNew) {
      ok = napi_create_string_utf8(env, e.address.c_str(), NAPI_AUTO_LENGTH, &value) == napi_ok &&
           napi_set_named_property(env, item, "address", value) == napi_ok &&
           napi_create_int32(env, e.port, &value) == napi_ok && napi_set_named_property(env, item, "port", value) == napi_ok;
    }
    if (ok && e.kind == FlowEvent::kError) {
      ok = napi_create_int32(env, e.err, &value) == napi_ok && napi_set_named_property(env, item, "errno", value) == napi_ok;
    }
    ok = ok && napi_set_element(env, list, static_cast<uint32_t>(i), item) == napi_ok;
  }
  napi_value global = nullptr;
  napi_value callback = nullptr;
  ok = ok && napi_get_global(env, &global) == napi_ok &&
       napi_get_reference_value(env, static_cast<napi_ref>(on_events_), &callback) == napi_ok && callback != nullptr;
  if (ok) {
    napi_value ignored;
    (void)napi_make_callback(env, async_context_, global, callback, 1, &list, &ignored);
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace udp
}  // namespace sluice
