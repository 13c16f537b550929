// The data plane's side of the request log and of the debug dumps (spec/logging-tools.md §1,
// §7): what is kept of a client's bytes for the access log, the record handed to JS, and the
// level-3 chunk dumps. Plain functions, no state; called on the worker thread.
//
// What is logged (quirk 3, one line per request/connection instead of Pen's one per read):
//  - the first chunk a client sends on a connection (TCP) or flow (UDP) always gives a record;
//  - on a TCP connection, a later chunk gives a record only when the server has sent bytes
//    since the last record (a new "turn" of the exchange) and the chunk starts with an HTTP
//    request line (see looksLikeRequest). So keep-alive HTTP logs one line per request,
//    while a POST body, a pipelined request in the same read and every other protocol's
//    later chunks (SMTP, FTP, ...) are not logged. Chunks relayed by splice(2) (bulk flows)
//    are not looked at.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "events.h"
#include "net/addr.h"

namespace pen::log {

/* Pen's KEEP_MAX: how much of a request line is kept. */
constexpr size_t kLineMax = 100;

/* The head of a chunk kept for the access log: its bytes up to (not including) the first CR
   or LF, at most kLineMax. */
struct Line {
  char bytes[kLineMax];
  uint32_t len = 0;
  bool cut = false;    // the line went on past kLineMax bytes
  bool taken = false;  // set when a chunk was captured since the flag was last cleared
};

/* Keeps the head of data[0, n) in out (and sets out.taken). */
void capture(Line& out, const char* data, size_t n);

/* True when line looks like an HTTP request line: a method token of 3-20 characters from
   A-Z, '-' and '_', one space, a target starting with '/', '*', "http://" or "https://"
   (any target after CONNECT), and " HTTP/" further on unless the line was cut at kLineMax. */
bool looksLikeRequest(const Line& line);

/* An access record, packed as JS reads it (lib/engine/events.ts): wall-clock seconds now as
   a little-endian float64, then the client address, the server address (as text, no ports;
   IPv6 without brackets; unix sockets as their path) and the captured bytes raw, each as
   one length byte and its bytes (JS replaces bytes >= 0x80 for the file log; the penlogd
   datagram keeps them). */
events::Record accessRecord(const net::Addr& client, const net::Addr& server, const Line& line);

/* Debug level 3: writes "N: " then each byte as "xx " (ascii: the byte itself if printable or
   white space, else '.') and a newline to stderr, straight from the worker thread as Pen
   did (level 3 is a troubleshooting mode: a slow stderr slows relaying). */
void dump(const char* data, size_t n, bool ascii);

}  // namespace pen::log
