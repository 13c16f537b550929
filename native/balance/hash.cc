// Hash of the client address, Pen-compatible for IPv4 (spec/selection.md "by_hash"): the four
// address bytes read as a little-endian 32-bit number, XORed with the port bytes read the same
// way when hashPort is on, modulo the number of servers. The result is the same on every
// architecture (Pen's depends on the host byte order; this reproduces its x86 answers).
// IPv6 (Pen: last byte only) folds all 16 bytes so that clients spread. Unix clients: 0.
// When the hashed server is unavailable the scan continues with the next index, as Pen's
// connect-time rejection + failover would.
#include "balance/algorithm.h"

namespace pen::balance {
namespace {

uint32_t le32(const uint8_t* b) { return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24; }

class Hash final : public Algorithm {
 public:
  int pick(const PickContext& ctx) override {
    int n = ctx.size();
    if (n == 0) return kNone;
    if (ctx.failedFrom >= 0) return ctx.scanFrom(ctx.failedFrom + 1);
    return ctx.scanFrom(int(value(ctx) % uint32_t(n)));
  }

  static uint32_t value(const PickContext& ctx) {
    const uint8_t* a = net::keyBytes(ctx.client);
    uint32_t h = 0;
    if (net::keyIsV4(ctx.client)) {
      h = le32(a + 12);
      if (ctx.snap.hashPort) {
        // the port field in network order, read as a little-endian 16-bit number
        uint16_t p = uint16_t(ctx.clientPort);
        h ^= uint32_t((p >> 8) | ((p & 0xff) << 8));
      }
    } else if (ctx.client.b[0] == 6) {
      for (int i = 0; i < 16; i += 4) h ^= le32(a + i);
    }
    return h;
  }
};

}  // namespace

std::unique_ptr<Algorithm> makeHash() { return std::make_unique<Hash>(); }

}  // namespace pen::balance
