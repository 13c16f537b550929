// The splice path of the relay (Linux): socket -> pipe -> socket without copying through user
// space, used for bulk flows. Return contract of splice(2) here: > 0 bytes moved; 0 = EOF on
// the source socket; -1/EAGAIN = source empty (we only read into an empty pipe) or
// destination full. Elsewhere the pool hands out no pipes and these are never called.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "tcp/conn.h"

namespace pen::tcp {

namespace {
constexpr size_t kPipeChunk = 65536;  // the default Linux pipe capacity
}

#ifdef __linux__
Io spliceRead(Dir& d, int src, int& err, bool& more) {
  more = false;
  ssize_t n = splice(src, nullptr, d.pipe[1], nullptr, kPipeChunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
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
  more = size_t(n) == kPipeChunk;
  return Io::kOk;
}

Io spliceFlush(Dir& d, int dst, int& err) {
  while (d.inPipe) {
    ssize_t n = splice(d.pipe[0], nullptr, dst, nullptr, d.inPipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
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
  if (!free_.empty()) {
    p[1] = free_.back();
    free_.pop_back();
    p[0] = free_.back();
    free_.pop_back();
    return true;
  }
  if (open_ >= maxOpen_) return false;
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
    p[0] = p[1] = -1;
    return false;
  }
  open_++;
  return true;
}
#else
Io spliceRead(Dir&, int, int& err, bool&) {
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

void PipePool::release(int p[2]) {
  if (free_.size() / 2 >= 64) {  // keep a small reserve, give the rest back to the system
    discard(p);
    return;
  }
  free_.push_back(p[0]);
  free_.push_back(p[1]);
  p[0] = p[1] = -1;
}

void PipePool::discard(int p[2]) {
  close(p[0]);
  close(p[1]);
  p[0] = p[1] = -1;
  if (open_) open_--;
}

PipePool::~PipePool() {
  for (int fd : free_) close(fd);
}

}  // namespace pen::tcp
