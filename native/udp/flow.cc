#include "udp/flow.h"

#include <cstring>

namespace pen::udp {

bool Local::operator==(const Local& o) const {
  return family == o.family && ifindex == o.ifindex && memcmp(addr, o.addr, sizeof addr) == 0;
}

FlowKey flowKeyOf(const net::Addr& client) {
  net::AddrKey a = net::keyOf(client);
  FlowKey k;
  uint8_t b[24] = {};
  memcpy(b, a.b.data(), a.b.size());  // 17 bytes: family tag + address
  uint16_t port = uint16_t(client.port());
  memcpy(b + 17, &port, 2);
  memcpy(k.w, b, sizeof k.w);
  return k;
}

Flow* FlowTable::alloc(const FlowKey& key, const net::Addr& client) {
  Flow* f;
  if (!free_.empty()) {
    f = slots_[free_.back()].get();
    free_.pop_back();
  } else {
    if (slots_.size() >= 0x3fffffff) return nullptr;
    slots_.push_back(std::make_unique<Flow>());
    f = slots_.back().get();
    f->id = uint32_t(slots_.size() - 1);
  }
  uint32_t id = f->id, gen = f->gen, epoch = f->stageEpoch;
  std::vector<char> last = std::move(f->last);
  *f = Flow{};
  f->id = id;
  f->gen = gen;
  f->stageEpoch = epoch;
  f->last = std::move(last);
  f->last.clear();
  f->used = true;
  f->key = key;
  f->client = client;
  index_[key] = f->id;
  pushFront(*f);
  return f;
}

void FlowTable::release(Flow& f) {
  if (!f.used) return;
  unlink(f);
  index_.erase(f.key);
  f.used = false;
  f.gen++;
  free_.push_back(f.id);
}

void FlowTable::touch(Flow& f) {
  if (head_ == int(f.id)) return;
  unlink(f);
  pushFront(f);
}

void FlowTable::unlink(Flow& f) {
  if (f.prev >= 0) slots_[size_t(f.prev)]->next = f.next;
  else head_ = f.next;
  if (f.next >= 0) slots_[size_t(f.next)]->prev = f.prev;
  else tail_ = f.prev;
  f.prev = f.next = -1;
}

void FlowTable::pushFront(Flow& f) {
  f.prev = -1;
  f.next = head_;
  if (head_ >= 0) slots_[size_t(head_)]->prev = int(f.id);
  head_ = int(f.id);
  if (tail_ < 0) tail_ = int(f.id);
}

}  // namespace pen::udp
