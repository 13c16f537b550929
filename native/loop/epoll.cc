// Linux epoll backend of the Poller interface.
#include "loop/poller.h"

#ifdef __linux__
#include <cerrno>
#include <sys/epoll.h>
#include <unistd.h>
#include <vector>

#include "loop/epoll_events.h"

namespace pen::loop {
namespace {

class EpollPoller final : public Poller {
 public:
  EpollPoller() : ep_(epoll_create1(EPOLL_CLOEXEC)) {}
  ~EpollPoller() override {
    if (ep_ >= 0) ::close(ep_);
  }
  bool ok() const { return ep_ >= 0; }

  int add(int fd, uint32_t events, uint64_t token) override { return ctl(EPOLL_CTL_ADD, fd, events, token); }
  int modify(int fd, uint32_t events, uint64_t token) override { return ctl(EPOLL_CTL_MOD, fd, events, token); }
  void remove(int fd) override { epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }
  void forget(int) override {}  // close() deregisters (pen never dup()s a socket)

  int wait(Event* out, int max, int timeoutMs) override {
    if (int(buf_.size()) < max) buf_.resize(max);
    int n = epoll_wait(ep_, buf_.data(), max, timeoutMs);
    if (n < 0) return 0;
    for (int i = 0; i < n; i++) {
      uint32_t e = buf_[i].events, r = 0;
      if (e & EPOLLIN) r |= kRead;
      if (e & EPOLLOUT) r |= kWrite;
      if (e & (EPOLLHUP | EPOLLRDHUP)) r |= kHup;
      if (e & EPOLLERR) r |= kError;
      out[i] = Event{buf_[i].data.u64, r};
    }
    return n;
  }
  const char* name() const override { return "epoll"; }
  int epollFd() const override { return ep_; }
  bool edges() const override { return true; }

 private:
  int ctl(int op, int fd, uint32_t events, uint64_t token) {
    epoll_event ev{};
    ev.events = epollEvents(events);
    ev.data.u64 = token;
    return epoll_ctl(ep_, op, fd, &ev) == 0 ? 0 : errno;
  }
  int ep_;
  std::vector<epoll_event> buf_;
};

}  // namespace

std::unique_ptr<Poller> makeEpollPoller() {
  auto p = std::make_unique<EpollPoller>();
  if (!p->ok()) return nullptr;
  return p;
}

}  // namespace pen::loop
#else
namespace pen::loop {
std::unique_ptr<Poller> makeEpollPoller() { return nullptr; }
}  // namespace pen::loop
#endif
