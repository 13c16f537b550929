// penlogd's merging (spec/logging-tools.md §4): pen sends "+ CLIENT SERVER REQUEST" for each
// request it forwards; each web server sends its own access-log lines (penlog). A web line
// whose server and request match a remembered pen entry is written with pen's client address
// in place of its first field (the address the web server saw: pen's). Pure: datagrams in,
// output lines and diagnostics out; lib/cli/penlogd.ts does the sockets and files.
//
// Differences from Pen's penlogd (quirk 63): every one of the N remembered entries is
// searched (Pen never looked at the oldest slot); a web request matches an entry when its
// first 100 characters equal the entry's request (Pen compared only min(length, 100)
// characters, so "GET /" matched "GET /index.html"; requests of 100 characters and more
// never matched); IPv6 servers and web servers work; a datagram may hold several lines;
// pieces of a line longer than 1023 bytes (penlog sends those in 1023-byte datagrams) are
// joined again; output lines always end in a newline.
import net from 'node:net';

/** How much of a request is kept and compared (Pen's KEEP_MAX). */
export const REQUEST_MAX = 100;
/** penlog's datagram size for the pieces of a long line (Pen's fgets buffer minus one). */
export const PIECE = 1023;

interface Entry {
  server: string;
  client: string;
  request: string;
}

/** "::ffff:1.2.3.4" -> "1.2.3.4"; IPv6 in one spelling; anything else unchanged. */
export function normalizeAddress(a: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (m) return m[1]!;
  if (net.isIPv6(a)) {
    try {
      return new net.SocketAddress({ address: a, family: 'ipv6' }).address;
    } catch {
      return a.toLowerCase();
    }
  }
  return a;
}

/** Bad input quoted in a note: printable, at most 200 characters. */
function shorten(text: string): string {
  const t = text.replace(/[^\x20-\x7e]/g, '?');
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
}

export interface Result {
  /** Text to write (whole lines, latin1), '' when nothing. */
  out: string;
  /** Diagnostics for debug level 1 (bogus lines). */
  notes: string[];
}

export class Merger {
  private readonly ring: (Entry | undefined)[];
  private next = 0;
  private readonly partial = new Map<string, string>();

  /** size: how many pen entries are remembered (-n, default 1000). */
  constructor(readonly size = 1000) {
    this.ring = new Array<Entry | undefined>(size);
  }

  /** Handles one datagram (latin1 text) that came from `source` (an IP address). */
  datagram(text: string, source: string): Result {
    const from = normalizeAddress(source);
    const held = this.partial.get(from);
    if (held !== undefined) {
      this.partial.delete(from);
      text = held + text;
    }
    const res: Result = { out: '', notes: [] };
    let lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    else if (text.length % PIECE === 0 && !text.startsWith('+') && this.partial.size < 10_000) {
      // A piece of a long line: wait for the rest.
      this.partial.set(from, text);
      return res;
    }
    for (const line of lines) {
      if (line.startsWith('+')) this.penEntry(line, res);
      else this.webLine(line, from, res);
    }
    return res;
  }

  private penEntry(line: string, res: Result): void {
    const m = /^\+ *([^ ]+) +([^ ]+) +(.+)$/.exec(line.replace(/\r$/, ''));
    if (!m) {
      res.notes.push(`discarding bogus pen line ${shorten(line)}`);
      return;
    }
    const server = normalizeAddress(m[2]!);
    if (net.isIP(server) === 0) {
      res.notes.push(`bogus address ${shorten(m[2]!)}`);
      return;
    }
    this.ring[this.next] = { server, client: m[1]!, request: m[3]!.slice(0, REQUEST_MAX) };
    this.next = (this.next + 1) % this.size;
  }

  private webLine(line: string, server: string, res: Result): void {
    const open = line.indexOf('"');
    const close = open < 0 ? -1 : line.indexOf('"', open + 1);
    if (close < 0) {
      res.notes.push(`bogus web line ${shorten(line)}`);
      return;
    }
    const request = line.slice(open + 1, close).slice(0, REQUEST_MAX);
    const e = this.find(server, request);
    const space = line.indexOf(' ');
    res.out += e && space >= 0 ? `${e.client}${line.slice(space)}\n` : `${line}\n`;
  }

  /** The newest remembered entry for server and request. */
  private find(server: string, request: string): Entry | undefined {
    for (let k = 1; k <= this.size; k++) {
      const e = this.ring[(this.next - k + this.size) % this.size];
      if (e && e.server === server && e.request === request) return e;
    }
    return undefined;
  }
}
