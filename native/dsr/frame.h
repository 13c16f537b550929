// The DSR frame-processing module: what pen does with each Ethernet frame seen on the DSR
// interface, and the ARP traffic it originates. Pure logic: frames come in as buffers, frames
// go out through a FrameSink, time is an argument, the server comes from a Chooser. The I/O
// back ends (dsr/port.h: AF_PACKET on Linux, netmap on FreeBSD) feed it; the tests feed it
// tables of frames.
//
// Per frame (spec/dsr-tarpit-transparent.md §1-2, with quirks 57-61 fixed):
//  - ARP request for the VIP or a tarpitted address -> ARP reply "it is at our MAC".
//  - ARP reply (or gratuitous ARP) from a backend address -> learn the backend's MAC; frames
//    queued for it leave at once.
//  - IPv4 frame to our MAC and the VIP, of the plane's protocol, to the listen port (or any
//    port when it is 0) -> Ethernet source := our MAC, destination := the chosen backend's
//    MAC, IP packet untouched, sent. Backend MAC unknown -> queued (bounded per backend,
//    dropped after kHoldMs), never sent unmodified.
//  - TCP SYN to a tarpitted address (not the VIP; TCP plane only) -> a SYN-ACK with a clean
//    20-byte header and correct checksums; any other segment to it is dropped.
//  - anything else is ignored (left to the host's kernel).
// Thread: one Processor belongs to one thread (the DSR loop); nothing in it is shared.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <vector>

#include "dsr/chooser.h"
#include "dsr/packet.h"

namespace pen::dsr {

/* Where the Processor puts the frames it emits. send() copies the frame out (the buffer is
   reused on return) and returns false when it could not (transmit ring full, error). */
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual bool send(const uint8_t* frame, size_t len) = 0;
};

struct Config {
  Mac mac{};              // our MAC on the interface
  uint32_t vip = 0;       // wire bytes (see packet.h)
  uint16_t port = 0;      // listen port; 0 = every port
  bool udp = false;       // -U: forward UDP; otherwise TCP (and tarpit)
  std::vector<uint32_t> backends;     // addresses whose MACs are kept learned (0.0.0.0 skipped)
  std::function<bool(uint32_t)> tarpit;  // empty: no tarpit; else true for impersonated addresses
};

/* Counters since the Processor was made; read on its thread (copy them out to publish). */
struct Stats {
  uint64_t forwarded = 0, forwardedBytes = 0;  // frames sent to a backend (queued ones too)
  uint64_t queued = 0;         // frames held for a backend MAC not known yet
  uint64_t queueDrops = 0;     // held frames dropped: queue full, too old, backend gone
  uint64_t noServer = 0;       // frames to the VIP the chooser had no server for
  uint64_t arpReplies = 0;     // ARP replies we sent (VIP and tarpit)
  uint64_t arpRequests = 0;    // ARP requests we sent to learn backend MACs
  uint64_t macsLearned = 0;    // backend MACs learned or changed
  uint64_t tarpitSyns = 0;     // SYN-ACKs sent for tarpitted addresses
  uint64_t tarpitDrops = 0;    // other segments to tarpitted addresses, dropped
  uint64_t malformed = 0;      // frames parse() refused (truncated, bad lengths)
  uint64_t txFailures = 0;     // frames the sink refused
};

class Processor {
 public:
  static constexpr size_t kQueuePerBackend = 64;  // frames held per unknown backend MAC
  static constexpr size_t kMaxFrame = 65536;      // longer frames are not held (dropped)
  static constexpr uint64_t kHoldMs = 3000;       // held frames older than this are dropped
  static constexpr uint64_t kRetryMs = 1000;      // ARP request for an unknown MAC at most this often
  static constexpr uint64_t kRefreshMs = 60000;   // ARP request for every backend this often
  static constexpr size_t kMaxNeighbors = 4096;   // backend addresses tracked at most
  static constexpr int kMaxServer = 1 << 16;      // server indexes the batch counters accept

  explicit Processor(Chooser& chooser) : chooser_(chooser) {}

  /* Replaces the configuration. MACs already learned for addresses still listed (or still
     chosen) are kept; frames held for addresses no longer listed are dropped. */
  void configure(Config c);
  const Config& config() const { return cfg_; }

  /* Handles one received frame (frame[0, len), writable: forwarding rewrites it in place).
     nowMs: a monotonic clock in milliseconds. Emits zero or more frames through out. */
  void handle(uint8_t* frame, size_t len, uint64_t nowMs, FrameSink& out);

  /* Housekeeping; call at least once a second: ARP requests (unknown MACs every kRetryMs,
     all backends every kRefreshMs) and expiry of held frames. */
  void tick(uint64_t nowMs, FrameSink& out);

  /* Ends a receive batch: hands the per-server frame/byte counts gathered since the last call
     to the chooser (one count() per server), then lets it refresh(). */
  void endBatch();

  const Stats& stats() const { return stats_; }
  /* The MAC learned for ip, or nullptr. */
  const Mac* macOf(uint32_t ip) const;

 private:
  struct Held {
    std::vector<uint8_t> frame;
    int server;
    uint64_t atMs;
  };
  struct Neighbor {
    Mac mac{};
    bool known = false;
    bool listed = false;     // in cfg_.backends (ARP refresh); else learned on demand
    uint64_t requestedMs = 0;
    bool requested = false;
    std::deque<Held> held;
  };

  void handleArp(const Parsed& p, FrameSink& out);
  void handleVip(uint8_t* frame, size_t len, const Parsed& p, uint64_t nowMs, FrameSink& out);
  void handleTarpit(const Parsed& p, const uint8_t* frame, FrameSink& out);
  void learn(uint32_t ip, const Mac& mac, FrameSink& out);
  void request(uint32_t ip, Neighbor& n, uint64_t nowMs, FrameSink& out);
  bool forward(uint8_t* frame, size_t len, int server, const Mac& to, FrameSink& out);
  void addCount(int server, size_t bytes);

  Chooser& chooser_;
  Config cfg_;
  Stats stats_;
  std::unordered_map<uint32_t, Neighbor> neighbors_;
  uint64_t lastTickMs_ = 0, lastRefreshMs_ = 0;
  bool ticked_ = false;
  std::vector<std::pair<uint64_t, uint64_t>> batch_;  // per server: frames, bytes
  std::vector<int> touched_;                          // servers with counts in batch_
};

}  // namespace pen::dsr
