// `dummy` connections (tcp/dummy.h) as Engine members: no server is chosen, the client is
// answered from its worker. Worker thread only.
#include <cstring>

#include "tcp/dummy.h"
#include "tcp/engine.h"

namespace pen {

using tcp::Conn;

/* c: a client just accepted (slot, number and descriptor held). Serves what it has already
   sent; the rest follows on its events. */
void Engine::startDummy(Conn& c) {
  c.dummy = true;
  c.state = tcp::kConnected;
  c.action = "answering as the dummy server";
  if (snap_->idleTimeoutSec > 0)
    timers_.add(nowMs_ + snap_->idleTimeoutSec * 1000LL, loop::token::make(c.gen, c.id, tcp::kTimerIdle));
  serveDummy(c);
}

void Engine::serveDummy(Conn& c) {
  uint32_t interest = 0, answers = 0;
  int err = 0;
  tcp::dummy::Step step = tcp::dummy::serve(c, env_, interest, answers, err);
  if (answers) pool_.dummyAnswers.fetch_add(answers, std::memory_order_relaxed);
  if (step == tcp::dummy::Step::kError) return closeConn(c, strerror(err));
  if (step == tcp::dummy::Step::kClose) return closeConn(c, "dummy answer written");
  setInterest(c, 0, interest);
}

}  // namespace pen
