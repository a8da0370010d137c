#include "epoll-set.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace sluice {

namespace {
// Events taken per wake; what is left stays ready (level-triggered) for the next turn of the loop.
constexpr int kBatch = 64;
}  // namespace

int EpollSet::Open(uv_loop_t* loop) {
  if (closing_) return -EBADF;
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return -errno;
  int err = uv_poll_init(loop, &poll_, fd);
  if (err != 0) {
    close(fd);
    return err;
  }
  fd_ = fd;
  poll_.data = this;
  // Fails only for a closing handle or bad flags, neither possible on the handle just made.
  err = uv_poll_start(&poll_, UV_READABLE, OnReadable);
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  return err;
}

int EpollSet::Set(uv_loop_t* loop, Watch* w, uint32_t events) {
  if (events == w->events) return 0;
  if (fd_ < 0) {
    if (events == 0) {
      w->events = 0;
      return 0;
    }
    int err = Open(loop);
    if (err != 0) return err;
  }
  epoll_event e{};
  e.events = events;
  e.data.ptr = w;
  int op = w->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (epoll_ctl(fd_, op, w->fd, &e) != 0) return -errno;
  w->events = events;
  if (op == EPOLL_CTL_ADD && watched_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
  if (op == EPOLL_CTL_DEL && --watched_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  return 0;
}

void EpollSet::OnReadable(uv_poll_t* handle, int status, int events) {
  EpollSet* set = static_cast<EpollSet*>(handle->data);
  epoll_event ready[kBatch];
  int n = epoll_wait(set->fd_, ready, kBatch, 0);
  for (int i = 0; i < n; i++) {
    Watch* w = static_cast<Watch*>(ready[i].data.ptr);
    // An earlier callback of this batch may have changed what w waits for, or taken it out.
    if (w->events == 0) continue;
    uint32_t got = ready[i].events & (w->events | EPOLLERR | EPOLLHUP);
    if ((got & (EPOLLIN | EPOLLOUT)) == 0) {
      if (got == 0) continue;
      got |= w->events;
    }
    w->ready(w, got);
  }
}

void EpollSet::Close(void (*closed)(void* arg), void* arg) {
  closed_ = closed;
  closed_arg_ = arg;
  if (closing_) return;
  closing_ = true;
  if (fd_ < 0) {
    closed(arg);
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
}

void EpollSet::OnClosed(uv_handle_t* handle) {
  EpollSet* set = static_cast<EpollSet*>(handle->data);
  close(set->fd_);
  set->fd_ = -1;
  if (set->closed_ != nullptr) set->closed_(set->closed_arg_);
}

}  // namespace sluice
