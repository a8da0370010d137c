#include "pipe-pool.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>

namespace sluice {

size_t PipePool::NewPipeBytes() const {
  if (budget_ == 0) return kPipeBytes;
  size_t left = budget_ > held_bytes_ ? budget_ - held_bytes_ : 0;
  size_t bytes = kMinPipeBytes;
  // The largest power of two within the share (the kernel rounds pipe sizes to one anyway).
  while (bytes * 2 <= left / kShareOfLeft && bytes < kPipeBytes) bytes *= 2;
  return bytes;
}

int PipePool::Take(Pipe* out) {
  if (!pooled_.empty()) {
    *out = pooled_.back();
    pooled_.pop_back();
    pooled_bytes_ -= out->capacity;
    in_use_++;
    return 0;
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -errno;
  // Best effort: EPERM when over pipe-max-size or the user's pipe page budget; then the pipe
  // keeps the size it was made with. Within a budget this may also shrink it below the default.
  (void)fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(NewPipeBytes()));
  int size = fcntl(fds[1], F_GETPIPE_SZ);
  out->rd = fds[0];
  out->wr = fds[1];
  out->capacity = size > 0 ? static_cast<size_t>(size) : 65536;
  held_bytes_ += out->capacity;
  in_use_++;
  return 0;
}

void PipePool::Give(const Pipe& pipe) {
#ifdef SLUICE_SPLICE_DEBUG
  int queued = -1;
  assert(ioctl(pipe.rd, FIONREAD, &queued) == 0 && queued == 0);
#endif
  assert(in_use_ > 0);
  in_use_--;
  bool room = budget_ == 0 || pooled_bytes_ + pipe.capacity <= budget_ / 4;
  if (pooled_.size() < kMaxPooled && room) {
    pooled_.push_back(pipe);
    pooled_bytes_ += pipe.capacity;
  } else {
    Close(pipe);
  }
}

void PipePool::Discard(const Pipe& pipe) {
  assert(in_use_ > 0);
  in_use_--;
  Close(pipe);
}

void PipePool::CloseAll() {
  for (const Pipe& pipe : pooled_) Close(pipe);
  pooled_.clear();
  pooled_bytes_ = 0;
}

void PipePool::Close(const Pipe& pipe) {
  close(pipe.rd);
  close(pipe.wr);
  held_bytes_ -= pipe.capacity;
}

}  // namespace sluice
