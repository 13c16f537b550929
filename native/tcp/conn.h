// A proxied TCP connection: the client socket ("down"), the backend socket ("up") and one
// Dir per direction. Owned by the Engine's slot table; touched only by the worker thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

#include "acl/acl.h"
#include "balance/pool.h"
#include "log/capture.h"
#include "net/addr.h"

namespace pen::tcp {

struct ClientIo;  // tcp/client_io.h: TLS and/or HTTP rewriting on the client side

/* Poller token kinds of a connection's sockets (loop/token.h; the side is Engine::token's):
   the client's and the backend's. */
enum : uint64_t { kSideClient = 0, kSideServer = 1 };

/* Timer kinds of a connection (loop/token.h: the kind field of a timer key); kTimerResume
   and kTimerIdlers are the Engine's own (accepting again after a descriptor shortage; the
   idlers' back-off, tcp/idlers.h). */
enum : uint64_t { kTimerConnect = 0, kTimerIdle = 1, kTimerResume = 2, kTimerHandshake = 3, kTimerIdlers = 4 };

/* Conn::idler: an idle backend connection (tcp/idlers.h); retired: being closed by pen itself
   (handed over to a client, or idlers lowered), which needs no back-off. */
enum : uint8_t { kIdler = 1, kIdlerRetired = 2 };

/* Pen's connection state bits (penctl `connection N`). */
enum : uint8_t { kConnecting = 1, kConnected = 2, kClosedUp = 4, kClosedDown = 8 };

/* A read from a direction's src, and the send of what came to its dst, that the worker made
   ahead of the event's turn, together with those of other connections (Engine::readAhead,
   loop::IoBatch). pump() takes it as its first read. */
struct Ahead {
  char* buf = nullptr;  // the bytes read (the worker's, valid for the turn)
  uint32_t cap = 0;     // the most the read asked for
  int32_t got = 0;      // recv's result: bytes, 0 at EOF, -errno
  int32_t sent = 0;     // send's result for buf[0, got): bytes or -errno (got > 0 only)
  bool last = false;    // got drained src up to its FIN (as pump's `last`)
};

/* One direction of the relay: bytes read from src waiting to be written to dst live either
   in buf[off, len) (copy path) or in the pipe (splice path), never both. */
struct Dir {
  char* buf = nullptr;
  uint32_t off = 0, len = 0;
  int pipe[2] = {-1, -1};
  uint32_t inPipe = 0;
  bool eof = false;   // src has sent EOF (or the direction is over)
  bool shut = false;  // shutdown(dst, SHUT_WR) done
  bool tap = false;   // keep the head of the next chunk read from src in RelayEnv::line
  bool finFollows = false;  // set by relay(): at eof, shutdown(dst) follows the last bytes at
                            // once, so they may wait for it (MSG_MORE) and share its segment
  bool more = false;  // set by pump(): it stopped reading while src may hold more (every read
                      // came back full); with edge-triggered polling the caller comes back
  bool srcFin = false;  // the poller has reported src's FIN (kHup without kError): a short read
                        // from src then reaches the end (pump's srcFinished from then on; an
                        // edge-triggered poller reports the FIN once)
  uint64_t bytes = 0;  // bytes read from src
  const Ahead* ahead = nullptr;  // set for one turn when the read was made ahead (pump takes it)

  uint32_t pending() const { return (len - off) + inPipe; }
  bool spliced() const { return pipe[0] >= 0; }
};

struct Conn {
  uint32_t id = 0;      // the slot in the worker's table
  uint32_t number = 0;  // the process-wide connection number (penctl `connection N`)
  uint32_t gen = 0;  // bumped on every reuse of the slot: stale events and timers are dropped
  bool used = false;
  int cfd = -1, ufd = -1;
  uint32_t cmask = 0, umask = 0;  // interest currently registered (0 = not registered)
  uint8_t muted = 0;  // bit per side (1 = client, 2 = backend): registered but no longer
                      // wanted; deregistered when it next fires (often closed before that)
  uint8_t addQueued = 0;  // bit per side: its registration waits in Engine::adds_ for the
                          // end of the turn (the mask above is what it will register)
  uint8_t state = 0;
  bool waitingFd = false;    // accepted, waiting for a descriptor to connect upstream
  bool holdsPending = false; // counted in the pool's connects in progress
  net::Addr client;
  balance::Selection sel;    // the server choice: sel.server is the server connected to
  Dir up;    // client -> server
  Dir down;  // server -> client
  int64_t lastActiveMs = 0;
  int64_t connectStartMs = 0;
  bool logged = false;         // an access record was made (or considered) for this connection
  uint64_t loggedDown = 0;     // down.bytes at that time: more means a new turn of the exchange
  const char* action = "";     // what was being attempted, for log lines
  ClientIo* io = nullptr;      // TLS (-E) or -H: the buffered path of tcp/client_io.h; null = plain relay
  bool dummy = false;          // `dummy`: answered by tcp/dummy.h; no backend (ufd stays -1)
  uint8_t idler = 0;           // kIdler / kIdlerRetired: no client (cfd stays -1), tcp/idlers.h
};

/* Result of moving bytes in one direction. */
enum class Io { kOk, kError };

class PipePool;

/* Per-worker resources of the relay. */
struct RelayEnv {
  char* scratch;
  uint32_t scratchSize;
  PipePool* pipes;
  log::Line line{};  // filled by pump() when a tapped Dir reads a chunk (access log)
  int dump = 0;      // debug level >= 3: 1 dumps every chunk read in hex, 2 as text (no splicing)
};

/* Moves bytes of d from src to dst for one readiness event: first flushes what is pending,
   then reads (once, or a few times while the flow looks like bulk) and forwards at once.
   Switches d to the splice path when reads come in large chunks and a pipe is available
   (never while env.dump is on). A chunk read while d.tap is set is captured into env.line
   (and d.tap cleared); with env.dump every chunk read is dumped to stderr.
   srcFinished: the poller reported that src's peer has finished sending (a FIN, loop::kHup
   without kError). Then a short read drains src for good: d.eof is set without reading the
   EOF. Bytes sent once d.eof is set go with MSG_MORE when d.finFollows, so that the FIN
   relay() sends next rides on the same segment (tcp_send_fin joins an unsent tail).
   When d.ahead is set, its read and send stand for the first recv() and send() (and it is
   cleared).
   On return: d.eof is set when src sent EOF; d.pending() > 0 means dst is full; d.more means
   src may hold more that pump left for a later turn (kMaxReadsPerEvent full reads).
   Returns kError (with err = errno) on a hard socket error on either side. */
Io pump(Dir& d, int src, int dst, RelayEnv& env, int& err, bool srcFinished = false);

/* What offer() learned about a destination whose connect is in progress. */
enum class Offer { kTaken, kNothing, kSrcError, kDstError };
/* For a dst still connecting (non-blocking connect returned EINPROGRESS; on loopback and fast
   LANs the handshake has usually completed inside connect()): when d holds nothing, reads one
   chunk from src (access-log tap and dump as pump()); then offers d's bytes to dst once. What
   dst does not take stays pending in d. Returns kTaken when dst took bytes (its connect has
   completed), kNothing when src had nothing yet (or sent EOF: d.eof) or dst is still
   connecting, kSrcError / kDstError (err = errno) on a hard error reading src / writing dst
   (the latter means the connect failed). Never shuts anything down. */
Offer offer(Dir& d, int src, int dst, RelayEnv& env, int& err);
/* Writes d's pending bytes to dst. Returns kError on a hard error; pending may remain. */
Io flush(Dir& d, int dst, int& err);

/* The splice path (splice.cc): spliceRead moves up to chunk bytes (the pipe's capacity,
   PipePool::bytes()) src -> d's pipe (sets d.eof on EOF, more when the chunk was full);
   spliceFlush moves the pipe's bytes to dst (SPLICE_F_MORE as pump's MSG_MORE). */
Io spliceRead(Dir& d, int src, size_t chunk, int& err, bool& more);
Io spliceFlush(Dir& d, int dst, int& err);

/* Releases d's buffer and pipe (a pipe that still holds data is closed, not pooled). */
void releaseDir(Dir& d, PipePool& pipes, int64_t nowMs);

/* Pool of non-blocking pipes for the splice path, bounded so that pipes never eat the fd
   budget of client sockets (the data plane sizes maxOpen from RLIMIT_NOFILE). A pipe given
   back waits in the pool for the next bulk transfer, and is closed once it has waited
   kPipeIdleMs (a burst of downloads leaves no descriptors behind). fds: the process-wide
   count of descriptors the data plane holds, kept up to date (2 per pipe). bytes: the
   capacity asked for each pipe (F_SETPIPE_SZ; pipeBytesFor() sizes it). Linux only;
   elsewhere acquire() always fails. Thread: one worker. */
constexpr int64_t kPipeIdleMs = 5000;
constexpr size_t kDefaultPipeBytes = 65536;  // Linux's default pipe capacity
/* The capacity of each splice pipe: kMaxPipeBytes, within the system's maximum pipe size
   (maxPipeBytes, from /proc/sys/fs/pipe-max-size) and memBytes / 16 over every pipe the
   workers may hold (pipes), as a power of two, never below the default. Pure: the native
   tests table it. */
constexpr size_t kMaxPipeBytes = 256 << 10;  // measured (bench, bulk): 1 MiB moved uploads slower
size_t pipeBytesFor(size_t maxPipeBytes, uint64_t memBytes, size_t pipes);
class PipePool {
 public:
  PipePool(size_t maxOpen, size_t bytes, std::atomic<int64_t>& fds) : maxOpen_(maxOpen), bytes_(bytes), fds_(fds) {}
  ~PipePool();
  /* Fills p with a pipe; returns false when none can be had (limit, EMFILE, no splice). */
  bool acquire(int p[2]);
  /* Takes back an empty pipe (nowMs: the loop's clock). */
  void release(int p[2], int64_t nowMs);
  /* Closes a pipe that may hold data. */
  void discard(int p[2]);
  /* Closes pooled pipes idle since before nowMs - kPipeIdleMs. Returns the milliseconds until
     the next one is due, -1 when none is pooled. */
  int trim(int64_t nowMs);
  size_t open() const { return open_; }
  /* The capacity new pipes get, and so the most one splice into a pipe moves. */
  size_t bytes() const { return bytes_; }
  size_t pooled() const { return free_.size(); }
  void setMax(size_t maxOpen) { maxOpen_ = maxOpen; }

 private:
  struct Idle {
    int fd[2];
    int64_t sinceMs;
  };
  std::vector<Idle> free_;  // oldest first
  size_t open_ = 0;         // pipes in use or pooled
  size_t maxOpen_;
  size_t bytes_;
  std::atomic<int64_t>& fds_;
};

}  // namespace pen::tcp
