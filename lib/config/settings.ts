// The Settings model: the single source of truth for pen's configuration in the control plane.
// Every way of changing configuration (argv, -O, -F, include, penctl, HUP) produces a new
// Settings value validated by SettingsSchema; the data plane only ever sees snapshots made from
// it (lib/engine/to-snapshot.ts).
import { z } from './zod.js';
import type { z as zt } from 'zod';
import { AclListsSchema, emptyAcls } from './acl.js';

const int = (min: number, max = 2 ** 31 - 1) => z.number().int().min(min).max(max);

/** The largest `timeout` / -t: its milliseconds must fit the data plane's 31-bit field. */
export const TIMEOUT_MAX = 2147483;

/** A backend (or the emergency / abuse server) as written by the operator. */
export const ServerSchema = z.object({
  /** Host name, IPv4 or IPv6 literal (no brackets), or a unix-socket path (contains '/'). */
  host: z.string().min(1),
  /** 1..65535; a unix-socket path carries 0. An omitted port is filled with the listen port. */
  port: int(0, 65535),
  /** Soft limit of connections; 0 = unlimited. */
  maxc: int(0),
  /** Hard limit for returning (sticky) clients; only meaningful when > maxc. */
  hard: int(0),
  weight: int(0),
  prio: int(0),
  /** Per-server ACL list 0..9 (checked at connect time; 0 = empty list = permit all). */
  acl: int(0, 9),
});
export type Server = zt.infer<typeof ServerSchema>;

export const TcpFastclose = z.enum(['off', 'up', 'down', 'both']);
/** -L: the lowest TLS version. Pen's ssl23 and tls1 mean TLS 1.2 (spec/ssl.md "modern equivalents"). */
export const SslProtocol = z.enum(['ssl23', 'tls1', 'tls1.2', 'tls1.3']);
/** ssl_option words (cumulative). no_sslv2/no_sslv3/no_tlsv1/no_tlsv1.1 change nothing (those are never spoken). */
export const SSL_OPTIONS = ['no_sslv2', 'no_sslv3', 'no_tlsv1', 'no_tlsv1.1', 'no_tlsv1.2', 'no_tlsv1.3',
  'cipher_server_preference'] as const;
export const SslOption = z.enum(SSL_OPTIONS);
export const EventBackend = z.enum(['default', 'epoll', 'poll', 'kqueue']);

export const SettingsSchema = z.object({
  /** LISTEN as the operator wrote it: port, host:port, [v6]:port, :::port or a unix path. */
  listen: z.string().nullable(),
  servers: z.array(ServerSchema),
  emergency: ServerSchema.nullable(),
  abuse: ServerSchema.nullable(),

  // Selection flags, Pen's model: precedence prio > weight > hash > roundrobin;
  // client tracking is on whenever roundrobin and forgetServers are off.
  roundrobin: z.boolean(),
  hash: z.boolean(),
  forgetServers: z.boolean(), // -N: a returning client is not sent to its last server (hash alone decides)
  stubborn: z.boolean(),
  weight: z.boolean(),
  prio: z.boolean(),

  tracking: int(0), //          -T seconds a client stays known; 0 = forever
  blacklist: int(0), //         -b seconds a failed server is skipped
  clientsMax: int(1), //        -c client table size
  connMax: int(1), //           -x connection limit
  multiAccept: int(1), //       -m accepts per listener wake-up
  listenQueue: int(1), //       -q listen() backlog
  timeout: int(1, TIMEOUT_MAX), // -t backend connect timeout, seconds (the data plane counts ms in 31 bits)
  pendingMax: int(1), //        pending_max: backend connects in flight at once
  idleTimeout: int(0), //       idle_timeout seconds; 0 = off
  dummy: z.boolean(), //        dummy: answer every client with a fixed HTTP reply, no backend
  idlers: int(0), //            idlers N: idle backend connections kept open (< connMax)
  tcpNodelay: z.boolean(),
  tcpFastclose: TcpFastclose,
  keepalive: z.boolean(),
  eventBackend: EventBackend, // -P = poll
  workers: z.union([int(1, 256), z.literal('auto')]), // workers N|auto: data-plane threads (start-up only)

  foreground: z.boolean(), //   -f
  pidfile: z.string().nullable(), // -p
  user: z.string().nullable(), //   -u
  chroot: z.string().nullable(), // -j
  debug: int(0), //             -d (repeatable)
  exitEnabled: z.boolean(), //  -X

  // Control plane (lib/control/).
  /** ACL lists 0..9 (lib/config/acl.ts); an empty list permits everyone. */
  acls: AclListsSchema,
  clientAcl: int(0, 9), //      client_acl: admission list; denied clients go to -B or are closed
  controlAcl: int(0, 9), //     control_acl: who may use the control socket
  /** geoip_db: MaxMind DB for country ACL entries, absolute; null = lib/config/geoip.ts's default places. */
  geoipDb: z.string().min(1).nullable(),
  control: z.string().nullable(), // -C as written: [host:]port, [v6]:port or a unix path
  configFile: z.string().nullable(), // -F: read at start-up and on HUP; `write`'s default file
  source: z.string().nullable(), //   source: IP literal that backend sockets bind to
  transparent: z.boolean(), //        transparent: backend sockets bind to the client's address (source wins)
  abortOnError: z.boolean(), //       abort_on_error: fatal errors abort() (core) instead of exit
  udp: z.boolean(), //                -U: the listener and the backends speak UDP (start-up only)
  /** dsr_if: Direct Server Return on this interface instead of a listening socket (start-up only). */
  dsrIf: z.string().min(1).nullable(),
  tarpitAcl: int(-1, 9), //           tarpit_acl: the ACL of addresses DSR impersonates; -1 = off
  udpResponses: int(0), //            udp_responses: replies that end a flow (0 = never)
  udpTimeout: int(0), //              udp_timeout: seconds a flow waits for its first reply (0 = idle_timeout)

  // Logs and statistics (lib/log/).
  /** -l / `log`: request log destination as written: a file, or HOST:PORT for penlogd (UDP). */
  log: z.string().min(1).nullable(),
  webStats: z.string().min(1).nullable(), // -w / `web_stats`: HTML statistics file (USR1, `status`)
  ascii: z.boolean(), //              -a / `ascii`: debug-level-3 dumps as text instead of hex

  // HTTP header insertion and TLS termination (native/tcp/xff.h, native/tls/, spec/ssl.md).
  http: z.boolean(), //               -H / `http`: X-Forwarded-For and X-Forwarded-Proto
  /** -E: PEM certificate chain, absolute path; TLS is on when set (start-up only). */
  sslCert: z.string().min(1).nullable(),
  sslKey: z.string().min(1).nullable(), //    -K: PEM private key (default: read from the -E file)
  sslCaFile: z.string().min(1).nullable(), // -G: CA file for client certificates
  sslCaDir: z.string().min(1).nullable(), //  -A: hashed CA directory for client certificates
  sslVerifyClient: z.boolean(), //            -R: require a valid client certificate
  sslBugWorkarounds: z.boolean(), //          -Z: OpenSSL's bug workarounds (SSL_OP_ALL)
  sslProtocol: SslProtocol, //                -L: the lowest TLS version
  sslOptions: z.array(SslOption), //          ssl_option, each word once, in the order given
  sslCiphers: z.string().min(1).nullable(), //      ssl_ciphers: TLS <= 1.2 cipher list (OpenSSL syntax)
  sslCiphersuites: z.string().min(1).nullable(), // ssl_ciphersuites: TLS 1.3 suites (pen's addition)
  sslSniPath: z.string().min(1).nullable(), //      ssl_sni_path: DIR of NAME.crt/.key/.ca/.ocsp
  sslOcspResponse: z.string().min(1).nullable(), // ssl_ocsp_response: DER response to staple
  sslRenegotiationInterval: int(0), //        ssl_client_renegotiation_interval (kept; renegotiation is off)
});
export type Settings = zt.infer<typeof SettingsSchema>;

/** Pen's compiled-in defaults (spec/cli.md option table). */
export const DEFAULTS: Settings = Object.freeze({
  listen: null,
  servers: [],
  emergency: null,
  abuse: null,
  roundrobin: false,
  hash: false,
  forgetServers: false,
  stubborn: false,
  weight: false,
  prio: false,
  tracking: 0,
  blacklist: 30,
  clientsMax: 2048,
  connMax: 500,
  multiAccept: 100,
  listenQueue: 500,
  timeout: 3,
  pendingMax: 100,
  idleTimeout: 0,
  dummy: false,
  idlers: 0,
  tcpNodelay: false,
  tcpFastclose: 'off',
  keepalive: false,
  eventBackend: 'default',
  workers: 1,
  foreground: false,
  pidfile: null,
  user: null,
  chroot: null,
  debug: 0,
  exitEnabled: false,
  acls: emptyAcls(),
  clientAcl: 0,
  controlAcl: 0,
  geoipDb: null,
  control: null,
  configFile: null,
  source: null,
  transparent: false,
  abortOnError: false,
  udp: false,
  dsrIf: null,
  tarpitAcl: -1,
  udpResponses: 0,
  udpTimeout: 0,
  log: null,
  webStats: null,
  ascii: false,
  http: false,
  sslCert: null,
  sslKey: null,
  sslCaFile: null,
  sslCaDir: null,
  sslVerifyClient: false,
  sslBugWorkarounds: false,
  sslProtocol: 'ssl23',
  sslOptions: [],
  sslCiphers: null,
  sslCiphersuites: null,
  sslSniPath: null,
  sslOcspResponse: null,
  sslRenegotiationInterval: 3600,
}) as Settings;

/** A fresh, mutable copy of the defaults. */
export function defaultSettings(): Settings {
  return structuredClone(DEFAULTS);
}
