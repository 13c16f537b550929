// `dummy` connections (tcp/dummy.h) as Engine members: no server is chosen, the client is
// answered from its worker, in clear or (-E) over its TLS session. Worker thread only.
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tcp/client_io.h"
#include "tcp/dummy.h"
#include "tcp/engine.h"
#include "tls/tls.h"

namespace pen {

using tcp::Conn;

/* c: a client just accepted (slot, number and descriptor held). With TLS it gets its session
   (and handshake deadline) first. Serves what it has already sent; the rest follows on its
   events. */
void Engine::startDummy(Conn& c) {
  c.dummy = true;
  c.state = tcp::kConnected;
  c.action = "answering as the dummy server";
  if (snap_->hasTls && !startClientIo(c)) {
    pool_.refused.fetch_add(1, std::memory_order_relaxed);
    return closeConn(c, "out of memory for the TLS state");
  }
  if (snap_->idleTimeoutSec > 0)
    timers_.add(nowMs_ + snap_->idleTimeoutSec * 1000LL, loop::token::make(c.gen, c.id, tcp::kTimerIdle));
  serveDummy(c);
}

void Engine::serveDummy(Conn& c) {
  if (c.io && c.io->ssl) return serveDummyTls(c);
  uint32_t interest = 0, answers = 0;
  int err = 0;
  tcp::dummy::Step step = tcp::dummy::serve(c, env_, interest, answers, err);
  if (answers) pool_.dummyAnswers.fetch_add(answers, std::memory_order_relaxed);
  if (step == tcp::dummy::Step::kError) return closeConn(c, strerror(err));
  if (step == tcp::dummy::Step::kClose) return closeConn(c, "dummy answer written");
  setInterest(c, 0, interest);
}

/* The TLS client of a dummy connection: the handshake, then one record chunk read, kReply
   queued and written (SSL_MODE_ENABLE_PARTIAL_WRITE: the rest waits in c.down), then the
   close (closeConn sends close_notify). Every SSL want becomes the client socket's interest. */
void Engine::serveDummyTls(Conn& c) {
  tcp::ClientIo& io = *c.io;
  int err = 0;
  if (!io.handshakeDone) {
    if (tcp::handshake(c, err) == tcp::Io::kError) return closeConn(c, tcp::clientIoError(c, err));
    if (!io.handshakeDone) return setInterest(c, 0, tcp::clientWaitInterest(c));
  }
  uint32_t interest = 0;
  for (;;) {
    int r, e;
    if (c.down.pending()) {
      r = SSL_write(io.ssl, c.down.buf + c.down.off, int(c.down.len - c.down.off));
      if (r > 0) {
        c.down.off += uint32_t(r);
        if (c.down.off == c.down.len) {
          free(c.down.buf);
          c.down.buf = nullptr;
          c.down.off = c.down.len = 0;
        }
        continue;
      }
    } else if (c.down.bytes > 0 || c.up.eof) {
      return closeConn(c, c.down.bytes > 0 ? "dummy answer written" : "the client left without asking");
    } else {
      r = SSL_read(io.ssl, env_.scratch, int(env_.scratchSize));
      if (r > 0) {
        c.up.bytes += uint64_t(r);
        if (!tcp::dummy::queueReply(c.down)) return closeConn(c, strerror(ENOMEM));
        pool_.dummyAnswers.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    int saved = errno;
    e = SSL_get_error(io.ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
      interest = loop::kRead;
    } else if (e == SSL_ERROR_WANT_WRITE) {
      interest = loop::kWrite;
    } else if (e == SSL_ERROR_ZERO_RETURN && !c.down.pending()) {  // the client's close_notify
      c.up.eof = true;
      continue;
    } else {
      io.failed = true;
      std::string why = tls::takeErrors();
      io.error = "TLS: " + (why.empty() ? std::string(strerror(saved ? saved : ECONNRESET)) : why);
      return closeConn(c, io.error.c_str());
    }
    break;
  }
  setInterest(c, 0, interest);
}

}  // namespace pen
