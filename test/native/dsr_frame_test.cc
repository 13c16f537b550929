// DSR frame processing as tables: frame(s) in -> frame(s) out (native/dsr/frame.h).
#include <gtest/gtest.h>

#include "dsr_frames.h"

namespace pen::dsr::test {
namespace {

const Mac kPen = mac(0x10), kClient = mac(0x20), kGateway = mac(0x21), kB1 = mac(0x31), kB2 = mac(0x32);
const uint32_t kVip = ip(10, 0, 0, 100), kClientIp = ip(10, 0, 0, 1), kClient2Ip = ip(10, 0, 0, 2);
const uint32_t kB1Ip = ip(10, 0, 0, 11), kB2Ip = ip(10, 0, 0, 12), kTrap = ip(10, 0, 0, 66);
const uint16_t kPort = 80;

struct Fixture {
  TableChooser chooser;
  Recorder out;
  Processor proc{chooser};
  uint64_t now = 1000000;

  explicit Fixture(uint16_t port = kPort, bool udp = false, bool tarpit = true) {
    Config c;
    c.mac = kPen;
    c.vip = kVip;
    c.port = port;
    c.udp = udp;
    c.backends = {kB1Ip, kB2Ip, 0};
    if (tarpit) c.tarpit = [](uint32_t a) { return a == kTrap; };
    proc.configure(c);
    chooser.bySource[kClientIp] = Choice{0, kB1Ip};
    chooser.bySource[kClient2Ip] = Choice{1, kB2Ip};
  }
  std::vector<Bytes> feed(Bytes f) {
    out.sent.clear();
    proc.handle(f.data(), f.size(), now, out);
    return out.sent;
  }
  void learnAll() {
    feed(arp(kPen, kB1, 2, kB1, kB1Ip, kPen, 0));
    feed(arp(kPen, kB2, 2, kB2, kB2Ip, kPen, 0));
    out.sent.clear();
  }
};

Seg toVip(uint32_t src = kClientIp, uint16_t dport = kPort, uint8_t proto = 6) {
  Seg s{kPen, kGateway, src, kVip, 40000, dport, 6, 0x02, 1000, 64240, {}, {}};
  s.proto = proto;
  s.payload = {'G', 'E', 'T'};
  return s;
}

// ---- ARP -------------------------------------------------------------------------------

struct ArpCase {
  const char* name;
  Bytes in;
  std::vector<Bytes> out;
};

TEST(DsrArp, Table) {
  const Mac zero{};
  const ArpCase cases[] = {
      {"request for the VIP is answered with our MAC",
       arp(kBroadcastMac, kClient, 1, kClient, kClientIp, zero, kVip),
       {arp(kClient, kPen, 2, kPen, kVip, kClient, kClientIp)}},
      {"request for a tarpitted address is answered",
       arp(kBroadcastMac, kClient, 1, kClient, kClientIp, zero, kTrap),
       {arp(kClient, kPen, 2, kPen, kTrap, kClient, kClientIp)}},
      {"probe (sender 0.0.0.0) for the VIP is answered to the prober",
       arp(kBroadcastMac, kClient, 1, kClient, 0, zero, kVip),
       {arp(kClient, kPen, 2, kPen, kVip, kClient, 0)}},
      {"request for another address is ignored",
       arp(kBroadcastMac, kClient, 1, kClient, kClientIp, zero, ip(10, 0, 0, 99)), {}},
      {"gratuitous request for the VIP is not answered",
       arp(kBroadcastMac, kClient, 1, kClient, kVip, zero, kVip), {}},
      {"our own request is not answered",
       arp(kBroadcastMac, kPen, 1, kPen, kClientIp, zero, kVip), {}},
      {"request from a broadcast sender MAC is ignored",
       arp(kBroadcastMac, kClient, 1, kBroadcastMac, kClientIp, zero, kVip), {}},
      {"a reply is never answered",
       arp(kPen, kClient, 2, kClient, kClientIp, kPen, kVip), {}},
  };
  for (const auto& c : cases) {
    Fixture fx;
    EXPECT_EQ(fx.feed(c.in), c.out) << c.name;
  }
}

TEST(DsrArp, LearnsBackendMacsFromRepliesAndGratuitous) {
  Fixture fx;
  EXPECT_EQ(fx.proc.macOf(kB1Ip), nullptr);
  EXPECT_TRUE(fx.feed(arp(kPen, kB1, 2, kB1, kB1Ip, kPen, 0)).empty());
  ASSERT_NE(fx.proc.macOf(kB1Ip), nullptr);
  EXPECT_EQ(*fx.proc.macOf(kB1Ip), kB1);
  // gratuitous request from backend 2
  fx.feed(arp(kBroadcastMac, kB2, 1, kB2, kB2Ip, Mac{}, kB2Ip));
  ASSERT_NE(fx.proc.macOf(kB2Ip), nullptr);
  EXPECT_EQ(*fx.proc.macOf(kB2Ip), kB2);
  // a MAC change is learned
  fx.feed(arp(kPen, mac(0x41), 2, mac(0x41), kB1Ip, kPen, 0));
  EXPECT_EQ(*fx.proc.macOf(kB1Ip), mac(0x41));
  EXPECT_EQ(fx.proc.stats().macsLearned, 3u);
  // replies from non-backends, or with a group MAC, teach nothing
  fx.feed(arp(kPen, kClient, 2, kClient, kClientIp, kPen, 0));
  EXPECT_EQ(fx.proc.macOf(kClientIp), nullptr);
  fx.feed(arp(kPen, kB2, 2, Mac{0x01, 0, 0x5e, 0, 0, 1}, kB2Ip, kPen, 0));
  EXPECT_EQ(*fx.proc.macOf(kB2Ip), kB2);
}

TEST(DsrArp, TickRequestsUnknownEverySecondAndAllEveryMinute) {
  Fixture fx;
  const Bytes req1 = arp(kBroadcastMac, kPen, 1, kPen, 0, Mac{}, kB1Ip);
  const Bytes req2 = arp(kBroadcastMac, kPen, 1, kPen, 0, Mac{}, kB2Ip);
  auto tick = [&](uint64_t at) {
    fx.out.sent.clear();
    fx.proc.tick(at, fx.out);
    std::sort(fx.out.sent.begin(), fx.out.sent.end());
    return fx.out.sent;
  };
  std::vector<Bytes> both{req1, req2};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(tick(fx.now), both) << "first tick asks for every backend, sender IP 0.0.0.0";
  EXPECT_TRUE(tick(fx.now + 500).empty()) << "not again within a second";
  fx.feed(arp(kPen, kB1, 2, kB1, kB1Ip, kPen, 0));
  EXPECT_EQ(tick(fx.now + 1000), std::vector<Bytes>{req2}) << "only the unknown one after a second";
  EXPECT_EQ(tick(fx.now + 2000), std::vector<Bytes>{req2});
  fx.feed(arp(kPen, kB2, 2, kB2, kB2Ip, kPen, 0));
  EXPECT_TRUE(tick(fx.now + 3000).empty());
  EXPECT_EQ(tick(fx.now + 60000), both) << "everyone again after a minute";
}

// ---- forwarding ------------------------------------------------------------------------

struct FwdCase {
  const char* name;
  uint16_t port;  // the listen port (0 = all)
  bool udp;
  Bytes in;
  std::vector<Bytes> out;
};

TEST(DsrForward, Table) {
  const Bytes tcp = segment(toVip());
  const Bytes tcp2 = segment(toVip(kClient2Ip));
  const Bytes tcp8080 = segment(toVip(kClientIp, 8080));
  const Bytes udp = segment(toVip(kClientIp, kPort, 17));
  Seg notUs = toVip();
  notUs.ethDst = mac(0x77);
  Seg icmpish = toVip();
  icmpish.proto = 1;
  Seg nobody = toVip(ip(10, 0, 0, 3));
  Seg other = toVip();
  other.dst = ip(10, 0, 0, 101);
  Bytes vlan = tcp;
  vlan[12] = 0x81;
  vlan[13] = 0x00;
  const FwdCase cases[] = {
      {"TCP to the VIP goes to the chosen backend, IP untouched", kPort, false, tcp, {withMacs(tcp, kB1, kPen)}},
      {"another client goes where the chooser says", kPort, false, tcp2, {withMacs(tcp2, kB2, kPen)}},
      {"port filter: another port is ignored", kPort, false, tcp8080, {}},
      {"port 0 forwards every port", 0, false, tcp8080, {withMacs(tcp8080, kB1, kPen)}},
      {"UDP is ignored by the TCP plane", kPort, false, udp, {}},
      {"UDP plane forwards UDP", kPort, true, udp, {withMacs(udp, kB1, kPen)}},
      {"UDP plane ignores TCP", kPort, true, tcp, {}},
      {"frame to another MAC is ignored", kPort, false, segment(notUs), {}},
      {"other IP protocols to the VIP are ignored", 0, false, segment(icmpish), {}},
      {"other destination addresses are ignored", kPort, false, segment(other), {}},
      {"no server for the client: dropped", kPort, false, segment(nobody), {}},
      {"VLAN-tagged frames are ignored", kPort, false, vlan, {}},
  };
  for (const auto& c : cases) {
    Fixture fx(c.port, c.udp);
    fx.learnAll();
    EXPECT_EQ(fx.feed(c.in), c.out) << c.name;
    for (const auto& f : fx.out.sent) {
      EXPECT_TRUE(ipChecksumOk(f)) << c.name;
      EXPECT_TRUE(l4ChecksumOk(f)) << c.name;
    }
  }
}

TEST(DsrForward, CountsPerServerPerBatch) {
  Fixture fx;
  fx.learnAll();
  const Bytes a = segment(toVip()), b = segment(toVip(kClient2Ip));
  fx.feed(a);
  fx.feed(a);
  fx.feed(b);
  EXPECT_TRUE(fx.chooser.counted.empty()) << "counts go to the chooser at the end of a batch";
  fx.proc.endBatch();
  EXPECT_EQ(fx.chooser.counted[0], std::make_pair(uint64_t(2), uint64_t(2 * a.size())));
  EXPECT_EQ(fx.chooser.counted[1], std::make_pair(uint64_t(1), uint64_t(b.size())));
  fx.proc.endBatch();
  EXPECT_EQ(fx.chooser.counted[0].first, 2u) << "a batch is counted once";
  Fixture nobody;
  nobody.learnAll();
  nobody.feed(segment(toVip(ip(10, 0, 0, 3))));
  EXPECT_EQ(nobody.proc.stats().noServer, 1u);
}

TEST(DsrForward, SinkFullIsCountedNotForwarded) {
  Fixture fx;
  fx.learnAll();
  fx.out.full = true;
  Bytes f = segment(toVip());
  fx.proc.handle(f.data(), f.size(), fx.now, fx.out);
  fx.proc.endBatch();
  EXPECT_EQ(fx.proc.stats().txFailures, 1u);
  EXPECT_EQ(fx.proc.stats().forwarded, 0u);
  EXPECT_TRUE(fx.chooser.counted.empty());
}

// ---- frames held for an unknown backend MAC ---------------------------------------------

TEST(DsrQueue, HeldFrameLeavesRewrittenWhenTheMacIsLearned) {
  Fixture fx;
  const Bytes f = segment(toVip());
  // unknown MAC: nothing forwarded, one ARP request for that backend (sender 0.0.0.0)
  EXPECT_EQ(fx.feed(f), std::vector<Bytes>{arp(kBroadcastMac, kPen, 1, kPen, 0, Mac{}, kB1Ip)});
  EXPECT_EQ(fx.proc.stats().queued, 1u);
  // a second frame within a second: held, no second request
  EXPECT_TRUE(fx.feed(f).empty());
  // the reply releases both, rewritten (never the unmodified frame)
  EXPECT_EQ(fx.feed(arp(kPen, kB1, 2, kB1, kB1Ip, kPen, 0)), (std::vector<Bytes>{withMacs(f, kB1, kPen), withMacs(f, kB1, kPen)}));
  fx.proc.endBatch();
  EXPECT_EQ(fx.chooser.counted[0].first, 2u);
  // and the next frame goes straight through
  EXPECT_EQ(fx.feed(f), std::vector<Bytes>{withMacs(f, kB1, kPen)});
}

TEST(DsrQueue, BoundedPerBackendKeepsTheNewest) {
  Fixture fx;
  const size_t n = Processor::kQueuePerBackend + 6;
  for (size_t i = 0; i < n; i++) {
    Seg s = toVip();
    s.seq = uint32_t(i);
    fx.feed(segment(s));
  }
  EXPECT_EQ(fx.proc.stats().queueDrops, 6u);
  auto out = fx.feed(arp(kPen, kB1, 2, kB1, kB1Ip, kPen, 0));
  ASSERT_EQ(out.size(), Processor::kQueuePerBackend);
  Seg first = toVip();
  first.seq = 6;
  EXPECT_EQ(out.front(), withMacs(segment(first), kB1, kPen));
}

TEST(DsrQueue, HeldFramesExpireAndGoWithTheirBackend) {
  Fixture fx;
  fx.feed(segment(toVip()));
  fx.out.sent.clear();
  fx.proc.tick(fx.now + Processor::kHoldMs, fx.out);
  EXPECT_EQ(fx.proc.stats().queueDrops, 1u);
  EXPECT_TRUE(fx.feed(arp(kPen, kB1, 2, kB1, kB1Ip, kPen, 0)).empty()) << "an expired frame is not sent";
  // a backend removed from the configuration loses its held frames
  fx.feed(segment(toVip(kClient2Ip)));
  Config c = fx.proc.config();
  c.backends = {kB1Ip};
  fx.proc.configure(c);
  EXPECT_EQ(fx.proc.stats().queueDrops, 2u);
}

// ---- tarpit ----------------------------------------------------------------------------

Seg synTo(uint32_t dst, Bytes options) {
  Seg s{kPen, kClient, kClientIp, dst, 51234, 22, 6, 0x02, 1000, 64240, {}, {}};
  s.seq = 0xfffffff0u;  // acknowledgement wraps
  s.window = 29200;
  s.options = std::move(options);
  return s;
}

TEST(DsrTarpit, SynAckIsCorrectForAnyOptionLength) {
  const Bytes linuxOpts = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};  // 20 bytes
  const std::vector<Bytes> optionSets = {{}, {2, 4, 5, 0xb4}, {2, 4, 5, 0xb4, 1, 1, 4, 2}, linuxOpts,
                                         Bytes(40, 1)};
  for (const Bytes& opts : optionSets) {
    Fixture fx;
    const Seg syn = synTo(kTrap, opts);
    auto out = fx.feed(segment(syn));
    ASSERT_EQ(out.size(), 1u) << opts.size() << " option bytes";
    const Bytes& r = out[0];
    ASSERT_EQ(r.size(), 60u);
    EXPECT_EQ(Mac(loadMac(r.data())), kClient);
    EXPECT_EQ(Mac(loadMac(r.data() + 6)), kPen);
    EXPECT_EQ(r[12] * 256 + r[13], 0x0800);
    EXPECT_EQ(r[14], 0x45) << "20-byte IP header";
    EXPECT_EQ(r[16] * 256 + r[17], 40) << "IP total length: headers only";
    EXPECT_EQ(r[23], 6);
    EXPECT_EQ(loadIp(r.data() + 26), kTrap);
    EXPECT_EQ(loadIp(r.data() + 30), kClientIp);
    EXPECT_EQ(load16(r.data() + 34), 22) << "source port = the SYN's destination port";
    EXPECT_EQ(load16(r.data() + 36), 51234);
    EXPECT_EQ(load32(r.data() + 42), 0xfffffff1u) << "ack = SYN seq + 1";
    EXPECT_EQ(r[46], 0x50) << "no options";
    EXPECT_EQ(r[47], 0x12) << "SYN+ACK";
    EXPECT_EQ(load16(r.data() + 48), 29200);
    EXPECT_TRUE(ipChecksumOk(r));
    EXPECT_TRUE(l4ChecksumOk(r)) << opts.size() << " option bytes";
    EXPECT_EQ(fx.proc.stats().tarpitSyns, 1u);
  }
}

TEST(DsrTarpit, OnlySynsAreAnswered) {
  struct Case {
    const char* name;
    uint8_t flags;
    uint32_t dst;
    bool udpPlane;
    size_t out;
  };
  const Case cases[] = {
      {"SYN to a tarpitted address", 0x02, kTrap, false, 1},
      {"ACK to a tarpitted address is dropped", 0x10, kTrap, false, 0},
      {"SYN+ACK is dropped", 0x12, kTrap, false, 0},
      {"RST is dropped", 0x04, kTrap, false, 0},
      {"SYN to an address not in the list", 0x02, ip(10, 0, 0, 67), false, 0},
      {"no tarpit in the UDP plane", 0x02, kTrap, true, 0},
  };
  for (const auto& c : cases) {
    Fixture fx(kPort, c.udpPlane);
    Seg s = synTo(c.dst, {});
    s.flags = c.flags;
    EXPECT_EQ(fx.feed(segment(s)).size(), c.out) << c.name;
  }
}

TEST(DsrTarpit, TheVipIsNeverTarpitted) {
  Fixture fx;
  Config c = fx.proc.config();
  c.tarpit = [](uint32_t) { return true; };
  fx.proc.configure(c);
  fx.learnAll();
  const Bytes f = segment(toVip());
  EXPECT_EQ(fx.feed(f), std::vector<Bytes>{withMacs(f, kB1, kPen)});
  EXPECT_EQ(fx.proc.stats().tarpitSyns, 0u);
}

// ---- malformed frames --------------------------------------------------------------------

TEST(DsrMalformed, DroppedSafely) {
  const Bytes good = segment(toVip());
  struct Case {
    const char* name;
    Bytes in;
  };
  std::vector<Case> cases;
  for (size_t n : {size_t(0), size_t(5), size_t(13), size_t(14), size_t(20), size_t(33), size_t(40), size_t(53)})
    cases.push_back({"truncated frame", Bytes(good.begin(), good.begin() + long(n))});
  Bytes ihl = good;
  ihl[14] = 0x44;
  cases.push_back({"IPv4 header length < 20", ihl});
  Bytes longer = good;
  longer[17] = uint8_t(longer[17] + 1);
  cases.push_back({"IP total length past the frame", longer});
  Bytes v6 = good;
  v6[14] = 0x65;
  cases.push_back({"version 6 in an IPv4 EtherType", v6});
  Bytes off = good;
  off[46] = 0x40;
  cases.push_back({"TCP data offset < 5", off});
  Bytes off2 = good;
  off2[46] = 0xf0;
  cases.push_back({"TCP data offset past the packet", off2});
  Bytes arpShort = arp(kBroadcastMac, kClient, 1, kClient, kClientIp, Mac{}, kVip);
  arpShort.resize(40);
  cases.push_back({"ARP body truncated", arpShort});
  for (const auto& c : cases) {
    Fixture fx;
    fx.learnAll();
    Bytes in = c.in;
    // hand the processor an exact-size heap buffer so that ASan would see a read past it
    auto buf = std::make_unique<uint8_t[]>(in.size() + 1);
    std::copy(in.begin(), in.end(), buf.get());
    fx.proc.handle(buf.get(), in.size(), fx.now, fx.out);
    EXPECT_TRUE(fx.out.sent.empty()) << c.name << " (" << in.size() << " bytes)";
    EXPECT_EQ(fx.proc.stats().forwarded, 0u) << c.name;
  }
}

TEST(DsrMalformed, TrailingPaddingIsForwardedAsReceived) {
  // a short frame padded to 60 bytes: IP length decides, the padding travels unchanged
  Fixture fx;
  fx.learnAll();
  Seg s = toVip();
  s.payload.clear();
  Bytes f = segment(s);
  f.resize(60, 0);
  EXPECT_EQ(fx.feed(f), std::vector<Bytes>{withMacs(f, kB1, kPen)});
}

}  // namespace
}  // namespace pen::dsr::test

namespace pen::dsr::test {
namespace {

TEST(DsrChecksum, CompletesAnOffloadedChecksum) {
  struct Case {
    const char* name;
    uint8_t proto;
    size_t field;  // checksum offset in the frame
  };
  const Case cases[] = {{"TCP", 6, 14 + 20 + 16}, {"UDP", 17, 14 + 20 + 6}};
  for (const auto& c : cases) {
    Seg s = toVip(kClientIp, kPort, c.proto);
    const Bytes good = segment(s);
    Bytes partial = good;
    partial[c.field] = 0x12;  // what an offload leaves: not the final checksum
    partial[c.field + 1] = 0x34;
    EXPECT_FALSE(l4ChecksumOk(partial)) << c.name;
    EXPECT_TRUE(completeChecksum(partial.data(), partial.size())) << c.name;
    EXPECT_EQ(partial, good) << c.name;
  }
  Bytes a = arp(kBroadcastMac, kClient, 1, kClient, kClientIp, Mac{}, kVip);
  EXPECT_FALSE(completeChecksum(a.data(), a.size())) << "not IPv4: untouched";
}

}  // namespace
}  // namespace pen::dsr::test
