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

union Control {
  cmsghdr align;
  char buf[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo))];
};

struct Batch {
  Batch();
  std::vector<mmsghdr> hdr;  // kBatch
  std::vector<iovec> iov;
  std::vector<sockaddr_storage> addr;
  std::vector<Control> ctrl;
  std::unique_ptr<char[]> data;  // kBatch * kSlotBytes; pages are only touched when used

  char* buf(int i) { return data.get() + size_t(i) * kSlotBytes; }
  /* Prepares slots [from, from + n) for a recvmmsg: full-size buffers, room for the sender's
     address when wantAddr, room for control data when wantControl. */
  void armRecv(int from, int n, bool wantAddr, bool wantControl);
};

/* The destination address of a received datagram, from its packet-info control message;
   family 0 when there is none. */
Local localOf(const msghdr& m);

/* Writes into c a control message that makes a reply leave from `local`; returns its length,
   0 when local is unknown. listenFamily: the listener's family (an IPv6 socket replies to
   IPv4-mapped clients with IPV6_PKTINFO). */
size_t writeLocal(const Local& local, int listenFamily, Control& c);

}  // namespace pen::udp
