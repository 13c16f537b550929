#include "dsr/frame.h"

namespace pen::dsr {

void Processor::configure(Config c) {
  cfg_ = std::move(c);
  for (auto& [ip, n] : neighbors_) n.listed = false;
  for (uint32_t ip : cfg_.backends) {
    if (ip == 0) continue;
    auto it = neighbors_.find(ip);
    if (it == neighbors_.end()) {
      if (neighbors_.size() >= kMaxNeighbors) continue;
      it = neighbors_.emplace(ip, Neighbor{}).first;
    }
    it->second.listed = true;
  }
  // Addresses no longer listed lose their held frames; learned MACs of unlisted addresses are
  // kept only while known (a chooser may still return them until its own snapshot changes).
  for (auto it = neighbors_.begin(); it != neighbors_.end();) {
    Neighbor& n = it->second;
    if (!n.listed) {
      stats_.queueDrops += n.held.size();
      n.held.clear();
      if (!n.known) {
        it = neighbors_.erase(it);
        continue;
      }
    }
    ++it;
  }
}

const Mac* Processor::macOf(uint32_t ip) const {
  auto it = neighbors_.find(ip);
  return it != neighbors_.end() && it->second.known ? &it->second.mac : nullptr;
}

void Processor::handle(uint8_t* frame, size_t len, uint64_t nowMs, FrameSink& out) {
  Parsed p;
  if (!parse(frame, len, p)) {
    stats_.malformed++;
    return;
  }
  if (p.arp) return handleArp(p, out);
  if (!p.ipv4 || loadMac(frame) != cfg_.mac) return;  // not IPv4 to us: the kernel's business
  if (p.dst == cfg_.vip) return handleVip(frame, len, p, nowMs, out);
  if (!cfg_.udp && cfg_.tarpit && p.proto == kProtoTcp && cfg_.tarpit(p.dst)) handleTarpit(p, frame, out);
}

void Processor::handleArp(const Parsed& p, FrameSink& out) {
  if (p.arpSha == cfg_.mac || !unicastMac(p.arpSha)) return;
  if (p.arpOp == kArpRequest && p.arpSpa != p.arpTpa) {
    // a question; a gratuitous request (sender == target) announces, it does not ask
    if (p.arpTpa == cfg_.vip || (cfg_.tarpit && p.arpTpa != 0 && cfg_.tarpit(p.arpTpa))) {
      uint8_t reply[kMinFrame];
      size_t n = buildArpReply(reply, cfg_.mac, p.arpTpa, p.arpSha, p.arpSpa);
      if (out.send(reply, n)) stats_.arpReplies++;
      else stats_.txFailures++;
    }
    return;
  }
  if (p.arpOp == kArpReply || p.arpOp == kArpRequest) learn(p.arpSpa, p.arpSha, out);
}

void Processor::learn(uint32_t ip, const Mac& mac, FrameSink& out) {
  auto it = neighbors_.find(ip);
  if (it == neighbors_.end()) return;  // only backends' addresses are learned
  Neighbor& n = it->second;
  if (!n.known || n.mac != mac) stats_.macsLearned++;
  n.mac = mac;
  n.known = true;
  while (!n.held.empty()) {
    Held& h = n.held.front();
    forward(h.frame.data(), h.frame.size(), h.server, n.mac, out);
    n.held.pop_front();
  }
}

void Processor::handleVip(uint8_t* frame, size_t len, const Parsed& p, uint64_t nowMs, FrameSink& out) {
  if (p.proto != (cfg_.udp ? kProtoUdp : kProtoTcp)) return;
  if (cfg_.port != 0 && (p.l4 == 0 || p.dport != cfg_.port)) return;
  FlowKey key;
  key.family = 4;
  key.proto = p.proto;
  key.sport = p.sport;
  key.dport = p.dport;
  storeIp(key.src.data(), p.src);
  storeIp(key.dst.data(), p.dst);
  const Choice c = chooser_.choose(key);
  if (c.server < 0 || c.server >= kMaxServer || c.ipv4 == 0) {
    stats_.noServer++;
    return;
  }
  auto it = neighbors_.find(c.ipv4);
  if (it == neighbors_.end()) {
    if (neighbors_.size() >= kMaxNeighbors) {
      stats_.noServer++;
      return;
    }
    it = neighbors_.emplace(c.ipv4, Neighbor{}).first;
  }
  Neighbor& n = it->second;
  if (n.known) {
    forward(frame, len, c.server, n.mac, out);
    return;
  }
  if (len > kMaxFrame) {
    stats_.queueDrops++;
  } else {
    if (n.held.size() >= kQueuePerBackend) {
      n.held.pop_front();  // keep the newest: a retransmission supersedes the oldest
      stats_.queueDrops++;
    }
    n.held.push_back(Held{std::vector<uint8_t>(frame, frame + len), c.server, nowMs});
    stats_.queued++;
  }
  if (!n.requested || nowMs - n.requestedMs >= kRetryMs) request(c.ipv4, n, nowMs, out);
}

bool Processor::forward(uint8_t* frame, size_t len, int server, const Mac& to, FrameSink& out) {
  storeMac(frame, to);
  storeMac(frame + 6, cfg_.mac);
  if (!out.send(frame, len)) {
    stats_.txFailures++;
    return false;
  }
  stats_.forwarded++;
  stats_.forwardedBytes += len;
  addCount(server, len);
  return true;
}

void Processor::addCount(int server, size_t bytes) {
  if (size_t(server) >= batch_.size()) batch_.resize(size_t(server) + 1);
  auto& c = batch_[size_t(server)];
  if (c.first == 0) touched_.push_back(server);
  c.first++;
  c.second += bytes;
}

void Processor::endBatch() {
  for (int s : touched_) {
    auto& c = batch_[size_t(s)];
    chooser_.count(s, c.first, c.second);
    c = {0, 0};
  }
  touched_.clear();
  chooser_.refresh();
}

/* Not a secret: a tarpit only has to look like a host; the initial sequence number varies per
   4-tuple so that scanners do not see one constant. */
static uint32_t tarpitIss(const Parsed& p) {
  uint64_t h = (uint64_t(p.src) << 32 | p.dst) ^ (uint64_t(p.sport) << 16 | p.dport) * 0x9e3779b97f4a7c15ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return uint32_t(h);
}

void Processor::handleTarpit(const Parsed& p, const uint8_t* frame, FrameSink& out) {
  const bool syn = p.l4 != 0 && (p.tcpFlags & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn;
  if (!syn) {
    stats_.tarpitDrops++;
    return;
  }
  uint8_t reply[kMinFrame];
  size_t n = buildSynAck(reply, p, loadMac(frame + 6), cfg_.mac, tarpitIss(p));
  if (out.send(reply, n)) stats_.tarpitSyns++;
  else stats_.txFailures++;
}

void Processor::request(uint32_t ip, Neighbor& n, uint64_t nowMs, FrameSink& out) {
  uint8_t req[kMinFrame];
  size_t len = buildArpRequest(req, cfg_.mac, 0, ip);  // sender IP 0.0.0.0: pen has no address there
  n.requested = true;
  n.requestedMs = nowMs;
  if (out.send(req, len)) stats_.arpRequests++;
  else stats_.txFailures++;
}

void Processor::tick(uint64_t nowMs, FrameSink& out) {
  if (ticked_ && nowMs - lastTickMs_ < kRetryMs) return;
  const bool refresh = !ticked_ || nowMs - lastRefreshMs_ >= kRefreshMs;
  ticked_ = true;
  lastTickMs_ = nowMs;
  if (refresh) lastRefreshMs_ = nowMs;
  for (auto& [ip, n] : neighbors_) {
    while (!n.held.empty() && nowMs - n.held.front().atMs >= kHoldMs) {
      n.held.pop_front();
      stats_.queueDrops++;
    }
    if ((n.listed || !n.held.empty()) && (refresh || !n.known)) request(ip, n, nowMs, out);
  }
}

}  // namespace pen::dsr
