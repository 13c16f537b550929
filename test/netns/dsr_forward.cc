// pen_dsr_forward: the DSR plane (dsr/plane.h) as a small program, for the netns tests and
// bench/dsr until pen itself drives the plane.
//   pen_dsr_forward [-U] [-r] [-t ADDR]... IF VIP PORT BACKEND...
// -U: UDP plane; -r: hash the client port too; -t ADDR: tarpit ADDR. The chooser stands in for
// the balancing pool: Pen's DSR table (dsr/flow_table.h) over the backends, weight 1 each.
// Prints "ready MAC BACKEND" once the port is open, then reads commands on stdin, one a line:
// "backends IP..." replaces the backend list (reply "ok"), "stats" prints one JSON line of
// counters (per backend: frames, bytes), "quit" or end of input stops the plane and prints the
// final counters. Exit 2: bad arguments; 1: the port cannot be opened.
#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "dsr/flow_table.h"
#include "dsr/plane.h"

using namespace pen;

namespace {

bool parseIp(const char* s, uint32_t& out) {
  in_addr a;
  if (inet_pton(AF_INET, s, &a) != 1) return false;
  std::memcpy(&out, &a, 4);
  return true;
}

/* Pen's table over the backends (weight 1 each). rebuild() is the main thread's, choose()
   and count() the plane's: a mutex keeps them apart (a test program's simplicity; the pool
   publishes snapshots instead). Counts are kept per backend position, up to kMax. */
class TableChooser : public dsr::Chooser {
 public:
  static constexpr size_t kMax = 64;
  bool ports = false;
  std::pair<uint64_t, uint64_t> counts[kMax] = {};

  void rebuild(const std::vector<uint32_t>& servers) {
    std::vector<dsr::FlowTable::Server> list;
    for (size_t j = 0; j < servers.size(); j++) list.push_back({int(j), servers[j], 1});
    std::lock_guard<std::mutex> g(mu_);
    table_.build(list);
  }
  dsr::Choice choose(const dsr::FlowKey& k) override {
    std::lock_guard<std::mutex> g(mu_);
    return table_.lookup(k, ports);
  }
  void count(int server, uint64_t frames, uint64_t bytes) override {
    std::lock_guard<std::mutex> g(mu_);
    counts[size_t(server)].first += frames;
    counts[size_t(server)].second += bytes;
  }
  std::vector<std::pair<uint64_t, uint64_t>> snapshot(size_t n) {
    std::lock_guard<std::mutex> g(mu_);
    return std::vector<std::pair<uint64_t, uint64_t>>(counts, counts + n);
  }

 private:
  std::mutex mu_;
  dsr::FlowTable table_;
};

bool parseBackends(const std::vector<std::string>& words, std::vector<uint32_t>& out) {
  out.clear();
  for (const auto& w : words) {
    uint32_t a;
    if (!parseIp(w.c_str(), a) || out.size() == TableChooser::kMax) return false;
    out.push_back(a);
  }
  return true;
}

void printStats(const dsr::PlaneStats& st, const std::vector<std::pair<uint64_t, uint64_t>>& counts) {
  const dsr::Stats& s = st.frames;
  const dsr::PortStats& ps = st.port;
  auto u = [](uint64_t v) { return (unsigned long long)v; };
  std::printf("{\"received\":%llu,\"forwarded\":%llu,\"queued\":%llu,\"queueDrops\":%llu,\"noServer\":%llu,"
              "\"arpReplies\":%llu,\"arpRequests\":%llu,\"macsLearned\":%llu,\"tarpitSyns\":%llu,"
              "\"tarpitDrops\":%llu,\"malformed\":%llu,\"txFailures\":%llu,\"sendFull\":%llu,\"ringDrops\":%llu,"
              "\"servers\":[",
              u(ps.received), u(s.forwarded), u(s.queued), u(s.queueDrops), u(s.noServer), u(s.arpReplies),
              u(s.arpRequests), u(s.macsLearned), u(s.tarpitSyns), u(s.tarpitDrops), u(s.malformed),
              u(s.txFailures), u(ps.sendFull), u(ps.ringDrops));
  for (size_t j = 0; j < counts.size(); j++)
    std::printf("%s{\"frames\":%llu,\"bytes\":%llu}", j ? "," : "", u(counts[j].first), u(counts[j].second));
  std::printf("]}\n");
  std::fflush(stdout);
}


int usage() {
  std::fprintf(stderr, "usage: pen_dsr_forward [-U] [-r] [-t ADDR]... IF VIP PORT BACKEND...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  TableChooser chooser;
  dsr::Config cfg;
  std::set<uint32_t> tarpit;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const std::string o = argv[i];
    uint32_t a;
    if (o == "-U") {
      cfg.udp = true;
    } else if (o == "-r") {
      chooser.ports = true;
    } else if (o == "-t" && i + 1 < argc && parseIp(argv[i + 1], a)) {
      tarpit.insert(a);
      i++;
    } else {
      return usage();
    }
  }
  if (argc - i < 4) return usage();
  const std::string ifname = argv[i];
  const int port = std::atoi(argv[i + 2]);
  if (!parseIp(argv[i + 1], cfg.vip) || port < 0 || port > 65535) return usage();
  cfg.port = uint16_t(port);
  std::vector<uint32_t> backends;
  if (!parseBackends(std::vector<std::string>(argv + i + 3, argv + argc), backends)) return usage();
  chooser.rebuild(backends);
  cfg.backends = backends;
  if (!tarpit.empty()) cfg.tarpit = [tarpit](uint32_t a) { return tarpit.count(a) != 0; };

  dsr::Plane plane(chooser);
  std::string err;
  if (!plane.start(ifname, cfg, err)) {
    std::fprintf(stderr, "pen_dsr_forward: %s\n", err.c_str());
    return 1;
  }
  const auto& m = plane.mac();
  std::printf("ready %02x:%02x:%02x:%02x:%02x:%02x %s\n", m[0], m[1], m[2], m[3], m[4], m[5], dsr::portBackend());
  std::fflush(stdout);
  // commands on stdin, one a line: "backends IP..." (replaces the backend list), "stats", "quit"
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string word;
    in >> word;
    std::vector<std::string> rest;
    for (std::string w; in >> w;) rest.push_back(w);
    if (word == "backends" && parseBackends(rest, backends)) {
      chooser.rebuild(backends);
      cfg.backends = backends;
      plane.configure(cfg);
      std::printf("ok\n");
      std::fflush(stdout);
    } else if (word == "stats") {
      printStats(plane.stats(), chooser.snapshot(backends.size()));
    } else if (word == "quit") {
      break;
    } else {
      std::printf("error: %s\n", line.c_str());
      std::fflush(stdout);
    }
  }
  plane.stop();
  printStats(plane.stats(), chooser.snapshot(backends.size()));
  return 0;
}
