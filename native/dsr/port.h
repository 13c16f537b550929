// A raw layer-2 port on one network interface: the I/O back end of the DSR plane. One
// implementation per OS facility, chosen at build time: AF_PACKET with PACKET_MMAP rings on
// Linux (af_packet.cc), netmap on FreeBSD (netmap.cc, compiled when CMake finds
// net/netmap_user.h). The frame logic (dsr/frame.h) is the same for both.
// Thread: a Port belongs to the DSR loop's thread; only open() may run elsewhere.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "dsr/frame.h"

namespace pen::dsr {

struct PortStats {
  uint64_t received = 0;    // frames handed to the callback
  uint64_t ringDrops = 0;   // frames the kernel dropped because the receive ring was full
  uint64_t oversize = 0;    // frames longer than a ring slot (truncated by the kernel): dropped
  uint64_t sent = 0;        // frames queued for transmission
  uint64_t sendFull = 0;    // frames refused because the transmit ring was full
  uint64_t sendErrors = 0;  // frames the kernel rejected
};

class Port : public FrameSink {
 public:
  ~Port() override = default;
  /* The fd to watch for readability (frames waiting). */
  virtual int fd() const = 0;
  /* The interface's own MAC address. */
  virtual const Mac& mac() const = 0;
  /* Calls onFrame(frame, len) for up to max received frames, in arrival order, and returns
     their number (0: nothing waiting). frame is writable and valid only during the call.
     Frames the host itself sent are not reported, nor VLAN-tagged ones. */
  virtual int receive(int max, const std::function<void(uint8_t*, size_t)>& onFrame) = 0;
  /* FrameSink: copies the frame into the transmit ring; false when the ring is full. Frames
     leave at the latest on flush(). */
  bool send(const uint8_t* frame, size_t len) override = 0;
  /* Starts transmission of the frames queued by send(). */
  virtual void flush() = 0;
  /* Counters since open(). */
  virtual PortStats stats() const = 0;
};

/* Opens interface ifname for raw frames (needs CAP_NET_RAW on Linux; root on FreeBSD).
   Returns nullptr with err set ("dsr_if eth9: no such interface", "... not available on this
   system", "...: Operation not permitted") when it cannot. */
std::unique_ptr<Port> openPort(const std::string& ifname, std::string& err);

/* The back end compiled in: "af_packet", "netmap" or "" (none: openPort always fails). */
const char* portBackend();

}  // namespace pen::dsr
