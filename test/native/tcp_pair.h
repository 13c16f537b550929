// Real TCP sockets over 127.0.0.1 for the native tests of the relay and of batched I/O.
#pragma once
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pen::testing {

/* A connected TCP pair over 127.0.0.1: a (the peer, blocking) and b (pen's side, non-blocking).
   Closes what is still open (>= 0) when it goes. */
struct Pair {
  int a = -1, b = -1;
  Pair() {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    EXPECT_EQ(bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(listen(l, 1), 0);
    EXPECT_EQ(getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    a = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(connect(a, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    b = accept4(l, nullptr, nullptr, SOCK_NONBLOCK);
    close(l);
  }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  ~Pair() {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
};

/* Waits until fd has something to say (data, FIN or error), at most 2 s. */
inline void settle(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
}

}  // namespace pen::testing
