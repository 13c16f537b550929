// The `pen --help` text. It starts with "usage:" like Pen's and substitutes the compiled-in
// defaults from settings.ts. Options marked "(not supported yet)" are refused by argv.ts;
// man/pen.1 says the same things at length (a unit test keeps the option letters in step).
import { DEFAULTS } from './settings.js';

/** The help text, ending in a newline. */
export function usageText(): string {
  const d = DEFAULTS;
  return `usage:
  pen [options] LISTEN BACKEND [BACKEND ...]

  Without -f, pen becomes a daemon once it listens (diagnostics then go to syslog).
  Signals: HUP re-reads -F and reopens -l, USR1 writes statistics, TERM/INT stop.

  LISTEN   port | host:port | [host]:port | ::1:port | /unix/path
  BACKEND  host[:port[:maxc[:hard[:weight[:prio]]]]]  ([ipv6]:port... for IPv6; /unix/path)
           port defaults to the listen port; maxc, hard, weight, prio default to 0

  -B host:port    abuse server for clients denied by the client ACL
  -C [host:]port|/path  control socket for penctl; a port alone means 127.0.0.1 and ::1
                  (as root, only with -u)
  -F file         configuration file of control commands (re-read on HUP)
  -H              add X-Forwarded-For and X-Forwarded-Proto to every HTTP request
  -O command      run a control command at start-up (repeatable)
  -P              use the poll() event backend
  -Q              obsolete: kqueue is already the default where available
  -S N            obsolete: the server table grows dynamically
  -T sec          client tracking time; 0 = forever [${d.tracking}]
  -U              UDP mode: balance datagrams instead of TCP connections
  -W              weight-based server selection
  -X              enable the exit control command
  -a              debug dumps (-ddd) as text instead of hex
  -b sec          blacklist time of a failed server [${d.blacklist}]
  -c N            client table size [${d.clientsMax}]
  -d              debugging on (repeat for more)
  -D              obsolete: delayed forward was removed
  -e host:port    emergency server, used when no other server can be
  -f              stay in the foreground (default: become a daemon)
  -h              hash-based server selection (not help)
  -i name         Windows service (not supported on this platform)
  -j dir          chroot into dir
  -l file|host:port  request log to a file, or to penlogd over UDP (opened before -u)
  -m N            accept up to N connections per wake-up [${d.multiAccept}]; minimum 1
  -o command      same as -O
  -n              obsolete: sockets are always non-blocking
  -N              hash without saving the server: as -h, and a returning client
                  is not sent to its last server
  -p file         write the process id to file (written before -u)
  -q N            listen queue length [${d.listenQueue}]; minimum 50
  -r              roundrobin: do not send returning clients to their last server
  -s              stubborn: never fail over to another server
  -t sec          connect timeout in seconds [${d.timeout}]; minimum 1
  -u user         run as user (transparent: the data-plane threads keep CAP_NET_RAW)
  -w file         HTML statistics file (written on USR1 and status; its directory must exist)
  -x N            connection table size: connections at once [${d.connMax}]
  -E certfile     terminate TLS with this PEM certificate (chain)
  -K keyfile      TLS private key [the -E file]
  -G cacertfile   CA file for TLS client certificates
  -A cacertdir    hashed CA directory for TLS client certificates
  -Z              OpenSSL bug workarounds
  -R              require a valid TLS client certificate
  -L protocol     lowest TLS version: ssl23 or tls1 (= tls1.2), tls1.2, tls1.3 [${d.sslProtocol}]
  -?, --help      this text
  --version       print the version

examples:
  pen 80 www1:8080 www2:8080
  pen -f -r 8080 127.0.0.1:8001 127.0.0.1:8002
  pen smtp mailhost1:smtp mailhost2:25 mailhost3
  pen -e backup:8080 [::1]:8080 www1:8080:100 www2:8080:100

Dummy server and idlers (-O, -F or penctl; see pen(1)):
  dummy           answer every client with a fixed HTTP reply, no backend (also -E; not -U)
  idlers N        keep N idle backend connections (below -x); a client for their server
                  takes one instead of connecting [${d.idlers}]

Direct Server Return: -O "dsr_if IF" makes LISTEN a VIP served on interface IF (as root;
tarpit_acl N impersonates the addresses ACL N permits): see pen(1).

Transparent proxying: -O transparent connects to the backends from each client's address (TCP
and UDP, IPv4 and IPv6; needs CAP_NET_RAW, kept on the data-plane threads across -u). The
backends must route replies through pen, and pen's host must deliver them locally (iptables
mangle DIVERT with -m socket, ip rule fwmark 1 lookup 100, ip route add local 0.0.0.0/0 dev lo
table 100; the same with ip6tables and ip -6 for IPv6): see TRANSPARENT PROXYING in pen(1).
`;
}
