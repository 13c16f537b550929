// Pool::transparentFailed (balance/pool.h): the count and the rate-limited log line of a
// `transparent` bind that failed. Kept apart from pool.cc, which the native unit tests link
// without the socket code.
#include <sys/socket.h>

#include "balance/pool.h"

namespace pen::balance {

void Pool::transparentFailed(const View& v, const net::Addr& client, int server, const net::TransparentBind& tb,
                             int64_t nowMs) {
  const ServerConf* sc = conf(*v.snap, server);
  int family = sc ? sc->addr.family() : AF_UNSPEC;
  int cause = int(tb.result) << 16 | (tb.err & 0xffff);
  uint64_t n = transparentFailures.note(cause, nowMs);
  if (n == 0) return;
  events::Record r;
  r.kind = events::Record::kLog;
  r.level = 0;
  r.text = "transparent: " + net::describeTransparency(tb.result, tb.err, family) +
           (n == 1 ? "; client " + client.host() + " to " + describe(*v.snap, server) +
                         " went out from pen's own address, as will others for this cause (counted in status; "
                         "logged at most once a minute)"
                   : "; " + std::to_string(n) + " more connections went out from pen's own address");
  events_.push(std::move(r));
}

}  // namespace pen::balance
