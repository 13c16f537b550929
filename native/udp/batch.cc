#include "udp/batch.h"

#include <netinet/udp.h>

#include <cstring>

namespace pen::udp {

Batch::Batch()
    : hdr(kBatch), iov(kBatch), addr(kBatch), ctrl(kBatch), data(new char[size_t(kBatch) * kSlotBytes]) {
  for (int i = 0; i < kBatch; i++) {
    iov[size_t(i)] = iovec{buf(i), kSlotBytes};
    hdr[size_t(i)] = mmsghdr{};
    hdr[size_t(i)].msg_hdr.msg_iov = &iov[size_t(i)];
    hdr[size_t(i)].msg_hdr.msg_iovlen = 1;
  }
}

void Batch::arm(int from, int to, bool wantAddr, bool wantControl) {
  for (int i = from; i < to; i++) {
    msghdr& m = hdr[size_t(i)].msg_hdr;
    iov[size_t(i)].iov_len = kSlotBytes;
    m.msg_name = wantAddr ? &addr[size_t(i)] : nullptr;
    m.msg_namelen = wantAddr ? sizeof(sockaddr_storage) : 0;
    m.msg_control = wantControl ? ctrl[size_t(i)].buf : nullptr;
    m.msg_controllen = wantControl ? sizeof(Control) : 0;
    m.msg_flags = 0;
  }
}

int Batch::recv(int fd, int from, bool wantAddr, bool wantControl) {
  int mode = int(wantAddr) | int(wantControl) << 1;
  if (mode != armedMode_) {
    arm(from, kBatch, wantAddr, wantControl);
    armedMode_ = mode;
  } else if (from < cleanFrom_) {
    arm(from, cleanFrom_, wantAddr, wantControl);
  }
  int n = recvmmsg(fd, &hdr[size_t(from)], unsigned(kBatch - from), MSG_DONTWAIT, nullptr);
  // What lies below `from` was not prepared here; what the kernel filled is changed now.
  cleanFrom_ = n > 0 ? from + n : from;
  return n;
}

Local localOf(const msghdr& m) {
  Local l;
  if (!m.msg_control) return l;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), const_cast<cmsghdr*>(c))) {
#ifdef IP_PKTINFO
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      l.family = AF_INET;
      memcpy(l.addr, &pi.ipi_addr, 4);
      return l;
    }
#endif
#ifdef IPV6_PKTINFO
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      l.family = AF_INET6;
      memcpy(l.addr, &pi.ipi6_addr, 16);
      // The interface matters only for link-local addresses; elsewhere routing decides.
      if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr)) l.ifindex = pi.ipi6_ifindex;
      return l;
    }
#endif
  }
  return l;
}

size_t writeLocal(const Local& local, int listenFamily, Control& c) {
  msghdr m{};
  m.msg_control = c.buf;
  m.msg_controllen = sizeof c.buf;
  cmsghdr* h = CMSG_FIRSTHDR(&m);
#ifdef IP_PKTINFO
  if (local.family == AF_INET && listenFamily == AF_INET) {
    in_pktinfo pi{};
    memcpy(&pi.ipi_spec_dst, local.addr, 4);
    h->cmsg_level = IPPROTO_IP;
    h->cmsg_type = IP_PKTINFO;
    h->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(h), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
#endif
#ifdef IPV6_PKTINFO
  if (local.family == AF_INET6 && listenFamily == AF_INET6) {
    in6_pktinfo pi{};
    memcpy(&pi.ipi6_addr, local.addr, 16);
    pi.ipi6_ifindex = local.ifindex;
    h->cmsg_level = IPPROTO_IPV6;
    h->cmsg_type = IPV6_PKTINFO;
    h->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(h), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
#endif
  (void)listenFamily;
  return 0;
}

bool gsoBuilt() {
#ifdef UDP_SEGMENT
  return true;
#else
  return false;
#endif
}

size_t addSegment(Control& c, size_t used, uint16_t seg) {
#ifdef UDP_SEGMENT
  cmsghdr* h = reinterpret_cast<cmsghdr*>(c.buf + used);
  h->cmsg_level = SOL_UDP;
  h->cmsg_type = UDP_SEGMENT;
  h->cmsg_len = CMSG_LEN(sizeof seg);
  memcpy(CMSG_DATA(h), &seg, sizeof seg);
  return used + CMSG_SPACE(sizeof seg);
#else
  (void)c;
  (void)seg;
  return used;
#endif
}

int gsoRun(const uint32_t* lens, int n) {
  uint32_t seg = lens[0];
  if (seg == 0 || seg > kGsoMaxSegment) return 1;
  int run = 1;
  uint32_t total = seg;
  while (run < n && run < kGsoMaxSegments) {
    uint32_t l = lens[run];
    if (l == 0 || l > seg || total + l > kGsoMaxBytes) break;
    run++;
    total += l;
    if (l < seg) break;  // a shorter datagram can only be the last segment
  }
  return run;
}

}  // namespace pen::udp
