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

class PipePool {
 public:
  // Pipes are asked for kPipeBytes (F_SETPIPE_SZ); where that is not permitted (unprivileged and
  // over /proc/sys/fs/pipe-max-size or the per-user soft limit) they keep the kernel default.
  static constexpr size_t kPipeBytes = 1 << 20;
  static constexpr size_t kMaxPooled = 64;

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

  size_t in_use() const { return in_use_; }
  size_t pooled() const { return pooled_.size(); }

 private:
  static void Close(const Pipe& pipe);
  std::vector<Pipe> pooled_;
  size_t in_use_ = 0;
};

}  // namespace sluice
