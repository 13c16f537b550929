#include "dsr/forwarder.h"

#include <cstring>

#include "loop/poller.h"
#include "util/clock.h"

namespace pen::dsr {

bool Forwarder::run(loop::Wakeup& wake, const std::function<bool()>& onTurn, std::string& err) {
  auto poller = loop::makePoller("default");
  enum : uint64_t { kPortToken = 1, kWakeToken = 2 };
  int e = 0;
  if (!poller || (e = poller->add(port_.fd(), loop::kRead, kPortToken)) != 0 ||
      (e = poller->add(wake.readFd(), loop::kRead, kWakeToken)) != 0) {
    err = std::string("dsr: poller: ") + (poller ? strerror(e) : "none built in");
    return false;
  }
  loop::Event ev[2];
  int timeoutMs = 0;
  for (;;) {
    const int n = poller->wait(ev, 2, timeoutMs);
    for (int i = 0; i < n; i++)
      if (ev[i].token == kWakeToken) wake.drain();
    if (!onTurn()) return true;
    int got;
    do {
      const uint64_t now = uint64_t(util::monotonicMs());
      got = port_.receive(kBatch, [&](uint8_t* f, size_t len) { proc_.handle(f, len, now, port_); });
      proc_.endBatch();
      port_.flush();
    } while (got == kBatch);
    proc_.tick(uint64_t(util::monotonicMs()), port_);
    port_.flush();
    timeoutMs = int(Processor::kRetryMs);
  }
}

}  // namespace pen::dsr
