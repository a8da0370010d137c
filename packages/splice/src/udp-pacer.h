// Reads from busy UDP sockets, taken on a short timer instead of on every readable wake.
//
// A socket that is readable again within kBusyGapNs of its last read, or had a backlog of
// kFullRead datagrams or more, stops its poll and is read
// every kTickNs from one timerfd per thread, until a tick finds it empty and it gets its poll
// back. A lone datagram (a DNS query, a game's first packet) is still read at once; only a dense
// stream waits, by at most one tick. Why: at 1 Gbit/s of 1400-byte datagrams a readable wake
// carried 2-3 datagrams, and the wakes alone cost the shard half a core. On a small machine that
// half core is taken from the process that receives what we send, whose 208 KiB socket buffer
// then overflows: 30-50 % of the datagrams were lost there. A tick carries about nine.
#pragma once

#include <uv.h>

#include <cstdint>
#include <vector>

namespace sluice {
namespace udp {

// One socket's share of the pacing.
struct PaceState {
  uint64_t last_read_ns = 0;
  bool paced = false;  // its poll is stopped and the timer reads it
};

class Pacer {
 public:
  static constexpr uint64_t kTickNs = 100 * 1000;
  static constexpr uint64_t kBusyGapNs = 200 * 1000;
  // A read this large found a backlog: the socket is busy whenever it was last read.
  static constexpr int kFullRead = 32;

  // A non-blocking timerfd for Attach: the descriptor, or -errno.
  static int OpenTimer();
  // `timer` watches the descriptor OpenTimer gave; its data is this pacer from now on.
  void Attach(uv_poll_t* timer);
  // After a read of `n` datagrams from the socket `poll` watches with `cb`: reads it on the next
  // tick when it is busy, else gives it its poll back.
  void After(uv_poll_t* poll, uv_poll_cb cb, PaceState* state, int n);
  // `poll` is closing: no tick calls it.
  void Forget(uv_poll_t* poll);
  // The timer's handle, now the caller's to close (nullptr when none was attached); nothing is
  // paced from now on.
  uv_poll_t* Detach();

 private:
  struct Due {
    uv_poll_t* poll;
    uv_poll_cb cb;
    PaceState* state;
  };
  static void OnTick(uv_poll_t* handle, int status, int events);
  void Arm();

  uv_poll_t* timer_ = nullptr;
  int timer_fd_ = -1;
  bool armed_ = false;
  std::vector<Due> due_;
};

}  // namespace udp
}  // namespace sluice
