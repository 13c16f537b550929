// pen_dsr_forward: the DSR plane (dsr/frame.h + dsr/port.h + dsr/forwarder.h) as a small
// program, for the netns tests and bench/dsr until the plane is driven by pen itself.
//   pen_dsr_forward [-U] [-r] [-t ADDR]... IF VIP PORT BACKEND...
// -U: UDP plane; -r: hash the client port too; -t ADDR: tarpit ADDR. The chooser stands in for
// the balancing pool: Pen's DSR table (dsr/flow_table.h) over every backend, weight 1. Prints "ready MAC BACKEND" once the
// port is open; on SIGTERM/SIGINT prints one JSON line of counters (per backend: frames,
// bytes) and exits 0. Exit 2: bad arguments; 1: the port cannot be opened.
#include <arpa/inet.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "dsr/flow_table.h"
#include "dsr/forwarder.h"

using namespace pen;

namespace {

loop::Wakeup stopper;
void onSignal(int) { stopper.notify(); }

class TableChooser : public dsr::Chooser {
 public:
  std::vector<uint32_t> servers;
  std::vector<std::pair<uint64_t, uint64_t>> counts;
  dsr::FlowTable table;
  bool ports = false;
  dsr::Choice choose(const dsr::FlowKey& k) override { return table.lookup(k, ports); }
  void count(int server, uint64_t frames, uint64_t bytes) override {
    counts[size_t(server)].first += frames;
    counts[size_t(server)].second += bytes;
  }
};

bool parseIp(const char* s, uint32_t& out) {
  in_addr a;
  if (inet_pton(AF_INET, s, &a) != 1) return false;
  std::memcpy(&out, &a, 4);
  return true;
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
  for (int j = i + 3; j < argc; j++) {
    uint32_t a;
    if (!parseIp(argv[j], a)) return usage();
    chooser.servers.push_back(a);
    cfg.backends.push_back(a);
  }
  chooser.counts.resize(chooser.servers.size());
  std::vector<dsr::FlowTable::Server> table;
  for (size_t j = 0; j < chooser.servers.size(); j++) table.push_back({int(j), chooser.servers[j], 1});
  chooser.table.build(table);
  if (!tarpit.empty()) cfg.tarpit = [tarpit](uint32_t a) { return tarpit.count(a) != 0; };

  std::string err;
  auto rawPort = dsr::openPort(ifname, err);
  if (!rawPort || !stopper.open(err)) {
    std::fprintf(stderr, "pen_dsr_forward: %s\n", err.c_str());
    return 1;
  }
  cfg.mac = rawPort->mac();
  dsr::Processor proc(chooser);
  proc.configure(cfg);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  const auto& m = cfg.mac;
  std::printf("ready %02x:%02x:%02x:%02x:%02x:%02x %s\n", m[0], m[1], m[2], m[3], m[4], m[5], dsr::portBackend());
  std::fflush(stdout);
  dsr::Forwarder fwd(*rawPort, proc);
  if (!fwd.run(stopper, nullptr, err)) {
    std::fprintf(stderr, "pen_dsr_forward: %s\n", err.c_str());
    return 1;
  }
  const dsr::Stats& s = proc.stats();
  const dsr::PortStats ps = rawPort->stats();
  auto u = [](uint64_t v) { return (unsigned long long)v; };
  std::printf("{\"received\":%llu,\"forwarded\":%llu,\"queued\":%llu,\"queueDrops\":%llu,\"noServer\":%llu,"
              "\"arpReplies\":%llu,\"arpRequests\":%llu,\"macsLearned\":%llu,\"tarpitSyns\":%llu,"
              "\"tarpitDrops\":%llu,\"malformed\":%llu,\"txFailures\":%llu,\"sendFull\":%llu,\"ringDrops\":%llu,"
              "\"servers\":[",
              u(ps.received), u(s.forwarded), u(s.queued), u(s.queueDrops), u(s.noServer), u(s.arpReplies),
              u(s.arpRequests), u(s.macsLearned), u(s.tarpitSyns), u(s.tarpitDrops), u(s.malformed),
              u(s.txFailures), u(ps.sendFull), u(ps.ringDrops));
  for (size_t j = 0; j < chooser.counts.size(); j++)
    std::printf("%s{\"frames\":%llu,\"bytes\":%llu}", j ? "," : "", u(chooser.counts[j].first), u(chooser.counts[j].second));
  std::printf("]}\n");
  return 0;
}
