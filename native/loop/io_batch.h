// Non-blocking socket reads, writes, closes and epoll registrations issued together with one
// system call (io_uring on Linux), for a worker that has many small ones per turn: on kernels
// with page-table isolation a system call costs a microsecond or more, as much as a small
// send itself.
// Every op is tried at once and never waits (MSG_DONTWAIT): a socket with nothing to read or
// no room gives -EAGAIN, as recv()/send() would. submit() returns when every queued op has its
// result, so callers keep the synchronous semantics of recv()/send(). A lone op is made with
// its plain system call (cheaper than one ring entry), with the same result.
// Thread: one thread at a time (a worker's, once it runs).
#pragma once
#include <cstdint>
#include <memory>

namespace pen::loop {

class IoBatch {
 public:
  virtual ~IoBatch() = default;
  /* How many more ops may be queued before submit(). */
  virtual unsigned room() const = 0;
  /* Queue recv(fd, buf, len, MSG_DONTWAIT) / send(fd, buf, len, flags | MSG_DONTWAIT); the
     buffer must stay valid until submit() returns. Requires room() > 0. */
  virtual void recv(int fd, void* buf, uint32_t len) = 0;
  virtual void send(int fd, const void* buf, uint32_t len, int flags) = 0;
  /* Queue close(fd): fd is gone once submit() returns (its result: 0 or -errno). */
  virtual void close(int fd) = 0;
  /* Whether epollAdd() works here (probed with the rest; Linux 5.6 and later). */
  virtual bool epollAdds() const = 0;
  /* Queue epoll_ctl(epfd, EPOLL_CTL_ADD, fd) for `interest` (loop::kRead / kWrite, as
     Poller::add) and token; result 0 or -errno. Ops run in the order queued, so an add
     queued before a close of the same fd takes effect first. Requires epollAdds(). */
  virtual void epollAdd(int epfd, int fd, uint32_t interest, uint64_t token) = 0;
  /* Runs every queued op; res[i] is the i-th queued op's result: bytes moved, or -errno.
     Returns the number of ops (0 when none was queued); the queue is empty after it. An op that
   could not be run (the ring failed, which valid ops never make it do) gets -EIO, and room()
   stays 0 from then on. */
  virtual unsigned submit(int32_t* res) = 0;
};

/* A batch of up to `entries` ops (rounded up to a power of two), or nullptr when this system
   cannot have one: not Linux, io_uring missing or disabled (kernel.io_uring_disabled,
   seccomp), or a kernel that would park a non-blocking op instead of failing it at once
   (checked on a socket pair before the batch is handed out). why (may be null) says which. */
std::unique_ptr<IoBatch> makeIoBatch(unsigned entries, const char** why = nullptr);

}  // namespace pen::loop
