#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/socket.h"

namespace pen::net {

int openListener(const Addr& addr, int backlog, bool nodelay, std::string& err) {
  int fd = socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = std::string("socket: ") + strerror(errno);
    return -1;
  }
  int one = 1;
  if (addr.family() == AF_UNIX) {
    unlink(addr.host().c_str());
  } else {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
#ifdef SO_REUSEPORT
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
#endif
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    if (nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) < 0) {
    err = std::string("bind: ") + strerror(errno);
    close(fd);
    return -1;
  }
  if (listen(fd, backlog) < 0) {
    err = std::string("listen: ") + strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace pen::net
