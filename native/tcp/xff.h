// HTTP header insertion (-H / `http`, spec/dataplane.md §4, quirk 2): an incremental HTTP/1.x
// request parser on the client -> server direction that adds X-Forwarded-For and
// X-Forwarded-Proto to the head of EVERY request on the connection (keep-alive and pipelined
// ones too), whatever the method, however the head and body are split across reads, with
// Content-Length and chunked bodies skipped exactly so that body bytes are never taken for
// a request. Pen rewrote single reads that happened to hold a whole head (and dropped the
// header on large POSTs); this is a parser, and bytes are never lost or reordered.
//
// What the server receives (pen's choices, also in man/pen.1 "HTTP HEADERS"):
//  - X-Forwarded-For: the client address (Pen's text: IPv4 dotted, IPv6 without brackets,
//    ::ffff:a.b.c.d on a dual-stack listener). If the request already carries the header,
//    ", <address>" is APPENDED to its last occurrence (the usual proxy chain rule), so a
//    client cannot make the server believe a forged address is the connecting one: the last
//    entry is always pen's. Pen left an existing header alone.
//  - X-Forwarded-Proto: "https" when pen terminated TLS, else "http". It REPLACES any the
//    client sent (pen knows the scheme of the connection it accepted; Pen kept the client's).
//  - Order: Pen's. The new lines go right before the blank line ending the head,
//    X-Forwarded-Proto first, then X-Forwarded-For (when it was not appended to).
//  - Line endings: inserted lines use the request line's own ending (CRLF or bare LF); every
//    other byte of the head is kept as sent.
//  - A head larger than kMaxHead is refused with "431 Request Header Fields Too Large", a
//    malformed head (bad header line, obs-fold, bad Content-Length, Transfer-Encoding without
//    chunked last) with "400 Bad Request"; both then close the connection. With both
//    Transfer-Encoding: chunked and Content-Length the Content-Length lines are dropped
//    (RFC 9112 §6.3: an intermediary must not forward both).
//  - Not HTTP: when the very first request line of the connection is not
//    "METHOD SP target SP HTTP/1.x" and does not mention "HTTP/" (any case) either (or holds binary
//    bytes), the connection is relayed untouched from then on. A line that names an HTTP
//    version but is malformed ("GET / HTTP/1.1 " with a trailing space, "HTTP/2.0", ...) is
//    refused with 400: a lenient server must never get a request without the header.
//  - Tunnels: after CONNECT or a request with Upgrade + Connection: upgrade the rest becomes a
//    tunnel relayed untouched -- but only once the SERVER agreed: a 101 to the Upgrade, a 2xx
//    to the CONNECT. Until its answer arrives, what the client sends after that request is
//    held (at most kMaxHold bytes, else the connection is closed); any other answer makes the
//    held bytes (and everything after) HTTP again, parsed and rewritten as before. So a client
//    cannot end the rewriting (and smuggle a forged X-Forwarded-For past it) with a bogus
//    Upgrade. The answers are followed with response() on the server -> client bytes: status
//    lines, 1xx interim answers, and each response's framing (Content-Length, chunked, none
//    for HEAD/204/304, until EOF otherwise) to know which answer belongs to which request.
//    Should that fail (a malformed response, one read until EOF, answers nobody asked for),
//    no tunnel is ever granted on that connection: requests stay HTTP.
//
// Thread: one Rewriter per connection, used by the worker thread only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <deque>
#include <utility>

namespace pen::tcp::http {

/* The largest request head (request line + header lines + blank line) accepted; also the
   largest response head followed and the largest trailer section. */
constexpr size_t kMaxHead = 65536;
/* Client bytes held while a tunnel request waits for the server's answer. */
constexpr size_t kMaxHold = 65536;
/* Requests forwarded and not answered yet, as runs of one kind (GET GET HEAD = 2 runs). */
constexpr size_t kMaxOutstandingRuns = 1024;

enum class Verdict {
  kOk,          // everything fed was consumed (forwarded, or held until the head is complete)
  kTooLarge,    // a head went past kMaxHead: answer 431 and close
  kBadRequest,  // a malformed head: answer 400 and close
  kBadBody,     // malformed chunked framing in a body already partly forwarded: close
  kHoldFull,    // more than kMaxHold bytes sent while a tunnel request awaits its answer: close
};

/* Chunked framing (RFC 9112 §7.1) of one body, fed incrementally: chunk sizes (extensions
   allowed, at most 15 hex digits, lines of at most 4096 bytes), data, CRLFs, trailers (at
   most kMaxHead bytes). */
class Chunked {
 public:
  enum Result : uint8_t { kMore, kDone, kBad };
  void reset() { *this = Chunked(); }
  /* Consumes bytes of p[0, n) up to the end of the body; used receives how many (on kBad:
     the offset of the offending byte). */
  Result feed(const char* p, size_t n, size_t& used);

 private:
  enum Phase : uint8_t { kSize, kData, kDataEnd, kTrailers };
  Phase phase_ = kSize;
  uint64_t remaining_ = 0;   // kSize: the size so far; kData: bytes left
  uint8_t digits_ = 0;
  bool ext_ = false;         // past the size (in an extension or before CRLF)
  bool cr_ = false;          // kDataEnd: the CR was seen
  uint32_t lineLen_ = 0;     // kSize: bytes of the size line; kTrailers: bytes of the section
  size_t tLine_ = 0;         // kTrailers: bytes of the current line
  bool tCr_ = false;         // kTrailers: the current line so far is exactly "\r"
};

/* The response pen sends for kTooLarge / kBadRequest (a complete HTTP/1.1 response). */
const char* errorResponse(Verdict v);

class Rewriter {
 public:
  /* addr: the X-Forwarded-For value; https: the X-Forwarded-Proto value is "https". */
  Rewriter(std::string addr, bool https);

  /* Feeds n bytes read from the client. What is to be sent to the server, in order, is:
     the input itself when `unchanged` is true on return, else `out` (cleared first). Bytes
     of an incomplete head are held inside until the head is complete. On an error verdict
     `out` (or the unchanged input, never for errors) holds what precedes the bad request
     and must still be sent; nothing may be fed afterwards. */
  Verdict feed(const char* p, size_t n, std::string& out, bool& unchanged);

  /* Requests whose head was forwarded so far. */
  uint64_t requests() const { return requests_; }
  /* True once parsing has stopped for good (not HTTP, or a granted tunnel): bytes pass
     untouched in both directions and response() need not be called. */
  bool passthrough() const { return state_ == kPass; }
  /* True while the server's answers are followed (response() wants the server's bytes). */
  bool following() const { return state_ != kPass && rstate_ != kRUntracked; }
  /* True while client bytes are held for a tunnel request's answer. */
  bool holding() const { return state_ == kAwait; }

  /* Observes n bytes the server sent (forwarded to the client unchanged by the caller).
     Returns true when they decided a tunnel the client's bytes were held for: the caller
     then calls release() and sends what it gives to the server. */
  bool response(const char* p, size_t n);
  /* The server's EOF: a tunnel still awaiting its answer is refused. Returns as response(). */
  bool serverEof();
  /* After response() / serverEof() returned true: the held client bytes as the server must
     get them (untouched when the tunnel was granted, else rewritten, as feed()). */
  Verdict release(std::string& out);

 private:
  enum State : uint8_t { kStart, kHead, kBody, kChunked, kAwait, kPass };
  enum Kind : uint8_t { kPlain, kHeadReq, kConnect, kUpgrade };
  enum Tunnel : uint8_t { kNone, kAsked, kGranted, kDenied };
  enum RState : uint8_t { kRHead, kRBody, kRChunked, kRUntracked };
  Verdict endOfHead(const char* head, size_t len, std::string& out);
  /* The current request message (head and body) is complete: what follows it. */
  void endOfMessage();
  /* Incremental request-line check; returns false when the bytes cannot start an HTTP/1 request. */
  bool requestLineByte(unsigned char b);
  /* A complete response head [h, h + len): pops the request it answers, sets the framing. */
  void endOfResponseHead(const char* h, size_t len);
  /* The tunnel request got its final answer. */
  void decide(bool granted);

  std::string addr_;
  bool https_;
  State state_ = kStart;
  std::string held_;      // the head so far when it spans reads
  size_t headLen_ = 0;    // bytes of the current head seen (held or in the current chunk)
  size_t lineLen_ = 0;    // bytes of the current line seen before its LF
  bool lineCr_ = false;   // the current line so far is exactly "\r"
  bool inRequestLine_ = false;
  bool rlBad_ = false;    // the request line went wrong; decided at its LF
  uint8_t rlPhase_ = 0;   // request line: 0 method, 1 target, 2 version, 3 done
  uint16_t rlCount_ = 0;  // characters in the current request-line part
  uint64_t remaining_ = 0;      // kBody: bytes left
  Chunked chunked_;             // kChunked
  uint64_t requests_ = 0;

  // Tunnels and the server's answers.
  Tunnel tunnel_ = kNone;       // the last tunnel request, while it matters
  bool decided_ = false;        // kAwait: the answer came; release() is due
  std::string hold_;            // kAwait: client bytes held
  std::deque<std::pair<Kind, uint32_t>> asked_;  // unanswered requests, oldest first, as runs
  RState rstate_ = kRHead;
  std::string rhead_;           // kRHead: the response head so far
  size_t rLine_ = 0;            // kRHead: bytes of the current line
  bool rCr_ = false;            // kRHead: the current line so far is exactly "\r"
  uint64_t rRemaining_ = 0;     // kRBody: bytes left
  Chunked rChunked_;            // kRChunked
};

}  // namespace pen::tcp::http
