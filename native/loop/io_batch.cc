// loop::IoBatch on Linux's io_uring, with raw system calls (no liburing): one submission
// ring, each read and write marked MSG_DONTWAIT so that the kernel completes it inside
// io_uring_enter(); closes of sockets and epoll registrations complete there too. A submit()
// of one op makes its plain system call instead.
#include "loop/io_batch.h"

#ifdef __linux__
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "loop/epoll_events.h"

namespace pen::loop {
namespace {

int ringSetup(unsigned entries, io_uring_params& p) {
  return int(syscall(__NR_io_uring_setup, entries, &p));
}

int ringEnter(int fd, unsigned toSubmit, unsigned minComplete, unsigned flags) {
  return int(syscall(__NR_io_uring_enter, fd, toSubmit, minComplete, flags, nullptr, 0));
}

class Uring final : public IoBatch {
 public:
  ~Uring() override {
    if (sqes_) munmap(sqes_, sqesBytes_);
    if (cq_ && cq_ != sq_) munmap(cq_, cqBytes_);
    if (sq_) munmap(sq_, sqBytes_);
    if (fd_ >= 0) ::close(fd_);
  }

  /* Sets the ring up; returns false with *why set when it cannot. */
  bool open(unsigned entries, const char** why) {
    io_uring_params p{};
    // Completions are reaped inside enter(): no interrupt of the task needed to post them.
    // (Not SINGLE_ISSUER: a batch is made on one thread and used by another, one at a time.)
    p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
    fd_ = ringSetup(entries, p);
    if (fd_ < 0 && errno == EINVAL) {  // a kernel older than 5.19 knows fewer flags
      p = io_uring_params{};
      fd_ = ringSetup(entries, p);
    }
    if (fd_ < 0) {
      *why = errno == ENOSYS   ? "io_uring is not in this kernel"
             : errno == EPERM  ? "io_uring is disabled here (kernel.io_uring_disabled or a seccomp filter)"
             : errno == ENOMEM ? "io_uring_setup: no memory (before Linux 5.12: RLIMIT_MEMLOCK)"
                               : "io_uring_setup failed";
      return false;
    }
    sqBytes_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    cqBytes_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    bool single = p.features & IORING_FEAT_SINGLE_MMAP;
    if (single) sqBytes_ = cqBytes_ = std::max(sqBytes_, cqBytes_);
    sq_ = map(sqBytes_, IORING_OFF_SQ_RING);
    cq_ = single ? sq_ : map(cqBytes_, IORING_OFF_CQ_RING);
    sqesBytes_ = p.sq_entries * sizeof(io_uring_sqe);
    sqes_ = static_cast<io_uring_sqe*>(map(sqesBytes_, IORING_OFF_SQES));
    if (!sq_ || !cq_ || !sqes_) {
      *why = "cannot map the io_uring rings";
      return false;
    }
    char* sq = static_cast<char*>(sq_);
    char* cq = static_cast<char*>(cq_);
    sqTail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
    sqMask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
    unsigned* array = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
    for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;  // slot i of the ring is sqes_[i]
    cqHead_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
    cqTail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
    cqMask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
    cqes_ = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
    tail_ = *sqTail_;
    entries_ = p.sq_entries;
    epollEvents_.resize(entries_);
    if (!probe(why)) return false;
    plainSingle_ = true;  // after the probe, which must go through the ring
    return true;
  }

  unsigned room() const override { return broken_ ? 0 : entries_ - queued_; }

  void recv(int fd, void* buf, uint32_t len) override { queue(IORING_OP_RECV, fd, buf, len, 0); }
  void send(int fd, const void* buf, uint32_t len, int flags) override {
    queue(IORING_OP_SEND, fd, const_cast<void*>(buf), len, flags);
  }
  void close(int fd) override { queue(IORING_OP_CLOSE, fd, nullptr, 0, 0); }
  bool epollAdds() const override { return epollAdds_; }
  void epollAdd(int epfd, int fd, uint32_t interest, uint64_t token) override {
    epoll_event& ev = epollEvents_[queued_];  // read by the kernel in submit()
    ev.events = epollEvents(interest);
    ev.data.u64 = token;
    queue(IORING_OP_EPOLL_CTL, epfd, &ev, EPOLL_CTL_ADD, 0, uint64_t(unsigned(fd)));
  }

  unsigned submit(int32_t* res) override {
    unsigned n = queued_;
    if (n == 0) return 0;
    if (n == 1 && plainSingle_) {
      res[0] = runPlain(sqes_[(tail_ - 1) & sqMask_]);
      tail_--;  // never published: the slot is queued over next time
      queued_ = 0;
      return 1;
    }
    for (unsigned i = 0; i < n; i++) res[i] = -EIO;
    __atomic_store_n(sqTail_, tail_, __ATOMIC_RELEASE);
    unsigned unsent = n, done = 0;
    while (done < n) {
      int r = ringEnter(fd_, unsent, n - done, IORING_ENTER_GETEVENTS);
      if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY) {
        // Cannot happen with valid ops; never touch the ring again (ops still queued in it
        // must not run later), and the caller falls back to plain system calls.
        broken_ = true;
        break;
      }
      if (r > 0) unsent -= unsigned(r);
      done += reap(res, n);
    }
    queued_ = 0;
    return n;
  }

 private:
  void* map(size_t bytes, off_t what) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, what);
    return p == MAP_FAILED ? nullptr : p;
  }

  /* One submission entry; off is the epoll add's target descriptor. */
  void queue(uint8_t op, int fd, void* buf, uint32_t len, int flags, uint64_t off = 0) {
    io_uring_sqe& s = sqes_[tail_ & sqMask_];
    memset(&s, 0, sizeof s);
    s.opcode = op;
    s.fd = fd;
    s.off = off;
    s.addr = reinterpret_cast<uintptr_t>(buf);
    s.len = len;
    if (op == IORING_OP_RECV || op == IORING_OP_SEND)
      s.msg_flags = uint32_t(flags | MSG_DONTWAIT);  // EAGAIN at once, never park
    s.user_data = queued_;
    tail_++;
    queued_++;
  }

  /* The op of s made with its plain system call; returns what its completion would hold
     (bytes moved, 0, or -errno). One op costs less this way than one ring entry (measured
     here: about 0.5 us less per op); two or more cost less through the ring. */
  int32_t runPlain(const io_uring_sqe& s) {
    long r = -1;
    switch (s.opcode) {
      case IORING_OP_RECV:
        r = ::recv(s.fd, reinterpret_cast<void*>(uintptr_t(s.addr)), s.len, int(s.msg_flags));
        break;
      case IORING_OP_SEND:
        r = ::send(s.fd, reinterpret_cast<const void*>(uintptr_t(s.addr)), s.len, int(s.msg_flags));
        break;
      case IORING_OP_CLOSE:
        r = ::close(s.fd);
        break;
      case IORING_OP_EPOLL_CTL:
        r = epoll_ctl(s.fd, int(s.len), int(s.off), reinterpret_cast<epoll_event*>(uintptr_t(s.addr)));
        break;
      default:
        errno = EINVAL;
    }
    return r < 0 ? -errno : int32_t(r);
  }

  /* Takes every completion posted so far into res (by queue index); returns how many. */
  unsigned reap(int32_t* res, unsigned n) {
    unsigned head = *cqHead_, tail = __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE), got = 0;
    for (; head != tail; head++, got++) {
      const io_uring_cqe& c = cqes_[head & cqMask_];
      if (c.user_data < n) res[c.user_data] = c.res;
    }
    __atomic_store_n(cqHead_, head, __ATOMIC_RELEASE);
    return got;
  }

  /* Runs the one queued op without waiting; true when it completed at once with result want. */
  bool atOnce(int32_t want) {
    __atomic_store_n(sqTail_, tail_, __ATOMIC_RELEASE);
    int32_t res = -EIO;
    bool ok = ringEnter(fd_, 1, 0, 0) == 1 && reap(&res, 1) == 1 && res == want;
    queued_ = 0;
    return ok;
  }

  /* A read from an empty socket and a write to a full one must come back at once with EAGAIN
     (older kernels park them until the socket is ready, which would stall the worker); a
     write, a read and a close must work. On a socket pair, before the batch is handed out;
     whether an epoll registration works is noted (epollAdds()), not required. */
  bool probe(const char** why) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
      *why = "socketpair failed";
      return false;
    }
    char byte = 'x', got = 0, fill[4096] = {};
    recv(sv[0], &got, 1);
    bool ok = atOnce(-EAGAIN);
    while (ok && ::send(sv[1], fill, sizeof fill, MSG_DONTWAIT) > 0) {
    }
    if (ok) {
      send(sv[1], &byte, 1, 0);
      ok = atOnce(-EAGAIN);
    }
    while (::recv(sv[0], fill, sizeof fill, MSG_DONTWAIT) > 0) {
    }
    int32_t res[2] = {-EIO, -EIO};
    if (ok) {
      send(sv[1], &byte, 1, 0);
      recv(sv[0], &got, 1);
      ok = submit(res) == 2 && res[0] == 1 && res[1] == 1 && got == byte && !broken_;
    }
    if (ok) epollAdds_ = probeEpollAdd(sv[0]);
    ::close(sv[0]);
    if (ok) {  // and a close goes through it
      close(sv[1]);
      ok = submit(res) == 1 && res[0] == 0 && fcntl(sv[1], F_GETFD) < 0 && !broken_;
    } else {
      ::close(sv[1]);
    }
    if (!ok) *why = "io_uring here does not complete a socket read, write or close at once";
    return ok;
  }

  /* An epoll registration made through the ring takes effect (fd: an open socket). */
  bool probeEpollAdd(int fd) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return false;
    epollAdd(ep, fd, kRead, 7);
    int32_t res = -EIO;
    bool ok = submit(&res) == 1 && res == 0 && !broken_ && epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr) == 0;
    ::close(ep);
    return ok;
  }

  int fd_ = -1;
  void *sq_ = nullptr, *cq_ = nullptr;
  size_t sqBytes_ = 0, cqBytes_ = 0, sqesBytes_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  io_uring_cqe* cqes_ = nullptr;
  unsigned *sqTail_ = nullptr, *cqHead_ = nullptr, *cqTail_ = nullptr;
  unsigned sqMask_ = 0, cqMask_ = 0, entries_ = 0;
  unsigned tail_ = 0;    // the submission tail as queued (published by submit())
  unsigned queued_ = 0;  // ops queued since the last submit()
  bool broken_ = false;
  bool epollAdds_ = false;
  bool plainSingle_ = false;  // submit() makes a lone op with its plain system call
  std::vector<epoll_event> epollEvents_;  // by queue index, for the queued epollAdd()s
};

}  // namespace

std::unique_ptr<IoBatch> makeIoBatch(unsigned entries, const char** why) {
  const char* reason = nullptr;
  auto b = std::make_unique<Uring>();
  if (!b->open(entries, &reason)) {
    if (why) *why = reason;
    return nullptr;
  }
  return b;
}

}  // namespace pen::loop
#else
namespace pen::loop {
std::unique_ptr<IoBatch> makeIoBatch(unsigned, const char** why) {
  if (why) *why = "batched socket I/O (io_uring) is Linux only";
  return nullptr;
}
}  // namespace pen::loop
#endif
