// The DSR loop: one thread, one Port, one Processor. Each wake-up drains the receive ring in
// batches of up to kBatch frames (one endBatch() and one transmit kick per batch) and calls
// Processor::tick() at least once a second for ARP upkeep.
#pragma once
#include <functional>
#include <string>

#include "dsr/frame.h"
#include "dsr/port.h"
#include "loop/wakeup.h"

namespace pen::dsr {

class Forwarder {
 public:
  static constexpr int kBatch = 256;

  Forwarder(Port& port, Processor& proc) : port_(port), proc_(proc) {}

  /* Forwards on the calling thread. onTurn runs on this thread at the start of every loop
     turn (at least once a second, and at once after wake.notify() from any thread or a signal
     handler): the place to configure() the Processor or copy its stats out; when it returns
     false, run() returns true. Returns false with err set when the poller cannot be set up. */
  bool run(loop::Wakeup& wake, const std::function<bool()>& onTurn, std::string& err);

 private:
  Port& port_;
  Processor& proc_;
};

}  // namespace pen::dsr
