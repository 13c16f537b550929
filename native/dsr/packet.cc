#include "dsr/packet.h"

namespace pen::dsr {

bool unicastMac(const Mac& m) {
  if (m[0] & 1) return false;
  for (uint8_t b : m)
    if (b) return true;
  return false;
}

uint32_t sumBytes(uint32_t sum, const uint8_t* p, size_t len) {
  size_t i = 0;
  for (; i + 1 < len; i += 2) sum += load16(p + i);
  if (i < len) sum += uint32_t(p[i]) << 8;
  // fold once per call: a frame (< 128 KiB) cannot overflow the 32-bit sum in between
  return (sum & 0xffff) + (sum >> 16);
}

uint16_t foldSum(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

uint16_t l4Checksum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t* seg, size_t len) {
  uint8_t pseudo[12];
  storeIp(pseudo, src);
  storeIp(pseudo + 4, dst);
  pseudo[8] = 0;
  pseudo[9] = proto;
  store16(pseudo + 10, uint16_t(len));
  return foldSum(sumBytes(sumBytes(0, pseudo, sizeof pseudo), seg, len));
}

static bool parseArp(const uint8_t* a, size_t len, Parsed& out) {
  if (len < kArpBody) return false;
  // Ethernet hardware, IPv4 protocol, 6- and 4-byte addresses; anything else is not ours
  if (load16(a) != 1 || load16(a + 2) != kEtherIpv4 || a[4] != 6 || a[5] != 4) return true;
  out.arp = true;
  out.arpOp = load16(a + 6);
  out.arpSha = loadMac(a + 8);
  out.arpSpa = loadIp(a + 14);
  out.arpTha = loadMac(a + 18);
  out.arpTpa = loadIp(a + 24);
  return true;
}

static bool parseIpv4(const uint8_t* frame, size_t len, Parsed& out) {
  const size_t l3 = kEthHeader;
  if (len < l3 + 20) return false;
  const uint8_t* ip = frame + l3;
  if (ip[0] >> 4 != 4) return false;
  const size_t ihl = size_t(ip[0] & 0x0f) * 4;
  const size_t total = load16(ip + 2);
  if (ihl < 20 || total < ihl || l3 + total > len) return false;
  out.ipv4 = true;
  out.l3 = l3;
  out.ipHeader = ihl;
  out.ipLength = total;
  out.proto = ip[9];
  out.src = loadIp(ip + 12);
  out.dst = loadIp(ip + 16);
  const uint16_t frag = load16(ip + 6);
  out.fragment = (frag & 0x2000) || (frag & 0x1fff);
  if (frag & 0x1fff) return true;  // a later fragment: no transport header
  const size_t l4 = l3 + ihl;
  const size_t avail = total - ihl;
  if (out.proto == kProtoTcp) {
    if (avail < 20) return out.fragment;  // a first fragment may cut the header: keep it, no ports
    const uint8_t* t = frame + l4;
    const size_t off = size_t(t[12] >> 4) * 4;
    if (off < 20 || off > avail) return false;
    out.l4 = l4;
    out.l4Header = off;
    out.sport = load16(t);
    out.dport = load16(t + 2);
    out.tcpSeq = load32(t + 4);
    out.tcpFlags = t[13];
    out.tcpWindow = load16(t + 14);
  } else if (out.proto == kProtoUdp) {
    if (avail < 8) return out.fragment;
    const uint8_t* u = frame + l4;
    out.l4 = l4;
    out.l4Header = 8;
    out.sport = load16(u);
    out.dport = load16(u + 2);
  }
  return true;
}

bool parse(const uint8_t* frame, size_t len, Parsed& out) {
  out = Parsed{};
  if (len < kEthHeader) return false;
  out.ethertype = load16(frame + 12);
  if (out.ethertype == kEtherArp) return parseArp(frame + kEthHeader, len - kEthHeader, out);
  if (out.ethertype == kEtherIpv4) return parseIpv4(frame, len, out);
  return true;
}

bool completeChecksum(uint8_t* frame, size_t len) {
  Parsed p;
  if (!parse(frame, len, p) || !p.ipv4 || p.fragment || p.l4 == 0) return false;
  uint8_t* seg = frame + p.l4;
  const size_t segLen = p.l3 + p.ipLength - p.l4;
  uint8_t* field = seg + (p.proto == kProtoTcp ? 16 : 6);
  store16(field, 0);
  uint16_t c = l4Checksum(p.src, p.dst, p.proto, seg, segLen);
  if (c == 0 && p.proto == kProtoUdp) c = 0xffff;  // 0 means "no checksum" in UDP
  store16(field, c);
  return true;
}

static size_t buildArp(uint8_t* out, const Mac& ethDst, const Mac& mac, uint16_t op, uint32_t spa,
                       const Mac& tha, uint32_t tpa) {
  std::memset(out, 0, kMinFrame);
  storeMac(out, ethDst);
  storeMac(out + 6, mac);
  store16(out + 12, kEtherArp);
  uint8_t* a = out + kEthHeader;
  store16(a, 1);
  store16(a + 2, kEtherIpv4);
  a[4] = 6;
  a[5] = 4;
  store16(a + 6, op);
  storeMac(a + 8, mac);
  storeIp(a + 14, spa);
  storeMac(a + 18, tha);
  storeIp(a + 24, tpa);
  return kMinFrame;
}

size_t buildArpRequest(uint8_t* out, const Mac& mac, uint32_t senderIp, uint32_t target) {
  return buildArp(out, kBroadcastMac, mac, kArpRequest, senderIp, Mac{}, target);
}

size_t buildArpReply(uint8_t* out, const Mac& mac, uint32_t ip, const Mac& requesterMac, uint32_t requesterIp) {
  return buildArp(out, requesterMac, mac, kArpReply, ip, requesterMac, requesterIp);
}

size_t buildSynAck(uint8_t* out, const Parsed& p, const Mac& srcMac, const Mac& mac, uint32_t iss) {
  std::memset(out, 0, kMinFrame);
  storeMac(out, srcMac);
  storeMac(out + 6, mac);
  store16(out + 12, kEtherIpv4);
  uint8_t* ip = out + kEthHeader;
  ip[0] = 0x45;
  store16(ip + 2, 40);
  store16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = kProtoTcp;
  storeIp(ip + 12, p.dst);
  storeIp(ip + 16, p.src);
  store16(ip + 10, foldSum(sumBytes(0, ip, 20)));
  uint8_t* t = ip + 20;
  store16(t, p.dport);
  store16(t + 2, p.sport);
  store32(t + 4, iss);
  store32(t + 8, p.tcpSeq + 1);
  t[12] = 5 << 4;
  t[13] = kTcpSyn | kTcpAck;
  store16(t + 14, p.tcpWindow);
  store16(t + 16, l4Checksum(p.dst, p.src, kProtoTcp, t, 20));
  return kMinFrame;
}

}  // namespace pen::dsr
