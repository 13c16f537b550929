// FreeBSD back end of dsr/port.h: netmap (compiled when CMake's try-compile finds
// net/netmap_user.h and this is not Linux; PEN_HAVE_NETMAP). "netmap:IF" takes the interface's
// hardware rings over: while pen runs, the host stack no longer sees that interface's traffic
// (spec/dsr-tarpit-transparent.md §4). Every hardware ring is read (Pen read ring 0 only);
// frames leave through TX ring 0. Not exercised by this project's CI (Linux): it is compiled
// where netmap exists and shares all frame logic with the Linux back end.
#include "dsr/port.h"

#if !defined(__linux__) && defined(PEN_HAVE_NETMAP)
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>

#include <cerrno>
#include <cstring>

namespace pen::dsr {
namespace {

class NetmapPort final : public Port {
 public:
  ~NetmapPort() override {
    if (d_) nm_close(d_);
  }

  bool open(const std::string& ifname, std::string& err) {
    if (!readMac(ifname)) {
      err = "dsr_if " + ifname + ": no such Ethernet interface";
      return false;
    }
    const std::string name = "netmap:" + ifname;
    d_ = nm_open(name.c_str(), nullptr, 0, nullptr);
    if (!d_) {
      err = "dsr_if " + ifname + ": nm_open: " + strerror(errno);
      return false;
    }
    return true;
  }

  int fd() const override { return NETMAP_FD(d_); }
  const Mac& mac() const override { return mac_; }

  int receive(int max, const std::function<void(uint8_t*, size_t)>& onFrame) override {
    ioctl(NETMAP_FD(d_), NIOCRXSYNC, nullptr);
    int n = 0;
    for (unsigned r = d_->first_rx_ring; r <= d_->last_rx_ring && n < max; r++) {
      netmap_ring* ring = NETMAP_RXRING(d_->nifp, r);
      while (!nm_ring_empty(ring) && n < max) {
        const uint32_t i = ring->cur;
        netmap_slot* slot = &ring->slot[i];
        stats_.received++;
        onFrame(reinterpret_cast<uint8_t*>(NETMAP_BUF(ring, slot->buf_idx)), slot->len);
        n++;
        ring->head = ring->cur = nm_ring_next(ring, i);
      }
    }
    return n;
  }

  bool send(const uint8_t* frame, size_t len) override {
    netmap_ring* ring = NETMAP_TXRING(d_->nifp, d_->first_tx_ring);
    if (len > ring->nr_buf_size) {
      stats_.sendErrors++;
      return false;
    }
    if (nm_ring_space(ring) == 0) {
      flush();
      if (nm_ring_space(ring) == 0) {
        stats_.sendFull++;
        return false;
      }
    }
    const uint32_t i = ring->cur;
    netmap_slot* slot = &ring->slot[i];
    std::memcpy(NETMAP_BUF(ring, slot->buf_idx), frame, len);
    slot->len = uint16_t(len);
    ring->head = ring->cur = nm_ring_next(ring, i);
    pending_ = true;
    stats_.sent++;
    return true;
  }

  void flush() override {
    if (!pending_) return;
    pending_ = false;
    ioctl(NETMAP_FD(d_), NIOCTXSYNC, nullptr);
  }

  PortStats stats() const override { return stats_; }

 private:
  bool readMac(const std::string& ifname) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) < 0) return false;
    bool found = false;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_LINK || ifname != a->ifa_name) continue;
      auto* dl = reinterpret_cast<sockaddr_dl*>(a->ifa_addr);
      if (dl->sdl_alen != 6) continue;
      std::memcpy(mac_.data(), LLADDR(dl), 6);
      found = true;
    }
    freeifaddrs(list);
    return found;
  }

  nm_desc* d_ = nullptr;
  Mac mac_{};
  bool pending_ = false;
  PortStats stats_;
};

}  // namespace

std::unique_ptr<Port> openPort(const std::string& ifname, std::string& err) {
  auto p = std::make_unique<NetmapPort>();
  if (!p->open(ifname, err)) return nullptr;
  return p;
}

const char* portBackend() { return "netmap"; }

}  // namespace pen::dsr

#elif !defined(__linux__)
// Neither AF_PACKET nor netmap: dsr_if is refused with Pen's message.
namespace pen::dsr {

std::unique_ptr<Port> openPort(const std::string& ifname, std::string& err) {
  err = "dsr_if " + ifname + ": Direct server return is not available (no AF_PACKET, no netmap)";
  return nullptr;
}

const char* portBackend() { return ""; }

}  // namespace pen::dsr
#endif
