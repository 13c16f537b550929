// What the data plane reports to the JS thread (stats, connections, clients): plain data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "balance/servers.h"

namespace pen {

struct Stats {
  uint64_t accepted = 0, refused = 0;
  uint32_t active = 0, pending = 0;
  int current = 0;  // the regular server chosen most recently (Pen's "current")
  uint64_t transparentFailures = 0;  // `transparent` binds that failed (balance/transparent_failures.h)
  uint64_t dummyAnswers = 0;  // `dummy` replies queued
  int idlers = 0;             // idle backend connections open or connecting
  std::vector<uint64_t> dsrFrames, dsrBytes;  // DSR: per regular server; empty when DSR is off
  std::vector<balance::ServerRuntime> servers;  // regular, then emergency, abuse
  std::vector<double> blacklistedUntilWallMs;   // same indexing; 0 = not blacklisted
  std::vector<uint64_t> acceptedByWorker;       // clients (UDP: flows) each worker took on
  int ioBatched = 0;                            // TCP workers batching socket I/O (Worker::ioBatched)
  std::string ioPlainWhy;                       // why a TCP worker does not (empty: all do, or UDP)
  int64_t fdLimit = 0;                          // RLIMIT_NOFILE (soft, raised to the hard limit)
  int64_t fdBudget = 0;                         // what the workers may hold of it
  int64_t fdsInUse = 0;                         // what they hold now
};

struct ConnInfo {
  uint32_t id;  // process-wide connection number
  int state, downfd, upfd, server, initial;
  std::string client;
  uint64_t pendingDown = 0, pendingUp = 0;  // bytes waiting to be written to client / server
  int clientIndex = -1;  // the client's slot in the client table (Pen's `client = %d`), -1 if none
};

struct ClientInfo {
  std::string address;
  int server;
  uint64_t connects, sx, rx;
  double lastSeenWallMs;
};

}  // namespace pen
