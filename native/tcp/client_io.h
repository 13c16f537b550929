// The client side of a connection whose bytes pen must see in clear: TLS termination (-E,
// spec/ssl.md) and/or HTTP header insertion (-H, tcp/xff.h). Such a connection carries a
// ClientIo (Conn::io) and is relayed by pumpClientIo() instead of pump(): the buffered path
// (recv/send or SSL_read/SSL_write through the worker's scratch, no splice on a TLS side).
// A plain connection without -H has no ClientIo and never enters this file.
//
// TLS state machine, worker thread only:
//  - openClientIo() at accept creates the SSL object; the handshake starts at once, in
//    parallel with the backend connect (quirk 55: Pen waited for the backend first), and
//    must finish within handshakeTimeoutMs (a client that stalls mid-handshake is closed).
//  - Until the backend is connected only the handshake runs; application data waits in the
//    client socket. WANT_READ/WANT_WRITE of every SSL call become poller interest
//    (clientInterest), including the cross cases (a read that needs to write, and back).
//  - EOF from the client (close_notify, or a bare FIN) half-closes towards the server as for
//    plain TCP; EOF from the server sends close_notify, then the FIN. A fatal TLS error
//    (plain text to a TLS port, a failed or truncated handshake, a bad client certificate)
//    closes the connection, with OpenSSL's reason in the debug close line (quirk 56: never
//    on stderr).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "snapshot.h"
#include "tcp/conn.h"
#include "tcp/xff.h"

typedef struct ssl_st SSL;

namespace pen::tcp {

/* How long a client may take to complete its TLS handshake (at least -t). */
inline int64_t handshakeTimeoutMs(const Snapshot& s) { return s.timeoutMs > 10000 ? s.timeoutMs : 10000; }

struct ClientIo {
  SSL* ssl = nullptr;                       // null: the client speaks plain TCP (-H only)
  std::shared_ptr<const tls::Server> tls;   // keeps ssl's contexts (and callbacks) alive
  std::unique_ptr<http::Rewriter> http;     // -H
  bool handshakeDone = false;
  bool failed = false;               // fatal TLS error: no close_notify, only SSL_free
  bool handshakeWantsWrite = false;  // the handshake waits for the client to be writable
  bool readWantsWrite = false;       // SSL_read (up) waits for the client to be writable
  bool writeWantsRead = false;       // SSL_write / SSL_shutdown (down) waits for it readable
  bool serverEof = false;            // TLS: the server's EOF was read; down.eof follows close_notify
  bool notifySent = false;           // close_notify went out (or cannot)
  bool discard = false;              // after an error answer: client bytes are read and dropped
  bool shutUpstream = false;         // shutdown(ufd, SHUT_WR) once up's pending bytes are out
  uint32_t discardLeft = 0;
  std::string reply;                 // an error answer (431/400) for the client, after the server's EOF
  std::string upQueued;              // -H: held client bytes released by the server's answer, for up
  bool upEofDeferred = false;        // -H: the client's EOF came while its bytes were held
  bool upEofPending = false;         // -H: that EOF is due once upQueued is out
  std::string error;                 // what the last kError was about, for the close line
};

/* Gives c (a new client socket) its ClientIo: a TLS session from tlsServer (the contexts
   published with snap; null without TLS), the HTTP rewriter when snap.http. Returns false
   when out of memory (c.io stays null). */
bool openClientIo(Conn& c, const Snapshot& snap, const std::shared_ptr<const tls::Server>& tlsServer);

/* Frees c.io before the sockets are closed: sends close_notify first (best effort, never
   blocking) when the session is healthy and none went out yet. */
void closeClientIo(Conn& c);

/* One step of the TLS handshake. kOk: finished (io.handshakeDone) or waiting for the client;
   kError: failed (io.error says why). */
Io handshake(Conn& c, int& err);

/* pump() for a connection with c.io (upward: client -> server). Same contract: flushes what
   is pending first, then reads and forwards; sets d.eof when the direction is over. */
Io pumpClientIo(Conn& c, bool upward, RelayEnv& env, int& err);

/* Adds what c.io needs to the interest the generic rule computed for a connected c
   (cm: client socket, um: server socket). */
void clientInterest(const Conn& c, uint32_t& cm, uint32_t& um);

/* The client-socket interest while the backend is not connected yet (handshake only). */
uint32_t clientWaitInterest(const Conn& c);

/* Why the last kError happened: io.error, else strerror(err). Valid until the next call. */
const char* clientIoError(const Conn& c, int err);

}  // namespace pen::tcp
