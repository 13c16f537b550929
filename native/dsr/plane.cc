#include "dsr/plane.h"

#include <cstdio>

#include "util/clock.h"
#include "util/thread_name.h"

namespace pen::dsr {

bool Plane::start(const std::string& ifname, Config cfg, std::string& err) {
  if (thread_.joinable()) {
    err = "dsr: already started";
    return false;
  }
  port_ = openPort(ifname, err);
  if (!port_ || !wake_.open(err)) return false;
  mac_ = port_->mac();
  cfg.mac = mac_;
  proc_.configure(std::move(cfg));
  stopping_ = false;
  try {
    thread_ = std::thread([this] {
      util::nameThisThread("pen-dsr");
      Forwarder fwd(*port_, proc_);
      std::string e;
      if (!fwd.run(wake_, [this] { return turn(); }, e)) std::fprintf(stderr, "pen: %s\n", e.c_str());
    });
  } catch (const std::system_error& e) {
    err = std::string("dsr: thread: ") + e.what();
    return false;
  }
  return true;
}

void Plane::configure(Config cfg) {
  cfg.mac = mac_;
  {
    std::lock_guard<std::mutex> g(mu_);
    pending_ = std::move(cfg);
  }
  wake_.notify();
}

PlaneStats Plane::stats() const {
  std::lock_guard<std::mutex> g(mu_);
  return published_;
}

bool Plane::turn() {
  std::optional<Config> next;
  const int64_t now = util::monotonicMs();
  const bool publish = now - publishedMs_ >= kPublishMs;
  {
    std::lock_guard<std::mutex> g(mu_);
    next.swap(pending_);
    if (publish) {
      published_.frames = proc_.stats();
      published_.port = port_->stats();
      publishedMs_ = now;
    }
  }
  if (next) proc_.configure(std::move(*next));
  return !stopping_.load();
}

void Plane::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  wake_.notify();
  thread_.join();
  {
    std::lock_guard<std::mutex> g(mu_);
    published_.frames = proc_.stats();
    published_.port = port_->stats();
  }
}

}  // namespace pen::dsr
