// N-API surface of the native connection path (accept-path.h). The typed contract is
// lib/native.ts (NativeAccept). Arguments are checked at this boundary; the path asserts nothing
// JS could get wrong past it except the verdicts, which it bounds itself.

#include <napi.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "accept-path.h"

namespace sluice {
namespace accept {
namespace {

ThreadState* StateOf(const Napi::CallbackInfo& info) { return static_cast<ThreadState*>(info.Data()); }

Napi::Value Throw(Napi::Env env, Napi::Error error) {
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool ReadWhole(Napi::Value value, double most, double* out) {
  if (!value.IsNumber()) return false;
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < 0 || d > most) return false;
  *out = d;
  return true;
}

// An Int32Array over a SharedArrayBuffer (a plain ArrayBuffer could be detached under us).
bool IsSharedInt32(Napi::Env env, Napi::Value value) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) return false;
  napi_value buffer = nullptr;
  if (napi_get_typedarray_info(env, value, nullptr, nullptr, nullptr, &buffer, nullptr) != napi_ok) return false;
  bool plain = true;
  return napi_is_arraybuffer(env, buffer, &plain) == napi_ok && !plain;
}

// A group JS may still call (disposed ones only for destroy: their connections run on).
Group* GroupOf(ThreadState* state, Napi::Value value, bool disposed_too = false) {
  double id = 0;
  if (state->accept == nullptr || !ReadWhole(value, 4294967295.0, &id)) return nullptr;
  auto it = state->accept->groups.find(static_cast<uint32_t>(id));
  if (it == state->accept->groups.end() || (it->second->disposed && !disposed_too)) return nullptr;
  return it->second;
}

// options: { row, qosRule, halfCloseTimeoutMs, connectTimeoutMs }. Answers "" or the problem.
std::string ReadOptions(ThreadState* state, Napi::Value value, Group* g) {
  if (!value.IsObject()) return "options must be an object";
  Napi::Object options = value.As<Napi::Object>();
  double row = 0;
  double rule = 0;
  double half_close = 0;
  double connect_timeout = 0;
  const double last_field = std::max({state->field_in, state->field_out, state->field_throttled[0],
                                      state->field_throttled[1], state->field_urgent, state->field_pipe_waits});
  if (!ReadWhole(options.Get("row"), 4294967295.0, &row) ||
      row + last_field >= static_cast<double>(state->counter_words)) {
    return "options.row must be a row inside the counters given to init()";
  }
  if (!ReadWhole(options.Get("qosRule"), 4294967295.0, &rule) || state->qos == nullptr ||
      rule + 16 > static_cast<double>(state->qos_words)) {
    return "options.qosRule must be an entity inside the QoS buffer given to init()";
  }
  if (!ReadWhole(options.Get("halfCloseTimeoutMs"), 86400000.0, &half_close)) {
    return "options.halfCloseTimeoutMs must be a whole number of ms from 0 to 86400000";
  }
  if (!ReadWhole(options.Get("connectTimeoutMs"), 86400000.0, &connect_timeout)) {
    return "options.connectTimeoutMs must be a whole number of ms from 0 to 86400000";
  }
  g->row = static_cast<uint32_t>(row);
  g->qos_rule = static_cast<int64_t>(rule);
  g->half_close_ms = static_cast<uint64_t>(half_close);
  g->connect_timeout_ms = static_cast<uint64_t>(connect_timeout);
  return "";
}

// targets: [{ host: IP literal, port }]. Answers "" or the problem.
std::string ReadTargets(Napi::Value value, std::vector<Target>* out) {
  if (!value.IsArray()) return "targets must be an array";
  Napi::Array list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) return "targets[" + std::to_string(i) + "] must be { host, port }";
    Napi::Value host = item.As<Napi::Object>().Get("host");
    double port = 0;
    Target t;
    if (!host.IsString() || !ReadWhole(item.As<Napi::Object>().Get("port"), 65535, &port) ||
        !ParseAddress(host.As<Napi::String>().Utf8Value(), static_cast<uint32_t>(port), &t)) {
      return "targets[" + std::to_string(i) + "] must be an IP literal and a port";
    }
    out->push_back(t);
  }
  return "";
}

// acceptGroup(onAccept, onEvents, verdicts, order, events, options): number
Napi::Value GroupFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  if (state->counters == nullptr) return Throw(env, Napi::Error::New(env, "acceptGroup: init() was not called"));
  if (!info[0].IsFunction() || !info[1].IsFunction()) {
    return Throw(env, Napi::TypeError::New(env, "acceptGroup: onAccept and onEvents must be functions"));
  }
  for (int i = 2; i < 5; i++) {
    if (!IsSharedInt32(env, info[i])) {
      return Throw(env, Napi::TypeError::New(env, "acceptGroup: verdicts, order and events must be Int32Arrays "
                                                  "over SharedArrayBuffers"));
    }
  }
  Napi::Int32Array verdicts = info[2].As<Napi::Int32Array>();
  Napi::Int32Array events = info[4].As<Napi::Int32Array>();
  if (verdicts.ElementLength() < 2 || info[3].As<Napi::Int32Array>().ElementLength() < 1 ||
      events.ElementLength() < kEventWords) {
    return Throw(env, Napi::RangeError::New(env, "acceptGroup: verdicts, order or events is too short"));
  }
  Group probe;
  probe.state = state;
  std::string problem = ReadOptions(state, info[5], &probe);
  if (env.IsExceptionPending()) return env.Undefined();
  if (!problem.empty()) return Throw(env, Napi::TypeError::New(env, "acceptGroup: " + problem));
  Group* g = CreateGroup(state, info[0], info[1], verdicts, info[3].As<Napi::Int32Array>(), events);
  if (g == nullptr) return Throw(env, Napi::Error::New(env, "acceptGroup: no timer could be made"));
  g->row = probe.row;
  g->qos_rule = probe.qos_rule;
  g->half_close_ms = probe.half_close_ms;
  g->connect_timeout_ms = probe.connect_timeout_ms;
  return Napi::Number::New(env, g->id);
}

// acceptConfigure(group, options): void — for connections accepted from now on.
Napi::Value ConfigureFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  Group* g = GroupOf(state, info[0]);
  if (g == nullptr) return Throw(env, Napi::TypeError::New(env, "acceptConfigure: no such group"));
  Group probe;
  probe.state = state;
  std::string problem = ReadOptions(state, info[1], &probe);
  if (env.IsExceptionPending()) return env.Undefined();
  if (!problem.empty()) return Throw(env, Napi::TypeError::New(env, "acceptConfigure: " + problem));
  g->row = probe.row;
  g->qos_rule = probe.qos_rule;
  g->half_close_ms = probe.half_close_ms;
  g->connect_timeout_ms = probe.connect_timeout_ms;
  return env.Undefined();
}

// acceptListen(group, host, port, targets): number — the listener id, or -errno.
Napi::Value ListenFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  Group* g = GroupOf(state, info[0]);
  if (g == nullptr) return Throw(env, Napi::TypeError::New(env, "acceptListen: no such group"));
  double port = 0;
  Target address;
  if (!info[1].IsString() || !ReadWhole(info[2], 65535, &port) ||
      !ParseAddress(info[1].As<Napi::String>().Utf8Value(), static_cast<uint32_t>(port), &address)) {
    return Throw(env, Napi::TypeError::New(env, "acceptListen: host must be an IP literal and port 0..65535"));
  }
  auto targets = std::make_shared<std::vector<Target>>();
  std::string problem = ReadTargets(info[3], targets.get());
  if (env.IsExceptionPending()) return env.Undefined();
  if (!problem.empty()) return Throw(env, Napi::TypeError::New(env, "acceptListen: " + problem));
  // A getter among the targets may have disposed the group.
  if (GroupOf(state, info[0]) != g) return Throw(env, Napi::TypeError::New(env, "acceptListen: no such group"));
  return Napi::Number::New(env, static_cast<double>(Listen(g, address, std::move(targets))));
}

Listener* ListenerOf(ThreadState* state, Napi::Value value) {
  double id = 0;
  if (state->accept == nullptr || !ReadWhole(value, 4294967295.0, &id)) return nullptr;
  auto it = state->accept->listeners.find(static_cast<uint32_t>(id));
  return it == state->accept->listeners.end() ? nullptr : it->second;
}

// acceptTargets(listener, targets): void — for connections accepted from now on.
Napi::Value TargetsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  auto targets = std::make_shared<std::vector<Target>>();
  std::string problem = ReadTargets(info[1], targets.get());
  if (env.IsExceptionPending()) return env.Undefined();
  if (!problem.empty()) return Throw(env, Napi::TypeError::New(env, "acceptTargets: " + problem));
  Listener* l = ListenerOf(state, info[0]);
  if (l == nullptr) return Throw(env, Napi::TypeError::New(env, "acceptTargets: no such listener"));
  l->targets = std::move(targets);
  return env.Undefined();
}

// acceptClose(listener): void — stops accepting and closes the listening socket.
Napi::Value CloseFn(const Napi::CallbackInfo& info) {
  Listener* l = ListenerOf(StateOf(info), info[0]);
  if (l != nullptr) CloseListener(l);
  return info.Env().Undefined();
}

// acceptDestroy(group, owner?): void — closes every connection of the group now, or with an
// owner entity, cuts that owner's (its quota is spent). Closed events follow.
Napi::Value DestroyFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  Group* g = GroupOf(state, info[0], true);
  if (g == nullptr) return env.Undefined();
  double owner = -1;
  if (!info[1].IsUndefined() && !ReadWhole(info[1], 4294967295.0, &owner)) {
    return Throw(env, Napi::TypeError::New(env, "acceptDestroy: owner must be an entity or absent"));
  }
  DestroyConnections(g, static_cast<int64_t>(owner));
  return env.Undefined();
}

// acceptDispose(group): void — no more calls for this group; it is freed once its listeners are
// closed and its last connection has ended and been told.
Napi::Value DisposeFn(const Napi::CallbackInfo& info) {
  Group* g = GroupOf(StateOf(info), info[0]);
  if (g != nullptr) {
    g->disposed = true;
    g->MaybeFree();
  }
  return info.Env().Undefined();
}

// acceptBudget(words: Int32Array over a SharedArrayBuffer, { limit, open, reached, mine }): void — the
// edge's connection budget (word offsets into `words`); every listener of this thread takes a
// place in it before each accept from now on.
Napi::Value BudgetFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThreadState* state = StateOf(info);
  if (!IsSharedInt32(env, info[0])) {
    return Throw(env, Napi::TypeError::New(env, "acceptBudget: words must be an Int32Array over a SharedArrayBuffer"));
  }
  if (!info[1].IsObject()) return Throw(env, Napi::TypeError::New(env, "acceptBudget: offsets must be an object"));
  Napi::Int32Array words = info[0].As<Napi::Int32Array>();
  Napi::Object offsets = info[1].As<Napi::Object>();
  const double last = static_cast<double>(words.ElementLength()) - 1;
  double at[4] = {0, 0, 0, 0};
  const char* keys[4] = {"limit", "open", "reached", "mine"};
  for (int i = 0; i < 4; i++) {
    Napi::Value value = offsets.Get(keys[i]);
    if (env.IsExceptionPending()) return env.Undefined();
    if (!ReadWhole(value, last, &at[i])) {
      return Throw(env, Napi::RangeError::New(env, std::string("acceptBudget: offsets.") + keys[i] +
                                                       " must be a word inside words"));
    }
  }
  Budget& budget = RegistryOf(state)->budget;
  budget.ref = Napi::Persistent(words.As<Napi::Object>());
  budget.words = words.Data();
  budget.limit = static_cast<uint32_t>(at[0]);
  budget.open = static_cast<uint32_t>(at[1]);
  budget.reached = static_cast<uint32_t>(at[2]);
  budget.mine = static_cast<uint32_t>(at[3]);
  return env.Undefined();
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports, ThreadState* state) {
  exports.Set("acceptBudget", Napi::Function::New(env, BudgetFn, "acceptBudget", state));
  exports.Set("acceptGroup", Napi::Function::New(env, GroupFn, "acceptGroup", state));
  exports.Set("acceptConfigure", Napi::Function::New(env, ConfigureFn, "acceptConfigure", state));
  exports.Set("acceptListen", Napi::Function::New(env, ListenFn, "acceptListen", state));
  exports.Set("acceptTargets", Napi::Function::New(env, TargetsFn, "acceptTargets", state));
  exports.Set("acceptClose", Napi::Function::New(env, CloseFn, "acceptClose", state));
  exports.Set("acceptDestroy", Napi::Function::New(env, DestroyFn, "acceptDestroy", state));
  exports.Set("acceptDispose", Napi::Function::New(env, DisposeFn, "acceptDispose", state));
}

}  // namespace accept
}  // namespace sluice
