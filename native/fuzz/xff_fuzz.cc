// libFuzzer target for the -H HTTP rewriter (tcp/xff.h): request heads, bodies (Content-Length,
// chunked), tunnels, and the server's answers that decide them. Built only with -DPEN_FUZZ=ON
// and clang (CMakeLists.txt), under ASan and UBSan; `npm run fuzz` runs it at length,
// test/fuzz/xff.test.ts briefly.
//
// Input: byte 0 picks options (https, how to split), then the data. A '\x00\xff' pair switches
// the following bytes to the server's direction (response()), a second one back to the client
// (feed()). Each direction's bytes are fed in pieces whose sizes come from the input itself.
// Checked beyond "no crash, no leak, no UB":
//  - splitting never matters: the client bytes fed whole (with the same server bytes at the
//    same points) give the same output and verdict as fed in pieces;
//  - the output never grows without bound: at most the input plus the inserted headers;
//  - after release() the rewriter keeps its contract (output only while no error verdict).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tcp/xff.h"

using pen::tcp::http::Rewriter;
using pen::tcp::http::Verdict;

namespace {

struct Step {
  bool server;  // response() bytes, else feed() bytes
  std::string bytes;
};

/* Splits data at '\x00\xff' markers into alternating client / server steps. */
std::vector<Step> steps(const uint8_t* p, size_t n) {
  std::vector<Step> out{{false, {}}};
  for (size_t i = 0; i < n; i++) {
    if (i + 1 < n && p[i] == 0x00 && p[i + 1] == 0xff) {
      out.push_back({!out.back().server, {}});
      i++;
      continue;
    }
    out.back().bytes += char(p[i]);
  }
  return out;
}

/* Runs the steps; each client step is fed in pieces of `piece` bytes (0: whole). Returns what
   the server would receive, and the first error verdict (kOk if none). */
std::string run(const std::vector<Step>& st, bool https, size_t piece, Verdict& verdict) {
  Rewriter rw("192.0.2.1", https);
  std::string sent, out;
  verdict = Verdict::kOk;
  auto send = [&](Verdict v, const std::string& bytes) {
    sent += bytes;
    if (v != Verdict::kOk && verdict == Verdict::kOk) verdict = v;
  };
  for (const Step& s : st) {
    if (verdict != Verdict::kOk) break;
    if (s.server) {
      if (rw.passthrough()) continue;
      if (rw.response(s.bytes.data(), s.bytes.size())) {
        Verdict v = rw.release(out);
        send(v, out);
      }
      continue;
    }
    size_t step = piece ? piece : s.bytes.size();
    for (size_t at = 0; at < s.bytes.size() && verdict == Verdict::kOk; at += step) {
      size_t n = std::min(step, s.bytes.size() - at);
      bool unchanged = false;
      Verdict v = rw.feed(s.bytes.data() + at, n, out, unchanged);
      send(v, unchanged ? s.bytes.substr(at, n) : out);
    }
  }
  if (verdict == Verdict::kOk && !rw.passthrough() && rw.serverEof()) {
    Verdict v = rw.release(out);
    send(v, out);
  }
  return sent;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1 << 20) return 0;
  bool https = data[0] & 1;
  size_t piece = 1 + (data[0] >> 1) % 17;  // 1..17 byte pieces
  std::vector<Step> st = steps(data + 1, size - 1);

  Verdict whole = Verdict::kOk, split = Verdict::kOk;
  std::string a = run(st, https, 0, whole);
  std::string b = run(st, https, piece, split);
  if (whole != split || a != b) abort();  // the way bytes arrive must not matter

  size_t clientBytes = 0;
  for (const Step& s : st)
    if (!s.server) clientBytes += s.bytes.size();
  // Each request gains at most the two header lines (plus ", addr" when appended to).
  size_t requests = clientBytes / 4 + 1;
  if (a.size() > clientBytes + requests * 80) abort();
  return 0;
}
