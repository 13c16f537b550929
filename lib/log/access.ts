// The request log (-l, `log`; spec/logging-tools.md §1-2): the data plane hands over access
// records in batches, packed in one Buffer (lib/engine/events.ts); this module formats them
// straight from those bytes (no string or object per record: a few hundred ns each) and
// writes them to a file or sends them to penlogd. JS thread only.
//
// Formats (Pen's, byte for byte):
//   file     CLIENT TIME SERVER TEXT\n   TEXT's bytes >= 0x80 replaced by '.', and (pen, not Pen)
//                                       its control bytes (< 0x20, 0x7f) too: no terminal escapes
//   penlogd  + CLIENT SERVER TEXT\n      one UDP datagram per record, TEXT raw, at most 1024 bytes
// Differences from Pen: one line per connection, or per request on keep-alive HTTP
// (native/log/capture.h), not one per read; the file is written once per batch, within about
// 20 ms (native/events.h; Pen's stdio buffer held lines back until 4 KiB piled up); `log HOST:PORT` keeps its port (quirk 39);
// a log that cannot be reopened on HUP keeps the file it had instead of ending pen; write
// errors (a full disk) are counted and reported, never fatal.
import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

import { parsePort } from '../config/listen-spec.js';
import { accessRecordAt, type AccessFields } from '../engine/events.js';
import { loadAddon } from '../engine/native.js';
import { PenError } from '../errors.js';
import type { Logger } from './debug.js';

export type LogDestination =
  | { kind: 'file'; path: string }
  | { kind: 'udp'; host: string; port: number };

/** Pen's cap on a penlogd datagram, newline included. */
export const DATAGRAM_MAX = 1024;
/** Records kept while the log is configured but not open yet (start-up, before the privilege drop). */
const EARLY_MAX = 10_000;
/** At most one report of write errors per this many milliseconds. */
const REPORT_EVERY_MS = 10_000;

/**
 * Pen's rule: a destination that contains ':' and does not start with '/' is HOST:PORT for
 * penlogd, anything else a file. HOST:PORT splits at the last colon (so ::1:10000 works) or
 * takes brackets ([::1]:10000); Pen split at the first and could not reach IPv6.
 * Throws PenError PEN_ERR_USAGE naming the destination when the port is bad.
 */
export function parseLogDestination(text: string): LogDestination {
  if (!text.includes(':') || text.startsWith('/')) return { kind: 'file', path: text };
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  const colon = text.lastIndexOf(':');
  const host = bracketed ? bracketed[1]! : text.slice(0, colon);
  const p = parsePort(bracketed ? bracketed[2]! : text.slice(colon + 1), 1, { proto: 'udp' });
  const fail = (why: string): never => {
    throw new PenError('PEN_ERR_USAGE', { detail: `log destination "${text}" ${why} (a file name with ':' must start with / or ./)` });
  };
  if ('reason' in p) return fail(p.reason);
  if (host === '') return fail('has no host before the port');
  return { kind: 'udp', host, port: p.port };
}

/** Copies the length-prefixed field at `f` into out at pos; returns the new pos. dots: bytes
    >= 0x80 and control bytes (< 0x20, 0x7f) become '.'. */
function copyField(b: Buffer, f: number, out: Buffer, pos: number, dots: boolean): number {
  const end = f + 1 + b[f]!;
  for (let i = f + 1; i < end; i++) {
    const c = b[i]!;
    out[pos++] = dots && (c >= 0x7f || c < 0x20) ? 0x2e : c;
  }
  return pos;
}

/** The number of records in a packed batch. */
export function countRecords(b: Buffer): number {
  let n = 0;
  for (let at = 0; at < b.length; at = accessRecordAt(b, at).next) n++;
  return n;
}

/** Pen's file lines for a packed batch: "CLIENT TIME SERVER TEXT\n", TEXT's bytes >= 0x80 and
    control bytes as '.'. */
export function fileLines(b: Buffer): Buffer {
  const recs: AccessFields[] = [];
  let size = 0;
  let lastTime = -1;
  let timeText = '';
  for (let at = 0; at < b.length;) {
    const f = accessRecordAt(b, at);
    recs.push(f);
    if (f.time !== lastTime) {
      lastTime = f.time;
      timeText = String(f.time);
    }
    size += f.next - f.client - 3 + timeText.length + 4;
    at = f.next;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  lastTime = -1;
  for (const f of recs) {
    if (f.time !== lastTime) {
      lastTime = f.time;
      timeText = String(f.time);
    }
    pos = copyField(b, f.client, out, pos, false);
    out[pos++] = 0x20;
    for (let i = 0; i < timeText.length; i++) out[pos++] = timeText.charCodeAt(i);
    out[pos++] = 0x20;
    pos = copyField(b, f.server, out, pos, false);
    out[pos++] = 0x20;
    pos = copyField(b, f.request, out, pos, true);
    out[pos++] = 0x0a;
  }
  return out;
}

/** Pen's penlogd datagrams for a packed batch: "+ CLIENT SERVER TEXT\n", TEXT raw, at most 1024 bytes each. */
export function penlogdDatagrams(b: Buffer): Buffer[] {
  const out = Buffer.allocUnsafe(b.length * 2 + 64);
  const list: Buffer[] = [];
  let pos = 0;
  for (let at = 0; at < b.length;) {
    const f = accessRecordAt(b, at);
    const start = pos;
    out[pos++] = 0x2b;
    out[pos++] = 0x20;
    pos = copyField(b, f.client, out, pos, false);
    out[pos++] = 0x20;
    pos = copyField(b, f.server, out, pos, false);
    out[pos++] = 0x20;
    pos = copyField(b, f.request, out, pos, false);
    if (pos - start > DATAGRAM_MAX - 1) pos = start + DATAGRAM_MAX - 1;
    out[pos++] = 0x0a;
    list.push(out.subarray(start, pos));
    at = f.next;
  }
  return list;
}

export interface AccessLogStats {
  /** The destination as configured (null: no request log). */
  destination: string | null;
  /** Lines written (file) or datagrams sent (penlogd). */
  written: number;
  /** Records the data plane could not hand over (its queue was full). */
  dropped: number;
  /** Lines that could not be written or sent (disk full, I/O error, unreachable penlogd). */
  failed: number;
}

interface Sink {
  /** Writes the packed records (failures are counted and reported by the sink). */
  write(records: Buffer): void;
  /** HUP: reopen (files); never throws. */
  reopen(): void;
  close(): void;
}

export class AccessLog {
  private sink: Sink | null = null;
  private dest: string | null = null;
  private early: { batches: Buffer[]; records: number } | null = null;
  private readonly counters = { written: 0, dropped: 0, failed: 0 };
  private lastReportMs = -Infinity; // performance.now(): a step of the wall clock moves no report
  private unreported = { failed: 0, dropped: 0, why: '' };
  private reportTimer: NodeJS.Timeout | null = null;

  constructor(private readonly logger: Logger) {}

  /** The configured destination (null = off). */
  get destination(): string | null {
    return this.dest;
  }

  stats(): AccessLogStats {
    return { destination: this.dest, ...this.counters };
  }

  /**
   * Records that `dest` is the destination to come, without opening it yet (start-up runs
   * the data plane before it drops privileges; Pen opens the log after that). Records that
   * arrive meanwhile are kept (up to 10,000) and written by open().
   */
  expect(dest: string | null): void {
    if (dest !== null && this.sink === null) this.early ??= { batches: [], records: 0 };
  }

  /**
   * Makes `dest` the destination (null: none), opening it first: a file in append mode, or a
   * UDP socket towards penlogd (the host resolved once, now). On failure throws PenError
   * naming the destination and the reason, and the previous destination stays in use.
   * Giving the current destination again does nothing.
   */
  async open(dest: string | null): Promise<void> {
    if (dest === this.dest && (this.sink !== null || dest === null)) return;
    const next = dest === null ? null : await openSink(parseLogDestination(dest), this);
    this.sink?.close();
    this.sink = next;
    this.dest = dest;
    const early = this.early;
    this.early = null;
    if (next && early) for (const b of early.batches) this.write(b);
  }

  /** SIGHUP: close and reopen a file log (rotation); penlogd destinations are left alone. */
  reopen(): void {
    this.sink?.reopen();
  }

  /** Writes one batch of packed records (one write(2) for a file, one sendmmsg for penlogd). */
  write(records: Buffer): void {
    if (!this.sink) {
      if (this.early) {
        const n = countRecords(records);
        if (this.early.records + n > EARLY_MAX) this.noteDropped(n);
        else {
          this.early.batches.push(records);
          this.early.records += n;
        }
      }
      return;
    }
    this.sink.write(records);
    if (this.logger.level >= 3) {
      for (const line of fileLines(records).toString('latin1').split('\n').slice(0, -1)) this.logger.log(3, line);
    }
  }

  /** Records lost before they reached JavaScript (the data plane's bounded queue was full). */
  noteDropped(count: number): void {
    this.counters.dropped += count;
    this.unreported.dropped += count;
    this.report();
  }

  close(): void {
    this.sink?.close();
    this.sink = null;
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.reportTimer = null;
  }

  // ---- for the sinks ----

  /** @internal */ wrote(n: number): void {
    this.counters.written += n;
  }

  /** @internal Lines lost for `why` (an errno text); reported at most every 10 s. */
  lost(n: number, why: string): void {
    this.counters.failed += n;
    this.unreported.failed += n;
    this.unreported.why = why;
    this.report();
  }

  /** @internal A problem that loses nothing yet (a failed reopen). */
  warn(message: string): void {
    this.logger.log(0, `request log ${this.dest}: ${message}`);
  }

  /** Reports what was lost since the last report: at once, then at most every 10 s. */
  private report(): void {
    const wait = this.lastReportMs + REPORT_EVERY_MS - performance.now();
    if (wait > 0) {
      // Later losses are reported when the 10 s are up, never left unsaid.
      this.reportTimer ??= setTimeout(() => {
        this.reportTimer = null;
        this.report();
      }, wait).unref();
      return;
    }
    this.lastReportMs = performance.now();
    const u = this.unreported;
    const parts: string[] = [];
    if (u.failed) parts.push(`${u.failed} line(s) could not be written (${u.why})`);
    if (u.dropped) parts.push(`${u.dropped} record(s) were dropped (the log writer fell behind)`);
    this.unreported = { failed: 0, dropped: 0, why: '' };
    if (parts.length) this.logger.log(0, `request log ${this.dest ?? ''}: ${parts.join('; ')}; pen keeps serving`);
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')}` : String(err.message ?? e);
}

async function openSink(d: LogDestination, log: AccessLog): Promise<Sink> {
  return d.kind === 'file' ? fileSink(d.path, log) : udpSink(d, log);
}

/** Newlines in buf[0, end): whole lines written. */
function countLines(buf: Buffer, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

function openAppend(path: string): number {
  return fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
}

function fileSink(path: string, log: AccessLog): Sink {
  let fd: number;
  try {
    fd = openAppend(path);
  } catch (e) {
    throw new PenError('PEN_ERR_CONFIG', { detail: `cannot open the request log ${path} (${errText(e)})` });
  }
  return {
    write(records) {
      const buf = fileLines(records);
      let off = 0;
      try {
        while (off < buf.length) off += fs.writeSync(fd, buf, off);
        log.wrote(countLines(buf, buf.length));
      } catch (e) {
        const done = countLines(buf, off);
        log.wrote(done);
        log.lost(countLines(buf, buf.length) - done, errText(e));
      }
    },
    reopen() {
      try {
        const next = openAppend(path);
        fs.closeSync(fd);
        fd = next;
      } catch (e) {
        log.warn(`cannot reopen (${errText(e)}); still writing to the file opened before`);
      }
    },
    close() {
      try {
        fs.closeSync(fd);
      } catch {
        // already gone
      }
    },
  };
}

/** errno number -> "ECONNREFUSED" */
function errnoName(n: number): string {
  return Object.entries(os.constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;
}

/**
 * penlogd over UDP: one datagram per record, each batch sent with one sendmmsg by the addon
 * (Node's dgram costs ~10 µs of CPU per datagram). The socket is connected, so an
 * unreachable penlogd shows up as ECONNREFUSED on a later batch: counted, never fatal.
 */
async function udpSink(d: Extract<LogDestination, { kind: 'udp' }>, log: AccessLog): Promise<Sink> {
  let address = d.host;
  if (!net.isIP(address)) {
    try {
      address = (await dns.lookup(d.host)).address;
    } catch {
      throw new PenError('PEN_ERR_RESOLVE', { host: d.host });
    }
  }
  const addon = loadAddon();
  let fd: number;
  try {
    fd = addon.openDatagram(address, d.port);
  } catch (e) {
    throw new PenError('PEN_ERR_CONFIG', { detail: `cannot send the request log to ${d.host}:${d.port} (${(e as Error).message})` });
  }
  return {
    write(records) {
      const datagrams = penlogdDatagrams(records);
      let off = 0;
      // One failed datagram (ECONNREFUSED from an earlier ICMP error) does not stop the rest.
      while (off < datagrams.length) {
        const r = addon.sendDatagrams(fd, off ? datagrams.slice(off) : datagrams);
        log.wrote(r.sent);
        off += r.sent;
        if (off >= datagrams.length) break;
        const err = r.errno;
        if (err === os.constants.errno.EAGAIN || err === os.constants.errno.ENOBUFS) {
          log.lost(datagrams.length - off, `${errnoName(err)}: penlogd cannot keep up`);
          break;
        }
        log.lost(1, errnoName(err));
        off++;
      }
    },
    reopen() {},
    close() {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}
