// The relay's end of stream (tcp::pump with srcFinished) and the pollers' hang-up contract
// it relies on (loop/poller.h: kHup = the peer finished sending, kError = an error), on real
// TCP sockets over 127.0.0.1. Each case is a row: what the source's peer does, and what one
// pump() must leave behind.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "loop/poller.h"
#include "tcp/conn.h"
#include "tcp_pair.h"

namespace pen {
namespace {

using testing::Pair;
using testing::settle;

/* Reads everything fd's peer sends until EOF (blocking, 2 s at most per read). */
std::string drain(int fd) {
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, size_t(n));
  }
  return got;
}

enum class Peer { kSends, kSendsAndFinishes, kResets };

struct Row {
  const char* name;
  Peer peer;
  bool srcFinished;      // what the poller said
  bool eofAfterOnePump;  // what pump must conclude
};

TEST(Relay, OnePumpConcludesEndOfStreamOnlyWhenThePollerSawTheFin) {
  const Row rows[] = {
      {"data then FIN, poller saw the FIN: eof without reading it", Peer::kSendsAndFinishes, true, true},
      {"data then FIN, poller not asked: the EOF is read next turn", Peer::kSendsAndFinishes, false, false},
      {"data only: no eof", Peer::kSends, false, false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    Pair src, dst;
    const std::string body = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    ASSERT_EQ(send(src.a, body.data(), body.size(), 0), ssize_t(body.size()));
    if (r.peer == Peer::kSendsAndFinishes) shutdown(src.a, SHUT_WR);
    settle(src.b);
    std::vector<char> scratch(65536);
    tcp::RelayEnv env{scratch.data(), uint32_t(scratch.size()), nullptr};
    tcp::Dir d;
    d.finFollows = true;  // as relay() sets it when shutdown(dst) follows the end at once
    int err = 0;
    ASSERT_EQ(tcp::pump(d, src.b, dst.b, env, err, r.srcFinished), tcp::Io::kOk);
    EXPECT_EQ(d.eof, r.eofAfterOnePump);
    EXPECT_EQ(d.bytes, body.size());
    EXPECT_EQ(d.pending(), 0u);
    shutdown(dst.b, SHUT_WR);  // what relay() does once the direction is over
    EXPECT_EQ(drain(dst.a), body);  // the bytes sent with MSG_MORE went out with the FIN
  }
}

/* The pollers' side of the contract: kHup without kError once the peer's FIN arrived (with
   its data still queued), kError after a reset, nothing of the kind on plain data. */
TEST(Relay, PollersReportTheFinAsHangUpAndAResetAsError) {
  for (const std::string& name : loop::pollerNames()) {
    const Row rows[] = {
        {"data", Peer::kSends, false, false},
        {"data then FIN", Peer::kSendsAndFinishes, false, false},
        {"reset", Peer::kResets, false, false},
    };
    for (const Row& r : rows) {
      SCOPED_TRACE(name + ": " + r.name);
      auto poller = loop::makePoller(name);
      ASSERT_TRUE(poller);
      Pair p;
      ASSERT_EQ(send(p.a, "x", 1, 0), 1);
      if (r.peer == Peer::kSendsAndFinishes) shutdown(p.a, SHUT_WR);
      if (r.peer == Peer::kResets) {
        linger lg{1, 0};
        setsockopt(p.a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(p.a);
        p.a = -1;
      }
      settle(p.b);
      ASSERT_EQ(poller->add(p.b, loop::kRead, 7), 0);
      loop::Event ev[4];
      ASSERT_EQ(poller->wait(ev, 4, 2000), 1);
      EXPECT_EQ(ev[0].token, 7u);
      bool hup = ev[0].events & loop::kHup, error = ev[0].events & loop::kError;
      EXPECT_EQ(hup && !error, r.peer == Peer::kSendsAndFinishes);
      EXPECT_EQ(error, r.peer == Peer::kResets);
      poller->remove(p.b);
    }
  }
}

TEST(Relay, PipeCapacityIs256KiBWithinTheSystemMaximumAndASixteenthOfMemory) {
  constexpr uint64_t GiB = 1ull << 30;
  struct {
    size_t maxPipe;
    uint64_t mem;
    size_t pipes;
    size_t want;
  } rows[] = {
      {1 << 20, 24 * GiB, 1024, 256 << 10},  // plenty of memory: pen's own maximum
      {1 << 20, 2 * GiB, 1024, 128 << 10},   // 2 GiB / 16 / 1024 pipes = 128 KiB
      {1 << 20, 1 * GiB, 1024, 64 << 10},    // 64 KiB: the default, never below
      {1 << 20, 1 * GiB, 2048, 64 << 10},
      {65536, 24 * GiB, 1, 64 << 10},        // a system that allows no more than the default
      {200000, 24 * GiB, 8, 128 << 10},      // not a power of two: the one below
      {1 << 20, 0, 8, 64 << 10},             // memory unknown
      {1 << 20, 24 * GiB, 0, 256 << 10},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::to_string(r.maxPipe) + " " + std::to_string(r.mem) + " " + std::to_string(r.pipes));
    EXPECT_EQ(tcp::pipeBytesFor(r.maxPipe, r.mem, r.pipes), r.want);
  }
}

/* pump()'s d.more: it stopped while src may hold more (every read came back full), so that an
   edge-triggered caller comes back; a short read, a full dst or the EOF say otherwise. The
   scratch is 1 KiB, so 4 reads take 4 KiB. */
TEST(Relay, PumpSaysWhenItLeftBytesInTheSource) {
  struct Row {
    const char* name;
    size_t queued;  // bytes the source's peer sent
    bool finish;    // and then its FIN
    bool dstFull;   // dst takes nothing
    bool more;
    uint64_t read;  // bytes pump read
  } rows[] = {
      {"a short chunk: drained", 100, false, false, false, 100},
      {"three chunks and a bit: drained", 3 * 1024 + 10, false, false, false, 3 * 1024 + 10},
      {"ten chunks: four read, more left", 10 * 1024, false, false, true, 4 * 1024},
      {"ten chunks, dst full: the first kept, no more", 10 * 1024, false, true, false, 1024},
      {"two chunks then the FIN, poller saw it: eof, no more", 2 * 1024, true, false, false, 2 * 1024},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    Pair src, dst;
    if (r.dstFull) {  // fill dst until it takes nothing more
      int small = 4096;
      setsockopt(dst.b, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
      setsockopt(dst.a, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
      std::string fill(65536, 'f');
      while (send(dst.b, fill.data(), fill.size(), MSG_DONTWAIT) > 0) {
      }
    }
    std::string body(r.queued, 'b');
    ASSERT_EQ(send(src.a, body.data(), body.size(), 0), ssize_t(body.size()));
    if (r.finish) shutdown(src.a, SHUT_WR);
    settle(src.b);
    usleep(20000);  // every byte queued on src.b
    std::vector<char> scratch(1024);
    tcp::RelayEnv env{scratch.data(), uint32_t(scratch.size()), nullptr};
    tcp::Dir d;
    int err = 0;
    ASSERT_EQ(tcp::pump(d, src.b, dst.b, env, err, r.finish), tcp::Io::kOk);
    EXPECT_EQ(d.more, r.more);
    EXPECT_EQ(d.bytes, r.read);
    EXPECT_EQ(d.pending() > 0, r.dstFull);
    EXPECT_EQ(d.eof, r.finish);
    free(d.buf);
  }
}

/* kEdge: a backend whose edges() is true reports a ready fd once until its state changes, and
   again after a modify while it is still ready; the others go on reporting it (level). */
TEST(Relay, EdgeTriggeredRegistrationsReportChangesOnly) {
  for (const std::string& name : loop::pollerNames()) {
    SCOPED_TRACE(name);
    auto poller = loop::makePoller(name);
    ASSERT_TRUE(poller);
    Pair p;
    ASSERT_EQ(send(p.a, "x", 1, 0), 1);
    settle(p.b);
    ASSERT_EQ(poller->add(p.b, loop::kRead | loop::kEdge, 7), 0);
    loop::Event ev[4];
    ASSERT_EQ(poller->wait(ev, 4, 2000), 1);
    EXPECT_EQ(ev[0].token, 7u);
    int again = poller->wait(ev, 4, 50);  // nothing read, nothing new
    EXPECT_EQ(again, poller->edges() ? 0 : 1);
    ASSERT_EQ(send(p.a, "y", 1, 0), 1);  // new data: an edge
    settle(p.b);
    EXPECT_EQ(poller->wait(ev, 4, 2000), 1);
    ASSERT_EQ(poller->modify(p.b, loop::kRead | loop::kEdge, 8), 0);  // still ready: reported
    ASSERT_EQ(poller->wait(ev, 4, 2000), 1);
    EXPECT_EQ(ev[0].token, 8u);
    poller->remove(p.b);
  }
}

}  // namespace
}  // namespace pen
