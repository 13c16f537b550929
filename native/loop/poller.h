// One poller interface; one file per OS mechanism (epoll.cc, kqueue.cc, poll.cc).
// Semantics are level-triggered unless a registration asks for kEdge. Hang-up and error
// conditions are always reported (they cannot be masked), so callers remove an fd they do not
// want to hear from.
// Thread: a Poller is used by its worker thread only.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pen::loop {

enum : uint32_t { kRead = 1, kWrite = 2, kHup = 4, kError = 8, kEdge = 16 };

/* kEdge (add/modify only): report the fd when its state changes (data or room arrives, the
   peer finishes) rather than while it is ready: epoll's EPOLLET, on backends whose edges()
   is true; the others report level-triggered, which a caller of kEdge handles too. A
   caller that stops reading or writing before EAGAIN comes back to the fd by itself; an
   add or modify reports the fd again if it is ready then. */
/* kHup: the peer has finished sending (its FIN arrived, or the socket hung up); bytes queued
   before it can still be read, and nothing arrives after them. kError: an error is pending
   (a reset, a failed connect). */
struct Event {
  uint64_t token;   // what the caller registered
  uint32_t events;  // kRead | kWrite | kHup | kError
};

class Poller {
 public:
  virtual ~Poller() = default;
  /* add/modify/remove return 0, or an errno value on failure. */
  virtual int add(int fd, uint32_t events, uint64_t token) = 0;
  virtual int modify(int fd, uint32_t events, uint64_t token) = 0;
  virtual void remove(int fd) = 0;
  /* fd is about to be closed: drop it without a syscall where closing deregisters it. */
  virtual void forget(int fd) { remove(fd); }
  /* Waits up to timeoutMs (-1 = forever); fills out[0..n); returns n (0 on timeout or EINTR). */
  virtual int wait(Event* out, int max, int timeoutMs) = 0;
  virtual const char* name() const = 0;
  /* Whether kEdge takes effect here. */
  virtual bool edges() const { return false; }
  /* The epoll instance, for registrations queued on an IoBatch (IoBatch::epollAdd); -1 for
     the other backends. */
  virtual int epollFd() const { return -1; }
};

/* name: "default", "epoll", "kqueue" or "poll". Returns nullptr when not built in here. */
std::unique_ptr<Poller> makePoller(const std::string& name);
/* The mechanisms built into this binary, the default first. */
std::vector<std::string> pollerNames();

std::unique_ptr<Poller> makeEpollPoller();
std::unique_ptr<Poller> makeKqueuePoller();
std::unique_ptr<Poller> makePollPoller();

}  // namespace pen::loop
