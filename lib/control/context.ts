// What the pen process gives the command table. The pen entry point implements ControlContext
// once; every way in (-O, the -F file, include, HUP reload, the control socket) runs commands
// against it through dispatch(). Tests use test/unit/control-fixture.ts (a FakeEngine behind it).
import type { NativeEngine } from '../engine/native.js';
import type { Settings } from '../config/settings.js';
import type { AccessLogStats } from '../log/access.js';

/** Where a command line came from. Only 'socket' changes behaviour (start-up-only commands). */
export type Origin = 'option' | 'file' | 'socket';

/** The runtime side of the data plane that commands read or act on. */
export type ControlEngine = Pick<NativeEngine, 'blacklist' | 'closeConnection' | 'stats' | 'connections' | 'clients' | 'countryOf'>;

/** What country ACL entries can count on (lib/config/geoip.ts). */
export interface GeoIp {
  /** The data plane was built with libmaxminddb; false: country entries are refused. */
  readonly supported: boolean;
  /** The database file for a geoip_db setting (null: the default places), or null when there is none. */
  database(setting: string | null): string | null;
}

export interface ControlContext {
  /** The current settings. Read-only: every change goes through update(). */
  settings(): Readonly<Settings>;

  /**
   * Applies `mutate` to a copy of the settings, validates the copy with SettingsSchema and makes
   * it current; once the data plane runs, also pushes the snapshot made from it (names are
   * resolved then). All or nothing: on any failure throws (a PenError naming the problem, e.g.
   * PEN_ERR_RESOLVE) and the settings and data plane stay as they were. `mutate` is synchronous.
   * Calls are serialised by dispatch(); the implementation need not lock.
   */
  update(mutate: (draft: Settings) => void): Promise<void>;

  /**
   * The data plane's runtime calls. Usable from the first -O command on (create the Engine
   * before running -O); before the first snapshot stats() may report empty arrays.
   */
  readonly engine: ControlEngine;

  /** GeoIP for `acl N ... country CC` and `geoip_db`. */
  readonly geoip: GeoIp;

  /**
   * `listen ADDR`. Before start-up has opened the listener: only check `spec` (throw PenError
   * if it is malformed); the start-up opens it later from settings.listen. Once running: open
   * the new listener first and close the old one only when that worked; on failure throw
   * PenError and keep the old listener (quirk 41a). Does not change settings.listen: the
   * caller records it after this returns.
   */
  reopenListener(spec: string): Promise<void>;

  /** The process id, for `pid`. */
  readonly pid: number;

  /** pen's stdout: where replies to -O, -F, include and HUP-reload commands go. */
  out(text: string): void;

  /**
   * Shut down like SIGTERM (close connections, unlink the pidfile, exit 0), after the current
   * reply has been sent. Only called when settings.exitEnabled (-X) is true.
   */
  exit(): void;

  /**
   * Whole file as UTF-8, at most maxBytes (default 1 MiB) long. Rejects with an error whose
   * `code` says why: the fs error's (ENOENT, ...), or "not a regular file (a FIFO)", "larger
   * than N bytes". Never blocks the JS thread (lib/run/regular-files.ts).
   */
  readFile(path: string, maxBytes?: number): Promise<string>;

  /** Replace the contents of a regular file (created when absent); rejects as readFile does. */
  writeFile(path: string, text: string): Promise<void>;

  /**
   * Why `transparent` cannot be turned on now (the data plane gave up CAP_NET_RAW when pen
   * switched users with -u), or null when it can; absent: it can.
   */
  transparentRefusal?(): string | null;

  /** The request log's counters (written, dropped, failed) for `status`; absent where there is none. */
  accessLogStats?(): AccessLogStats | null;
}
