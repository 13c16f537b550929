// Portable poll(2) backend of the Poller interface (-P, `poll`).
#include <poll.h>

#include <cerrno>
#include <unordered_map>
#include <vector>

#include "loop/poller.h"

namespace pen::loop {
namespace {

#ifdef POLLRDHUP
constexpr short kRdHup = POLLRDHUP;  // the peer's FIN (Linux), as kHup says
#else
constexpr short kRdHup = 0;
#endif

class PollPoller final : public Poller {
 public:
  int add(int fd, uint32_t events, uint64_t token) override {
    if (index_.count(fd)) return EEXIST;
    index_[fd] = fds_.size();
    fds_.push_back(pollfd{fd, toPoll(events), 0});
    tokens_.push_back(token);
    return 0;
  }
  int modify(int fd, uint32_t events, uint64_t token) override {
    auto it = index_.find(fd);
    if (it == index_.end()) return ENOENT;
    fds_[it->second].events = toPoll(events);
    tokens_[it->second] = token;
    return 0;
  }
  void remove(int fd) override {
    auto it = index_.find(fd);
    if (it == index_.end()) return;
    size_t i = it->second, last = fds_.size() - 1;
    if (i != last) {
      fds_[i] = fds_[last];
      tokens_[i] = tokens_[last];
      index_[fds_[i].fd] = i;
    }
    fds_.pop_back();
    tokens_.pop_back();
    index_.erase(it);
  }
  int wait(Event* out, int max, int timeoutMs) override {
    int n = ::poll(fds_.data(), fds_.size(), timeoutMs);
    if (n <= 0) return 0;
    int k = 0;
    for (size_t i = 0; i < fds_.size() && k < max; i++) {
      short r = fds_[i].revents;
      if (!r) continue;
      uint32_t e = 0;
      if (r & POLLIN) e |= kRead;
      if (r & POLLOUT) e |= kWrite;
      if (r & (POLLHUP | kRdHup)) e |= kHup;
      if (r & (POLLERR | POLLNVAL)) e |= kError;
      out[k++] = Event{tokens_[i], e};
    }
    return k;
  }
  const char* name() const override { return "poll"; }

 private:
  static short toPoll(uint32_t ev) {
    short e = 0;
    if (ev & kRead) e |= POLLIN | kRdHup;
    if (ev & kWrite) e |= POLLOUT;
    return e;
  }
  std::vector<pollfd> fds_;
  std::vector<uint64_t> tokens_;
  std::unordered_map<int, size_t> index_;
};

}  // namespace

std::unique_ptr<Poller> makePollPoller() { return std::make_unique<PollPoller>(); }

std::unique_ptr<Poller> makePoller(const std::string& name) {
  if (name == "default") {
    if (auto p = makeKqueuePoller()) return p;
    if (auto p = makeEpollPoller()) return p;
    return makePollPoller();
  }
  if (name == "epoll") return makeEpollPoller();
  if (name == "kqueue") return makeKqueuePoller();
  if (name == "poll") return makePollPoller();
  return nullptr;
}

std::vector<std::string> pollerNames() {
  std::vector<std::string> v;
  if (makeKqueuePoller()) v.push_back("kqueue");
  if (makeEpollPoller()) v.push_back("epoll");
  v.push_back("poll");
  return v;
}

}  // namespace pen::loop
