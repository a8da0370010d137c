#include "udp-pacer.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice {
namespace udp {

int Pacer::OpenTimer() {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

void Pacer::Attach(uv_poll_t* timer) {
  timer_ = timer;
  timer_->data = this;
  uv_fileno(reinterpret_cast<uv_handle_t*>(timer), &timer_fd_);
  uv_poll_start(timer_, UV_READABLE, OnTick);
}

void Pacer::Arm() {
  if (armed_ || timer_ == nullptr) return;
  itimerspec when;
  std::memset(&when, 0, sizeof when);
  when.it_value.tv_nsec = static_cast<long>(kTickNs);
  armed_ = timerfd_settime(timer_fd_, 0, &when, nullptr) == 0;
}

void Pacer::After(uv_poll_t* poll, uv_poll_cb cb, PaceState* state, int n) {
  const uint64_t now = uv_hrtime();
  const bool busy = n > 0 && timer_ != nullptr &&
                    (state->paced || n >= kFullRead || now - state->last_read_ns < kBusyGapNs);
  if (n > 0) state->last_read_ns = now;
  if (busy) {
    if (!state->paced) uv_poll_stop(poll);
    state->paced = true;
    due_.push_back(Due{poll, cb, state});
    Arm();
    if (armed_) return;
    // No timer: the poll takes the socket back.
    due_.pop_back();
  }
  if (state->paced) {
    state->paced = false;
    uv_poll_start(poll, UV_READABLE, cb);
  }
}

void Pacer::Forget(uv_poll_t* poll) {
  for (size_t i = 0; i < due_.size(); i++) {
    if (due_[i].poll != poll) continue;
    due_[i] = due_.back();
    due_.pop_back();
    return;
  }
}

uv_poll_t* Pacer::Detach() {
  uv_poll_t* timer = timer_;
  timer_ = nullptr;
  due_.clear();
  return timer;
}

void Pacer::OnTick(uv_poll_t* handle, int status, int events) {
  Pacer* pacer = static_cast<Pacer*>(handle->data);
  if (pacer == nullptr) return;
  pacer->armed_ = false;
  std::vector<Due> due;
  due.swap(pacer->due_);
  for (const Due& d : due) {
    // A socket closed by an earlier call of this tick still has its handle (libuv frees it
    // after this callback) but no data.
    if (d.poll->data == nullptr) continue;
    d.cb(d.poll, 0, UV_READABLE);
  }
  // Arming again cleared the expiry; otherwise it is read here, or the poll would call again.
  if (!pacer->armed_ && pacer->timer_ != nullptr) {
    uint64_t expirations = 0;
    (void)!read(pacer->timer_fd_, &expirations, sizeof expirations);
  }
}

}  // namespace udp
}  // namespace sluice
