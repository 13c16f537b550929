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

/* Advances j over whole lines of p[0, n) until just past a blank line ("\n" or "\r\n"),
   carrying a partial line across calls in lineLen/lineCr. Returns true when a blank line
   ended; otherwise j == n. */
bool scanToBlankLine(const char* p, size_t n, size_t& j, size_t& lineLen, bool& lineCr) {
  while (j < n) {
    const char* lf = static_cast<const char*>(memchr(p + j, '\n', n - j));
    if (!lf) {
      size_t add = n - j;
      lineCr = lineLen == 0 && add == 1 && p[j] == '\r';
      lineLen += add;
      j = n;
      return false;
    }
    size_t k = size_t(lf - p);
    size_t len = lineLen + (k - j);
    bool blank = len == 0 || (len == 1 && (k > j ? p[k - 1] == '\r' : lineCr));
    lineLen = 0;
    lineCr = false;
    j = k + 1;
    if (blank) return true;
  }
  return false;
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

Chunked::Result Chunked::feed(const char* p, size_t n, size_t& used) {
  size_t i = 0;
  while (i < n) {
    switch (phase_) {
      case kSize: {
        unsigned char b = static_cast<unsigned char>(p[i]);
        if (++lineLen_ > 4096) break;
        if (b == '\n') {
          if (digits_ == 0) break;
          i++;
          digits_ = 0;
          ext_ = false;
          lineLen_ = 0;
          if (remaining_ == 0) {  // last-chunk: the trailer section follows
            phase_ = kTrailers;
            tLine_ = 0;
            tCr_ = false;
          } else {
            phase_ = kData;
          }
          continue;
        }
        int h = ext_ ? -1 : hexval(b);
        if (h >= 0) {
          if (++digits_ > 15) break;
          remaining_ = remaining_ * 16 + uint64_t(h);
        } else {
          if (digits_ == 0) break;
          ext_ = true;
          if (b < 0x20 && b != '\t' && b != '\r') break;
        }
        i++;
        continue;
      }
      case kData: {
        uint64_t take = n - i < remaining_ ? n - i : remaining_;
        i += size_t(take);
        remaining_ -= take;
        if (remaining_ == 0) {
          phase_ = kDataEnd;
          cr_ = false;
        }
        continue;
      }
      case kDataEnd: {
        unsigned char b = static_cast<unsigned char>(p[i]);
        if (b == '\r' && !cr_) {
          cr_ = true;
        } else if (b == '\n') {
          phase_ = kSize;
          remaining_ = 0;
          digits_ = 0;
          ext_ = false;
          lineLen_ = 0;
        } else {
          break;
        }
        i++;
        continue;
      }
      case kTrailers: {
        size_t j = i;
        bool found = scanToBlankLine(p, n, j, tLine_, tCr_);
        lineLen_ += uint32_t(j - i);
        i = j;
        if (lineLen_ > kMaxHead) {
          used = i;
          return kBad;
        }
        if (found) {
          used = i;
          reset();
          return kDone;
        }
        continue;
      }
    }
    used = i;  // a `break` above: the byte at i is wrong
    return kBad;
  }
  used = i;
  return kMore;
}

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
        bool found = !inRequestLine_ && scanToBlankLine(p, n, j, lineLen_, lineCr_);
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

      case kBody: {
        uint64_t take = n - i < remaining_ ? n - i : remaining_;
        i += size_t(take);
        remaining_ -= take;
        if (remaining_ == 0) endOfMessage();
        break;
      }

      case kChunked: {
        size_t used = 0;
        Chunked::Result r = chunked_.feed(p + i, n - i, used);
        i += used;
        if (r == Chunked::kBad) return bad(Verdict::kBadBody, i);
        if (r == Chunked::kDone) endOfMessage();
        break;
      }

      case kAwait: {  // a tunnel request waits for its answer: hold what follows it
        upTo(i);
        if (hold_.size() + (n - i) > kMaxHold) return Verdict::kHoldFull;
        hold_.append(p + i, n - i);
        i = n;
        from = n;
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

namespace {

/* The body framing a message head declares (RFC 9112 §6): its Content-Length and
   Transfer-Encoding fields, for requests and answers alike. */
struct Framing {
  bool hasCl = false, badCl = false;  // badCl: malformed, or two that disagree
  uint64_t cl = 0;
  bool te = false, teChunked = false;
  /* Takes one header field (name [name, name+nl), trimmed value [vb, ve)); true when it was
     a framing field. */
  bool field(const char* name, size_t nl, const char* vb, const char* ve) {
    if (eqi(name, nl, "content-length")) {
      uint64_t v = 0;
      if (!contentLength(vb, ve, v) || (hasCl && v != cl)) badCl = true;
      hasCl = true;
      cl = v;
      return true;
    }
    if (eqi(name, nl, "transfer-encoding")) {
      te = true;
      eachElement(vb, ve, [&](const char* eb, const char* ee) {
        if (eb != ee) teChunked = eqi(eb, size_t(ee - eb), "chunked");
      });
      return true;
    }
    return false;
  }
};

}  // namespace

/* A complete head [head, head+len) (request line through the blank line): appends the
   rewritten head to out and sets up the framing of what follows. */
Verdict Rewriter::endOfHead(const char* head, size_t len, std::string& out) {
  const char* end = head + len;
  const char* rlEnd = static_cast<const char*>(memchr(head, '\n', len));  // validated: present
  const char* eol = (rlEnd > head && rlEnd[-1] == '\r') ? "\r\n" : "\n";
  const char* sp = static_cast<const char*>(memchr(head, ' ', size_t(rlEnd - head)));
  bool connect = eqi(head, size_t(sp - head), "connect");

  // Pass 1: what the header lines say.
  Framing fr;
  bool upgrade = false, connUpgrade = false;
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
    if (fr.field(ls, nl, vb, ve)) {
      if (fr.badCl) return Verdict::kBadRequest;
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
  if (fr.te && !fr.teChunked) return Verdict::kBadRequest;  // RFC 9112 §6.3: length unknown

  // Remember what the answer to this request will be like. A tunnel is asked for only while
  // the answers are followed (rstate_ != kRUntracked).
  Kind kind = connect ? kConnect : (upgrade && connUpgrade) ? kUpgrade
            : eqi(head, size_t(sp - head), "head") ? kHeadReq : kPlain;
  if (rstate_ == kRUntracked) {
    kind = kPlain;
  } else if (!asked_.empty() && asked_.back().first == kind && asked_.back().second < UINT32_MAX) {
    asked_.back().second++;
  } else {
    if (asked_.size() >= kMaxOutstandingRuns) return Verdict::kBadRequest;
    asked_.emplace_back(kind, 1);
  }


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
    bool drop = eqi(ls, nl, "x-forwarded-proto") || (fr.te && eqi(ls, nl, "content-length"));
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
  if (kind == kConnect || kind == kUpgrade) tunnel_ = kAsked;

  remaining_ = 0;
  if (kind == kConnect) {
    endOfMessage();  // a CONNECT has no body: what follows is the tunnel (or the next request)
  } else if (fr.te) {
    state_ = kChunked;
    chunked_.reset();
  } else if (fr.hasCl && fr.cl > 0) {
    state_ = kBody;
    remaining_ = fr.cl;
  } else {
    endOfMessage();
  }
  return Verdict::kOk;
}

void Rewriter::endOfMessage() {
  switch (tunnel_) {
    case kAsked:
      state_ = kAwait;  // hold what the client sends next until the server answers
      decided_ = false;
      return;
    case kGranted:  // answered while the request body was still on its way
      state_ = kPass;
      return;
    case kDenied:
      tunnel_ = kNone;
      state_ = kStart;
      return;
    case kNone:
      state_ = kStart;
      return;
  }
}

void Rewriter::decide(bool granted) {
  if (tunnel_ != kAsked) return;
  tunnel_ = granted ? kGranted : kDenied;
  if (state_ == kAwait) decided_ = true;
  if (granted) rstate_ = kRUntracked;  // the server speaks the new protocol from here on
}

bool Rewriter::serverEof() {
  rstate_ = kRUntracked;
  decide(false);
  return state_ == kAwait && decided_;
}

Verdict Rewriter::release(std::string& out) {
  out.clear();
  decided_ = false;
  std::string held = std::move(hold_);
  hold_ = std::string();
  if (tunnel_ == kGranted) {
    tunnel_ = kNone;
    state_ = kPass;
    out = std::move(held);
    return Verdict::kOk;
  }
  tunnel_ = kNone;
  state_ = kStart;
  bool unchanged = false;
  Verdict v = feed(held.data(), held.size(), out, unchanged);
  if (unchanged) out = std::move(held);
  return v;
}

bool Rewriter::response(const char* p, size_t n) {
  size_t i = 0;
  while (i < n && rstate_ != kRUntracked) {
    switch (rstate_) {
      case kRHead: {
        size_t j = i;
        bool found = scanToBlankLine(p, n, j, rLine_, rCr_);
        if (rhead_.size() + (j - i) > kMaxHead) {
          rstate_ = kRUntracked;  // an oversized head: stop following (no tunnel from here)
          decide(false);
          break;
        }
        rhead_.append(p + i, j - i);
        i = j;
        if (!found) break;
        std::string head = std::move(rhead_);
        rhead_ = std::string();
        if (head.size() <= 2) break;  // a blank line between responses
        endOfResponseHead(head.data(), head.size());
        break;
      }
      case kRBody: {
        uint64_t take = n - i < rRemaining_ ? n - i : rRemaining_;
        i += size_t(take);
        rRemaining_ -= take;
        if (rRemaining_ == 0) rstate_ = kRHead;
        break;
      }
      case kRChunked: {
        size_t used = 0;
        Chunked::Result r = rChunked_.feed(p + i, n - i, used);
        i += used;
        if (r == Chunked::kBad) {
          rstate_ = kRUntracked;
          decide(false);
        } else if (r == Chunked::kDone) {
          rstate_ = kRHead;
        }
        break;
      }
      case kRUntracked:
        break;
    }
  }
  if (rstate_ == kRUntracked) decide(false);
  return state_ == kAwait && decided_;
}

void Rewriter::endOfResponseHead(const char* h, size_t len) {
  const char* end = h + len;
  const char* le = static_cast<const char*>(memchr(h, '\n', len));
  // "HTTP/1.x SSS" (reason optional)
  if (asked_.empty() || len < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[7] < '0' || h[7] > '9' ||
      h[8] != ' ' || h[9] < '1' || h[9] > '5' || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9' ||
      (h + 12 < le && h[12] != ' ' && h[12] != '\r')) {
    rstate_ = kRUntracked;  // not a response to a request we sent: stop following
    return;
  }
  int status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
  Kind kind = asked_.front().first;
  if (status / 100 == 1) {
    if (status == 101 && kind == kUpgrade) {
      decide(true);
      rstate_ = kRUntracked;
    }
    return;  // an interim answer: the final one follows
  }
  if (--asked_.front().second == 0) asked_.pop_front();
  if (kind == kConnect || kind == kUpgrade) {
    bool granted = kind == kConnect && status / 100 == 2;
    decide(granted);
    if (granted) return;
  }
  Framing fr;
  for (const char* ls = le + 1; ls < end;) {
    const char* e = static_cast<const char*>(memchr(ls, '\n', size_t(end - ls)));
    if (!e) break;
    const char* ce = (e > ls && e[-1] == '\r') ? e - 1 : e;
    const char* colon = static_cast<const char*>(memchr(ls, ':', size_t(ce - ls)));
    if (colon) {
      const char* vb = colon + 1;
      const char* ve = ce;
      trim(vb, ve);
      fr.field(ls, size_t(colon - ls), vb, ve);
    }
    ls = e + 1;
  }
  if (kind == kHeadReq || status == 204 || status == 304) {
    rstate_ = kRHead;
  } else if (fr.te) {
    if (fr.teChunked) {
      rstate_ = kRChunked;
      rChunked_.reset();
    } else {
      rstate_ = kRUntracked;  // read until the server closes: no later answer to follow
    }
  } else if (fr.hasCl && !fr.badCl) {
    rRemaining_ = fr.cl;
    rstate_ = fr.cl > 0 ? kRBody : kRHead;
  } else {
    rstate_ = kRUntracked;  // until EOF (or a bad length)
  }
}

}  // namespace pen::tcp::http
