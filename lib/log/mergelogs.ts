// mergelogs (spec/logging-tools.md §5): the offline merge of pen's file log (-l FILE) with the
// web servers' access logs (common or combined format). The web logs are merged in time
// order; each line gets the client address pen saw, taken from the pen log line with the same
// server, the same request and the nearest time (within the jitter). Pure parts here; the
// files and the loop are in lib/cli/mergelogs.ts.
//
// Differences from Pen's mergelogs (quirk 64): times are read and written in UTC (Pen read
// them as local time and wrote local time labelled +0000, right only with TZ=UTC); a pen
// request of 100 characters (pen keeps no more) matches a web request that starts with it
// (Pen's exact comparison never matched long URLs); web lines that cannot be parsed are
// copied unchanged in their place instead of being dropped; lines of any length are read
// whole.

/** A web access-log line, split as Pen's sscanf did: CLIENT b1[TIME]b2"REQUEST"b3. */
export interface WebLine {
  client: string;
  b1: string;
  time: string;
  b2: string;
  request: string;
  b3: string;
  /** TIME as seconds since the epoch. */
  t: number;
}

/** A line of pen's file log: CLIENT TIME SERVER REQUEST. */
export interface PenLine {
  client: string;
  t: number;
  server: string;
  request: string;
}

/** Pen keeps this much of a request. */
export const REQUEST_MAX = 100;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "09/Jan/2002:00:27:15 +0100" -> epoch seconds (no zone: UTC); null if malformed. */
export function parseTime(text: string): number | null {
  const m = /^(\d{1,2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\s+([+-])(\d{2})(\d{2}))?\s*$/.exec(text);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!);
  if (month < 0) return null;
  let t = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
  if (m[7]) {
    const offset = Number(m[8]) * 3600 + Number(m[9]) * 60;
    t += m[7] === '+' ? -offset : offset;
  }
  return t;
}

/** Epoch seconds -> "09/Jan/2002:00:27:15 +0000" (UTC). */
export function formatTime(t: number): string {
  const d = new Date(t * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${p(d.getUTCFullYear(), 4)}:` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Splits a common/combined log line; null when it does not have that shape. */
export function parseWebLine(line: string): WebLine | null {
  const m = /^([^ ]+) *([^[]+)\[([^\]]+)\]([^"]+)"([^"]+)"(.+)$/.exec(line);
  if (!m) return null;
  const t = parseTime(m[3]!);
  if (t === null) return null;
  return { client: m[1]!, b1: m[2]!, time: m[3]!, b2: m[4]!, request: m[5]!, b3: m[6]!, t };
}

/** The merged line: the web line with `client` and the time in UTC. */
export function formatWebLine(w: WebLine, client: string): string {
  return `${client} ${w.b1}[${formatTime(w.t)}]${w.b2}"${w.request}"${w.b3}`;
}

/** Splits a line of pen's log; null when it does not have that shape. `tz` is subtracted from the time. */
export function parsePenLine(line: string, tz = 0): PenLine | null {
  const m = /^\s*(\S+)\s+(-?\d+)\s+(\S+)\s+([^\n]+)$/.exec(line);
  if (!m) return null;
  return { client: m[1]!, t: Number(m[2]) - tz, server: m[3]!, request: m[4]! };
}

/** Whether pen's request (at most 100 characters) stands for the web server's. */
export function sameRequest(pen: string, web: string): boolean {
  return pen === web || (pen.length >= REQUEST_MAX && web.startsWith(pen));
}

/**
 * The client of the pen line nearest in time to `t` among `candidates` for `server` and
 * `request` (the first one on a tie, as Pen), or null when none matches.
 */
export function bestClient(candidates: Iterable<PenLine>, server: string, t: number, request: string): string | null {
  let best: string | null = null;
  let distance = Infinity;
  for (const p of candidates) {
    if (p.server !== server || !sameRequest(p.request, request)) continue;
    const d = Math.abs(t - p.t);
    if (d < distance) {
      distance = d;
      best = p.client;
    }
  }
  return best;
}

/**
 * Pen's sliding window over its log (assumed in time order): entries older than t - jitter
 * are forgotten, and lines are read until the newest one is later than t + jitter. Only the
 * entries within the jitter are candidates (Pen also used the ones just outside it).
 */
export class PenWindow {
  private entries: PenLine[] = [];
  private done = false;

  constructor(private readonly nextLine: () => string | null, private readonly jitter: number,
    private readonly tz: number) {}

  /** The entries within [t - jitter, t + jitter]. */
  around(t: number): PenLine[] {
    let drop = 0;
    while (drop < this.entries.length && this.entries[drop]!.t < t - this.jitter) drop++;
    if (drop) this.entries = this.entries.slice(drop);
    while (!this.done) {
      const last = this.entries[this.entries.length - 1];
      if (last && last.t > t + this.jitter) break;
      const line = this.nextLine();
      if (line === null) {
        this.done = true;
        break;
      }
      const p = parsePenLine(line, this.tz);
      if (p) this.entries.push(p);
    }
    return this.entries.filter((p) => Math.abs(p.t - t) <= this.jitter);
  }
}
