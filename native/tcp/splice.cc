// The splice path of the relay (Linux): socket -> pipe -> socket without copying through user
// space, used for bulk flows. Return contract of splice(2) here: > 0 bytes moved; 0 = EOF on
// the source socket; -1/EAGAIN = source empty (we only read into an empty pipe) or
// destination full. Elsewhere the pool hands out no pipes and these are never called.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "tcp/conn.h"

namespace pen::tcp {

#ifdef __linux__
Io spliceRead(Dir& d, int src, size_t chunk, int& err, bool& more) {
  more = false;
  ssize_t n = splice(src, nullptr, d.pipe[1], nullptr, chunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n == 0) {
    d.eof = true;
    return Io::kOk;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return Io::kOk;
    err = errno;
    return Io::kError;
  }
  d.inPipe += uint32_t(n);
  d.bytes += uint64_t(n);
  more = size_t(n) == chunk;
  return Io::kOk;
}

Io spliceFlush(Dir& d, int dst, int& err) {
  while (d.inPipe) {
    unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (d.eof && d.finFollows ? SPLICE_F_MORE : 0u);
    ssize_t n = splice(d.pipe[0], nullptr, dst, nullptr, d.inPipe, flags);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return Io::kOk;
      err = errno;
      return Io::kError;
    }
    if (n == 0) break;
    d.inPipe -= uint32_t(n);
  }
  return Io::kOk;
}

bool PipePool::acquire(int p[2]) {
  if (!free_.empty()) {  // the most recently pooled: the oldest may be trimmed soon
    p[0] = free_.back().fd[0];
    p[1] = free_.back().fd[1];
    free_.pop_back();
    return true;
  }
  if (open_ >= maxOpen_) return false;
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
    p[0] = p[1] = -1;
    return false;
  }
  // Refused above the user's pipe quota (pipe-user-pages-soft): this pipe and the next ones
  // keep the default capacity.
  if (bytes_ > kDefaultPipeBytes && fcntl(p[1], F_SETPIPE_SZ, int(bytes_)) < 0) bytes_ = kDefaultPipeBytes;
  open_++;
  fds_.fetch_add(2, std::memory_order_relaxed);
  return true;
}
#else
Io spliceRead(Dir&, int, size_t, int& err, bool&) {
  err = ENOSYS;
  return Io::kError;
}
Io spliceFlush(Dir&, int, int& err) {
  err = ENOSYS;
  return Io::kError;
}
bool PipePool::acquire(int p[2]) {
  p[0] = p[1] = -1;
  return false;
}
#endif

size_t pipeBytesFor(size_t maxPipeBytes, uint64_t memBytes, size_t pipes) {
  uint64_t cap = std::min<uint64_t>({kMaxPipeBytes, maxPipeBytes, memBytes / 16 / std::max<size_t>(pipes, 1)});
  size_t bytes = kDefaultPipeBytes;
  while (bytes * 2 <= cap) bytes *= 2;
  return bytes;
}

void PipePool::release(int p[2], int64_t nowMs) {
  free_.push_back(Idle{{p[0], p[1]}, nowMs});
  p[0] = p[1] = -1;
}

void PipePool::discard(int p[2]) {
  close(p[0]);
  close(p[1]);
  p[0] = p[1] = -1;
  if (open_) open_--;
  fds_.fetch_sub(2, std::memory_order_relaxed);
}

int PipePool::trim(int64_t nowMs) {
  size_t gone = 0;
  while (gone < free_.size() && nowMs - free_[gone].sinceMs >= kPipeIdleMs) {
    int p[2] = {free_[gone].fd[0], free_[gone].fd[1]};
    discard(p);
    gone++;
  }
  free_.erase(free_.begin(), free_.begin() + long(gone));
  if (free_.empty()) return -1;
  return int(free_.front().sinceMs + kPipeIdleMs - nowMs);
}

PipePool::~PipePool() {
  for (Idle& i : free_) discard(i.fd);
}

}  // namespace pen::tcp
