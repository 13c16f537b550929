// Test-side frame builders and checks for the DSR tests, written independently of
// native/dsr/packet.cc (byte by byte, their own checksum) so that a bug there cannot hide
// itself in the expected frames.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "dsr/chooser.h"
#include "dsr/frame.h"

namespace pen::dsr::test {

using Bytes = std::vector<uint8_t>;

inline uint32_t ip(int a, int b, int c, int d) {
  const uint8_t x[4] = {uint8_t(a), uint8_t(b), uint8_t(c), uint8_t(d)};
  uint32_t v;
  std::memcpy(&v, x, 4);
  return v;
}
inline Mac mac(int last) { return Mac{0x02, 0, 0, 0, 0, uint8_t(last)}; }

inline void put(Bytes& b, std::initializer_list<int> v) {
  for (int x : v) b.push_back(uint8_t(x));
}
inline void put16(Bytes& b, unsigned v) { put(b, {int(v >> 8 & 0xff), int(v & 0xff)}); }
inline void put32(Bytes& b, uint32_t v) { put16(b, v >> 16); put16(b, v & 0xffff); }
inline void putMac(Bytes& b, const Mac& m) { b.insert(b.end(), m.begin(), m.end()); }
inline void putIp(Bytes& b, uint32_t a) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&a);
  b.insert(b.end(), p, p + 4);
}

/* One's-complement sum, the slow obvious way: 64-bit accumulator, big-endian words, odd byte
   padded with zero, carries folded at the end. */
inline uint16_t onesSum(const Bytes& b) {
  uint64_t s = 0;
  for (size_t i = 0; i < b.size(); i += 2) s += uint64_t(b[i]) * 256 + (i + 1 < b.size() ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

/* True when the IPv4 header at frame[14..] sums to 0xffff (valid checksum). */
inline bool ipChecksumOk(const Bytes& f) {
  size_t ihl = size_t(f[14] & 0x0f) * 4;
  return onesSum(Bytes(f.begin() + 14, f.begin() + 14 + long(ihl))) == 0xffff;
}

/* True when the TCP/UDP segment of an IPv4 frame (lengths from its IP header) verifies:
   pseudo-header + segment including its checksum field sums to 0xffff. */
inline bool l4ChecksumOk(const Bytes& f) {
  size_t ihl = size_t(f[14] & 0x0f) * 4;
  size_t total = size_t(f[16]) * 256 + f[17];
  Bytes s(f.begin() + 26, f.begin() + 34);  // src, dst
  put(s, {0, f[23]});
  put16(s, unsigned(total - ihl));
  s.insert(s.end(), f.begin() + 14 + long(ihl), f.begin() + 14 + long(total));
  return onesSum(s) == 0xffff;
}

struct Seg {
  Mac ethDst, ethSrc;
  uint32_t src, dst;
  uint16_t sport, dport;
  uint8_t proto = 6;
  uint8_t flags = 0x02;  // TCP flags
  uint32_t seq = 1000;
  uint16_t window = 64240;
  Bytes options;  // TCP option bytes (a multiple of 4)
  Bytes payload;
};

/* An Ethernet + IPv4 + TCP/UDP frame with correct checksums. */
inline Bytes segment(const Seg& s) {
  Bytes l4;
  if (s.proto == 6) {
    put16(l4, s.sport); put16(l4, s.dport); put32(l4, s.seq); put32(l4, 0);
    put(l4, {int((20 + s.options.size()) / 4) << 4, s.flags});
    put16(l4, s.window); put16(l4, 0); put16(l4, 0);
    l4.insert(l4.end(), s.options.begin(), s.options.end());
  } else {
    put16(l4, s.sport); put16(l4, s.dport); put16(l4, unsigned(8 + s.payload.size())); put16(l4, 0);
  }
  l4.insert(l4.end(), s.payload.begin(), s.payload.end());
  Bytes ph;
  putIp(ph, s.src); putIp(ph, s.dst); put(ph, {0, s.proto}); put16(ph, unsigned(l4.size()));
  ph.insert(ph.end(), l4.begin(), l4.end());
  uint16_t c = uint16_t(~onesSum(ph));
  size_t at = s.proto == 6 ? 16 : 6;
  l4[at] = uint8_t(c >> 8); l4[at + 1] = uint8_t(c);
  Bytes iph;
  put(iph, {0x45, 0}); put16(iph, unsigned(20 + l4.size())); put(iph, {0x12, 0x34, 0x40, 0, 63, s.proto, 0, 0});
  putIp(iph, s.src); putIp(iph, s.dst);
  uint16_t ic = uint16_t(~onesSum(iph));
  iph[10] = uint8_t(ic >> 8); iph[11] = uint8_t(ic);
  Bytes f;
  putMac(f, s.ethDst); putMac(f, s.ethSrc); put16(f, 0x0800);
  f.insert(f.end(), iph.begin(), iph.end());
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

/* An Ethernet/IPv4 ARP frame, padded to 60 bytes. */
inline Bytes arp(const Mac& ethDst, const Mac& ethSrc, int op, const Mac& sha, uint32_t spa, const Mac& tha, uint32_t tpa) {
  Bytes f;
  putMac(f, ethDst); putMac(f, ethSrc); put16(f, 0x0806);
  put(f, {0, 1, 8, 0, 6, 4, 0, op});
  putMac(f, sha); putIp(f, spa); putMac(f, tha); putIp(f, tpa);
  f.resize(60, 0);
  return f;
}

/* The same frame with new Ethernet addresses. */
inline Bytes withMacs(Bytes f, const Mac& dst, const Mac& src) {
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  return f;
}

/* A Chooser from a table: client source address -> server; records count() calls. */
class TableChooser : public Chooser {
 public:
  std::map<uint32_t, Choice> bySource;
  std::map<int, std::pair<uint64_t, uint64_t>> counted;
  int calls = 0;
  Choice choose(const FlowKey& k) override {
    calls++;
    uint32_t src;
    std::memcpy(&src, k.src.data(), 4);
    auto it = bySource.find(src);
    return it == bySource.end() ? Choice{} : it->second;
  }
  void count(int server, uint64_t frames, uint64_t bytes) override {
    counted[server].first += frames;
    counted[server].second += bytes;
  }
};

/* A FrameSink that keeps every frame; refuses sends when `full`. */
class Recorder : public FrameSink {
 public:
  std::vector<Bytes> sent;
  bool full = false;
  bool send(const uint8_t* f, size_t n) override {
    if (full) return false;
    sent.emplace_back(f, f + n);
    return true;
  }
};

}  // namespace pen::dsr::test
