// The probe of port-probe.h: a TCP socket binds and listens as a listener would (SO_REUSEADDR,
// as libuv and the shards set it, so sockets in TIME_WAIT do not count), a UDP socket binds
// with no option; either is closed at once.

#include "port-probe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "accept-path.h"

namespace sluice {
namespace probe {
namespace {

int ProbeBind(const accept::Target& address, bool udp) {
  const int fd = socket(address.addr.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  int result = 0;
  if ((!udp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) ||
      bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.len) != 0 ||
      (!udp && listen(fd, 1) != 0)) {
    result = -errno;
  }
  close(fd);
  return result;
}

Napi::Value ProbeBindFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  accept::Target address;
  const bool port_ok = info.Length() >= 3 && info[1].IsNumber() && info[2].IsBoolean();
  const double port = port_ok ? info[1].As<Napi::Number>().DoubleValue() : -1;
  if (!port_ok || !info[0].IsString() || port < 0 || port > 65535 || port != static_cast<uint32_t>(port) ||
      !accept::ParseAddress(info[0].As<Napi::String>().Utf8Value(), static_cast<uint32_t>(port), &address)) {
    Napi::TypeError::New(env, "probeBind(host, port, udp): host must be an IP literal, port 0..65535, udp a boolean")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, ProbeBind(address, info[2].As<Napi::Boolean>().Value()));
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("probeBind", Napi::Function::New(env, ProbeBindFn, "probeBind"));
}

}  // namespace probe
}  // namespace sluice
