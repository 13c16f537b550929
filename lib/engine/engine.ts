// The control plane's handle on the data plane: one native Engine, the settings it runs on,
// and the listener. Turns Settings into snapshots and listen strings into sockets; relays the
// data plane's event batches to the logger. JS thread only.
import { PenError } from '../errors.js';
import { listenPort, parseListenSpec, type ListenSpec as ParsedListen } from '../config/listen-spec.js';
import type { Settings } from '../config/settings.js';
import type { Logger } from '../log/debug.js';
import { loadAddon, type NativeEngine, type NativeEvent, type ListenSpec, type SnapshotEndpoint } from './native.js';
import { workersOf } from '../config/workers.js';

/** Where access records go (lib/log/access.ts AccessLog). */
export interface AccessSink {
  /** One batch, packed (lib/engine/events.ts). */
  write(records: Buffer): void;
  noteDropped(count: number): void;
}
import { resolveEndpoint, toSnapshot, type HostResolver } from './to-snapshot.js';

/** What Engine.apply() is asked to do beyond pushing the settings. */
export interface ApplyOptions {
  /** Resolve every server name again (start-up does anyway; HUP asks for it). */
  resolveNames?: boolean;
}

export class Engine {
  readonly native: NativeEngine;
  /** The listener as bound: its unix path (to unlink at exit) or its real port. */
  listening: { path: string | null; port: number } | null = null;
  /** Receives the access records of each batch (one call per batch); null: they are discarded. */
  access: AccessSink | null = null;
  /** The addon was built with libmaxminddb: country ACL entries can work. */
  readonly geoip: boolean;
  /** Data-plane threads running now. */
  workers = 1;
  /** The event backend they run on. */
  private poller: Settings['eventBackend'];
  /** The last applied name and endpoint of each server slot ('0', ..., 'emergency', 'abuse'). */
  private names = new Map<string, { host: string; ep: SnapshotEndpoint }>();
  /** How a server's host becomes an endpoint (a DNS lookup for names); replaceable for tests. */
  resolveHost: (host: string) => Promise<SnapshotEndpoint> = (host) => resolveEndpoint(host, 0);

  /**
   * Loads the addon and starts the data-plane thread (nothing is listening yet). `udp` (-U)
   * picks the UDP data plane; it is fixed for the life of the engine (Pen's -U is start-up only).
   */
  constructor(private readonly logger: Logger, poller: Settings['eventBackend'] = 'default', readonly udp = false) {
    const addon = loadAddon();
    this.geoip = addon.maxminddb !== null;
    this.native = new addon.Engine({ poller, udp });
    this.poller = poller;
    this.native.onEvents((batch) => this.onEvents(batch));
  }

  /**
   * Validated settings -> snapshot -> data plane (takes effect at its next loop turn). A
   * server's name is resolved when the server is new or its host changed (or with
   * resolveNames); other servers keep the address they had, so a weight change neither waits
   * for DNS nor fails because some other name stopped resolving. Before the first listen(),
   * also sets the number of workers (`workers`) and the event backend (`epoll`, `poll`,
   * `kqueue`), both start-up only.
   */
  async apply(settings: Settings, opts: ApplyOptions = {}): Promise<void> {
    const fresh = new Map<string, { host: string; ep: SnapshotEndpoint }>();
    const resolve: HostResolver = async (host, slot) => {
      const prev = this.names.get(slot);
      const ep = !opts.resolveNames && prev?.host === host ? prev.ep : await this.resolveHost(host);
      fresh.set(slot, { host, ep });
      return ep;
    };
    const snapshot = await toSnapshot(settings, resolve);
    try {
      const n = workersOf(settings);
      if (this.listening === null && (n !== this.workers || settings.eventBackend !== this.poller)) {
        this.native.setWorkers(n, settings.eventBackend);
        this.workers = n;
        this.poller = settings.eventBackend;
      }
      this.native.configure(snapshot);
    } catch (err) {
      // The TLS contexts and the GeoIP database are opened inside configure(): a bad file is
      // the operator's to fix.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'PEN_ERR_TLS' || code === 'PEN_ERR_GEOIP' || code === 'PEN_ERR_POLLER') {
        throw new PenError(code, { detail: (err as Error).message });
      }
      throw err;
    }
    this.names = fresh;
  }

  /**
   * Opens the listener described by `spec` (Pen's LISTEN syntax) and hands it to the data
   * plane, which closes the previous one: a TCP listening socket, or in UDP mode a bound UDP
   * socket (unix paths are refused there). Throws PenError (PEN_ERR_LISTEN_SPEC, _RESOLVE,
   * _BIND) and keeps the old listener on failure.
   */
  async listen(spec: string, settings: Settings): Promise<void> {
    const parsed = parseListenSpec(spec, { proto: this.udp ? 'udp' : 'tcp' });
    const ls = await listenEndpoint(parsed, settings);
    try {
      const info = this.native.listen(ls);
      this.listening = { path: parsed.kind === 'unix' ? parsed.path : null, port: info.port };
    } catch (err) {
      const e = err as Error & { code?: string; address?: string; reason?: string };
      if (e.code !== 'PEN_ERR_BIND') throw err;
      throw new PenError('PEN_ERR_BIND', { address: e.address ?? spec, reason: e.reason ?? e.message });
    }
  }

  close(): void {
    this.native.close();
  }

  private onEvents(batch: NativeEvent[]): void {
    let access: Buffer | null = null;
    for (const e of batch) {
      if (e.kind === 'access') access = e.records;
      else if (e.kind === 'accessDropped') this.access?.noteDropped(e.count);
      else if (e.kind === 'log') this.logger.log(e.level, e.message);
      else this.logger.log(e.up ? 1 : 0, e.up ? `server ${e.server} is back: ${e.reason}` : `${e.reason}; server blacklisted`);
    }
    if (access) this.access?.write(access);
  }
}

async function listenEndpoint(p: ParsedListen, s: Settings): Promise<ListenSpec> {
  const common = { backlog: s.listenQueue, tcpNodelay: s.tcpNodelay };
  if (p.kind === 'unix') return { ...(await resolveEndpoint(p.path, 0)), ...common };
  return { ...(await resolveEndpoint(p.host ?? '0.0.0.0', listenPort(p))), ...common };
}
