// The copy path of the relay (recv/send through the worker's scratch buffer) and the shared
// pump. Small exchanges stay here: one recv and one send per event, no buffer per connection
// unless the destination is full.
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "net/errors.h"
#include "net/socket.h"
#include "tcp/conn.h"

namespace pen::tcp {

using net::again;
using net::kSendFlags;

namespace {
constexpr uint32_t kBulkRead = 16384;  // a read this large suggests bulk: try the splice path
constexpr int kMaxReadsPerEvent = 4;

}  // namespace

Io flush(Dir& d, int dst, int& err) {
  if (d.inPipe) return spliceFlush(d, dst, err);
  while (d.off < d.len) {
    ssize_t n = send(dst, d.buf + d.off, d.len - d.off, kSendFlags | (d.eof && d.finFollows ? MSG_MORE : 0));
    if (n < 0) {
      if (again(errno)) return Io::kOk;
      err = errno;
      return Io::kError;
    }
    d.off += uint32_t(n);
  }
  free(d.buf);
  d.buf = nullptr;
  d.off = d.len = 0;
  return Io::kOk;
}

namespace {
/* Keeps chunk[from, n) as d's pending bytes. */
bool keep(Dir& d, const char* chunk, size_t from, size_t n) {
  uint32_t rest = uint32_t(n - from);
  d.buf = static_cast<char*>(malloc(rest));
  if (!d.buf) return false;
  memcpy(d.buf, chunk + from, rest);
  d.off = 0;
  d.len = rest;
  return true;
}

/* Accounting shared by every chunk read on the copy path (buf: where it was read). */
void took(Dir& d, RelayEnv& env, const char* buf, size_t n) {
  d.bytes += uint64_t(n);
  if (d.tap) {
    d.tap = false;
    log::capture(env.line, buf, n);
  }
  if (env.dump) log::dump(buf, n, env.dump == 2);
}

/* A system call's result from an IoBatch result (bytes or -errno), with errno set. */
ssize_t result(int32_t r) {
  if (r >= 0) return r;
  errno = -r;
  return -1;
}
}  // namespace

Offer offer(Dir& d, int src, int dst, RelayEnv& env, int& err) {
  if (d.pending()) {
    uint32_t before = d.pending();
    if (flush(d, dst, err) == Io::kError) return Offer::kDstError;
    return d.pending() < before ? Offer::kTaken : Offer::kNothing;
  }
  ssize_t n = recv(src, env.scratch, env.scratchSize, 0);
  if (n == 0) d.eof = true;
  if (n <= 0) {
    if (n == 0 || again(errno)) return Offer::kNothing;
    err = errno;
    return Offer::kSrcError;
  }
  took(d, env, env.scratch, size_t(n));
  ssize_t s = send(dst, env.scratch, size_t(n), kSendFlags);
  int e = s < 0 ? errno : 0;
  if (s < n && !keep(d, env.scratch, size_t(s < 0 ? 0 : s), size_t(n))) {
    err = ENOMEM;
    return Offer::kSrcError;
  }
  if (e && !again(e)) {
    err = e;
    return Offer::kDstError;
  }
  return s > 0 ? Offer::kTaken : Offer::kNothing;
}

Io pump(Dir& d, int src, int dst, RelayEnv& env, int& err, bool srcFinished) {
  d.more = false;
  if (d.pending()) {
    if (flush(d, dst, err) == Io::kError) return Io::kError;
    if (d.pending()) return Io::kOk;
  }
  for (int i = 0; i < kMaxReadsPerEvent && !d.eof; i++) {
    if (d.spliced()) {
      bool more = false;
      if (spliceRead(d, src, env.pipes->bytes(), err, more) == Io::kError) return Io::kError;
      if (srcFinished && !more) d.eof = true;  // drained, and the FIN came before the poller said so
      if (d.inPipe && flush(d, dst, err) == Io::kError) return Io::kError;
      if (d.pending() || !more) return Io::kOk;
      continue;
    }
    const Ahead* a = d.ahead;  // the first read and send, made ahead (Engine::readAhead)
    d.ahead = nullptr;
    const char* buf = a ? a->buf : env.scratch;
    uint32_t cap = a ? a->cap : env.scratchSize;
    ssize_t n = a ? result(a->got) : recv(src, env.scratch, env.scratchSize, 0);
    if (n == 0) {
      d.eof = true;
      return Io::kOk;
    }
    if (n < 0) {
      if (again(errno)) return Io::kOk;
      err = errno;
      return Io::kError;
    }
    took(d, env, buf, size_t(n));
    bool last = a ? a->last : srcFinished && uint32_t(n) < cap;  // src is drained up to its FIN
    if (last) d.eof = true;
    ssize_t s = a ? result(a->sent) : send(dst, buf, size_t(n), kSendFlags | (last && d.finFollows ? MSG_MORE : 0));
    if (s < 0) {
      if (!again(errno)) {
        err = errno;
        return Io::kError;
      }
      s = 0;
    }
    if (s < n) {
      if (!keep(d, buf, size_t(s), size_t(n))) {
        err = ENOMEM;
        return Io::kError;
      }
      return Io::kOk;
    }
    if (last) return Io::kOk;
    if (uint32_t(n) >= kBulkRead && !env.dump) env.pipes->acquire(d.pipe);
    if (uint32_t(n) < cap) return Io::kOk;
  }
  d.more = !d.eof;  // every read came back full: src may hold more
  return Io::kOk;
}

void releaseDir(Dir& d, PipePool& pipes, int64_t nowMs) {
  d.ahead = nullptr;
  free(d.buf);
  d.buf = nullptr;
  d.off = d.len = 0;
  if (d.spliced()) {
    if (d.inPipe) pipes.discard(d.pipe);
    else pipes.release(d.pipe, nowMs);
  }
  d.inPipe = 0;
}

}  // namespace pen::tcp
