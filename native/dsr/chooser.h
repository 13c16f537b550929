// The one question the DSR plane asks the balancing pool: "which server gets this flow?".
// The frame module (dsr/frame.h) never chooses a server itself; the pool (native/balance/)
// implements this interface with its one select routine, so DSR follows the same servers,
// weights, blacklists, health and algorithm as the TCP and UDP planes. Tests use a table.
#pragma once
#include <array>
#include <cstdint>

namespace pen::dsr {

/* What identifies a flow in a frame travelling client -> VIP. Addresses are the wire bytes
   (IPv4: the first 4 bytes of src/dst, the rest zero). Ports are in host order; both are 0
   for a frame without a transport header (a non-first IP fragment), so a chooser that wants
   fragments of one datagram to go together must not depend on ports. */
struct FlowKey {
  uint8_t family = 4;  // 4 (IPv6 is not forwarded yet)
  uint8_t proto = 0;   // 6 (TCP) or 17 (UDP)
  uint16_t sport = 0, dport = 0;
  std::array<uint8_t, 16> src{}, dst{};
};

/* A server picked for a flow: its pool index and its IPv4 address (wire bytes in a uint32_t,
   as dsr/packet.h keeps them). server < 0: no server can take the flow (the frame is dropped
   and counted). */
struct Choice {
  int server = -1;
  uint32_t ipv4 = 0;
};

/* Contract, for implementers:
   - Called only on the DSR plane's thread, once per forwarded frame (choose) and at most once
     per server per receive batch (count). Must not block and must not allocate per call.
   - choose() must be a pure function of the key and the current server set: DSR sees only
     the client -> server half of a TCP connection and never learns that it ended, so every
     frame of a flow must get the same answer as long as servers, weights, blacklists and
     health are unchanged (a hash of the client, Pen's DSR table, or Maglev). It must not
     count connections. It returns a server whose address is IPv4 and not 0.0.0.0.
   - count() adds frames/bytes (whole Ethernet frames, as sent) to the server's counters that
     `servers`/`status` show; server is an index choose() returned in this batch.
   - refresh() is called after every receive batch (so at least once a second): the place to
     notice a changed server set (new snapshot, blacklist, health) and rebuild derived tables,
     so that choose() itself stays a lookup.
   - Thread safety against the control thread (snapshot swaps, stats reads) is the
     implementer's business. */
class Chooser {
 public:
  virtual ~Chooser() = default;
  virtual Choice choose(const FlowKey& flow) = 0;
  virtual void count(int server, uint64_t frames, uint64_t bytes) = 0;
  virtual void refresh() {}
};

}  // namespace pen::dsr
