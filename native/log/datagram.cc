#include "log/datagram.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pen::log {

namespace {
#ifdef MSG_NOSIGNAL
constexpr int kFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
#else
constexpr int kFlags = MSG_DONTWAIT;
#endif

int connected(int family, const sockaddr* sa, socklen_t len, std::string& err) {
  int fd = socket(family, SOCK_DGRAM, 0);
  if (fd < 0) {
    err = strerror(errno);
    return -1;
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (connect(fd, sa, len) < 0) {
    err = strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}
}  // namespace

int openDatagram(const std::string& path, std::string& err) {
  sockaddr_un sa{};
  if (path.empty() || path.size() >= sizeof sa.sun_path) {
    err = "bad socket path";
    return -1;
  }
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path.data(), path.size());
  return connected(AF_UNIX, reinterpret_cast<sockaddr*>(&sa), sizeof sa, err);
}

int openUdp(const std::string& ip, int port, std::string& err) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, ip.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(uint16_t(port));
    return connected(AF_INET, reinterpret_cast<sockaddr*>(&v4), sizeof v4, err);
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(uint16_t(port));
    return connected(AF_INET6, reinterpret_cast<sockaddr*>(&v6), sizeof v6, err);
  }
  err = "not an IP address: " + ip;
  return -1;
}

size_t sendDatagrams(int fd, const std::vector<iovec>& msgs, int& err) {
  err = 0;
  size_t done = 0;
#ifdef __linux__
  std::vector<mmsghdr> hdr(msgs.size());
  for (size_t i = 0; i < msgs.size(); i++) {
    hdr[i].msg_hdr = msghdr{};
    hdr[i].msg_hdr.msg_iov = const_cast<iovec*>(&msgs[i]);
    hdr[i].msg_hdr.msg_iovlen = 1;
  }
  while (done < msgs.size()) {
    int n = sendmmsg(fd, hdr.data() + done, unsigned(msgs.size() - done), kFlags);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += size_t(n);
  }
#else
  while (done < msgs.size()) {
    if (send(fd, msgs[done].iov_base, msgs[done].iov_len, kFlags) < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done++;
  }
#endif
  return done;
}

}  // namespace pen::log
