#include "net/udp.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pen::net {
namespace {

constexpr int kListenerBuffer = 4 << 20;  // bytes asked for SO_RCVBUF / SO_SNDBUF

/* Sets a buffer size, beyond net.core.[rw]mem_max when privileged (the *FORCE options). */
void bigBuffer(int fd, int opt, int force) {
  int size = kListenerBuffer;
#ifdef SO_RCVBUFFORCE
  if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof size) == 0) return;
#else
  (void)force;
#endif
  setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);
}

}  // namespace

bool isWildcard(const Addr& addr) {
  if (addr.family() == AF_INET) return reinterpret_cast<const sockaddr_in*>(&addr.ss)->sin_addr.s_addr == INADDR_ANY;
  if (addr.family() == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&addr.ss)->sin6_addr);
  return false;
}

int openUdpListener(const Addr& addr, bool reusePort, std::string& err) {
  if (addr.family() != AF_INET && addr.family() != AF_INET6) {
    err = "UDP mode needs an IPv4 or IPv6 address";
    return -1;
  }
  int fd = socket(addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = std::string("socket: ") + strerror(errno);
    return -1;
  }
  // No SO_REUSEADDR: for UDP it would let a second socket share the port silently; a busy
  // port must be an error ("address in use"). SO_REUSEPORT only for pen's own workers.
  int one = 1;
#ifdef SO_REUSEPORT
  if (reusePort) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
#else
  (void)reusePort;
#endif
#ifdef SO_RCVBUFFORCE
  bigBuffer(fd, SO_RCVBUF, SO_RCVBUFFORCE);
  bigBuffer(fd, SO_SNDBUF, SO_SNDBUFFORCE);
#else
  bigBuffer(fd, SO_RCVBUF, 0);
  bigBuffer(fd, SO_SNDBUF, 0);
#endif
  if (isWildcard(addr)) {
    bool ok = true;
    if (addr.family() == AF_INET) {
#ifdef IP_PKTINFO
      ok = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0;
#endif
    } else {
#ifdef IPV6_RECVPKTINFO
      ok = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0;
#endif
    }
    if (!ok) {
      err = std::string("setsockopt(PKTINFO): ") + strerror(errno);
      close(fd);
      return -1;
    }
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) < 0) {
    err = std::string("bind: ") + strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

int openUdpUpstream(const Addr& addr, const Addr* source, TransparentBind* transparent, int& err) {
  int fd = socket(addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  if (source && source->family() == addr.family())
    (void)bind(fd, reinterpret_cast<const sockaddr*>(&source->ss), source->len);
  else if (transparent)
    transparent->result = bindTransparent(fd, *transparent->client, addr.family(), transparent->err);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) < 0) {
    err = errno;
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace pen::net
