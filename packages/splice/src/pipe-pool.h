// A per-thread pool of kernel pipes for splice(2). A relay direction takes a pipe only while it
// has bytes to move and gives it back once the pipe is empty, so an idle connection holds none.
// A pipe that still holds bytes is never pooled: it is closed instead (discard), so one
// connection's bytes can never leak into another's stream.
#pragma once

#include <cstddef>
#include <vector>

namespace sluice {

struct Pipe {
  int rd = -1;
  int wr = -1;
  size_t capacity = 0;  // bytes, as F_GETPIPE_SZ reports it
};

// With a budget (an unprivileged edge: lib/pipe-budget.ts), a new pipe is sized to a share of
// what is left of it, and the pool keeps at most a quarter of it, so the user's pipes stay under
// the kernel's per-user soft limit, past which every new pipe would get two pages.
class PipePool {
 public:
  // Pipes are asked for kPipeBytes (F_SETPIPE_SZ), or less within a budget; where that is not
  // permitted (over /proc/sys/fs/pipe-max-size or the per-user soft limit) they keep the size
  // the kernel gave them.
  static constexpr size_t kPipeBytes = 1 << 20;
  static constexpr size_t kMinPipeBytes = 16 << 10;
  static constexpr size_t kMaxPooled = 64;
  // A new pipe takes at most this fraction of the budget left, so many connections get one each.
  static constexpr size_t kShareOfLeft = 8;

  PipePool() = default;
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;
  ~PipePool() { CloseAll(); }

  // 0 and *out filled, or -errno (EMFILE, ENFILE, ENOMEM).
  int Take(Pipe* out);
  // The pipe must be empty.
  void Give(const Pipe& pipe);
  // Closes a pipe that may still hold bytes.
  void Discard(const Pipe& pipe);
  void CloseAll();

  // 0: no budget (root, or no soft limit).
  void SetBudget(size_t bytes) { budget_ = bytes; }
  // What a new pipe is asked to hold, given the budget and what this pool holds now.
  size_t NewPipeBytes() const;

  size_t in_use() const { return in_use_; }
  size_t pooled() const { return pooled_.size(); }
  size_t held_bytes() const { return held_bytes_; }

 private:
  void Close(const Pipe& pipe);
  std::vector<Pipe> pooled_;
  size_t in_use_ = 0;
  size_t budget_ = 0;
  size_t held_bytes_ = 0;    // capacity of every open pipe, in use or pooled
  size_t pooled_bytes_ = 0;  // capacity of the pooled ones
};

}  // namespace sluice
