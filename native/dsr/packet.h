// Byte-level views and builders for the frames the DSR plane handles: Ethernet II, ARP for
// IPv4 over Ethernet, IPv4, TCP and UDP headers. Pure functions on caller-owned buffers: no
// allocation, no syscalls, no alignment assumptions (every multi-byte field goes through
// load/store). Multi-byte values are returned in host order; IPv4 addresses are kept as the
// 4 bytes of the wire (uint32_t in network order) so that they compare and hash as-is.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pen::dsr {

using Mac = std::array<uint8_t, 6>;
constexpr Mac kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

constexpr size_t kEthHeader = 14;
constexpr size_t kArpBody = 28;  // Ethernet/IPv4 ARP
constexpr size_t kMinFrame = 60;  // Ethernet minimum without FCS: short frames are padded
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kArpRequest = 1;
constexpr uint16_t kArpReply = 2;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

inline uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
inline void store32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24); p[1] = uint8_t(v >> 16); p[2] = uint8_t(v >> 8); p[3] = uint8_t(v);
}
/* An IPv4 address as its 4 wire bytes in one uint32_t (network order in memory). */
inline uint32_t loadIp(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline void storeIp(uint8_t* p, uint32_t ip) { std::memcpy(p, &ip, 4); }
inline Mac loadMac(const uint8_t* p) { Mac m; std::memcpy(m.data(), p, 6); return m; }
inline void storeMac(uint8_t* p, const Mac& m) { std::memcpy(p, m.data(), 6); }
/* True for a MAC a host can have: not multicast/broadcast (group bit clear), not all zero. */
bool unicastMac(const Mac& m);

/* Internet checksum (RFC 1071): adds len bytes of p to the running 32-bit sum. */
uint32_t sumBytes(uint32_t sum, const uint8_t* p, size_t len);
/* Folds a running sum into the 16-bit one's-complement checksum, already complemented. */
uint16_t foldSum(uint32_t sum);
/* The TCP/UDP checksum of an IPv4 segment: pseudo-header (src, dst, proto, len) + segment. */
uint16_t l4Checksum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t* seg, size_t len);

/* What parse() found in a frame. Offsets are from the frame start; `l4` is 0 when the frame
   carries no transport header we understand (other protocol, non-first fragment, too short).
   Ports are 0 then. */
struct Parsed {
  uint16_t ethertype = 0;
  // ARP (ethertype kEtherArp and a well-formed Ethernet/IPv4 body)
  bool arp = false;
  uint16_t arpOp = 0;
  Mac arpSha{}, arpTha{};
  uint32_t arpSpa = 0, arpTpa = 0;
  // IPv4 (ethertype kEtherIpv4 and a well-formed header)
  bool ipv4 = false;
  size_t l3 = 0, ipHeader = 0, ipLength = 0;  // offset, header bytes, total length
  uint8_t proto = 0;
  uint32_t src = 0, dst = 0;
  bool fragment = false;  // MF set or offset != 0
  size_t l4 = 0, l4Header = 0;  // TCP: data offset * 4; UDP: 8
  uint16_t sport = 0, dport = 0;
  uint8_t tcpFlags = 0;
  uint32_t tcpSeq = 0;
  uint16_t tcpWindow = 0;
};

/* Parses the headers of frame[0, len). Returns false for a frame that is too short or
   malformed at the level it claims (truncated ARP body, IPv4 header length or total length out
   of range, TCP data offset out of range); such a frame must be dropped. Returns true with
   arp/ipv4 both false for an EtherType we do not handle (VLAN, IPv6, ...). Never reads past len. */
bool parse(const uint8_t* frame, size_t len, Parsed& out);

/* Completes the TCP/UDP checksum of an IPv4 frame whose sender left it to offload (the
   kernel flags such frames between virtual interfaces: the field holds only the pseudo-header
   sum). Recomputes the field over the whole segment; returns false (frame untouched) when the
   frame is not an unfragmented IPv4 TCP/UDP packet. */
bool completeChecksum(uint8_t* frame, size_t len);

/* Writes an ARP request "who has target? tell sender" from (mac, senderIp) to broadcast into
   out (at least kMinFrame bytes); returns the frame length (kMinFrame, zero padded). */
size_t buildArpRequest(uint8_t* out, const Mac& mac, uint32_t senderIp, uint32_t target);

/* Writes the ARP reply "ip is at mac" to the requester (requesterMac, requesterIp) into out
   (at least kMinFrame bytes); returns the frame length (kMinFrame, zero padded). */
size_t buildArpReply(uint8_t* out, const Mac& mac, uint32_t ip, const Mac& requesterMac, uint32_t requesterIp);

/* Writes into out (at least kMinFrame bytes) the SYN-ACK answering the TCP SYN described by
   p, as if sent by p.dst from mac: Ethernet to the SYN's source MAC (srcMac); a 20-byte IPv4
   header (DF, TTL 64, checksum set) and a 20-byte TCP header without options (ports swapped,
   sequence iss, acknowledgement = SYN sequence + 1, window echoed, checksum set). Returns the
   frame length (kMinFrame, zero padded). */
size_t buildSynAck(uint8_t* out, const Parsed& p, const Mac& srcMac, const Mac& mac, uint32_t iss);

}  // namespace pen::dsr
