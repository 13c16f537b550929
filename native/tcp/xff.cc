// The HTTP/1.x request parser of -H (see xff.h for what it guarantees).
//
// feed() walks the input once. Bytes that pass unchanged (bodies, tunnels, blank lines between
// requests) are not copied while nothing before them changed: the caller then sends its own
// buffer (the common case of a large body). A head is parsed in place when it lies within one
// read; only a head that spans reads is copied into held_ (at most kMaxHead bytes).
#include "tcp/xff.h"

#include <cstring>

namespace pen::tcp::http {

namespace {

// RFC 9110 tchar: "!#$%&'*+-.^_`|~" DIGIT ALPHA
bool tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ows(char c) { return c == ' ' || c == '\t'; }

bool eqi(const char* a, size_t n, const char* lit) {
  size_t m = strlen(lit);
  if (n != m) return false;
  for (size_t i = 0; i < n; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c != lit[i]) return false;
  }
  return true;
}

void trim(const char*& b, const char*& e) {
  while (b < e && ows(*b)) b++;
  while (e > b && ows(e[-1])) e--;
}

/* Calls fn(elementBegin, elementEnd) for each comma-separated element of [b, e), trimmed. */
template <typename F>
void eachElement(const char* b, const char* e, F fn) {
  while (b <= e) {
    const char* c = static_cast<const char*>(memchr(b, ',', size_t(e - b)));
    const char* end = c ? c : e;
    const char* eb = b;
    const char* ee = end;
    trim(eb, ee);
    fn(eb, ee);
    if (!c) break;
    b = c + 1;
  }
}

/* Content-Length value: one or more comma-separated copies of one decimal number. */
bool contentLength(const char* b, const char* e, uint64_t& out) {
  bool ok = true, any = false;
  uint64_t v = 0;
  eachElement(b, e, [&](const char* eb, const char* ee) {
    if (eb == ee || ee - eb > 18) {
      ok = false;
      return;
    }
    uint64_t x = 0;
    for (const char* q = eb; q < ee; q++) {
      if (*q < '0' || *q > '9') {
        ok = false;
        return;
      }
      x = x * 10 + uint64_t(*q - '0');
    }
    if (any && x != v) ok = false;
    v = x;
    any = true;
  });
  out = v;
  return ok && any;
}

const char k431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 32\r\n"
    "Connection: close\r\n"
    "\r\n"
    "Request header fields too large\n";
const char k400[] =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 12\r\n"
    "Connection: close\r\n"
    "\r\n"
    "Bad request\n";

}  // namespace

const char* errorResponse(Verdict v) { return v == Verdict::kTooLarge ? k431 : k400; }

Rewriter::Rewriter(std::string addr, bool https) : addr_(std::move(addr)), https_(https) {
  if (addr_.empty()) addr_ = "unknown";  // a unix-socket client without a path (RFC 7239's word)
}

bool Rewriter::requestLineByte(unsigned char b) {
  static const char kVersion[] = "HTTP/1.";
  switch (rlPhase_) {
    case 0:  // method
      if (b == ' ') {
        if (rlCount_ == 0) return false;
        rlPhase_ = 1;
        rlCount_ = 0;
        return true;
      }
      return tchar(b) && ++rlCount_ <= 32;
    case 1:  // request target: visible characters (and UTF-8 some clients send raw)
      if (b == ' ') {
        if (rlCount_ == 0) return false;
        rlPhase_ = 2;
        rlCount_ = 0;
        return true;
      }
      rlCount_ = rlCount_ < 60000 ? uint16_t(rlCount_ + 1) : rlCount_;
      return b > 0x20 && b != 0x7f;
    case 2:  // "HTTP/1." DIGIT
      if (rlCount_ < 7) {
        if (b != uint8_t(kVersion[rlCount_])) return false;
        rlCount_++;
        return true;
      }
      if (b < '0' || b > '9') return false;
      rlPhase_ = 3;
      rlCount_ = 0;
      return true;
    default:  // after the version only the CR of the line end
      return b == '\r' && rlCount_++ == 0;
  }
}

/* Advances j over whole lines of p[0, n) until just past a blank line ("\n" or "\r\n"),
   carrying a partial line across calls in lineLen_/lineCr_. Returns true when a blank
   line ended; otherwise j == n. */
bool Rewriter::scanToBlankLine(const char* p, size_t n, size_t& j) {
  while (j < n) {
    const char* lf = static_cast<const char*>(memchr(p + j, '\n', n - j));
    if (!lf) {
      size_t add = n - j;
      lineCr_ = lineLen_ == 0 && add == 1 && p[j] == '\r';
      lineLen_ += add;
      j = n;
      return false;
    }
    size_t k = size_t(lf - p);
    size_t len = lineLen_ + (k - j);
    bool blank = len == 0 || (len == 1 && (k > j ? p[k - 1] == '\r' : lineCr_));
    lineLen_ = 0;
    lineCr_ = false;
    j = k + 1;
    if (blank) return true;
  }
  return false;
}

Verdict Rewriter::feed(const char* p, size_t n, std::string& out, bool& unchanged) {
  out.clear();
  unchanged = false;
  size_t i = 0;
  size_t from = 0;        // input before `from` is already in out (or held)
  bool modified = false;  // out (not the input) is what goes to the server
  size_t hs = 0;          // where the current head starts in this input (0 when it started before)
  auto upTo = [&](size_t k) {  // input [from, k) goes out unchanged
    out.append(p + from, k - from);
    from = k;
    modified = true;
  };
  auto bad = [&](Verdict v, size_t at) {
    upTo(at);
    return v;
  };

  while (i < n && state_ != kPass) {
    switch (state_) {
      case kStart: {
        unsigned char b = static_cast<unsigned char>(p[i]);
        if (b == '\r' || b == '\n') {  // blank lines before a request are allowed (RFC 9112 §2.2)
          i++;
          break;
        }
        state_ = kHead;
        hs = i;
        headLen_ = 0;
        lineLen_ = 0;
        lineCr_ = false;
        inRequestLine_ = true;
        rlBad_ = false;
        rlPhase_ = 0;
        rlCount_ = 0;
        break;
      }

      case kHead: {
        size_t begin = i;
        bool notHttp = false;
        while (inRequestLine_ && i < n) {
          unsigned char b = static_cast<unsigned char>(p[i]);
          if (b == '\n') {
            inRequestLine_ = false;
            lineLen_ = 0;
            lineCr_ = false;
            i++;
            if (rlBad_ || rlPhase_ != 3) {
              // Not a proper HTTP/1.x request line. One that still names an HTTP version is
              // refused (a lenient server must not get it without the header); anything
              // else is another protocol.
              std::string line = held_;
              line.append(p + hs, i - hs);
              for (char& ch : line) ch = (ch >= 'a' && ch <= 'z') ? char(ch - 'a' + 'A') : ch;
              if (requests_ > 0 || line.find("HTTP/") != std::string::npos) return bad(Verdict::kBadRequest, hs);
              notHttp = true;
            }
            break;
          }
          if (!rlBad_ && !requestLineByte(b)) {
            if ((b < 0x20 && b != '\t' && b != '\r') || b == 0x7f) {  // binary: not HTTP
              if (requests_ > 0) return bad(Verdict::kBadRequest, hs);
              notHttp = true;
              break;
            }
            rlBad_ = true;  // decided at the end of the line
          }
          i++;
        }
        if (notHttp) {
          // The first request line is not HTTP/1.x: relay the connection untouched.
          if (!held_.empty()) {
            upTo(hs);
            out += held_;
            held_.clear();
            held_.shrink_to_fit();
          }
          state_ = kPass;
          break;
        }
        size_t j = i;
        bool found = !inRequestLine_ && scanToBlankLine(p, n, j);
        i = j;
        headLen_ += i - begin;
        if (headLen_ > kMaxHead) return bad(Verdict::kTooLarge, hs);
        if (!found) {  // hold the partial head until the rest arrives
          upTo(hs);
          held_.append(p + hs, n - hs);
          from = n;
          break;
        }
        upTo(hs);
        Verdict v;
        if (held_.empty()) {
          v = endOfHead(p + hs, i - hs, out);
        } else {
          held_.append(p + hs, i - hs);
          v = endOfHead(held_.data(), held_.size(), out);
          held_.clear();
          if (held_.capacity() > 4096) held_.shrink_to_fit();
        }
        if (v != Verdict::kOk) return v;
        from = i;
        break;
      }

      case kBody:
      case kChunkData: {
        uint64_t take = n - i < remaining_ ? n - i : remaining_;
        i += size_t(take);
        remaining_ -= take;
        if (remaining_ == 0) {
          if (state_ == kBody) {
            state_ = kStart;
          } else {
            state_ = kChunkEnd;
            chunkEndCr_ = false;
          }
        }
        break;
      }

      case kChunkSize: {
        unsigned char b = static_cast<unsigned char>(p[i++]);
        if (++chunkLineLen_ > 4096) return bad(Verdict::kBadBody, i - 1);
        if (b == '\n') {
          if (chunkDigits_ == 0) return bad(Verdict::kBadBody, i - 1);
          chunkDigits_ = 0;
          chunkExt_ = false;
          chunkLineLen_ = 0;
          if (remaining_ == 0) {  // last-chunk: the trailer section follows
            state_ = kTrailers;
            lineLen_ = 0;
            lineCr_ = false;
          } else {
            state_ = kChunkData;
          }
          break;
        }
        int h = chunkExt_ ? -1 : hexval(b);
        if (h >= 0) {
          if (++chunkDigits_ > 15) return bad(Verdict::kBadBody, i - 1);
          remaining_ = remaining_ * 16 + uint64_t(h);
        } else {
          if (chunkDigits_ == 0) return bad(Verdict::kBadBody, i - 1);
          chunkExt_ = true;
          if (b < 0x20 && b != '\t' && b != '\r') return bad(Verdict::kBadBody, i - 1);
        }
        break;
      }

      case kChunkEnd: {
        unsigned char b = static_cast<unsigned char>(p[i++]);
        if (b == '\r' && !chunkEndCr_) {
          chunkEndCr_ = true;
        } else if (b == '\n') {
          state_ = kChunkSize;
          remaining_ = 0;
          chunkDigits_ = 0;
          chunkExt_ = false;
          chunkLineLen_ = 0;
        } else {
          return bad(Verdict::kBadBody, i - 1);
        }
        break;
      }

      case kTrailers: {
        size_t j = i;
        bool found = scanToBlankLine(p, n, j);
        chunkLineLen_ += uint32_t(j - i);
        i = j;
        if (chunkLineLen_ > kMaxHead) return bad(Verdict::kBadBody, i);
        if (found) {
          state_ = kStart;
          chunkLineLen_ = 0;
        }
        break;
      }

      case kPass:
        break;
    }
  }
  if (!modified) {
    unchanged = true;
    return Verdict::kOk;
  }
  out.append(p + from, n - from);
  return Verdict::kOk;
}

/* A complete head [head, head+len) (request line through the blank line): appends the
   rewritten head to out and sets up the framing of what follows. */
Verdict Rewriter::endOfHead(const char* head, size_t len, std::string& out) {
  const char* end = head + len;
  const char* rlEnd = static_cast<const char*>(memchr(head, '\n', len));  // validated: present
  const char* eol = (rlEnd > head && rlEnd[-1] == '\r') ? "\r\n" : "\n";
  const char* sp = static_cast<const char*>(memchr(head, ' ', size_t(rlEnd - head)));
  bool connect = eqi(head, size_t(sp - head), "connect");

  // Pass 1: what the header lines say.
  bool te = false, teChunked = false, hasCl = false, upgrade = false, connUpgrade = false;
  uint64_t cl = 0;
  const char* lastXff = nullptr;  // line start of the last X-Forwarded-For
  for (const char* ls = rlEnd + 1; ls < end;) {
    const char* le = static_cast<const char*>(memchr(ls, '\n', size_t(end - ls)));
    const char* ce = (le > ls && le[-1] == '\r') ? le - 1 : le;
    if (ce == ls) break;  // the blank line
    if (*ls == ' ' || *ls == '\t') return Verdict::kBadRequest;  // obs-fold (RFC 9112 §5.2)
    const char* colon = static_cast<const char*>(memchr(ls, ':', size_t(ce - ls)));
    if (!colon || colon == ls) return Verdict::kBadRequest;
    for (const char* q = ls; q < colon; q++)
      if (!tchar(static_cast<unsigned char>(*q))) return Verdict::kBadRequest;
    for (const char* q = colon + 1; q < ce; q++) {
      unsigned char c = static_cast<unsigned char>(*q);
      if ((c < 0x20 && c != '\t') || c == 0x7f) return Verdict::kBadRequest;
    }
    size_t nl = size_t(colon - ls);
    const char* vb = colon + 1;
    const char* ve = ce;
    trim(vb, ve);
    if (eqi(ls, nl, "content-length")) {
      uint64_t v = 0;
      if (!contentLength(vb, ve, v) || (hasCl && v != cl)) return Verdict::kBadRequest;
      hasCl = true;
      cl = v;
    } else if (eqi(ls, nl, "transfer-encoding")) {
      te = true;
      eachElement(vb, ve, [&](const char* eb, const char* ee) {
        if (eb != ee) teChunked = eqi(eb, size_t(ee - eb), "chunked");
      });
    } else if (eqi(ls, nl, "x-forwarded-for")) {
      lastXff = ls;
    } else if (eqi(ls, nl, "upgrade")) {
      upgrade = true;
    } else if (eqi(ls, nl, "connection")) {
      eachElement(vb, ve, [&](const char* eb, const char* ee) {
        if (eqi(eb, size_t(ee - eb), "upgrade")) connUpgrade = true;
      });
    }
    ls = le + 1;
  }
  if (te && !teChunked) return Verdict::kBadRequest;  // RFC 9112 §6.3: length unknown

  // Pass 2: the head as the server gets it.
  out.append(head, size_t(rlEnd + 1 - head));
  const char* blank = end;
  for (const char* ls = rlEnd + 1; ls < end;) {
    const char* le = static_cast<const char*>(memchr(ls, '\n', size_t(end - ls)));
    const char* ce = (le > ls && le[-1] == '\r') ? le - 1 : le;
    if (ce == ls) {
      blank = ls;
      break;
    }
    size_t nl = size_t(static_cast<const char*>(memchr(ls, ':', size_t(ce - ls))) - ls);
    bool drop = eqi(ls, nl, "x-forwarded-proto") || (te && eqi(ls, nl, "content-length"));
    if (ls == lastXff) {
      out.append(ls, size_t(ce - ls));
      out += ", ";
      out += addr_;
      out.append(ce, size_t(le + 1 - ce));
    } else if (!drop) {
      out.append(ls, size_t(le + 1 - ls));
    }
    ls = le + 1;
  }
  out += https_ ? "X-Forwarded-Proto: https" : "X-Forwarded-Proto: http";
  out += eol;
  if (!lastXff) {
    out += "X-Forwarded-For: ";
    out += addr_;
    out += eol;
  }
  out.append(blank, size_t(end - blank));
  requests_++;

  remaining_ = 0;
  if (connect || (upgrade && connUpgrade)) {
    state_ = kPass;  // a tunnel follows (if the server agrees): relay it untouched
  } else if (te) {
    state_ = kChunkSize;
    chunkDigits_ = 0;
    chunkExt_ = false;
    chunkLineLen_ = 0;
  } else if (hasCl && cl > 0) {
    state_ = kBody;
    remaining_ = cl;
  } else {
    state_ = kStart;
  }
  return Verdict::kOk;
}

}  // namespace pen::tcp::http
