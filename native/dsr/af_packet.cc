// Linux back end of dsr/port.h: one AF_PACKET socket bound to the interface, with a
// TPACKET_V2 receive ring and transmit ring mapped into memory (PACKET_MMAP), so that a batch
// of frames costs one poll wake-up and one send() kick instead of a syscall per frame.
// Frames the host sends (PACKET_OUTGOING, or PACKET_IGNORE_OUTGOING where available) and
// VLAN-tagged frames (the kernel strips the tag into the ring header) are skipped. The
// transmit path bypasses the qdisc layer (PACKET_QDISC_BYPASS), as DSR frames are forwarded,
// not originated.
#include "dsr/port.h"

#ifdef __linux__
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/fd.h"

namespace pen::dsr {
namespace {

// Ring geometry: slots of kSlot bytes (frames up to kSlot minus a 66-byte header: an MTU of
// 1500 fits, jumbo frames are counted as oversize and dropped), kBlock-byte blocks. Receive:
// 8192 slots (16 MiB: about 80 ms at 100k frames/s while the loop is not scheduled);
// transmit: 2048 slots (4 MiB).
constexpr unsigned kSlot = 2048;
constexpr unsigned kBlock = 1 << 20;
constexpr unsigned kRxBlocks = 16, kTxBlocks = 4;

class AfPacketPort final : public Port {
 public:
  ~AfPacketPort() override {
    if (ring_ != MAP_FAILED) munmap(ring_, ringBytes_);
  }

  bool open(const std::string& ifname, std::string& err) {
    auto fail = [&](const char* what) {
      err = "dsr_if " + ifname + ": " + what + ": " + strerror(errno);
      return false;
    };
    if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
      err = "dsr_if '" + ifname + "': not an interface name";
      return false;
    }
    const unsigned index = if_nametoindex(ifname.c_str());
    if (index == 0) {
      err = "dsr_if " + ifname + ": no such interface";
      return false;
    }
    fd_.reset(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)));
    if (!fd_.valid()) return fail("raw socket (needs CAP_NET_RAW)");
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
    if (ioctl(fd_.get(), SIOCGIFHWADDR, &ifr) < 0) return fail("reading its MAC address");
    if (ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */) {
      err = "dsr_if " + ifname + ": not an Ethernet interface";
      return false;
    }
    std::memcpy(mac_.data(), ifr.ifr_hwaddr.sa_data, 6);
    int v = TPACKET_V2;
    if (setsockopt(fd_.get(), SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) return fail("PACKET_VERSION");
    int one = 1;
#ifdef PACKET_IGNORE_OUTGOING
    ignoreOutgoing_ = setsockopt(fd_.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) == 0;
#endif
    (void)setsockopt(fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    tpacket_req rx{kBlock, kRxBlocks, kSlot, kRxBlocks * (kBlock / kSlot)};
    tpacket_req tx{kBlock, kTxBlocks, kSlot, kTxBlocks * (kBlock / kSlot)};
    if (setsockopt(fd_.get(), SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx) < 0) return fail("PACKET_RX_RING");
    if (setsockopt(fd_.get(), SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) < 0) return fail("PACKET_TX_RING");
    rxSlots_ = rx.tp_frame_nr;
    txSlots_ = tx.tp_frame_nr;
    ringBytes_ = size_t(kBlock) * (kRxBlocks + kTxBlocks);
    ring_ = mmap(nullptr, ringBytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
    if (ring_ == MAP_FAILED) return fail("mapping the packet rings");
    rx_ = static_cast<uint8_t*>(ring_);
    tx_ = rx_ + size_t(kBlock) * kRxBlocks;
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = int(index);
    if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) return fail("bind");
    return true;
  }

  int fd() const override { return fd_.get(); }
  const Mac& mac() const override { return mac_; }

  int receive(int max, const std::function<void(uint8_t*, size_t)>& onFrame) override {
    int n = 0;
    while (n < max) {
      auto* h = reinterpret_cast<tpacket2_hdr*>(rx_ + size_t(rxNext_) * kSlot);
      const uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
      if (!(status & TP_STATUS_USER)) break;
      const auto* sll = reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<uint8_t*>(h) + TPACKET_ALIGN(sizeof(tpacket2_hdr)));
      if (h->tp_snaplen < h->tp_len) {
        stats_.oversize++;
      } else if ((ignoreOutgoing_ || sll->sll_pkttype != PACKET_OUTGOING) && !(status & TP_STATUS_VLAN_VALID)) {
        stats_.received++;
        uint8_t* frame = reinterpret_cast<uint8_t*>(h) + h->tp_mac;
        // from a virtual interface on this host the checksum may be left to an offload that
        // will never happen: the backend would drop the frame, so finish it here
        if (status & TP_STATUS_CSUMNOTREADY) completeChecksum(frame, h->tp_snaplen);
        onFrame(frame, h->tp_snaplen);
        n++;
      }
      __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      rxNext_ = (rxNext_ + 1) % rxSlots_;
    }
    return n;
  }

  bool send(const uint8_t* frame, size_t len) override {
    if (len > kSlot - (TPACKET2_HDRLEN - sizeof(sockaddr_ll))) {
      stats_.sendErrors++;
      return false;
    }
    auto* h = reinterpret_cast<tpacket2_hdr*>(tx_ + size_t(txNext_) * kSlot);
    uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (status != TP_STATUS_AVAILABLE && status != TP_STATUS_WRONG_FORMAT) {
      flush();  // the kernel may be waiting for a kick to drain the ring
      status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
      if (status != TP_STATUS_AVAILABLE && status != TP_STATUS_WRONG_FORMAT) {
        stats_.sendFull++;
        return false;
      }
    }
    if (status == TP_STATUS_WRONG_FORMAT) stats_.sendErrors++;  // the frame sent from this slot before
    std::memcpy(reinterpret_cast<uint8_t*>(h) + TPACKET2_HDRLEN - sizeof(sockaddr_ll), frame, len);
    h->tp_len = uint32_t(len);
    __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    txNext_ = (txNext_ + 1) % txSlots_;
    pending_++;
    stats_.sent++;
    return true;
  }

  void flush() override {
    if (pending_ == 0) return;
    pending_ = 0;
    if (::send(fd_.get(), nullptr, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS) stats_.sendErrors++;
  }

  PortStats stats() const override {
    tpacket_stats st{};
    socklen_t len = sizeof st;
    if (getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) stats_.ringDrops += st.tp_drops;  // read-and-reset
    return stats_;
  }

 private:
  util::Fd fd_;
  Mac mac_{};
  void* ring_ = MAP_FAILED;
  size_t ringBytes_ = 0;
  uint8_t *rx_ = nullptr, *tx_ = nullptr;
  unsigned rxSlots_ = 0, txSlots_ = 0, rxNext_ = 0, txNext_ = 0, pending_ = 0;
  bool ignoreOutgoing_ = false;
  mutable PortStats stats_;
};

}  // namespace

std::unique_ptr<Port> openPort(const std::string& ifname, std::string& err) {
  auto p = std::make_unique<AfPacketPort>();
  if (!p->open(ifname, err)) return nullptr;
  return p;
}

const char* portBackend() { return "af_packet"; }

}  // namespace pen::dsr
#endif  // __linux__
