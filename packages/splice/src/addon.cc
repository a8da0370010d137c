// N-API surface of the splice relay. Loaded once per Node.js environment (the main thread and
// each worker that asks for it); every environment gets its own ThreadState, freed by an async
// cleanup hook once the relays it holds have closed their handles, descriptors and pipes.
// The typed contract of these exports is lib/native.ts.

#include <napi.h>
#include <uv.h>

#include <unistd.h>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <string>

#include "accept-path.h"
#include "port-probe.h"
#include "relay.h"
#include "sd-notify.h"
#include "udp-napi.h"

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

// The longest half-close timeout relay() takes: a day, config's own bound for the option
// (MAX_HALF_CLOSE_TIMEOUT_MS in lib/native.ts; binding-boundary.test.ts holds the two together).
constexpr double kMaxHalfCloseMs = 86400000.0;

bool ReadOffset(Napi::Object object, const char* key, uint32_t* out) {
  Napi::Value value = object.Get(key);
  if (value.IsEmpty() || !IsUint32(value)) return false;
  *out = value.As<Napi::Number>().Uint32Value();
  return true;
}

// The addon keeps a raw pointer into the words of `array` until the next init(). Only the
// memory of a SharedArrayBuffer that cannot grow stays where it is for that long: an ArrayBuffer
// can be transferred or detached (and resized) under us. Answers an error message, or "".
std::string CheckFixedShared(ThreadState* state, Napi::Value array, const char* what) {
  napi_env env = state->env;
  if (!array.IsTypedArray() || array.As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
    return std::string("init: ") + what + " must be a BigInt64Array";
  }
  napi_value buffer = nullptr;
  if (napi_get_typedarray_info(env, array, nullptr, nullptr, nullptr, &buffer, nullptr) != napi_ok) {
    return std::string("init: ") + what + " has no buffer";
  }
  bool plain = false;
  if (napi_is_arraybuffer(env, buffer, &plain) != napi_ok || plain) {
    return std::string("init: ") + what + " must be a view of a SharedArrayBuffer (an ArrayBuffer can be detached)";
  }
  Napi::Value growable = state->sab_growable.Value().Call(Napi::Value(env, buffer), {});
  if (growable.IsEmpty()) return "";  // the getter threw: the exception is pending
  if (!growable.IsBoolean() || growable.As<Napi::Boolean>().Value()) {
    return std::string("init: ") + what + " must be a view of a SharedArrayBuffer that cannot grow";
  }
  return "";
}

// init(counters: BigInt64Array,
//      fields: { bytesIn, bytesOut, throttledNsIn, throttledNsOut, urgentBytes, pipeWaits },
//      qos?: { words: BigInt64Array, bandwidthIn, bandwidthOut, rate, limitNs, tatNs, quotaCapped, quotaLeft },
//      pipes?: { budgetPages }): void
// Both arrays must view SharedArrayBuffers that cannot grow. Every argument is read before the
// state changes, and the state changes only when all of them are good.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  if (state->relay_calls > 0) return Throw(env, Napi::Error::New(env, "init: called from inside relay()"));
  std::string problem = CheckFixedShared(state, info[0], "counters");
  if (env.IsExceptionPending()) return env.Undefined();
  if (!problem.empty()) return Throw(env, Napi::TypeError::New(env, problem));
  if (!info[1].IsObject()) return Throw(env, Napi::TypeError::New(env, "init: fields must be an object"));
  Napi::Object fields = info[1].As<Napi::Object>();
  uint32_t field_in = 0;
  uint32_t field_out = 0;
  uint32_t throttled[2] = {0, 0};
  uint32_t urgent = 0;
  uint32_t pipe_waits = 0;
  bool offsets_ok = ReadOffset(fields, "bytesIn", &field_in) && ReadOffset(fields, "bytesOut", &field_out) &&
                    ReadOffset(fields, "throttledNsIn", &throttled[0]) &&
                    ReadOffset(fields, "throttledNsOut", &throttled[1]) &&
                    ReadOffset(fields, "urgentBytes", &urgent) && ReadOffset(fields, "pipeWaits", &pipe_waits);
  if (env.IsExceptionPending()) return env.Undefined();
  if (!offsets_ok) {
    return Throw(env, Napi::TypeError::New(env,
                                           "init: fields.bytesIn, bytesOut, throttledNsIn, throttledNsOut, "
                                           "urgentBytes and pipeWaits must be word offsets"));
  }
  Napi::Value words;
  uint32_t bandwidth[2] = {0, 0};
  qos::BucketLayout bucket;
  quota::QuotaLayout quota_layout;
  bool has_qos = !info[2].IsUndefined();
  if (has_qos) {
    if (!info[2].IsObject()) return Throw(env, Napi::TypeError::New(env, "init: qos must be an object"));
    Napi::Object qos_spec = info[2].As<Napi::Object>();
    words = qos_spec.Get("words");
    if (env.IsExceptionPending()) return env.Undefined();
    problem = CheckFixedShared(state, words, "qos.words");
    if (env.IsExceptionPending()) return env.Undefined();
    if (!problem.empty()) return Throw(env, Napi::TypeError::New(env, problem));
    offsets_ok = ReadOffset(qos_spec, "bandwidthIn", &bandwidth[0]) &&
                 ReadOffset(qos_spec, "bandwidthOut", &bandwidth[1]) && ReadOffset(qos_spec, "rate", &bucket.rate) &&
                 ReadOffset(qos_spec, "limitNs", &bucket.limit_ns) && ReadOffset(qos_spec, "tatNs", &bucket.tat_ns) &&
                 ReadOffset(qos_spec, "quotaCapped", &quota_layout.capped) &&
                 ReadOffset(qos_spec, "quotaLeft", &quota_layout.left);
    if (env.IsExceptionPending()) return env.Undefined();
    if (!offsets_ok) {
      return Throw(env, Napi::TypeError::New(env,
                                             "init: qos.bandwidthIn, bandwidthOut, rate, limitNs, tatNs, quotaCapped "
                                             "and quotaLeft must be word offsets"));
    }
  }
  uint32_t budget_pages = 0;
  if (!info[3].IsUndefined()) {
    if (!info[3].IsObject()) return Throw(env, Napi::TypeError::New(env, "init: pipes must be an object"));
    offsets_ok = ReadOffset(info[3].As<Napi::Object>(), "budgetPages", &budget_pages);
    if (env.IsExceptionPending()) return env.Undefined();
    if (!offsets_ok) {
      return Throw(env, Napi::TypeError::New(env, "init: pipes.budgetPages must be a whole number of pages"));
    }
  }
  // Checked last: a getter above may have started or ended relays.
  if (state->relay_calls > 0) return Throw(env, Napi::Error::New(env, "init: called from inside relay()"));
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
  state->pipes.SetBudget(static_cast<size_t>(budget_pages) * static_cast<size_t>(sysconf(_SC_PAGESIZE)));
  state->qos = nullptr;
  state->qos_words = 0;
  state->qos_ref.Reset();
  if (has_qos) {
    Napi::BigInt64Array qos_words = words.As<Napi::BigInt64Array>();
    state->qos_ref = Napi::Persistent(qos_words.As<Napi::Object>());
    state->qos = qos_words.Data();
    state->qos_words = qos_words.ElementLength();
    state->qos_bandwidth[0] = bandwidth[0];
    state->qos_bandwidth[1] = bandwidth[1];
    state->bucket = bucket;
    state->quota = quota_layout;
  }
  return env.Undefined();
}

// relay()'s arguments as read, before any is checked against the thread's state.
struct RelayArgs {
  Napi::Value fds[2];
  Napi::Value row;
  Napi::Value half_close_ms;
  Napi::Value entities[2];  // qosOwner, qosRule
  Napi::Value on_close;
};

// Counts a relay() call in ThreadState::relay_calls for as long as it runs.
class RelayCallScope {
 public:
  explicit RelayCallScope(ThreadState* state) : state_(state) { state_->relay_calls++; }
  ~RelayCallScope() { state_->relay_calls--; }

 private:
  ThreadState* state_;
};

// A QoS entity offset: undefined or -1 for none, else an integer whose entity lies inside the
// QoS buffer. Answers the offset, -1, or -2 with `problem` set.
int64_t CheckEntity(ThreadState* state, Napi::Value value, const char* key, std::string* problem) {
  if (value.IsUndefined()) return -1;
  double entity = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(entity) || std::floor(entity) != entity || entity < -1) {
    *problem = std::string("relay: options.") + key + " must be an integer >= -1";
    return -2;
  }
  if (entity == -1) return -1;
  // Bounded as a double first: the cast below is then exact, and the sum cannot wrap.
  uint64_t reach = std::max(static_cast<uint64_t>(std::max({state->qos_bandwidth[0], state->qos_bandwidth[1]})) +
                                std::max({state->bucket.rate, state->bucket.limit_ns, state->bucket.tat_ns}),
                            static_cast<uint64_t>(std::max(state->quota.capped, state->quota.left)));
  if (state->qos == nullptr || entity >= static_cast<double>(state->qos_words) ||
      static_cast<uint64_t>(entity) + reach >= state->qos_words) {
    *problem = std::string("relay: options.") + key + " is outside the QoS buffer (or init() had none)";
    return -2;
  }
  return static_cast<int64_t>(entity);
}

// relay(clientFd, upstreamFd, row, { halfCloseTimeoutMs, qosOwner?, qosRule? }, onClose): number
// Every argument is read once, first (a getter may run JS), then each is checked against the
// thread's state as it is after those reads; a pending exception ends the call with nothing taken.
Napi::Value RelayFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  RelayCallScope scope(state);
  RelayArgs args{{info[0], info[1]}, info[2], Napi::Value(), {Napi::Value(), Napi::Value()}, info[4]};
  if (!info[3].IsObject()) return Throw(env, Napi::TypeError::New(env, "relay: options must be an object"));
  Napi::Object options = info[3].As<Napi::Object>();
  args.half_close_ms = options.Get("halfCloseTimeoutMs");
  if (env.IsExceptionPending()) return env.Undefined();
  args.entities[0] = options.Get("qosOwner");
  if (env.IsExceptionPending()) return env.Undefined();
  args.entities[1] = options.Get("qosRule");
  if (env.IsExceptionPending()) return env.Undefined();

  if (state->counters == nullptr) return Throw(env, Napi::Error::New(env, "relay: init() was not called on this thread"));
  for (const Napi::Value& fd : args.fds) {
    if (!IsUint32(fd) || fd.As<Napi::Number>().Uint32Value() > 0x7fffffffu) {
      return Throw(env, Napi::TypeError::New(env, "relay: descriptors must be non-negative integers"));
    }
  }
  if (!IsUint32(args.row)) return Throw(env, Napi::TypeError::New(env, "relay: row must be a non-negative integer"));
  uint32_t row = args.row.As<Napi::Number>().Uint32Value();
  uint64_t last_word =
      static_cast<uint64_t>(row) + std::max({state->field_in, state->field_out, state->field_throttled[0],
                                             state->field_throttled[1], state->field_urgent, state->field_pipe_waits});
  if (last_word >= state->counter_words) {
    return Throw(env, Napi::RangeError::New(env, "relay: row is outside the counters array"));
  }
  double half_close_ms = args.half_close_ms.IsNumber() ? args.half_close_ms.As<Napi::Number>().DoubleValue() : NAN;
  if (!(half_close_ms >= 0 && half_close_ms <= kMaxHalfCloseMs)) {
    return Throw(env, Napi::RangeError::New(env, "relay: options.halfCloseTimeoutMs must be a number from 0 to "
                                                 "86400000 (a day)"));
  }
  int64_t entities[2] = {-1, -1};
  const char* entity_keys[2] = {"qosOwner", "qosRule"};
  for (int i = 0; i < 2; i++) {
    std::string problem;
    entities[i] = CheckEntity(state, args.entities[i], entity_keys[i], &problem);
    if (!problem.empty()) return Throw(env, Napi::RangeError::New(env, problem));
  }
  if (!args.on_close.IsFunction()) return Throw(env, Napi::TypeError::New(env, "relay: onClose must be a function"));
  int64_t id = Relay::Start(state, static_cast<int>(args.fds[0].As<Napi::Number>().Uint32Value()),
                            static_cast<int>(args.fds[1].As<Napi::Number>().Uint32Value()), row,
                            static_cast<uint64_t>(std::ceil(half_close_ms)), entities[0], entities[1], args.on_close);
  return Napi::Number::New(env, static_cast<double>(id));
}

// destroy(id, how?: 'quota'): void — closes both sides now; onClose follows with reason
// 'destroyed'. With 'quota': reads no more, delivers what was read, then resets both sides;
// onClose follows with reason 'quota_exhausted'.
Napi::Value DestroyFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  Napi::Value id = info[0];
  Napi::Value how = info[1];
  if (!IsUint32(id)) return Throw(env, Napi::TypeError::New(env, "destroy: id must be a relay id"));
  bool quota = false;
  if (!how.IsUndefined()) {
    quota = how.IsString() && how.As<Napi::String>().Utf8Value() == "quota";
    if (!quota) return Throw(env, Napi::TypeError::New(env, "destroy: how must be 'quota' or absent"));
  }
  auto it = state->relays.find(id.As<Napi::Number>().Uint32Value());
  if (it == state->relays.end()) return env.Undefined();
  if (quota) {
    it->second->CutForQuota();
  } else {
    it->second->Destroy();
  }
  return env.Undefined();
}

// stats(): { relays, pipesInUse, pipesPooled, pipeBytes }
Napi::Value StatsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("relays", Napi::Number::New(env, static_cast<double>(state->relays.size())));
  stats.Set("pipesInUse", Napi::Number::New(env, static_cast<double>(state->pipes.in_use())));
  stats.Set("pipesPooled", Napi::Number::New(env, static_cast<double>(state->pipes.pooled())));
  stats.Set("pipeBytes", Napi::Number::New(env, static_cast<double>(state->pipes.held_bytes())));
  return stats;
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  ThreadState* state = new ThreadState(env);
  if (napi_get_uv_event_loop(env, &state->loop) != napi_ok || state->loop == nullptr) {
    delete state;
    Napi::Error::New(env, "sluice_splice: no libuv loop for this environment").ThrowAsJavaScriptException();
    return exports;
  }
  Napi::Object global = env.Global();
  Napi::Value prototype = global.Get("SharedArrayBuffer").As<Napi::Object>().Get("prototype");
  Napi::Value descriptor =
      global.Get("Object").As<Napi::Object>().Get("getOwnPropertyDescriptor").As<Napi::Function>().Call(
          {prototype, Napi::String::New(env, "growable")});
  Napi::Value growable = descriptor.IsObject() ? descriptor.As<Napi::Object>().Get("get") : Napi::Value();
  if (env.IsExceptionPending() || !growable.IsFunction()) {
    delete state;
    if (!env.IsExceptionPending()) {
      Napi::Error::New(env, "sluice_splice: this runtime has no SharedArrayBuffer.prototype.growable")
          .ThrowAsJavaScriptException();
    }
    return exports;
  }
  state->sab_growable = Napi::Persistent(growable.As<Napi::Function>());
  if (napi_add_async_cleanup_hook(env, ThreadState::OnTeardown, state, &state->cleanup) != napi_ok) {
    delete state;
    Napi::Error::New(env, "sluice_splice: could not add a cleanup hook").ThrowAsJavaScriptException();
    return exports;
  }
  // The thread's epoll set is made with the thread's state, not at its first connection: the
  // descriptors a thread holds at rest include it (a leak check compares against those). If it
  // cannot be made now, the first socket to be watched tries again.
  (void)state->sockets.Open(state->loop);
  exports.Set("init", Napi::Function::New(env, Init, "init", state));
  exports.Set("relay", Napi::Function::New(env, RelayFn, "relay", state));
  exports.Set("destroy", Napi::Function::New(env, DestroyFn, "destroy", state));
  exports.Set("stats", Napi::Function::New(env, StatsFn, "stats", state));
  accept::Register(env, exports, state);
  notify::Register(env, exports);
  probe::Register(env, exports);
  if (!udp::RegisterUdp(env, exports, state)) return exports;
  return exports;
}

}  // namespace
}  // namespace sluice

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return sluice::Register(env, exports); }

NODE_API_MODULE(sluice_splice, InitModule)
