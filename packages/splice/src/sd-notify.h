// sd_notify(3) for the edge's main thread: Node cannot send an AF_UNIX datagram, and linking
// libsystemd for one sendto is not worth a dependency. The typed contract is lib/native.ts.
#pragma once

#include <napi.h>

#include <string>

namespace sluice {
namespace notify {

// Sends `message` as one datagram to the socket `path` ($NOTIFY_SOCKET: a filesystem path, or
// an abstract name written with a leading '@'). Answers 0, or the errno of what failed.
int Send(const std::string& path, const std::string& message);

// Adds sdNotify(path: string, message: string): number (0 or a positive errno) to `exports`.
void Register(Napi::Env env, Napi::Object exports);

}  // namespace notify
}  // namespace sluice
