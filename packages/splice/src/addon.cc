// N-API surface of the splice relay. Loaded once per Node.js environment (the main thread and
// each worker that asks for it); every environment gets its own ThreadState, freed by an async
// cleanup hook once the relays it holds have closed their handles, descriptors and pipes.
// The typed contract of these exports is lib/native.ts.

#include <napi.h>
#include <uv.h>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <string>

#include "relay.h"

namespace sluice {
namespace {

ThreadState* StateOf(const Napi::CallbackInfo& info) { return static_cast<ThreadState*>(info.Data()); }

bool IsUint32(const Napi::Value& value) {
  if (!value.IsNumber()) return false;
  double d = value.As<Napi::Number>().DoubleValue();
  return d >= 0 && d <= 4294967295.0 && std::floor(d) == d;
}

Napi::Value Throw(Napi::Env env, Napi::Error error) {
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool ReadOffset(Napi::Object object, const char* key, uint32_t* out) {
  Napi::Value value = object.Get(key);
  if (!IsUint32(value)) return false;
  *out = value.As<Napi::Number>().Uint32Value();
  return true;
}

// init(counters: BigInt64Array,
//      fields: { bytesIn, bytesOut, throttledNsIn, throttledNsOut, urgentBytes, pipeWaits },
//      qos?: { words: BigInt64Array, bandwidthIn, bandwidthOut, rate, limitNs, tatNs }): void
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
    return Throw(env, Napi::TypeError::New(env, "init: counters must be a BigInt64Array"));
  }
  if (!info[1].IsObject()) return Throw(env, Napi::TypeError::New(env, "init: fields must be an object"));
  Napi::Object fields = info[1].As<Napi::Object>();
  uint32_t field_in = 0;
  uint32_t field_out = 0;
  uint32_t throttled[2] = {0, 0};
  uint32_t urgent = 0;
  uint32_t pipe_waits = 0;
  if (!ReadOffset(fields, "bytesIn", &field_in) || !ReadOffset(fields, "bytesOut", &field_out) ||
      !ReadOffset(fields, "throttledNsIn", &throttled[0]) || !ReadOffset(fields, "throttledNsOut", &throttled[1]) ||
      !ReadOffset(fields, "urgentBytes", &urgent) || !ReadOffset(fields, "pipeWaits", &pipe_waits)) {
    return Throw(env, Napi::TypeError::New(env,
                                           "init: fields.bytesIn, bytesOut, throttledNsIn, throttledNsOut, "
                                           "urgentBytes and pipeWaits must be word offsets"));
  }
  Napi::Object qos_spec;
  uint32_t bandwidth[2] = {0, 0};
  qos::BucketLayout bucket;
  bool has_qos = !info[2].IsUndefined();
  if (has_qos) {
    if (!info[2].IsObject()) return Throw(env, Napi::TypeError::New(env, "init: qos must be an object"));
    qos_spec = info[2].As<Napi::Object>();
    Napi::Value words = qos_spec.Get("words");
    if (!words.IsTypedArray() || words.As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
      return Throw(env, Napi::TypeError::New(env, "init: qos.words must be a BigInt64Array"));
    }
    if (!ReadOffset(qos_spec, "bandwidthIn", &bandwidth[0]) || !ReadOffset(qos_spec, "bandwidthOut", &bandwidth[1]) ||
        !ReadOffset(qos_spec, "rate", &bucket.rate) || !ReadOffset(qos_spec, "limitNs", &bucket.limit_ns) ||
        !ReadOffset(qos_spec, "tatNs", &bucket.tat_ns)) {
      return Throw(env, Napi::TypeError::New(
                            env, "init: qos.bandwidthIn, bandwidthOut, rate, limitNs and tatNs must be word offsets"));
    }
  }
  if (!state->relays.empty()) {
    return Throw(env, Napi::Error::New(env, "init: relays are open on this thread"));
  }
  Napi::BigInt64Array counters = info[0].As<Napi::BigInt64Array>();
  state->counters_ref = Napi::Persistent(counters.As<Napi::Object>());
  state->counters = counters.Data();
  state->counter_words = counters.ElementLength();
  state->field_in = field_in;
  state->field_out = field_out;
  state->field_throttled[0] = throttled[0];
  state->field_throttled[1] = throttled[1];
  state->field_urgent = urgent;
  state->field_pipe_waits = pipe_waits;
  if (has_qos) {
    Napi::BigInt64Array words = qos_spec.Get("words").As<Napi::BigInt64Array>();
    state->qos_ref = Napi::Persistent(words.As<Napi::Object>());
    state->qos = words.Data();
    state->qos_words = words.ElementLength();
    state->qos_bandwidth[0] = bandwidth[0];
    state->qos_bandwidth[1] = bandwidth[1];
    state->bucket = bucket;
  }
  return env.Undefined();
}

// relay(clientFd, upstreamFd, row, { halfCloseTimeoutMs }, onClose): number
Napi::Value RelayFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  if (state->counters == nullptr) return Throw(env, Napi::Error::New(env, "relay: init() was not called on this thread"));
  if (!IsUint32(info[0]) || !IsUint32(info[1])) {
    return Throw(env, Napi::TypeError::New(env, "relay: descriptors must be non-negative integers"));
  }
  if (!IsUint32(info[2])) return Throw(env, Napi::TypeError::New(env, "relay: row must be a non-negative integer"));
  uint32_t row = info[2].As<Napi::Number>().Uint32Value();
  uint64_t last_word =
      static_cast<uint64_t>(row) + std::max({state->field_in, state->field_out, state->field_throttled[0],
                                             state->field_throttled[1], state->field_urgent, state->field_pipe_waits});
  if (last_word >= state->counter_words) {
    return Throw(env, Napi::RangeError::New(env, "relay: row is outside the counters array"));
  }
  if (!info[3].IsObject()) return Throw(env, Napi::TypeError::New(env, "relay: options must be an object"));
  Napi::Value half_close = info[3].As<Napi::Object>().Get("halfCloseTimeoutMs");
  double half_close_ms = 0;
  if (!half_close.IsUndefined()) {
    if (!half_close.IsNumber() || !(half_close.As<Napi::Number>().DoubleValue() >= 0) ||
        !std::isfinite(half_close.As<Napi::Number>().DoubleValue())) {
      return Throw(env, Napi::TypeError::New(env, "relay: options.halfCloseTimeoutMs must be a finite number >= 0"));
    }
    half_close_ms = half_close.As<Napi::Number>().DoubleValue();
  }
  int64_t entities[2] = {-1, -1};
  const char* entity_keys[2] = {"qosOwner", "qosRule"};
  for (int i = 0; i < 2; i++) {
    Napi::Value value = info[3].As<Napi::Object>().Get(entity_keys[i]);
    if (value.IsUndefined()) continue;
    if (!value.IsNumber() || std::floor(value.As<Napi::Number>().DoubleValue()) != value.As<Napi::Number>().DoubleValue()) {
      return Throw(env, Napi::TypeError::New(env, std::string("relay: options.") + entity_keys[i] + " must be an integer"));
    }
    double entity = value.As<Napi::Number>().DoubleValue();
    if (entity < 0) continue;
    // The entity's last bucket word must lie inside the QoS buffer.
    uint64_t last = static_cast<uint64_t>(entity) +
                    std::max({state->qos_bandwidth[0], state->qos_bandwidth[1]}) +
                    std::max({state->bucket.rate, state->bucket.limit_ns, state->bucket.tat_ns});
    if (state->qos == nullptr || last >= state->qos_words) {
      return Throw(env, Napi::RangeError::New(env, std::string("relay: options.") + entity_keys[i] +
                                                       " is outside the QoS buffer (or init() had none)"));
    }
    entities[i] = static_cast<int64_t>(entity);
  }
  if (!info[4].IsFunction()) return Throw(env, Napi::TypeError::New(env, "relay: onClose must be a function"));
  int64_t id = Relay::Start(state, static_cast<int>(info[0].As<Napi::Number>().Uint32Value()),
                            static_cast<int>(info[1].As<Napi::Number>().Uint32Value()), row,
                            static_cast<uint64_t>(std::ceil(half_close_ms)), entities[0], entities[1],
                            info[4].As<Napi::Function>());
  return Napi::Number::New(env, static_cast<double>(id));
}

// destroy(id): void — closes both sides now; onClose follows with reason 'destroyed'.
Napi::Value DestroyFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  if (!IsUint32(info[0])) return Throw(env, Napi::TypeError::New(env, "destroy: id must be a relay id"));
  auto it = state->relays.find(info[0].As<Napi::Number>().Uint32Value());
  if (it != state->relays.end()) it->second->Destroy();
  return env.Undefined();
}

// stats(): { relays, pipesInUse, pipesPooled }
Napi::Value StatsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("relays", Napi::Number::New(env, static_cast<double>(state->relays.size())));
  stats.Set("pipesInUse", Napi::Number::New(env, static_cast<double>(state->pipes.in_use())));
  stats.Set("pipesPooled", Napi::Number::New(env, static_cast<double>(state->pipes.pooled())));
  return stats;
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  ThreadState* state = new ThreadState(env);
  if (napi_get_uv_event_loop(env, &state->loop) != napi_ok || state->loop == nullptr) {
    delete state;
    Napi::Error::New(env, "sluice_splice: no libuv loop for this environment").ThrowAsJavaScriptException();
    return exports;
  }
  state->async_context = std::make_unique<Napi::AsyncContext>(env, "sluice:splice:relay");
  if (napi_add_async_cleanup_hook(env, ThreadState::OnTeardown, state, &state->cleanup) != napi_ok) {
    delete state;
    Napi::Error::New(env, "sluice_splice: could not add a cleanup hook").ThrowAsJavaScriptException();
    return exports;
  }
  exports.Set("init", Napi::Function::New(env, Init, "init", state));
  exports.Set("relay", Napi::Function::New(env, RelayFn, "relay", state));
  exports.Set("destroy", Napi::Function::New(env, DestroyFn, "destroy", state));
  exports.Set("stats", Napi::Function::New(env, StatsFn, "stats", state));
  return exports;
}

}  // namespace
}  // namespace sluice

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return sluice::Register(env, exports); }

NODE_API_MODULE(sluice_splice, InitModule)
