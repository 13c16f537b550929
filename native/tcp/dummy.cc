// The `dummy` answer (see tcp/dummy.h).
#include "tcp/dummy.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "loop/poller.h"
#include "net/errors.h"
#include "net/socket.h"

namespace pen::tcp::dummy {

bool queueReply(Dir& d) {
  uint32_t n = uint32_t(kReply.size());
  char* buf = static_cast<char*>(realloc(d.buf, d.len + n));
  if (!buf) return false;
  memcpy(buf + d.len, kReply.data(), n);
  d.buf = buf;
  d.len += n;
  d.bytes += n;
  return true;
}

namespace {

/* Writes d's pending bytes to fd (frees the queue once empty); false on a hard error. */
bool writeQueued(Dir& d, int fd, int& err) {
  while (d.off < d.len) {
    ssize_t n = send(fd, d.buf + d.off, d.len - d.off, net::kSendFlags);
    if (n < 0) {
      if (net::again(errno)) return true;
      err = errno;
      return false;
    }
    d.off += uint32_t(n);
  }
  free(d.buf);
  d.buf = nullptr;
  d.off = d.len = 0;
  return true;
}

/* Reads and drops what the client has sent so far. */
void drain(int fd, RelayEnv& env) {
  while (recv(fd, env.scratch, env.scratchSize, 0) > 0) {
  }
}
}  // namespace

Step serve(Conn& c, RelayEnv& env, uint32_t& interest, uint32_t& answers, int& err) {
  answers = 0;
  interest = 0;
  if (c.down.pending() && !writeQueued(c.down, c.cfd, err)) return Step::kError;
  while (!c.up.eof && c.down.pending() < kMaxQueued) {
    ssize_t n = recv(c.cfd, env.scratch, env.scratchSize, 0);
    if (n == 0) {
      c.up.eof = true;
      break;
    }
    if (n < 0) {
      if (net::again(errno)) break;
      err = errno;
      return Step::kError;
    }
    c.up.bytes += uint64_t(n);
    if (!queueReply(c.down)) {
      err = ENOMEM;
      return Step::kError;
    }
    answers++;
    if (!writeQueued(c.down, c.cfd, err)) return Step::kError;
  }
  if (!c.down.pending() && (c.down.bytes > 0 || c.up.eof)) {
    if (!c.up.eof) drain(c.cfd, env);
    return Step::kClose;
  }
  if (c.down.pending()) interest |= loop::kWrite;
  if (!c.up.eof && c.down.pending() < kMaxQueued) interest |= loop::kRead;
  return Step::kWait;
}

}  // namespace pen::tcp::dummy
