// A foreign socket on a port the edge is about to listen on. The shards bind with SO_REUSEPORT,
// which any process of the same user may join without an error; this bind, without it, fails
// with EADDRINUSE while any socket holds the address. Synchronous: a few syscalls, no handle.

#pragma once

#include <napi.h>

namespace sluice {
namespace probe {

// probeBind(host, port, udp): 0, or -errno of the socket, bind or listen that failed.
void Register(Napi::Env env, Napi::Object exports);

}  // namespace probe
}  // namespace sluice
