#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/socket.h"
#include "net/udp.h"

namespace pen::net {

int openListener(const Addr& addr, int backlog, bool nodelay, bool reusePort, std::string& err) {
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
    if (reusePort) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
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

namespace {

/* Binds a socket of addr's kind without SO_REUSEPORT and closes it: fails (err set) when
   another socket holds the port, listening (TCP) or bound (UDP). TCP sets SO_REUSEADDR as
   the listeners do, so connections of an earlier pen in TIME_WAIT do not count. */
bool probe(const Addr& addr, bool udp, std::string& err) {
  int fd = socket(addr.family(), (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = std::string("socket: ") + strerror(errno);
    return false;
  }
  int one = 1;
  if (!udp) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool ok = bind(fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) == 0;
  if (!ok) err = std::string("bind: ") + strerror(errno);
  close(fd);
  return ok;
}

}  // namespace

std::vector<int> openListeners(const Addr& addr, int n, bool udp, bool rebind, int backlog, bool nodelay,
                               std::string& err) {
  std::vector<int> fds;
  bool shared = addr.family() != AF_UNIX;
  if (shared && !rebind && addr.port() != 0 && !probe(addr, udp, err)) return fds;
  Addr at = addr;
  for (int i = 0; i < n; i++) {
    int fd = udp ? openUdpListener(at, shared, err) : openListener(at, backlog, nodelay, shared, err);
    if (fd < 0) {
      for (int f : fds) close(f);
      fds.clear();
      return fds;
    }
    if (i == 0 && at.port() == 0) {  // port 0: the others join the port the first one got
      at.len = sizeof at.ss;
      getsockname(fd, reinterpret_cast<sockaddr*>(&at.ss), &at.len);
    }
    fds.push_back(fd);
    if (!shared) break;  // a unix socket has one listener; the first worker takes it
  }
  return fds;
}

}  // namespace pen::net
