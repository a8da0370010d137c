#include "pipe-pool.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>

namespace sluice {

int PipePool::Take(Pipe* out) {
  if (!pooled_.empty()) {
    *out = pooled_.back();
    pooled_.pop_back();
    in_use_++;
    return 0;
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -errno;
  // Best effort: EPERM when over pipe-max-size or the user's pipe page budget; then the default.
  (void)fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kPipeBytes));
  int size = fcntl(fds[1], F_GETPIPE_SZ);
  out->rd = fds[0];
  out->wr = fds[1];
  out->capacity = size > 0 ? static_cast<size_t>(size) : 65536;
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
  if (pooled_.size() < kMaxPooled) {
    pooled_.push_back(pipe);
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
}

void PipePool::Close(const Pipe& pipe) {
  close(pipe.rd);
  close(pipe.wr);
}

}  // namespace sluice
