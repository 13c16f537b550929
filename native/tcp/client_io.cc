// The buffered path for connections with a ClientIo (see client_io.h): TLS on the client
// side and/or the HTTP rewriter on the client -> server direction.
#include "tcp/client_io.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "log/capture.h"
#include "net/errors.h"
#include "net/socket.h"
#include "loop/poller.h"
#include "tls/tls.h"

namespace pen::tcp {

using net::again;
using net::kSendFlags;

namespace {

constexpr int kMaxReadsPerEvent = 4;
constexpr uint32_t kDiscardMax = 1 << 20;  // client bytes swallowed after an error answer



/* What a read from the client gave. */
enum class Got { kMore, kDrained, kEof, kError };

/* The rewriter's output buffer: one per worker thread, reused. */
std::string& rewriteBuffer() {
  thread_local std::string buf;
  return buf;
}

/* A failed SSL call (ret <= 0) -> what to do. reading: the call was SSL_read. */
Got sslFailure(ClientIo& io, int ret, bool reading, int& err) {
  int saved = errno;
  int e = SSL_get_error(io.ssl, ret);
  switch (e) {
    case SSL_ERROR_WANT_READ:
      if (!reading) io.writeWantsRead = true;
      return Got::kDrained;
    case SSL_ERROR_WANT_WRITE:
      if (reading) io.readWantsWrite = true;
      return Got::kDrained;
    case SSL_ERROR_ZERO_RETURN:  // close_notify, or a bare FIN (SSL_OP_IGNORE_UNEXPECTED_EOF)
      return Got::kEof;
    case SSL_ERROR_SYSCALL: {
      io.failed = true;
      std::string why = tls::takeErrors();
      err = saved ? saved : ECONNRESET;
      io.error = "TLS: " + (why.empty() ? std::string(strerror(err)) : why);
      return Got::kError;
    }
    default:
      io.failed = true;
      err = EPROTO;
      io.error = "TLS: " + tls::takeErrors();
      return Got::kError;
  }
}

/* Reads client bytes (plain text) into buf: for TLS as many records as fit. n receives the
   count; the result says whether more may follow at once (kMore: buf is full). */
Got readClient(Conn& c, char* buf, size_t cap, size_t& n, int& err) {
  ClientIo& io = *c.io;
  n = 0;
  if (!io.ssl) {
    ssize_t r = recv(c.cfd, buf, cap, 0);
    if (r > 0) {
      n = size_t(r);
      return n == cap ? Got::kMore : Got::kDrained;
    }
    if (r == 0) return Got::kEof;
    if (again(errno)) return Got::kDrained;
    err = errno;
    return Got::kError;
  }
  while (n < cap) {
    int r = SSL_read(io.ssl, buf + n, int(cap - n));
    if (r > 0) {
      n += size_t(r);
      continue;
    }
    return sslFailure(io, r, true, err);
  }
  return Got::kMore;
}

/* TLS-writes [p, p+len) to the client as far as it goes; written receives the count. */
Io writeTls(ClientIo& io, const char* p, size_t len, size_t& written, int& err) {
  written = 0;
  while (written < len) {
    int r = SSL_write(io.ssl, p + written, int(len - written));
    if (r > 0) {
      written += size_t(r);
      continue;
    }
    if (sslFailure(io, r, false, err) == Got::kError) return Io::kError;
    break;
  }
  return Io::kOk;
}

/* Keeps [p, p+len) as d's pending bytes (d has none). */
Io keep(Dir& d, const char* p, size_t len, int& err) {
  d.buf = static_cast<char*>(malloc(len));
  if (!d.buf) {
    err = ENOMEM;
    return Io::kError;
  }
  memcpy(d.buf, p, len);
  d.off = 0;
  d.len = uint32_t(len);
  return Io::kOk;
}

/* Sends [p, p+len) to the server; what does not fit becomes up's pending bytes. */
Io sendUp(Conn& c, const char* p, size_t len, int& err) {
  if (len == 0) return Io::kOk;
  ssize_t s = send(c.ufd, p, len, kSendFlags);
  if (s < 0) {
    if (!again(errno)) {
      err = errno;
      return Io::kError;
    }
    s = 0;
  }
  if (size_t(s) < len) return keep(c.up, p + s, len - size_t(s), err);
  return Io::kOk;
}

/* Writes down's pending bytes to the client over TLS. */
Io flushTls(Conn& c, int& err) {
  Dir& d = c.down;
  size_t w = 0;
  if (writeTls(*c.io, d.buf + d.off, d.len - d.off, w, err) == Io::kError) return Io::kError;
  d.off += uint32_t(w);
  if (d.off == d.len) {
    free(d.buf);
    d.buf = nullptr;
    d.off = d.len = 0;
  }
  return Io::kOk;
}

/* The HTTP rewriter refused a request (v): stop forwarding, answer, close (see xff.h). If no
   request went to the server on this connection the answer goes out at once; otherwise it
   follows the server's answers to the earlier ones, after the server's EOF. */
Io refuse(Conn& c, http::Verdict v, int& err) {
  ClientIo& io = *c.io;
  if (v == http::Verdict::kBadBody || v == http::Verdict::kHoldFull) {
    io.error = v == http::Verdict::kBadBody ? "HTTP: malformed chunked request body"
                                            : "HTTP: the client sent too much before the server answered its tunnel request";
    err = EPROTO;
    return Io::kError;
  }
  c.action = v == http::Verdict::kTooLarge ? "refusing a request head too large (431)" : "refusing a malformed request (400)";
  io.discard = true;
  io.discardLeft = kDiscardMax;
  io.reply = http::errorResponse(v);
  if (c.up.pending() || !io.upQueued.empty()) {
    io.shutUpstream = true;
  } else if (shutdown(c.ufd, SHUT_WR) < 0 && errno != ENOTCONN) {
    err = errno;
    return Io::kError;
  }
  if (io.http->requests() == 0) {  // the server was asked nothing: do not wait for it
    if (io.ssl) {
      io.serverEof = true;  // finishDown() writes the answer, then close_notify
    } else if (!c.down.pending()) {
      if (keep(c.down, io.reply.data(), io.reply.size(), err) == Io::kError) return Io::kError;
      io.reply.clear();
      c.down.eof = true;
    }
  }
  return Io::kOk;
}

/* The client -> server direction. */
Io pumpUp(Conn& c, RelayEnv& env, int& err) {
  ClientIo& io = *c.io;
  Dir& d = c.up;
  if (d.pending()) {
    if (flush(d, c.ufd, err) == Io::kError) return Io::kError;
    if (d.pending()) return Io::kOk;
  }
  if (!io.upQueued.empty()) {  // held bytes the server's answer released (observeDown)
    std::string queued = std::move(io.upQueued);
    io.upQueued = std::string();
    if (sendUp(c, queued.data(), queued.size(), err) == Io::kError) return Io::kError;
    if (d.pending()) return Io::kOk;
  }
  if (io.upEofPending) {
    io.upEofPending = false;
    d.eof = true;
    return Io::kOk;
  }
  if (io.shutUpstream) {
    io.shutUpstream = false;
    if (shutdown(c.ufd, SHUT_WR) < 0 && errno != ENOTCONN) {
      err = errno;
      return Io::kError;
    }
  }
  if (io.ssl && !io.handshakeDone) {
    if (handshake(c, err) == Io::kError) return Io::kError;
    if (!io.handshakeDone) return Io::kOk;
  }
  io.readWantsWrite = false;
  for (int reads = 0; !d.eof && !io.upEofDeferred; reads++) {
    // Records OpenSSL has read ahead are invisible to the poller: keep going while any wait.
    if (reads >= kMaxReadsPerEvent && !(io.ssl && SSL_has_pending(io.ssl))) break;
    size_t n = 0;
    Got got = readClient(c, env.scratch, env.scratchSize, n, err);
    if (n > 0) {
      d.bytes += n;
      if (d.tap) {
        d.tap = false;
        log::capture(env.line, env.scratch, n);
      }
      if (env.dump) log::dump(env.scratch, n, env.dump == 2);
      if (io.discard) {
        if (n >= io.discardLeft) {
          d.eof = true;  // enough: stop reading, the connection closes once the answer is out
          return Io::kOk;
        }
        io.discardLeft -= uint32_t(n);
      } else {
        const char* out = env.scratch;
        size_t len = n;
        http::Verdict v = http::Verdict::kOk;
        if (io.http && !io.http->passthrough()) {
          std::string& buf = rewriteBuffer();
          bool unchanged = false;
          v = io.http->feed(env.scratch, n, buf, unchanged);
          if (!unchanged) {
            out = buf.data();
            len = buf.size();
          }
        }
        if (sendUp(c, out, len, err) == Io::kError) return Io::kError;
        if (v != http::Verdict::kOk) {
          if (refuse(c, v, err) == Io::kError) return Io::kError;
          if (d.pending()) return Io::kOk;
          continue;  // read on: what the client still sends is discarded
        }
        if (d.pending()) return Io::kOk;
      }
    }
    if (got == Got::kEof) {
      if (io.http && io.http->holding() && !io.discard) {
        io.upEofDeferred = true;  // after the held bytes, once the server has answered
        break;
      }
      d.eof = true;
      break;
    }
    if (got == Got::kError) return Io::kError;
    if (got == Got::kDrained) break;
  }
  return Io::kOk;
}

/* -H: n server bytes at p (eof: the server's EOF instead) are shown to the rewriter, which
   follows the answers to know whether a tunnel was granted (xff.h). When that decides a
   tunnel the client's bytes were held for, they are queued for the up direction. */
Io observeDown(Conn& c, const char* p, size_t n, bool eof, int& err) {
  ClientIo& io = *c.io;
  if (!io.http || !io.http->following()) return Io::kOk;
  bool decided = eof ? io.http->serverEof() : io.http->response(p, n);
  if (!decided) return Io::kOk;
  std::string& buf = rewriteBuffer();
  http::Verdict v = io.http->release(buf);
  io.upQueued.append(buf);
  if (io.upEofDeferred && !io.http->holding()) {
    io.upEofDeferred = false;
    io.upEofPending = true;
  }
  if (v != http::Verdict::kOk) return refuse(c, v, err);
  return Io::kOk;
}

/* One recv of server bytes into env.scratch for the buffered down paths: counted, dumped and
   shown to the rewriter (observeDown). n: the bytes read; 0 at the server's EOF (shown to the
   rewriter too); -1 when none were ready (kOk). */
Io readDown(Conn& c, RelayEnv& env, ssize_t& n, int& err) {
  n = recv(c.ufd, env.scratch, env.scratchSize, 0);
  if (n < 0) {
    if (again(errno)) return Io::kOk;
    err = errno;
    return Io::kError;
  }
  if (n == 0) return observeDown(c, nullptr, 0, true, err);
  c.down.bytes += uint64_t(n);
  if (env.dump) log::dump(env.scratch, size_t(n), env.dump == 2);
  return observeDown(c, env.scratch, size_t(n), false, err);
}

/* The server -> client direction of a plain -H connection: pump() (splice included) while no
   answers are followed, else recv/send with the answers shown to the rewriter. */
Io pumpDownPlain(Conn& c, RelayEnv& env, int& err) {
  ClientIo& io = *c.io;
  Dir& d = c.down;
  if (!io.http || !io.http->following()) return pump(d, c.ufd, c.cfd, env, err);
  if (d.pending()) {
    if (flush(d, c.cfd, err) == Io::kError) return Io::kError;
    if (d.pending()) return Io::kOk;
  }
  for (int i = 0; i < kMaxReadsPerEvent; i++) {
    ssize_t n;
    if (readDown(c, env, n, err) == Io::kError) return Io::kError;
    if (n < 0) return Io::kOk;
    if (n == 0) {
      d.eof = true;
      return Io::kOk;
    }
    ssize_t s = send(c.cfd, env.scratch, size_t(n), kSendFlags);
    if (s < 0) {
      if (!again(errno)) {
        err = errno;
        return Io::kError;
      }
      s = 0;
    }
    if (s < n) return keep(d, env.scratch + s, size_t(n - s), err);
    if (size_t(n) < env.scratchSize) return Io::kOk;
  }
  return Io::kOk;
}

/* The server sent EOF and everything before it went out: the pending error answer (if
   any), then close_notify; then down is over (the relay sends the FIN). */
Io finishDown(Conn& c, int& err) {
  ClientIo& io = *c.io;
  Dir& d = c.down;
  if (!io.reply.empty()) {
    std::string reply = std::move(io.reply);
    io.reply.clear();
    if (keep(d, reply.data(), reply.size(), err) == Io::kError) return Io::kError;
    if (flushTls(c, err) == Io::kError) return Io::kError;
    if (d.pending()) return Io::kOk;
  }
  if (!io.notifySent && !io.failed) {
    ERR_clear_error();
    int r = SSL_shutdown(io.ssl);
    if (r < 0) {
      int e = SSL_get_error(io.ssl, r);
      if (e == SSL_ERROR_WANT_WRITE) return Io::kOk;  // clientInterest waits for writable
      if (e == SSL_ERROR_WANT_READ) {
        io.writeWantsRead = true;
        return Io::kOk;
      }
      ERR_clear_error();  // the client is gone: nothing more to say to it
    }
    io.notifySent = true;
  }
  d.eof = true;
  return Io::kOk;
}

/* The server -> client direction. */
Io pumpDown(Conn& c, RelayEnv& env, int& err) {
  ClientIo& io = *c.io;
  Dir& d = c.down;
  if (!io.ssl) {  // -H only: the plain pump, then a pending error answer
    if (pumpDownPlain(c, env, err) == Io::kError) return Io::kError;
    if (d.eof && !d.pending() && !io.reply.empty()) {
      std::string reply = std::move(io.reply);
      io.reply.clear();
      if (keep(d, reply.data(), reply.size(), err) == Io::kError) return Io::kError;
      if (flush(d, c.cfd, err) == Io::kError) return Io::kError;
    }
    return Io::kOk;
  }
  if (!io.handshakeDone) return Io::kOk;
  io.writeWantsRead = false;
  if (d.pending()) {
    if (flushTls(c, err) == Io::kError) return Io::kError;
    if (d.pending()) return Io::kOk;
  }
  if (io.serverEof) return finishDown(c, err);
  for (int i = 0; i < kMaxReadsPerEvent; i++) {
    ssize_t n;
    if (readDown(c, env, n, err) == Io::kError) return Io::kError;
    if (n < 0) return Io::kOk;
    if (n == 0) {
      io.serverEof = true;
      return finishDown(c, err);
    }
    size_t w = 0;
    if (writeTls(io, env.scratch, size_t(n), w, err) == Io::kError) return Io::kError;
    if (w < size_t(n)) return keep(d, env.scratch + w, size_t(n) - w, err);
    if (size_t(n) < env.scratchSize) return Io::kOk;
  }
  return Io::kOk;
}

}  // namespace

bool openClientIo(Conn& c, const Snapshot& snap, const std::shared_ptr<const tls::Server>& tlsServer) {
  auto* io = new (std::nothrow) ClientIo;
  if (!io) return false;
  if (snap.hasTls && tlsServer) {
    // OpenSSL writes each record (and each handshake flight part) with its own write(): with
    // Nagle on, the second one waits for the client's ACK. A TLS client socket never wants
    // that delay, whatever tcp_nodelay says (Pen's setting stays for plain connections).
    if (c.client.family() == AF_INET || c.client.family() == AF_INET6) {
      int one = 1;
      setsockopt(c.cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    io->tls = tlsServer;
    io->ssl = io->tls->newSession(c.cfd);
    if (!io->ssl) {
      ERR_clear_error();
      delete io;
      return false;
    }
  }
  if (snap.http) io->http = std::make_unique<http::Rewriter>(c.client.host(), io->ssl != nullptr);
  c.io = io;
  return true;
}

void closeClientIo(Conn& c) {
  ClientIo* io = c.io;
  if (!io) return;
  c.io = nullptr;
  if (io->ssl) {
    if (io->handshakeDone && !io->notifySent && !io->failed) SSL_shutdown(io->ssl);
    ERR_clear_error();
    SSL_free(io->ssl);
  }
  delete io;
}

Io handshake(Conn& c, int& err) {
  ClientIo& io = *c.io;
  io.handshakeWantsWrite = false;
  int r = SSL_do_handshake(io.ssl);
  if (r == 1) {
    io.handshakeDone = true;
    return Io::kOk;
  }
  int saved = errno;
  int e = SSL_get_error(io.ssl, r);
  if (e == SSL_ERROR_WANT_READ) return Io::kOk;
  if (e == SSL_ERROR_WANT_WRITE) {
    io.handshakeWantsWrite = true;
    return Io::kOk;
  }
  io.failed = true;
  std::string why = tls::takeErrors();
  if (why.empty()) why = e == SSL_ERROR_SYSCALL && saved ? strerror(saved) : "the client closed the connection";
  io.error = "TLS handshake failed: " + why;
  err = EPROTO;
  return Io::kError;
}

Io pumpClientIo(Conn& c, bool upward, RelayEnv& env, int& err) {
  return upward ? pumpUp(c, env, err) : pumpDown(c, env, err);
}

void clientInterest(const Conn& c, uint32_t& cm, uint32_t& um) {
  const ClientIo& io = *c.io;
  if (!io.upQueued.empty() || io.upEofPending) um |= loop::kWrite;  // pumpUp sends them
  if (io.upEofDeferred) cm &= ~uint32_t(loop::kRead);               // its EOF was read already
  if (io.ssl) {
    if (!io.handshakeDone) {
      cm = io.handshakeWantsWrite ? loop::kWrite : loop::kRead;
      um &= ~uint32_t(loop::kRead);  // the server's bytes wait until they can be encrypted
      return;
    }
    if (io.readWantsWrite) cm |= loop::kWrite;
    if (io.writeWantsRead) cm |= loop::kRead;
    if (io.serverEof && !c.down.eof) {  // close_notify (or the error answer) still to write
      um &= ~uint32_t(loop::kRead);
      cm |= loop::kWrite;
    }
  } else if (!io.reply.empty() && c.down.eof && !c.down.pending()) {
    cm |= loop::kWrite;  // the error answer, written by the down pump
  }
}

uint32_t clientWaitInterest(const Conn& c) {
  const ClientIo& io = *c.io;
  if (!io.ssl) return 0;
  if (!io.handshakeDone) return io.handshakeWantsWrite ? loop::kWrite : loop::kRead;
  return 0;  // handshake done: the request waits in the socket until the server is there
}

const char* clientIoError(const Conn& c, int err) {
  if (!c.io || c.io->error.empty()) return strerror(err);
  thread_local std::string why;  // outlives c.io, which closeConn() frees
  why = c.io->error;
  return why.c_str();
}

}  // namespace pen::tcp
