// An in-memory NativeEngine for unit tests (the katran "testing mode" idea): it moves no bytes,
// records what the control plane asked for, and reports runtime state that tests put in.
import type {
  ListenInfo, ListenSpec, NativeClient, NativeConnection, NativeEngine, NativeEvent, NativeStats, Snapshot,
} from './native.js';

/** Per-server counters a test can set (index as in stats(): regular servers first). */
export interface FakeServerCounters {
  conn: bigint;
  sx: bigint;
  rx: bigint;
}

export class FakeEngine implements NativeEngine {
  /** The last snapshot given to configure(), and how many were given. */
  snapshot: Snapshot | null = null;
  configureCount = 0;
  /** The last listen() spec. */
  listening: ListenSpec | null = null;
  /** Every blacklist(server, seconds) call, in order. */
  readonly blacklistCalls: Array<{ server: number; seconds: number }> = [];
  /** Ids closed by closeConnection() (only those that existed). */
  readonly closedIds: number[] = [];
  /** Runtime state reported by the queries; tests fill these in. */
  connectionTable: NativeConnection[] = [];
  clientTable: NativeClient[] = [];
  counters: FakeServerCounters[] = [];
  accepted = 0n;
  refused = 0n;
  current = 0;
  dummyAnswers = 0n;
  idlers = 0;
  /** DSR counters by regular server (empty: DSR off). */
  dsrFrames: bigint[] = [];
  dsrBytes: bigint[] = [];
  closed = false;
  /** countryOf() answers from here (IP text -> ISO code); tests fill it in. */
  readonly countries = new Map<string, string>();
  private eventHandler: ((batch: NativeEvent[]) => void) | null = null;

  configure(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.configureCount++;
  }

  listen(spec: ListenSpec): ListenInfo {
    this.listening = spec;
    return { port: spec.port };
  }

  blacklist(server: number, seconds: number): void {
    this.blacklistCalls.push({ server, seconds });
  }

  closeConnection(id: number): boolean {
    const i = this.connectionTable.findIndex((c) => c.id === id);
    if (i < 0) return false;
    this.connectionTable.splice(i, 1);
    this.closedIds.push(id);
    return true;
  }

  stats(): NativeStats {
    const n = Math.max(this.counters.length, (this.snapshot?.servers.length ?? 0) + 2);
    const pick = (f: keyof FakeServerCounters) =>
      BigUint64Array.from({ length: n }, (_, i) => this.counters[i]?.[f] ?? 0n);
    return {
      accepted: this.accepted, refused: this.refused, acceptedByWorker: [Number(this.accepted)],
      fdLimit: 1024, fdBudget: 892, fdsInUse: 2 * this.connectionTable.length, transparentFailures: 0,
      ioBatched: 0, ioPlainWhy: '',
      active: this.connectionTable.length,
      pending: this.connectionTable.filter((c) => c.state & 1).length,
      current: this.current,
      dummyAnswers: this.dummyAnswers, idlers: this.idlers,
      dsrFrames: new BigUint64Array(this.dsrFrames), dsrBytes: new BigUint64Array(this.dsrBytes),
      conn: pick('conn'), sx: pick('sx'), rx: pick('rx'),
      blacklistedUntil: new Float64Array(n),
    };
  }

  connections(): NativeConnection[] {
    return this.connectionTable.map((c) => ({ ...c }));
  }

  /** Clients seen in the last `sinceSeconds` seconds (by lastSeenMs against Date.now()). */
  clients(sinceSeconds: number): NativeClient[] {
    const since = Date.now() - sinceSeconds * 1000;
    return this.clientTable.filter((c) => c.lastSeenMs >= since).map((c) => ({ ...c }));
  }

  onEvents(cb: (batch: NativeEvent[]) => void): void {
    this.eventHandler = cb;
  }

  /** Test hook: deliver a batch as the data plane would. */
  emit(batch: NativeEvent[]): void {
    this.eventHandler?.(batch);
  }

  /** The last setWorkers() value. */
  workers = 1;

  setWorkers(workers: number): void {
    this.workers = workers;
  }

  close(): void {
    this.closed = true;
  }

  keepCapabilities(names: string[], switchUser: () => void): string[] {
    switchUser();
    return [...names];
  }

  countryOf(ip: string): string | null {
    return this.countries.get(ip) ?? null;
  }
}
