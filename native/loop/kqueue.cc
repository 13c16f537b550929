// kqueue backend of the Poller interface (FreeBSD, macOS). Compiled to a stub elsewhere.
#include "loop/poller.h"

#if defined(__FreeBSD__) || defined(__APPLE__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <sys/event.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>
#include <vector>

namespace pen::loop {
namespace {

class KqueuePoller final : public Poller {
 public:
  KqueuePoller() : kq_(kqueue()) {}
  ~KqueuePoller() override {
    if (kq_ >= 0) ::close(kq_);
  }
  bool ok() const { return kq_ >= 0; }

  int add(int fd, uint32_t events, uint64_t token) override {
    if (masks_.count(fd)) return EEXIST;
    masks_[fd] = 0;
    return apply(fd, events, token);
  }
  int modify(int fd, uint32_t events, uint64_t token) override {
    if (!masks_.count(fd)) return ENOENT;
    return apply(fd, events, token);
  }
  void remove(int fd) override {
    auto it = masks_.find(fd);
    if (it == masks_.end()) return;
    apply(fd, 0, 0);
    masks_.erase(it);
  }
  int wait(Event* out, int max, int timeoutMs) override {
    if (int(buf_.size()) < max) buf_.resize(max);
    timespec ts{timeoutMs / 1000, (timeoutMs % 1000) * 1000000L};
    int n = kevent(kq_, nullptr, 0, buf_.data(), max, timeoutMs < 0 ? nullptr : &ts);
    if (n < 0) return 0;
    for (int i = 0; i < n; i++) {
      uint32_t e = 0;
      if (buf_[i].filter == EVFILT_READ) e |= kRead;
      if (buf_[i].filter == EVFILT_WRITE) e |= kWrite;
      // EV_EOF on the read filter without an error is the peer's FIN; on the write filter
      // (this side can send no more) or with an error (fflags) it is an error condition.
      if (buf_[i].flags & EV_EOF) e |= (buf_[i].filter == EVFILT_READ && buf_[i].fflags == 0) ? kHup : (kHup | kError);
      if (buf_[i].flags & EV_ERROR) e |= kError;
      out[i] = Event{uint64_t(uintptr_t(buf_[i].udata)), e};
    }
    return n;
  }
  const char* name() const override { return "kqueue"; }

 private:
  int apply(int fd, uint32_t want, uint64_t token) {
    uint32_t& have = masks_[fd];
    struct kevent ch[2];
    int n = 0;
    void* udata = reinterpret_cast<void*>(uintptr_t(token));
    if ((want & kRead) || (have & kRead))
      EV_SET(&ch[n++], fd, EVFILT_READ, (want & kRead) ? EV_ADD : EV_DELETE, 0, 0, udata);
    if ((want & kWrite) || (have & kWrite))
      EV_SET(&ch[n++], fd, EVFILT_WRITE, (want & kWrite) ? EV_ADD : EV_DELETE, 0, 0, udata);
    have = want;
    if (n && kevent(kq_, ch, n, nullptr, 0, nullptr) < 0 && errno != ENOENT) return errno;
    return 0;
  }
  int kq_;
  std::unordered_map<int, uint32_t> masks_;
  std::vector<struct kevent> buf_;
};

}  // namespace

std::unique_ptr<Poller> makeKqueuePoller() {
  auto p = std::make_unique<KqueuePoller>();
  if (!p->ok()) return nullptr;
  return p;
}

}  // namespace pen::loop
#else
namespace pen::loop {
std::unique_ptr<Poller> makeKqueuePoller() { return nullptr; }
}  // namespace pen::loop
#endif
