// The UDP balancer's batches (udp/batch.h): which runs of datagrams one GSO send may carry
// (gsoRun), and Batch::recv on a real loopback socket, whose headers a caller rewrites
// between receives as the reply path does. Each case is a row.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "udp/batch.h"

namespace pen::udp {
namespace {

TEST(UdpBatch, GsoRunTakesEqualSizesAndOneShorterLast) {
  const uint32_t big = kGsoMaxSegment + 1;
  struct Row {
    const char* name;
    std::vector<uint32_t> lens;
    int want;
  } rows[] = {
      {"one datagram", {100}, 1},
      {"equal sizes", {100, 100, 100}, 3},
      {"a shorter one ends the run", {100, 100, 40, 100}, 3},
      {"a longer one is not in the run", {100, 200, 100}, 1},
      {"an empty datagram cannot be a segment", {0, 0}, 1},
      {"an empty datagram ends the run before it", {100, 0, 100}, 1},
      {"above the segment limit: alone", {big, big}, 1},
      {"exactly the segment limit", {kGsoMaxSegment, kGsoMaxSegment}, 2},
      {"at most kGsoMaxSegments", std::vector<uint32_t>(size_t(kGsoMaxSegments) + 5, 10), kGsoMaxSegments},
      {"at most kGsoMaxBytes", std::vector<uint32_t>(60, 1400), int(kGsoMaxBytes / 1400)},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(gsoRun(r.lens.data(), int(r.lens.size())), r.want) << r.name;
  }
}

/* A socket bound to 127.0.0.1 (port from the OS) and one connected to it. */
struct Pair {
  int rx = -1, tx = -1;
  sockaddr_in txAddr{};
  Pair() {
    rx = socket(AF_INET, SOCK_DGRAM, 0);
    tx = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 4 << 20;  // room for every step's datagrams (the kernel caps it at rmem_max)
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len);
    connect(tx, reinterpret_cast<sockaddr*>(&a), sizeof a);
    len = sizeof txAddr;
    getsockname(tx, reinterpret_cast<sockaddr*>(&txAddr), &len);
  }
  ~Pair() {
    close(rx);
    close(tx);
  }
};

TEST(UdpBatch, RecvPreparesEverySlotTheLastReceiveOrItsCallerChanged) {
  struct Step {
    const char* name;
    int from;
    bool wantAddr;
    std::vector<size_t> sizes;  // datagrams sent before the receive
  } steps[] = {
      {"first receive, small datagrams", 0, false, {10, 20, 30, 40}},
      {"the same slots after the caller shrank them: a large datagram is whole", 0, false, {5000, 60000}},
      {"from the middle of slots the last receive filled", 1, false, {3000, 3000}},
      {"from above every slot used so far", 10, false, {7}},
      {"back to slot 0", 0, false, {1, 65000, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
      {"addresses wanted now: every slot gets room for one", 0, true, {100, 200}},
      {"addresses from a later slot", 5, true, {300}},
      {"no addresses again", 3, false, {400, 500}},
      {"nothing queued", 0, false, {}},
      {"after an empty receive", 0, false, {65507}},
      {"addresses for more slots than the last receives used", 0, true, std::vector<size_t>(20, 64)},
  };
  Pair p;
  Batch b;
  for (const Step& s : steps) {
    for (size_t size : s.sizes) ASSERT_EQ(send(p.tx, std::string(size, 'x').data(), size, 0), ssize_t(size)) << s.name;
    int n = b.recv(p.rx, s.from, s.wantAddr, false);
    int e = errno;  // before anything else can change it
    if (s.sizes.empty()) {
      EXPECT_EQ(n, -1) << s.name;
      EXPECT_EQ(e, EAGAIN) << s.name;
      continue;
    }
    ASSERT_EQ(n, int(s.sizes.size())) << s.name;
    for (int i = 0; i < n; i++) {
      msghdr& m = b.hdr[size_t(s.from + i)].msg_hdr;
      EXPECT_EQ(b.hdr[size_t(s.from + i)].msg_len, s.sizes[size_t(i)]) << s.name << ", datagram " << i;
      EXPECT_EQ(m.msg_flags & MSG_TRUNC, 0) << s.name << ", datagram " << i;
      if (s.wantAddr) {
        ASSERT_EQ(m.msg_namelen, sizeof(sockaddr_in)) << s.name;
        EXPECT_EQ(reinterpret_cast<sockaddr_in*>(m.msg_name)->sin_port, p.txAddr.sin_port) << s.name;
      } else {
        EXPECT_EQ(m.msg_name, nullptr) << s.name;
      }
      // What the reply path does with a filled slot before it sends it on.
      b.iov[size_t(s.from + i)].iov_len = b.hdr[size_t(s.from + i)].msg_len;
      m.msg_name = &b.addr[0];
      m.msg_namelen = sizeof(sockaddr_in);
      m.msg_control = b.ctrl[0].buf;
      m.msg_controllen = 8;
    }
  }
}

}  // namespace
}  // namespace pen::udp
