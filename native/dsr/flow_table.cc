#include "dsr/flow_table.h"

namespace pen::dsr {

bool FlowTable::build(const std::vector<Server>& servers) {
  slots_.fill(Choice{});
  empty_ = servers.empty();
  if (empty_) return false;
  int64_t weightLeft = 0;
  for (const Server& s : servers) weightLeft += s.weight > 0 ? s.weight : 1;
  int slotsLeft = kSlots;
  int pos = 0;
  for (const Server& s : servers) {
    const int64_t w = s.weight > 0 ? s.weight : 1;
    const int share = int(int64_t(slotsLeft) * w / weightLeft);
    for (int k = 0; k < share; k++) {
      slots_[size_t(pos)] = Choice{s.server, s.ipv4};
      pos = (pos + 3) % kSlots;
    }
    slotsLeft -= share;
    weightLeft -= w;
  }
  return true;
}

uint8_t FlowTable::hash(const FlowKey& k, bool ports) {
  uint8_t h = uint8_t(k.src[0] ^ k.src[1] ^ k.src[2] ^ k.src[3]);
  if (ports) h = uint8_t(h ^ (k.sport >> 8) ^ (k.sport & 0xff));
  return h;
}

}  // namespace pen::dsr
