// The worker thread, its loop and hand-overs (see worker.h).
#include "worker.h"

#include <unistd.h>

#include <chrono>
#include <cstring>

#include "util/clock.h"
#include "util/thread_name.h"

namespace pen {

namespace {
constexpr int kMaxEvents = 256;
}  // namespace

Worker::Worker(balance::Pool& pool, int index, int count, std::unique_ptr<loop::Poller> poller, events::Queue& events)
    : pool_(pool), index_(index), count_(count), poller_(std::move(poller)), events_(events), view_(pool.view()) {
  snap_ = view_->snap.get();
}

bool Worker::start(std::string& err) {
  if (!wakeup_.open(err)) return false;
  if (int e = poller_->add(wakeup_.readFd(), loop::kRead, loop::token::kWake)) {
    err = std::string("poller: ") + strerror(e);
    return false;
  }
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void Worker::stop() {
  if (!started_) return;
  stopping_.store(true);
  wakeup_.notify();
  thread_.join();
  started_ = false;
  wakeup_.close();
}

void Worker::run() {
  util::nameThisThread(std::string("pen-") + kind() + "-" + std::to_string(index_));
  std::vector<loop::Event> evs(kMaxEvents);
  int timeout = -1;
  for (;;) {
    int n = poller_->wait(evs.data(), kMaxEvents, timeout);
    if (stopping_.load(std::memory_order_relaxed)) break;
    nowMs_ = util::monotonicMs();
    // The wake-up pipe is drained before anything handed over is looked at: a hand-over made
    // after the drain leaves a byte in the pipe, so it is never missed.
    for (int i = 0; i < n; i++) {
      if (loop::token::kind(evs[size_t(i)].token) == loop::token::kWake) {
        wakeup_.drain();
        break;
      }
    }
    if (uint64_t ver = pool_.version(); ver != viewVersion_) {
      viewVersion_ = ver;
      std::shared_ptr<const balance::View> prev = std::move(view_);
      view_ = pool_.view();
      snap_ = view_->snap.get();
      adoptSnapshot(*prev->snap);
    }
    takeHandovers();
    int due = turn(evs.data(), n);
    int flushIn = events_.flush(nowMs_);
    timeout = events::sooner(due, flushIn);
  }
  // Shutdown (Pen's TERM behaviour); a listener handed over but not yet adopted goes too.
  closeAll();
  std::lock_guard<std::mutex> g(handMu_);
  if (hasNextListener_ && nextListener_ >= 0) close(nextListener_);
  hasNextListener_ = false;
  for (Call* c : calls_) c->done = true;  // nothing runs after the loop: release the callers
  calls_.clear();
  handCv_.notify_all();
}

void Worker::takeHandovers() {
  int fd = -1;
  bool hasFd = false;
  std::vector<Call*> calls;
  {
    std::lock_guard<std::mutex> g(handMu_);
    if (hasNextListener_) {
      fd = nextListener_;
      hasFd = true;
      nextListener_ = -1;
      hasNextListener_ = false;
    }
    calls.swap(calls_);
  }
  if (hasFd) adoptListener(fd);
  if (calls.empty()) return;
  for (Call* c : calls) (*c->fn)();
  std::lock_guard<std::mutex> g(handMu_);
  for (Call* c : calls) c->done = true;
  handCv_.notify_all();
}

void Worker::log(int level, std::string text) {
  if (level > snap_->debug) return;
  events::Record r;
  r.kind = events::Record::kLog;
  r.level = level;
  r.text = std::move(text);
  events_.push(std::move(r));
}

bool Worker::closeSlotIfOpen(uint32_t slot, uint32_t number) {
  if (!inUse(slot) || numberOf(slot) != number) return false;
  closeSlot(slot, "closed by the operator");
  return true;
}

// ---- JS thread ----

void Worker::setListener(int fd) {
  {
    std::lock_guard<std::mutex> g(handMu_);
    if (hasNextListener_ && nextListener_ >= 0) close(nextListener_);
    nextListener_ = fd;
    hasNextListener_ = true;
  }
  wakeup_.notify();
}

void Worker::call(const std::function<void()>& fn) {
  if (!started_) {
    fn();
    return;
  }
  Call c{&fn, false};
  std::unique_lock<std::mutex> g(handMu_);
  calls_.push_back(&c);
  wakeup_.notify();
  // wait_for, not wait: GCC 12's condition_variable::wait(unique_lock&) is a GLIBCXX_3.4.30
  // symbol, newer than the prebuilds' floor; wait_for inlines to pthread_cond_clockwait.
  while (!c.done) handCv_.wait_for(g, std::chrono::seconds(1));
}

}  // namespace pen
