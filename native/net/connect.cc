#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>

#include "net/socket.h"

namespace pen::net {

int startConnect(const Addr& addr, const ConnectOptions& opt, bool& inProgress, int& err) {
  inProgress = false;
  int fd = socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  int one = 1;
  if (addr.family() != AF_UNIX) {
    if (opt.nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt.keepalive) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  }
  if (opt.source && opt.source->family() == addr.family()) {
#ifdef IP_BIND_ADDRESS_NO_PORT
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);  // port chosen at connect
#endif
    // As Pen: a source address that cannot be bound is not fatal; the connect proceeds unbound.
    (void)bind(fd, reinterpret_cast<const sockaddr*>(&opt.source->ss), opt.source->len);
  } else if (opt.transparent) {
    opt.transparent->result = bindTransparent(fd, *opt.transparent->client, addr.family(), opt.transparent->err);
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) == 0) return fd;
  if (errno == EINPROGRESS || errno == EAGAIN) {
    // EAGAIN: a unix socket whose backlog is full; treat it like a pending connect.
    inProgress = errno == EINPROGRESS;
    if (inProgress) return fd;
  }
  err = errno;
  close(fd);
  return -1;
}

int socketError(int fd) {
  int e = 0;
  socklen_t l = sizeof e;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0) return errno;
  return e;
}

void setNodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace pen::net
