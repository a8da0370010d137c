// N-API surface of the native UDP flow path (udp-relay.h): registered beside the splice relay's
// exports by addon.cc. The typed contract is lib/native.ts.
#pragma once

#include <napi.h>

#include "relay.h"

namespace sluice {
namespace udp {

// Adds udpListen, udpOpen, udpEnd, udpExpire and udpClose to `exports`. False (with a JS error
// pending) when the environment's cleanup hook could not be added.
bool RegisterUdp(Napi::Env env, Napi::Object exports, ThreadState* state);

}  // namespace udp
}  // namespace sluice
