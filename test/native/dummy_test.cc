// The dummy server's answer (native/tcp/dummy.h) over a socketpair: input chunks -> the
// bytes the client gets, the answers counted, and whether the connection closes.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <string>
#include <vector>

#include "loop/poller.h"
#include "tcp/dummy.h"

namespace pen::tcp {
namespace {

const std::string kReply =
    "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nContent-Type: text/html\r\n\r\nUlric was here.";

struct Pair {
  int pen = -1, client = -1;
  Pair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pen = sv[0];
    client = sv[1];
    fcntl(pen, F_SETFL, O_NONBLOCK);
  }
  ~Pair() {
    if (pen >= 0) close(pen);
    if (client >= 0) close(client);
  }
  std::string drain() const {
    std::string out;
    char b[4096];
    fcntl(client, F_SETFL, O_NONBLOCK);
    for (ssize_t n; (n = recv(client, b, sizeof b, 0)) > 0;) out.append(b, size_t(n));
    return out;
  }
};

struct Env {
  std::vector<char> scratch = std::vector<char>(65536);
  RelayEnv env{scratch.data(), uint32_t(scratch.size()), nullptr};
};

TEST(Dummy, ReplyIsPensByteForByte) {
  EXPECT_EQ(std::string(dummy::kReply), kReply);
  EXPECT_EQ(dummy::kReply.size(), 17u + 20u + 25u + 2u + 15u);
}

TEST(Dummy, Table) {
  struct Row {
    const char* name;
    std::vector<std::string> sent;  // written by the client before serve()
    bool clientEof;                 // the client shut its side down too
    uint32_t answers;
    dummy::Step step;
    std::string received;
  };
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
  const Row rows[] = {
      {"nothing yet", {}, false, 0, dummy::Step::kWait, ""},
      {"a keep-alive request: one answer, then close", {req}, false, 1, dummy::Step::kClose, kReply},
      {"binary bytes", {std::string("\0\1\xff", 3)}, false, 1, dummy::Step::kClose, kReply},
      {"request then EOF", {req}, true, 1, dummy::Step::kClose, kReply},
      {"EOF without a word", {}, true, 0, dummy::Step::kClose, ""},
  };
  for (const Row& r : rows) {
    Pair p;
    Env e;
    Conn c;
    c.cfd = p.pen;
    for (const std::string& s : r.sent) ASSERT_EQ(send(p.client, s.data(), s.size(), 0), ssize_t(s.size()));
    if (r.clientEof) shutdown(p.client, SHUT_WR);
    uint32_t interest = 0, answers = 0;
    int err = 0;
    dummy::Step step = dummy::serve(c, e.env, interest, answers, err);
    EXPECT_EQ(step, r.step) << r.name;
    EXPECT_EQ(answers, r.answers) << r.name;
    EXPECT_EQ(p.drain(), r.received) << r.name;
    if (step == dummy::Step::kWait) {
      EXPECT_EQ(interest, uint32_t(loop::kRead)) << r.name;
    }
    free(c.down.buf);
  }
}

TEST(Dummy, AFullClientGetsItsAnswerLaterAndReadingStopsAtTheBound) {
  Pair p;
  int small = 4096;
  setsockopt(p.pen, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(p.client, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  Env e;
  e.env.scratchSize = 1;  // every byte is a chunk of its own
  Conn c;
  c.cfd = p.pen;
  std::string many(4 * dummy::kMaxQueued, 'x');
  ssize_t sent = send(p.client, many.data(), many.size(), MSG_DONTWAIT);
  ASSERT_GT(sent, 0);
  uint32_t interest = 0, answers = 0, total = 0;
  int err = 0;
  dummy::Step step = dummy::serve(c, e.env, interest, answers, err);
  total += answers;
  // The client reads nothing yet: its buffer fills, answers queue up to the bound.
  ASSERT_EQ(step, dummy::Step::kWait);
  EXPECT_TRUE(interest & loop::kWrite);
  EXPECT_LE(c.down.pending(), dummy::kMaxQueued + dummy::kReply.size());
  std::string got = p.drain();
  for (int i = 0; i < 100000 && step == dummy::Step::kWait; i++) {
    step = dummy::serve(c, e.env, interest, answers, err);
    total += answers;
    got += p.drain();
  }
  EXPECT_EQ(step, dummy::Step::kClose);
  ASSERT_GT(total, 0u);
  EXPECT_EQ(got.size(), size_t(total) * kReply.size()) << "every queued answer written, whole";
  EXPECT_EQ(got.substr(0, kReply.size()), kReply);
  free(c.down.buf);
}

}  // namespace
}  // namespace pen::tcp
