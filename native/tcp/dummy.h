// `dummy` (spec/dataplane.md §8): pen answers as a trivial web server, no backend. For every
// chunk read from a client exactly kReply is queued (whatever the chunk holds: the request is
// not parsed); once everything queued has been written the connection is closed, so a
// keep-alive client sees the close after its first answer.
//
// A dummy connection is a client socket only (Conn::dummy, ufd -1): it holds its connection
// slot, number and descriptor like any other and gives them back in Engine::closeConn.
// With TLS (-E) the client's ClientIo (tcp/client_io.h) does the handshake and the dummy
// answer goes out through it (Engine::serveDummyTls, tcp/dummy_conn.cc): one answer, written,
// close_notify, close.
// Threads: the connection's worker only.
#pragma once
#include <cstdint>
#include <string_view>

#include "tcp/conn.h"

namespace pen::tcp::dummy {

/* Pen's answer, byte for byte. */
inline constexpr std::string_view kReply =
    "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nContent-Type: text/html\r\n\r\nUlric was here.";

/* No more is read from a client while this much of its answers waits to be written. */
inline constexpr uint32_t kMaxQueued = 16 * uint32_t(kReply.size());

enum class Step {
  kWait,   // wait for the events in `interest` (loop::kRead / kWrite) on the client socket
  kClose,  // done: every answer written (or the client left without asking): close now
  kError,  // a socket error (err) or no memory for the queue (err = ENOMEM): close now
};

/* Serves one readiness event of c.cfd: writes what is queued in c.down, then reads chunks
   (while fewer than kMaxQueued bytes wait), queueing kReply for each and writing at once.
   env.scratch receives the chunks (discarded). answers: set to the replies queued by this
   call. c.up.bytes counts bytes read, c.down.bytes bytes queued; c.up.eof is set on the
   client's EOF. Before kClose, anything more the client sent is read and dropped, so close()
   sends a FIN rather than a reset. */
Step serve(Conn& c, RelayEnv& env, uint32_t& interest, uint32_t& answers, int& err);

/* Appends kReply to d's pending bytes (d.bytes counts it); false when out of memory. */
bool queueReply(Dir& d);

}  // namespace pen::tcp::dummy
