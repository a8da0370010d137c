// The epoll set a thread's relays and connects watch their sockets in: one per thread, which the
// libuv loop watches as a single descriptor. A libuv poll handle probes every descriptor it is
// given (epoll_ctl ADD then DEL, ioctl FIONBIO), and its start, stop and close each touch the
// loop's set again: with two sockets a connection, that was 9 epoll_ctl and 2 ioctl of the 36
// system calls a relayed connection cost (strace, connection setup). Here a socket costs one ADD
// and one DEL, and a change of what it waits for one MOD.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>

namespace sluice {

// One watched socket, level-triggered as libuv's poll handles are. Its owner must outlive any
// event already taken from the set: owners here are freed from libuv close callbacks, which never
// run inside the set's own callback.
struct Watch {
  // Runs from the loop with what epoll reported, narrowed to `events` plus EPOLLERR and EPOLLHUP;
  // a hang-up alone also reports what the socket is watched for, so the owner's read or write
  // meets the end itself (as libuv does).
  void (*ready)(Watch* watch, uint32_t events) = nullptr;
  void* owner = nullptr;
  int fd = -1;
  uint32_t events = 0;  // EPOLLIN | EPOLLOUT it is watched for; 0: not in the set
};

class EpollSet {
 public:
  EpollSet() = default;
  EpollSet(const EpollSet&) = delete;
  EpollSet& operator=(const EpollSet&) = delete;

  // Makes the set and has the loop watch it; 0 or -errno. The set keeps the loop alive only
  // while it watches a socket, as a libuv poll handle per socket did.
  int Open(uv_loop_t* loop);
  // Watches w->fd for `events` (EPOLLIN, EPOLLOUT) from now on, opening the set if need be;
  // 0 takes it out of the set, which must happen before the descriptor is closed (another
  // descriptor may still refer to the same socket). 0 or -errno.
  int Set(uv_loop_t* loop, Watch* w, uint32_t events);
  // Closes the set (at the environment's teardown, once nothing is watched); `closed(arg)` runs
  // when libuv has let go of it, at once when it was never opened.
  void Close(void (*closed)(void* arg), void* arg);

 private:
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnClosed(uv_handle_t* handle);

  int fd_ = -1;
  uv_poll_t poll_;
  size_t watched_ = 0;  // sockets in the set
  bool closing_ = false;
  void (*closed_)(void* arg) = nullptr;
  void* closed_arg_ = nullptr;
};

}  // namespace sluice
