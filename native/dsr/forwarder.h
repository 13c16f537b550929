// The DSR loop: one thread, one Port, one Processor. Each wake-up drains the receive ring in
// batches of up to kBatch frames (one endBatch() and one transmit kick per batch) and calls
// Processor::tick() at least once a second for ARP upkeep.
// Thread: run() occupies the calling thread until stop is notified (from any thread, or from a
// signal handler: Wakeup::notify() is a single write()).
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

  /* Forwards until stop fires. onTurn (optional) runs on this thread once per loop turn,
     before frames are read: the place to configure() the Processor or copy its stats out.
     Returns false with err set when the poller cannot be set up. */
  bool run(loop::Wakeup& stop, const std::function<void()>& onTurn, std::string& err);

 private:
  Port& port_;
  Processor& proc_;
};

}  // namespace pen::dsr
