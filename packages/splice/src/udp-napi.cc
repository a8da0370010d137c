#include "udp-napi.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstring>
#include <string>

#include "udp-relay.h"

namespace sluice {
namespace udp {

namespace {

ThreadUdp* UdpOf(const Napi::CallbackInfo& info) { return static_cast<ThreadUdp*>(info.Data()); }

Napi::Value Throw(Napi::Env env, Napi::Error error) {
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool WholeNumber(const Napi::Value& value, double max, double* out) {
  if (!value.IsNumber()) return false;
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < 0 || d > max) return false;
  *out = d;
  return true;
}

// An IPv4 or IPv6 literal and a port; false when `host` is neither.
bool ParseAddress(const Napi::Value& host, const Napi::Value& port, sockaddr_storage* addr, socklen_t* len) {
  double p = 0;
  if (!host.IsString() || !WholeNumber(port, 65535, &p)) return false;
  std::string text = host.As<Napi::String>().Utf8Value();
  std::memset(addr, 0, sizeof *addr);
  auto* in = reinterpret_cast<sockaddr_in*>(addr);
  if (inet_pton(AF_INET, text.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<uint16_t>(p));
    *len = sizeof *in;
    return true;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(addr);
  if (inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(p));
    *len = sizeof *in6;
    return true;
  }
  return false;
}

// A QoS entity: -1 for none, else an offset whose bandwidth buckets and quota words lie inside
// the buffer init() gave. False when it does not.
bool ReadEntity(ThreadState* s, const Napi::Value& value, int64_t* out) {
  if (!value.IsNumber()) return false;
  double d = value.As<Napi::Number>().DoubleValue();
  if (d == -1) {
    *out = -1;
    return true;
  }
  if (!std::isfinite(d) || std::floor(d) != d || d < 0 || s->qos == nullptr) return false;
  uint64_t reach = std::max<uint64_t>(
      std::max(s->qos_bandwidth[0], s->qos_bandwidth[1]) +
          static_cast<uint64_t>(std::max({s->bucket.rate, s->bucket.limit_ns, s->bucket.tat_ns})),
      std::max(s->quota.capped, s->quota.left));
  if (d >= static_cast<double>(s->qos_words) || static_cast<uint64_t>(d) + reach >= s->qos_words) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

// The kernel takes SO_RCVBUF as an int and doubles it: 2^30 is the most that stays whole.
constexpr double kMaxReceiveBuffer = 1073741824.0;

Listener* FindListener(ThreadUdp* udp, const Napi::Value& id) {
  double d = 0;
  if (!WholeNumber(id, 4294967295.0, &d)) return nullptr;
  auto found = udp->listeners.find(static_cast<uint32_t>(d));
  return found == udp->listeners.end() ? nullptr : found->second;
}

// udpListen(host, port, row, fields, qosRule, receiveBuffer, onEvents): listener id (> 0) or -errno.
Napi::Value ListenFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadUdp* udp = UdpOf(info);
  ThreadState* s = udp->state;
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!ParseAddress(info[0], info[1], &addr, &len)) {
    return Throw(env, Napi::TypeError::New(env, "udpListen: host must be an IP address and port 0-65535"));
  }
  if (s->counters == nullptr) return Throw(env, Napi::Error::New(env, "udpListen: init() was not called on this thread"));
  double row = 0;
  if (!WholeNumber(info[2], 4294967295.0, &row)) {
    return Throw(env, Napi::TypeError::New(env, "udpListen: row must be a non-negative integer"));
  }
  if (!info[3].IsObject()) return Throw(env, Napi::TypeError::New(env, "udpListen: fields must be an object"));
  Napi::Object spec = info[3].As<Napi::Object>();
  const char* keys[7] = {"packetsIn",        "packetsOut",    "bytesIn",           "bytesOut",
                         "datagramsDropped", "quotaRejected", "receiveBufferDrops"};
  uint32_t offsets[7] = {0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 7; i++) {
    Napi::Value value = spec.Get(keys[i]);
    if (env.IsExceptionPending()) return env.Undefined();
    double d = 0;
    if (!WholeNumber(value, 4294967295.0, &d) || static_cast<uint64_t>(row) + static_cast<uint64_t>(d) >= s->counter_words) {
      return Throw(env, Napi::RangeError::New(env, std::string("udpListen: fields.") + keys[i] +
                                                       " must be a word offset inside the counters row"));
    }
    offsets[i] = static_cast<uint32_t>(d);
  }
  int64_t qos_rule = -1;
  if (!ReadEntity(s, info[4], &qos_rule)) {
    return Throw(env, Napi::RangeError::New(env, "udpListen: qosRule must be -1 or an entity inside the QoS buffer"));
  }
  double receive_buffer = 0;
  if (!WholeNumber(info[5], kMaxReceiveBuffer, &receive_buffer) || receive_buffer < 1) {
    return Throw(env, Napi::RangeError::New(env, "udpListen: receiveBuffer must be a byte count from 1 to 2^30"));
  }
  if (!info[6].IsFunction()) return Throw(env, Napi::TypeError::New(env, "udpListen: onEvents must be a function"));
  UdpFields fields{offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], offsets[5], offsets[6]};
  int64_t id = Listener::Start(udp, addr, len, static_cast<uint32_t>(row), fields, qos_rule,
                               static_cast<int>(receive_buffer), info[6]);
  return Napi::Number::New(env, static_cast<double>(id));
}

// udpOpen(listener, flow, address, port, proxyHeader: Buffer | undefined, qosOwner): 0 or -errno
// (-ENOENT: the flow or listener is gone).
Napi::Value OpenFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadUdp* udp = UdpOf(info);
  double flow = 0;
  if (!WholeNumber(info[1], 4294967295.0, &flow)) {
    return Throw(env, Napi::TypeError::New(env, "udpOpen: flow must be a flow id"));
  }
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!ParseAddress(info[2], info[3], &addr, &len)) {
    return Throw(env, Napi::TypeError::New(env, "udpOpen: address must be an IP address and port 0-65535"));
  }
  std::string header;
  if (info[4].IsBuffer()) {
    Napi::Buffer<char> buffer = info[4].As<Napi::Buffer<char>>();
    header.assign(buffer.Data(), buffer.Length());
  } else if (!info[4].IsUndefined()) {
    return Throw(env, Napi::TypeError::New(env, "udpOpen: proxyHeader must be a Buffer or undefined"));
  }
  int64_t owner = -1;
  if (!ReadEntity(udp->state, info[5], &owner)) {
    return Throw(env, Napi::RangeError::New(env, "udpOpen: qosOwner must be -1 or an entity inside the QoS buffer"));
  }
  Listener* listener = FindListener(udp, info[0]);
  if (listener == nullptr) return Napi::Number::New(env, -ENOENT);
  return Napi::Number::New(env, listener->Open(static_cast<uint32_t>(flow), addr, len, header, owner));
}

// udpEnd(listener, flow): closes the flow's upstream socket and forgets it. Unknown ids are ignored.
Napi::Value EndFn(const Napi::CallbackInfo& info) {
  Listener* listener = FindListener(UdpOf(info), info[0]);
  double flow = 0;
  if (listener != nullptr && WholeNumber(info[1], 4294967295.0, &flow)) listener->End(static_cast<uint32_t>(flow));
  return info.Env().Undefined();
}

// udpExpire(listener, idleMs): ends the flows with no datagram either way for idleMs; their ids.
Napi::Value ExpireFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double idle = 0;
  if (!WholeNumber(info[1], 9007199254740991.0, &idle)) {
    return Throw(env, Napi::TypeError::New(env, "udpExpire: idleMs must be a non-negative integer"));
  }
  Listener* listener = FindListener(UdpOf(info), info[0]);
  Napi::Array ids = Napi::Array::New(env);
  if (listener == nullptr) return ids;
  std::vector<uint32_t> ended = listener->Expire(static_cast<uint64_t>(idle));
  for (size_t i = 0; i < ended.size(); i++) ids.Set(static_cast<uint32_t>(i), Napi::Number::New(env, ended[i]));
  return ids;
}

// udpCountDrops(listener): adds what the kernel dropped on the listener's sockets (a full
// receive buffer) since the last call to the row's receiveBufferDrops word.
Napi::Value CountDropsFn(const Napi::CallbackInfo& info) {
  Listener* listener = FindListener(UdpOf(info), info[0]);
  if (listener != nullptr) listener->CountDrops();
  return info.Env().Undefined();
}

// udpReceiveBuffer(listener): the receive buffer the kernel granted the listening socket, or -errno.
Napi::Value ReceiveBufferFn(const Napi::CallbackInfo& info) {
  Listener* listener = FindListener(UdpOf(info), info[0]);
  return Napi::Number::New(info.Env(), listener == nullptr ? -ENOENT : listener->GrantedReceiveBuffer());
}

// udpClose(listener): closes the socket and every flow; no event follows.
Napi::Value CloseFn(const Napi::CallbackInfo& info) {
  Listener* listener = FindListener(UdpOf(info), info[0]);
  if (listener != nullptr) listener->Close();
  return info.Env().Undefined();
}

}  // namespace

bool RegisterUdp(Napi::Env env, Napi::Object exports, ThreadState* state) {
  ThreadUdp* udp = new ThreadUdp(state);
  if (napi_add_async_cleanup_hook(env, ThreadUdp::OnTeardown, udp, &udp->cleanup) != napi_ok) {
    delete udp;
    Napi::Error::New(env, "sluice_splice: could not add the UDP cleanup hook").ThrowAsJavaScriptException();
    return false;
  }
  exports.Set("udpListen", Napi::Function::New(env, ListenFn, "udpListen", udp));
  exports.Set("udpOpen", Napi::Function::New(env, OpenFn, "udpOpen", udp));
  exports.Set("udpEnd", Napi::Function::New(env, EndFn, "udpEnd", udp));
  exports.Set("udpExpire", Napi::Function::New(env, ExpireFn, "udpExpire", udp));
  exports.Set("udpClose", Napi::Function::New(env, CloseFn, "udpClose", udp));
  exports.Set("udpCountDrops", Napi::Function::New(env, CountDropsFn, "udpCountDrops", udp));
  exports.Set("udpReceiveBuffer", Napi::Function::New(env, ReceiveBufferFn, "udpReceiveBuffer", udp));
  return true;
}

}  // namespace udp
}  // namespace sluice
