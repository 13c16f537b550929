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
//    refused with 400: a lenient server must never get a request without the header. After
//    CONNECT or an Upgrade request the rest is a tunnel and is relayed untouched too.
//
// Thread: one Rewriter per connection, used by the worker thread only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace pen::tcp::http {

/* The largest request head (request line + header lines + blank line) accepted. */
constexpr size_t kMaxHead = 65536;

enum class Verdict {
  kOk,          // everything fed was consumed (forwarded, or held until the head is complete)
  kTooLarge,    // a head went past kMaxHead: answer 431 and close
  kBadRequest,  // a malformed head: answer 400 and close
  kBadBody,     // malformed chunked framing in a body already partly forwarded: close
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
  /* True once parsing has stopped for good (not HTTP, or a tunnel): bytes pass untouched. */
  bool passthrough() const { return state_ == kPass; }

 private:
  enum State : uint8_t { kStart, kHead, kBody, kChunkSize, kChunkData, kChunkEnd, kTrailers, kPass };
  Verdict endOfHead(const char* head, size_t len, std::string& out);
  /* Incremental request-line check; returns false when the bytes cannot start an HTTP/1 request. */
  bool requestLineByte(unsigned char b);

  std::string addr_;
  bool https_;
  State state_ = kStart;
  std::string held_;      // the head so far when it spans reads
  size_t headLen_ = 0;    // bytes of the current head seen (held or in the current chunk)
  bool scanToBlankLine(const char* p, size_t n, size_t& j);
  size_t lineLen_ = 0;    // bytes of the current line seen before its LF
  bool lineCr_ = false;   // the current line so far is exactly "\r"
  bool inRequestLine_ = false;
  bool rlBad_ = false;    // the request line went wrong; decided at its LF
  uint8_t rlPhase_ = 0;   // request line: 0 method, 1 target, 2 version, 3 done
  uint16_t rlCount_ = 0;  // characters in the current request-line part
  uint64_t remaining_ = 0;      // kBody / kChunkData: bytes left
  uint8_t chunkDigits_ = 0;     // kChunkSize: hex digits seen
  bool chunkExt_ = false;       // kChunkSize: past the size (in an extension or before CRLF)
  uint32_t chunkLineLen_ = 0;   // kChunkSize / kTrailers: bytes of the current line
  bool chunkEndCr_ = false;     // kChunkEnd: the CR was seen
  uint64_t requests_ = 0;
};

}  // namespace pen::tcp::http
