// The Engine's side of connections with a ClientIo (tcp/client_io.h): creating it at accept,
// driving the TLS handshake while the backend connects, and the client socket's events of a
// TLS connection (whose reads may need writes and back). Worker thread.
#include "tcp/engine.h"
#include "tcp/client_io.h"

namespace pen {

using tcp::Conn;

/* At accept, before the server is chosen: false when out of memory. A TLS handshake gets
   its deadline now; it starts only once the client is admitted (kickClientIo). */
bool Engine::startClientIo(Conn& c) {
  if (!tcp::openClientIo(c, *snap_, view_->tls)) return false;
  if (c.io->ssl)
    timers_.add(nowMs_ + tcp::handshakeTimeoutMs(*snap_), loop::token::make(c.gen, c.id, tcp::kTimerHandshake));
  return true;
}

/* After the server choice: a TLS client whose backend is not connected yet starts its
   handshake now, in parallel with the connect (quirk 55). The ClientHello is usually in
   the socket already, so the first step needs no poller round trip. */
void Engine::kickClientIo(Conn& c) {
  if (!c.used || !c.io || !c.io->ssl || (c.state & tcp::kConnected)) return;
  int err = 0;
  if (tcp::handshake(c, err) == tcp::Io::kError) {
    closeConn(c, tcp::clientIoError(c, err));
    return;
  }
  setInterest(c, 0, tcp::clientWaitInterest(c));
}

/* An event on the client socket of a TLS connection. */
void Engine::onClientIoEvent(Conn& c, uint32_t ev) {
  tcp::ClientIo& io = *c.io;
  if (!(c.state & tcp::kConnected)) {  // only the handshake runs until the server is there
    int err = 0;
    if (!io.handshakeDone && tcp::handshake(c, err) == tcp::Io::kError) {
      closeConn(c, tcp::clientIoError(c, err));
      return;
    }
    setInterest(c, 0, tcp::clientWaitInterest(c));
    return;
  }
  if (!io.handshakeDone) {  // the up pump finishes the handshake, then reads the request
    relay(c, true);
    if (c.used) afterIo(c);
    return;
  }
  bool readable = ev & (loop::kRead | loop::kHup | loop::kError);
  bool writable = ev & (loop::kWrite | loop::kHup | loop::kError);
  uint32_t mask = c.cmask;
  if (readable && (mask & loop::kRead)) {
    if (io.writeWantsRead) {
      relay(c, false);
      if (!c.used) return;
    }
    relay(c, true);
    if (!c.used) return;
  }
  if (writable && (mask & loop::kWrite)) {
    if (c.io->readWantsWrite) {
      relay(c, true);
      if (!c.used) return;
    }
    relay(c, false);
    if (!c.used) return;
  }
  afterIo(c);
}

void Engine::onHandshakeTimer(Conn& c) {
  if (c.io && c.io->ssl && !c.io->handshakeDone) closeConn(c, "TLS handshake timed out");
}

}  // namespace pen
