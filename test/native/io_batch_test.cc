// loop::IoBatch (batched non-blocking reads and writes, loop/io_batch.h) on real sockets, and
// tcp::pump() taking a read made ahead (tcp::Ahead) as its first recv() and send(). Each case
// is a row: what the sockets hold, what the batch or pump must report.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "loop/io_batch.h"
#include "loop/poller.h"
#include "tcp/conn.h"
#include "tcp_pair.h"

namespace pen {
namespace {

using testing::Pair;
using testing::settle;

std::string readAll(int fd, size_t want) {
  std::string got;
  char buf[4096];
  while (got.size() < want) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, size_t(n));
  }
  return got;
}

/* The batch, or a skip naming why this system has none. */
#define NEED_BATCH(var, entries)                                     \
  const char* why = nullptr;                                         \
  auto var = loop::makeIoBatch(entries, &why);                       \
  if (!var) GTEST_SKIP() << "no batched I/O here: " << (why ? why : "?")

enum class State { kEmpty, kHolds, kFinished, kReset, kClosedFd };

TEST(IoBatch, EachOpGetsWhatItsSystemCallWouldHaveReturned) {
  NEED_BATCH(batch, 64);
  struct Row {
    const char* name;
    bool isSend;
    State state;
    int32_t want;  // bytes, or -errno
  } rows[] = {
      {"read, nothing queued: EAGAIN at once, never parked", false, State::kEmpty, -EAGAIN},
      {"read, 5 bytes queued", false, State::kHolds, 5},
      {"read, the peer finished: EOF", false, State::kFinished, 0},
      {"read, the peer reset", false, State::kReset, -ECONNRESET},
      {"read, a closed descriptor", false, State::kClosedFd, -EBADF},
      {"write, room in the socket", true, State::kEmpty, 3},
      {"write, the peer reset", true, State::kReset, -EPIPE},
  };
  const size_t n = sizeof rows / sizeof rows[0];
  // Together (one ring entry), then each alone (a lone op takes its plain system call).
  for (bool alone : {false, true}) {
    SCOPED_TRACE(alone ? "each op submitted alone" : "all ops submitted together");
    std::vector<Pair> pairs(n);
    char bufs[16][16] = {};
    for (size_t i = 0; i < n; i++) {
      Pair& p = pairs[i];
      if (rows[i].state == State::kHolds) {
        ASSERT_EQ(send(p.a, "hello", 5, 0), 5);
      }
      if (rows[i].state == State::kFinished) shutdown(p.a, SHUT_WR);
      if (rows[i].state == State::kReset) {
        linger lg{1, 0};
        setsockopt(p.a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(p.a);
        p.a = -1;
      }
      if (rows[i].state == State::kClosedFd) {
        close(p.b);
        p.b = -1;
      }
      if (rows[i].state != State::kEmpty && rows[i].state != State::kClosedFd) settle(p.b);
    }
    std::vector<int32_t> res(n);
    for (size_t i = 0; i < n; i++) {
      if (rows[i].isSend) batch->send(pairs[i].b, "abc", 3, MSG_NOSIGNAL);
      else batch->recv(pairs[i].b < 0 ? 1000000 : pairs[i].b, bufs[i], sizeof bufs[i]);
      if (alone) {
        EXPECT_EQ(batch->room(), 63u);
        ASSERT_EQ(batch->submit(&res[i]), 1u);
      }
    }
    if (!alone) {
      EXPECT_EQ(batch->room(), 64u - n);
      ASSERT_EQ(batch->submit(res.data()), unsigned(n));
    }
    EXPECT_EQ(batch->room(), 64u);
    for (size_t i = 0; i < n; i++) {
      SCOPED_TRACE(rows[i].name);
      if (rows[i].state == State::kReset && rows[i].want == -EPIPE) {
        EXPECT_TRUE(res[i] == -EPIPE || res[i] == -ECONNRESET) << res[i];
      } else {
        EXPECT_EQ(res[i], rows[i].want);
      }
    }
    EXPECT_EQ(std::string(bufs[1], 5), "hello");
    EXPECT_EQ(readAll(pairs[5].a, 3), "abc");
    EXPECT_EQ(batch->submit(res.data()), 0u);  // nothing queued: nothing done
  }
}

/* A lone close or epoll registration (its plain system call) does what it would in a batch. */
TEST(IoBatch, ALoneCloseOrEpollAddActsAsInABatch) {
  NEED_BATCH(batch, 8);
  if (!batch->epollAdds()) GTEST_SKIP() << "no epoll registrations through io_uring here";
  Pair p;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  int32_t res = 1;
  batch->epollAdd(ep, p.b, loop::kRead, 42);
  ASSERT_EQ(batch->submit(&res), 1u);
  EXPECT_EQ(res, 0);
  batch->epollAdd(ep, p.b, loop::kRead, 42);
  ASSERT_EQ(batch->submit(&res), 1u);
  EXPECT_EQ(res, -EEXIST);  // registered by the first
  ASSERT_EQ(send(p.a, "x", 1, 0), 1);
  epoll_event ev{};
  ASSERT_EQ(epoll_wait(ep, &ev, 1, 1000), 1);
  EXPECT_EQ(ev.data.u64, 42u);
  batch->close(p.b);
  ASSERT_EQ(batch->submit(&res), 1u);
  EXPECT_EQ(res, 0);
  batch->close(p.b);  // the same number again: gone
  ASSERT_EQ(batch->submit(&res), 1u);
  EXPECT_EQ(res, -EBADF);
  p.b = -1;
  close(ep);
}

TEST(IoBatch, AFullBatchOfManySocketsComesBackInQueueOrder) {
  NEED_BATCH(batch, 128);
  const unsigned n = batch->room();
  ASSERT_GE(n, 128u);
  std::vector<Pair> pairs(n);
  std::vector<std::string> sent(n);
  for (unsigned i = 0; i < n; i++) {
    sent[i] = "chunk " + std::to_string(i) + std::string(i % 7, '.');
    ASSERT_EQ(send(pairs[i].a, sent[i].data(), sent[i].size(), 0), ssize_t(sent[i].size()));
  }
  for (unsigned i = 0; i < n; i++) settle(pairs[i].b);
  std::vector<std::vector<char>> bufs(n, std::vector<char>(64));
  for (unsigned i = 0; i < n; i++) batch->recv(pairs[i].b, bufs[i].data(), 64);
  std::vector<int32_t> res(n);
  ASSERT_EQ(batch->submit(res.data()), n);
  for (unsigned i = 0; i < n; i++) {
    ASSERT_EQ(res[i], int32_t(sent[i].size())) << i;
    EXPECT_EQ(std::string(bufs[i].data(), size_t(res[i])), sent[i]);
  }
  // Forward each chunk back to its own peer, in one more batch.
  for (unsigned i = 0; i < n; i++) batch->send(pairs[i].b, bufs[i].data(), uint32_t(res[i]), MSG_NOSIGNAL);
  ASSERT_EQ(batch->submit(res.data()), n);
  for (unsigned i = 0; i < n; i++) {
    EXPECT_EQ(res[i], int32_t(sent[i].size()));
    EXPECT_EQ(readAll(pairs[i].a, sent[i].size()), sent[i]);
  }
}

/* epollAdd(): registrations made through the batch, in queue order with the batch's closes
   (the engine queues a turn's new sockets and closed ones together). */
TEST(IoBatch, EpollAddsRegisterInQueueOrderWithCloses) {
  NEED_BATCH(batch, 16);
  if (!batch->epollAdds()) GTEST_SKIP() << "io_uring here cannot register with epoll";
  int ep = epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  Pair readable, writable, twice, gone, closedAfter;
  ASSERT_EQ(send(readable.a, "x", 1, 0), 1);
  settle(readable.b);
  close(gone.b);
  int goneFd = gone.b;
  gone.b = -1;
  struct Row {
    const char* name;
    int fd;
    uint32_t interest;
    int32_t want;
  } rows[] = {
      {"a socket with bytes, for reading", readable.b, loop::kRead, 0},
      {"an idle socket, for writing", writable.b, loop::kWrite, 0},
      {"a socket, for reading", twice.b, loop::kRead, 0},
      {"the same socket again", twice.b, loop::kRead, -EEXIST},
      {"a closed descriptor", goneFd, loop::kRead, -EBADF},
      {"a socket closed right after, in the same batch", closedAfter.b, loop::kRead | loop::kWrite, 0},
  };
  const size_t n = sizeof rows / sizeof rows[0];
  for (size_t i = 0; i < n; i++) batch->epollAdd(ep, rows[i].fd, rows[i].interest, 100 + i);
  batch->close(closedAfter.b);
  std::vector<int32_t> res(n + 1);
  ASSERT_EQ(batch->submit(res.data()), unsigned(n + 1));
  closedAfter.b = -1;
  for (size_t i = 0; i < n; i++) {
    SCOPED_TRACE(rows[i].name);
    EXPECT_EQ(res[i], rows[i].want);
  }
  EXPECT_EQ(res[n], 0) << "the close after the add";
  // What epoll reports: each registered socket under its token, the closed one not at all.
  epoll_event evs[8];
  int got = epoll_wait(ep, evs, 8, 1000);
  std::map<uint64_t, uint32_t> seen;
  for (int i = 0; i < got; i++) seen[evs[i].data.u64] = evs[i].events;
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen.count(100) && (seen[100] & EPOLLIN)) << "readable socket";
  EXPECT_TRUE(seen.count(101) && (seen[101] & EPOLLOUT) && !(seen[101] & EPOLLIN)) << "writable socket";
  EXPECT_TRUE(seen.count(102) == 0) << "nothing to read yet on the socket added twice";
  EXPECT_TRUE(seen.count(105) == 0) << "closed in the same batch";
  close(ep);
}

/* pump() with d.ahead: the read and send made ahead stand for its first recv() and send(). */
TEST(IoBatch, PumpTakesTheReadMadeAheadAsItsFirstReadAndSend) {
  struct Row {
    const char* name;
    int32_t got, sent;
    bool last;
    tcp::Io io;
    bool eof;
    uint32_t pending;  // bytes kept for dst
    uint64_t bytes;    // counted as read
  } rows[] = {
      {"read 10, sent 10", 10, 10, false, tcp::Io::kOk, false, 0, 10},
      {"read 10, sent 4: 6 kept", 10, 4, false, tcp::Io::kOk, false, 6, 10},
      {"read 10, dst full: all kept", 10, -EAGAIN, false, tcp::Io::kOk, false, 10, 10},
      {"read 10 up to the FIN, sent: eof", 10, 10, true, tcp::Io::kOk, true, 0, 10},
      {"EOF", 0, 0, false, tcp::Io::kOk, true, 0, 0},
      {"nothing to read", -EAGAIN, 0, false, tcp::Io::kOk, false, 0, 0},
      {"src reset", -ECONNRESET, 0, false, tcp::Io::kError, false, 0, 0},
      {"dst reset", 10, -EPIPE, false, tcp::Io::kError, false, 0, 10},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    Pair src, dst;  // nothing is queued on src: pump must not read it for the first chunk
    char chunk[16] = "0123456789";
    tcp::Ahead a;
    a.buf = chunk;
    a.cap = 16;
    a.got = r.got;
    a.sent = r.sent;
    a.last = r.last;
    std::vector<char> scratch(65536);
    tcp::RelayEnv env{scratch.data(), uint32_t(scratch.size()), nullptr};
    tcp::Dir d;
    d.ahead = &a;
    int err = 0;
    EXPECT_EQ(tcp::pump(d, src.b, dst.b, env, err, false), r.io);
    EXPECT_EQ(d.ahead, nullptr);
    EXPECT_EQ(d.eof, r.eof);
    EXPECT_EQ(d.bytes, r.bytes);
    if (r.io == tcp::Io::kOk) {
      EXPECT_EQ(d.pending(), r.pending);
      if (r.pending) {
        EXPECT_EQ(std::string(d.buf + d.off, d.len - d.off), std::string(chunk + (10 - r.pending), r.pending));
      }
    } else {
      EXPECT_NE(err, 0);
    }
    free(d.buf);
  }
}

}  // namespace
}  // namespace pen
