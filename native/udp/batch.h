// Batches of datagrams for recvmmsg/sendmmsg: kBatch slots, each with a buffer big enough for
// the largest UDP payload (65,507 bytes over IPv4, 65,527 over IPv6), a peer address and room
// for one packet-info control message. Thread: the balancer's worker only.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <vector>

#include "udp/flow.h"

namespace pen::udp {

constexpr int kBatch = 64;
constexpr size_t kSlotBytes = 65536;

// UDP GSO (Linux UDP_SEGMENT): consecutive datagrams of one size to one destination leave as
// one send that the kernel splits into exactly those datagrams (the last may be shorter),
// walking the stack once instead of once per datagram. Used for datagrams up to
// kGsoMaxSegment bytes (below common path MTUs), at most kGsoMaxSegments per send and
// kGsoMaxBytes in all; a send the kernel refuses falls back to one datagram per message.
constexpr uint32_t kGsoMaxSegment = 1400;
constexpr int kGsoMaxSegments = 64;
constexpr uint32_t kGsoMaxBytes = 65000;

union Control {
  cmsghdr align;
  // one packet-info message (either family) and one UDP_SEGMENT message
  char buf[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(uint16_t))];
};

struct Batch {
  Batch();
  std::vector<mmsghdr> hdr;  // kBatch
  std::vector<iovec> iov;
  std::vector<sockaddr_storage> addr;
  std::vector<Control> ctrl;
  std::unique_ptr<char[]> data;  // kBatch * kSlotBytes; pages are only touched when used

  char* buf(int i) { return data.get() + size_t(i) * kSlotBytes; }
  /* recvmmsg on fd (MSG_DONTWAIT) into slots [from, kBatch): full-size buffers, the sender's
     address when wantAddr, control data (packet info) when wantControl. Returns recvmmsg's
     result with its errno. Slots [from, from + n) then hold the datagrams; the caller may
     rewrite those headers (to send them) until the next recv. Only slots that a receive or
     a caller may have changed since they were last prepared are prepared again. */
  int recv(int fd, int from, bool wantAddr, bool wantControl);

 private:
  void arm(int from, int to, bool wantAddr, bool wantControl);
  int cleanFrom_ = kBatch;  // slots [cleanFrom_, kBatch) are prepared in mode armedMode_
  int armedMode_ = -1;      // wantAddr | wantControl << 1 of the last preparation
};

/* The destination address of a received datagram, from its packet-info control message;
   family 0 when there is none. */
Local localOf(const msghdr& m);

/* Writes into c a control message that makes a reply leave from `local`; returns its length,
   0 when local is unknown. listenFamily: the listener's family (an IPv6 socket replies to
   IPv4-mapped clients with IPV6_PKTINFO). */
size_t writeLocal(const Local& local, int listenFamily, Control& c);

/* True when this system can send with UDP GSO (UDP_SEGMENT is defined). */
bool gsoBuilt();

/* Appends a UDP_SEGMENT control message (segment size seg) after the first `used` bytes of
   c; returns the new length. Only call when gsoBuilt(). */
size_t addSegment(Control& c, size_t used, uint16_t seg);

/* Length of a run of datagrams, starting at lens[0] (n of them), that one GSO send can carry:
   equal sizes of 1..kGsoMaxSegment bytes, optionally ended by one shorter non-empty datagram,
   within the segment and byte limits. 1 when no run is possible. */
int gsoRun(const uint32_t* lens, int n);

}  // namespace pen::udp
