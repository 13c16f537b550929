// The typed surface of the C++ addon: the only module that loads the .node file.
// Every member here has exactly one implementation in native/addon.cc (Js<Name>); the
// conformance test test/conformance/abi.test.ts keeps the two lists equal.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

/** Must equal kAbiVersion in native/snapshot.h. Bump both when a shape below changes. */
export const ABI_VERSION = 9;

/** Address family codes shared with native/net/addr.h. */
export const FAMILY = { unset: 0, inet: 4, inet6: 6, unix: 1 } as const;
export type FamilyCode = (typeof FAMILY)[keyof typeof FAMILY];

/** A resolved endpoint: addr is 4 or 16 bytes in network order; path is set for unix. */
export interface SnapshotEndpoint {
  family: FamilyCode;
  addr: Buffer;
  path: string;
  port: number;
}

export interface SnapshotServer extends SnapshotEndpoint {
  maxc: number;
  hard: number;
  weight: number;
  prio: number;
  acl: number;
}

/** tcp_fastclose codes: close both sockets when ... has sent EOF. */
export const FASTCLOSE = { off: 0, up: 1, down: 2, both: 3 } as const;

/** Immutable configuration the data plane swaps in at its next loop turn. */
export interface Snapshot {
  abi: number;
  servers: SnapshotServer[];
  emergency: SnapshotServer | null;
  abuse: SnapshotServer | null;
  /** A name from algorithms(): the initial choice for clients without a remembered server. */
  algorithm: string;
  /** Client tracking: returning clients go back to their last server. */
  track: boolean;
  /** hash: mix the client port into the hash (Pen does this when roundrobin is on). */
  hashPort: boolean;
  stubborn: boolean;
  trackingSec: number;
  blacklistSec: number;
  clientsMax: number;
  connMax: number;
  multiAccept: number;
  timeoutMs: number;
  pendingMax: number;
  idleTimeoutSec: number;
  /** `dummy`: answer every client with the fixed HTTP reply of native/tcp/dummy.h, no backend. */
  dummy: boolean;
  /** `idlers N`: idle backend connections kept open, spread over the workers (native/tcp/idlers.h). */
  idlers: number;
  /** UDP: replies that end a flow (0 = never). */
  udpResponses: number;
  /** UDP: seconds a flow without a reply yet lives (0 = idleTimeoutSec's rule). */
  udpTimeoutSec: number;
  tcpNodelay: boolean;
  fastclose: number;
  keepalive: boolean;
  /** Debug level: the data plane builds no log record above it; >= 3 dumps every chunk read to stderr. */
  debug: number;
  /** Level-3 dumps as text instead of hex (-a, `ascii`). */
  ascii: boolean;
  /** Make access-log records (-l, `log`): one per connection/flow, or per request for HTTP. */
  accessLog: boolean;
  /** ACL lists 0..9 compiled by lib/config/acl.ts (compileAcls). */
  acls: SnapshotAclEntry[][];
  /** The list that decides admission; denied clients go to the abuse server or are closed. */
  clientAcl: number;
  /**
   * The MaxMind DB file country entries are matched against (absolute; '' = none). configure()
   * opens it on the JS thread (memory-mapped) and throws an Error with code PEN_ERR_GEOIP naming
   * the file and libmaxminddb's reason when it cannot, when the addon was built without
   * libmaxminddb, or when `acls` has a country entry and this is ''. It reopens the file only
   * when the path or the file (inode, size, mtime) changed.
   */
  geoipDb: string;
  /** `dsr_if IF`: listen() starts Direct Server Return on IF instead of a socket ('' = off). */
  dsrIf: string;
  /** `tarpit_acl N`: the ACL list of addresses DSR impersonates (ARP + SYN-ACK); -1 = off. */
  tarpitAcl: number;
  /** `source IP`: backend sockets bind to it (port chosen by the system); null = unbound. */
  source: SnapshotEndpoint | null;
  /**
   * `transparent`: each backend socket (TCP and UDP) binds to its client's address before it
   * connects (native/net/transparent.h); ignored while `source` is set. A bind that fails is
   * counted (NativeStats.transparentFailures) and logged, and that connection goes out from
   * pen's own address.
   */
  transparent: boolean;
  /** -H: add X-Forwarded-For / X-Forwarded-Proto to every HTTP/1.x request (native/tcp/xff.h). */
  http: boolean;
  /** TLS termination (-E); null = clients speak plain TCP. */
  tls: SnapshotTls | null;
}

/** TLS protocol versions as OpenSSL numbers them. */
export const TLS_VERSION = { tls12: 0x0303, tls13: 0x0304 } as const;

/**
 * What the TLS contexts are built from (native/tls/tls.h). Paths are absolute; '' = not
 * given. configure() builds the contexts on the JS thread and throws an Error with code
 * PEN_ERR_TLS naming the file when the default context cannot be built; it rebuilds them only
 * when this changed or one of the files (or ssl_sni_path's directory) changed on disk.
 */
export interface SnapshotTls {
  cert: string;
  /** '' = the key is in the cert file. */
  key: string;
  caFile: string;
  caDir: string;
  /** -R: ask for a client certificate and refuse the handshake without a valid one. */
  verifyClient: boolean;
  /** -Z: SSL_OP_ALL. */
  bugWorkarounds: boolean;
  /** TLS_VERSION values; min > max fails with PEN_ERR_TLS. */
  minVersion: number;
  maxVersion: number;
  /** TLS <= 1.2 cipher list and TLS 1.3 ciphersuites (OpenSSL syntax); '' = OpenSSL's default. */
  ciphers: string;
  ciphersuites: string;
  serverPreference: boolean;
  /** Directory of NAME.crt (+ .key, .ca, .ocsp) for SNI; '' = off. */
  sniPath: string;
  /** DER OCSP response stapled for the default certificate; '' = none. */
  ocspResponse: string;
}

/** One compiled ACL entry: 16-byte address and mask (IPv4 mapped), or a country code. */
export type SnapshotAclEntry =
  | { permit: boolean; family: 4 | 6; addr: Buffer; mask: Buffer }
  | { permit: boolean; country: string };

export interface ListenSpec extends SnapshotEndpoint {
  backlog: number;
  tcpNodelay: boolean;
}

export interface ListenInfo {
  /** The bound port (useful when 0 was asked for); 0 for unix sockets. */
  port: number;
}

/** Counters; the typed arrays are indexed by server (regular servers, then emergency, abuse). */
export interface NativeStats {
  accepted: bigint;
  active: number;
  pending: number;
  /** The regular server chosen most recently (Pen's "current"; 0 before any). */
  current: number;
  refused: bigint;
  /** `dummy` replies queued to clients so far. */
  dummyAnswers: bigint;
  /** Idle backend connections (`idlers`) open or connecting now. */
  idlers: number;
  /** DSR (dsr_if): frames and bytes forwarded to each regular server; empty when DSR is off. */
  dsrFrames: BigUint64Array;
  dsrBytes: BigUint64Array;
  conn: BigUint64Array;
  sx: BigUint64Array;
  rx: BigUint64Array;
  /** Epoch milliseconds until which the server is blacklisted; 0 = not blacklisted. */
  blacklistedUntil: Float64Array;
  /** Clients (UDP: flows) each worker took on, by worker: how the kernel spread them. */
  acceptedByWorker: number[];
  /** TCP workers that read and write sockets in batches (io_uring: one system call per turn). */
  ioBatched: number;
  /** Why a TCP worker does not ('' when every one does, and for UDP). */
  ioPlainWhy: string;
  /** RLIMIT_NOFILE (the soft limit, raised to the hard one when the engine was made). */
  fdLimit: number;
  /** The descriptors the workers may hold: fdLimit less a reserve for the control plane. */
  fdBudget: number;
  /** The descriptors the workers hold now (sockets, splice pipes). */
  fdsInUse: number;
  /** Backend sockets `transparent` could not bind to their client's address (they went out from pen's). */
  transparentFailures: number;
}

export interface NativeConnection {
  id: number;
  /** Pen's state bitmask: 1 connecting, 2 connected, 4 EOF from server, 8 EOF from client. */
  state: number;
  downfd: number;
  upfd: number;
  client: string;
  server: number;
  initial: number;
  /** Bytes waiting to be written to the client / to the server. */
  pendingDown: number;
  pendingUp: number;
  /** The client's slot in the client table (Pen's `client = N`), -1 when it has none. */
  clientIndex: number;
}

export interface NativeClient {
  address: string;
  server: number;
  connects: number;
  sx: bigint;
  rx: bigint;
  lastSeenMs: number;
}

/** One record handed over by the data plane; events always arrive in arrays (batches). */
export type NativeEvent =
  | { kind: 'log'; level: number; message: string }
  | { kind: 'server'; server: number; up: boolean; reason: string }
  /** The batch's access records (-l), packed (layout: events.ts). */
  | { kind: 'access'; records: Buffer }
  /** Access records lost because JavaScript fell behind (the queue is bounded). */
  | { kind: 'accessDropped'; count: number };

export interface NativeEngine {
  configure(snapshot: Snapshot): void;
  /**
   * Opens (or replaces) the listeners synchronously: one per worker, sharing the port with
   * SO_REUSEPORT when there are several, after checking that no other process holds the port.
   * Throws an Error with code PEN_ERR_BIND and the string properties `address` and `reason`.
   */
  listen(spec: ListenSpec): ListenInfo;
  /** Blacklist server for seconds from now (0 clears it). */
  blacklist(server: number, seconds: number): void;
  /** Returns false when no connection has that id. */
  closeConnection(id: number): boolean;
  stats(): NativeStats;
  connections(): NativeConnection[];
  clients(sinceSeconds: number): NativeClient[];
  onEvents(cb: (batch: NativeEvent[]) => void): void;
  /**
   * Stops the worker, closes every socket, and delivers the records still queued with one
   * last synchronous call of the onEvents callback; the engine is unusable afterwards.
   */
  close(): void;
  /**
   * Replaces the data-plane threads by `workers` new ones (1..maxWorkers), on the event
   * backend `poller` when given (pollers()). Only before the first listen(): afterwards it
   * throws an Error with code PEN_ERR_WORKERS; PEN_ERR_POLLER when the backend is not
   * available here. Server and client state (blacklists, tracking) stays.
   */
  setWorkers(workers: number, poller?: string): void;
  /**
   * The ISO country code of an IPv4/IPv6 literal (country.iso_code, else
   * registered_country.iso_code) in the database of the last configure(); null when it is
   * unknown or no database is open. For control_acl, which the control plane checks.
   */
  countryOf(ip: string): string | null;
  /**
   * Runs `switchUser` (which moves the process away from root: setgroups, setgid, setuid) so
   * that the data-plane threads, which make the privileged calls, come out of it holding
   * exactly the Linux capabilities `names` ('CAP_NET_RAW', 'CAP_NET_ADMIN'), effective and
   * permitted, and every other thread (this one too) none. Returns the names the threads hold,
   * read back. Throws an Error with code PEN_ERR_CAPABILITIES (an unknown name, not Linux, or
   * the threads could not keep them), or what switchUser threw.
   */
  keepCapabilities(names: string[], switchUser: () => void): string[];
}

/** The Engine methods as a runtime list (the conformance test compares it with the addon). */
export const ENGINE_METHODS = [
  'configure', 'listen', 'blacklist', 'closeConnection', 'stats', 'connections', 'clients', 'onEvents', 'close',
  'countryOf', 'setWorkers', 'keepCapabilities',
] as const satisfies readonly (keyof NativeEngine)[];
/** The module exports as a runtime list. */
export const ADDON_EXPORTS = [
  'abiVersion', 'maxServers', 'maxWorkers', 'algorithms', 'pollers', 'Engine', 'chroot', 'openDatagram', 'sendDatagrams', 'maxminddb',
  '_decodeEcho',
] as const satisfies readonly (keyof NativeAddon)[];

export interface NativeAddon {
  abiVersion: number;
  /** Regular server indices run 0..maxServers-1 (MAX_SERVERS in lib/control/commands/servers.ts). */
  maxServers: number;
  /** The most data-plane threads an Engine may run. */
  maxWorkers: number;
  algorithms(): string[];
  pollers(): string[];
  /**
   * poller: the event mechanism (pollers()). udp: run the UDP data plane (-U) instead of the
   * TCP one; listen() then opens a bound UDP socket (the mode decides, not the ListenSpec),
   * "connections" are UDP flows (client address:port -> server) and conn_max bounds them.
   * workers: data-plane threads (default 1), each with its own listener; the balancing state
   * (server counts, blacklists, client table, conn_max) is one for the process. Connection
   * numbers stay unique: slot s of worker i of n is connection s * n + i.
   */
  Engine: new (options: { poller: string; udp?: boolean; workers?: number }) => NativeEngine;
  /** chroot(2) + chdir("/"); throws with errno text. */
  chroot(dir: string): void;
  /**
   * A connected, non-blocking datagram socket: to the unix socket `path` (syslog's /dev/log:
   * Node has no unix datagram sockets), or with a port, UDP to the IP literal (penlogd).
   * Throws PEN_ERR_DATAGRAM naming the target. Connected at once, so it keeps working after
   * chroot. Close it with fs.closeSync.
   */
  openDatagram(path: string): number;
  openDatagram(ip: string, port: number): number;
  /**
   * Sends each Buffer as one datagram without waiting (one sendmmsg on Linux). `sent` < the
   * number given means `errno` stopped it (EAGAIN: the socket is full; ECONNREFUSED: nobody
   * listens) and the rest was not sent.
   */
  sendDatagrams(fd: number, datagrams: Buffer[]): { sent: number; errno: number };
  /**
   * The libmaxminddb version the addon was built with ('1.7.1'), or null when it was built
   * without it (CMake did not find libmaxminddb, or PEN_GEOIP=OFF as for prebuilds): country
   * ACL entries then cannot work and are refused.
   */
  maxminddb: string | null;
  /** Debug hook: what decode.cc understood of a snapshot, as plain data. */
  _decodeEcho(snapshot: Snapshot): unknown;
}

/** The package root (works from lib/ via a loader and from dist/lib/). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('pen: cannot find the package root');
    dir = up;
  }
  return dir;
}

let cached: NativeAddon | null = null;

/** Loads the addon once; explains how to build it when it is missing or stale. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let addon: NativeAddon;
  try {
    addon = require('node-gyp-build')(packageRoot()) as NativeAddon;
  } catch (err) {
    const e = new Error(
      `the native data plane is not built (${(err as Error).message.split('\n')[0]}).\n` +
        'Build it with: npm run build:native',
    );
    (e as NodeJS.ErrnoException).code = 'PEN_ERR_ADDON';
    throw e;
  }
  if (addon.abiVersion !== ABI_VERSION) {
    const e = new Error(
      `the native addon speaks ABI ${addon.abiVersion}, this control plane ABI ${ABI_VERSION}.\n` +
        'Rebuild it with: npm run build:native',
    );
    (e as NodeJS.ErrnoException).code = 'PEN_ERR_ADDON';
    throw e;
  }
  cached = addon;
  return addon;
}

// Compile-time: the runtime lists above name every member of the interfaces.
type Exact<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : false;
const engineListComplete: Exact<keyof NativeEngine, (typeof ENGINE_METHODS)[number]> = true;
const addonListComplete: Exact<keyof NativeAddon, (typeof ADDON_EXPORTS)[number]> = true;
void engineListComplete;
void addonListComplete;
