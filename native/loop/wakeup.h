// A self-pipe that wakes a worker blocked in its poller: any thread may notify(); the worker
// registers readFd() with loop::kRead and drain()s it when it fires. Owns both fds.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pen::loop {

class Wakeup {
 public:
  Wakeup() = default;
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;
  ~Wakeup() { close(); }

  /* Creates the pipe; returns false with err set when it cannot. */
  bool open(std::string& err) {
    int p[2];
    if (pipe(p) < 0) {
      err = std::string("pipe: ") + strerror(errno);
      return false;
    }
    for (int fd : p) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    read_ = p[0];
    write_ = p[1];
    return true;
  }
  int readFd() const { return read_; }
  /* Any thread; never blocks (a full pipe already guarantees a wake-up). */
  void notify() {
    char b = 1;
    if (write_ >= 0) (void)!::write(write_, &b, 1);
  }
  /* Worker thread. */
  void drain() {
    char buf[64];
    while (::read(read_, buf, sizeof buf) > 0) {
    }
  }
  void close() {
    if (read_ >= 0) ::close(read_);
    if (write_ >= 0) ::close(write_);
    read_ = write_ = -1;
  }

 private:
  int read_ = -1, write_ = -1;
};

}  // namespace pen::loop
