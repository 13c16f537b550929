// The DSR plane as the engine runs it: a Port, a Processor and a Forwarder on a thread of
// their own. The control side (any thread) hands it configurations and reads its counters;
// nothing else crosses threads.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "dsr/forwarder.h"

namespace pen::dsr {

struct PlaneStats {
  Stats frames;
  PortStats port;
};

class Plane {
 public:
  static constexpr int64_t kPublishMs = 100;

  /* chooser must outlive the Plane; it is called on the plane's thread (see chooser.h). */
  explicit Plane(Chooser& chooser) : proc_(chooser) {}
  Plane(const Plane&) = delete;
  Plane& operator=(const Plane&) = delete;
  ~Plane() { stop(); }

  /* Opens ifname on the calling thread (so that a missing interface or privilege is reported
     here, as err) and starts the plane's thread with cfg (cfg.mac is replaced by the
     interface's). Returns false with err set when the port or the thread cannot start. */
  bool start(const std::string& ifname, Config cfg, std::string& err);
  /* Any thread: cfg (mac replaced by the interface's) takes effect at the plane's next turn. */
  void configure(Config cfg);
  /* Any thread: the counters as the plane last published them (every kPublishMs at most;
     at least once a second while it runs; final after stop()). */
  PlaneStats stats() const;
  /* The interface's MAC (valid after start()). */
  const Mac& mac() const { return mac_; }
  /* Stops and joins the thread; idempotent. */
  void stop();

 private:
  bool turn();

  Processor proc_;
  std::unique_ptr<Port> port_;
  Mac mac_{};
  loop::Wakeup wake_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;         // guards pending_ and published_
  std::optional<Config> pending_;
  PlaneStats published_;
  int64_t publishedMs_ = 0;  // the plane's thread only
};

}  // namespace pen::dsr
