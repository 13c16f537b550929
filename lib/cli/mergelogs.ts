// mergelogs: merge pen's request log with web-server logs, offline (lib/log/mergelogs.ts).
//
//   mergelogs -p PENLOG [-c] [-d] [-j JITTER] [-t SECONDS] SERVER:LOGFILE [SERVER:LOGFILE ...]
//
// SERVER is the server address exactly as pen's log writes it ([::1]:FILE for IPv6 servers).
// The merged log goes to stdout. -j: the largest clock difference between pen and the web
// servers, in seconds [600]; -t: seconds subtracted from pen's times [0]; -c: no sliding
// window (every pen line is considered for every web line); -d: debug output on stderr.
// Differences from Pen: errors say what is wrong and exit 2 (usage) or 1 (files) instead of
// "pfile null"/usage with 0; the usage text gives the real jitter default and no -r; the
// rest is listed in lib/log/mergelogs.ts.
import fs from 'node:fs';

import { bestClient, formatWebLine, parsePenLine, parseWebLine, PenWindow, type PenLine, type WebLine } from '../log/mergelogs.js';
import { LineReader, writeAllSync } from '../log/write-sync.js';
import { getopt, number } from './getopt.js';
import { standardReply } from './standard.js';

export const USAGE = `Usage: mergelogs -p penlog [-c] [-d] [-j jitter] [-t seconds] \\
        server1:logfile1 [server2:logfile2 ...]

  -c                Do not use penlog cache
  -d                Debugging (repeat for more)
  -p penlog         Log file from pen
  -j jitter         Jitter in seconds [600]
  -t seconds        Subtracted from pen's times (its clock's offset) [0]
  server:logfile    Web server address and name of logfile
  --help            this text
  --version         print the version
`;

interface Source {
  server: string;
  file: string;
  reader: LineReader;
  /** The next parsed line, or null at the end. */
  line: WebLine | null;
}

interface Options {
  penlog: string;
  cache: boolean;
  debug: number;
  jitter: number;
  tz: number;
  sources: Array<{ server: string; file: string }>;
}

class UsageError extends Error {}

export function parseOptions(argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = getopt(argv, 'p:j:t:cd');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const o: Options = { penlog: '', cache: true, debug: 0, jitter: 600, tz: 0, sources: [] };
  for (const [letter, value] of parsed.options) {
    if (letter === 'p') o.penlog = value;
    else if (letter === 'c') o.cache = false;
    else if (letter === 'd') o.debug++;
    else if (letter === 'j') o.jitter = number('-j', value, 0);
    else if (letter === 't') {
      if (!/^-?\d+$/.test(value)) throw new UsageError(`-t must be a whole number of seconds, got "${value}"`);
      o.tz = Number(value);
    }
  }
  if (!o.penlog) throw new UsageError('-p PENLOG is required');
  if (parsed.operands.length === 0) throw new UsageError('no SERVER:LOGFILE given');
  for (const arg of parsed.operands) {
    const m = /^\[([^\]]+)\]:(.+)$/.exec(arg) ?? /^([^:]+):(.+)$/.exec(arg);
    if (!m) throw new UsageError(`bogus server '${arg}' (expected SERVER:LOGFILE)`);
    o.sources.push({ server: m[1]!, file: m[2]! });
  }
  return o;
}

function openRead(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    throw new Error(`can't open '${file}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Runs mergelogs writing to `outFd`; resolves with the exit status. */
export function run(argv: readonly string[], outFd = 1, errFd = 2): number {
  const say = (text: string): void => { writeAllSync(errFd, Buffer.from(text)); };
  const standard = standardReply(argv, 'mergelogs', USAGE);
  if (standard !== null) {
    writeAllSync(outFd, Buffer.from(standard));
    return 0;
  }
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) say(`mergelogs: ${(e as Error).message}\n`);
    else say(`mergelogs: ${e.message}\n${USAGE}`);
    return 2;
  }
  let passed = 0;
  let unmatched = 0;
  let out = '';
  const emit = (line: string): void => {
    out += `${line}\n`;
    if (out.length >= 65536) {
      writeAllSync(outFd, Buffer.from(out, 'latin1'));
      out = '';
    }
  };
  try {
    const penFd = openRead(o.penlog);
    const sources: Source[] = o.sources.map((s) => ({ ...s, reader: new LineReader(openRead(s.file)), line: null }));
    const advance = (s: Source): void => {
      for (;;) {
        const text = s.reader.next();
        if (text === null) {
          s.line = null;
          return;
        }
        const w = parseWebLine(text);
        if (w) {
          s.line = w;
          return;
        }
        passed++;
        if (o.debug) say(`mergelogs: ${s.file}: cannot parse, copied unchanged: ${text}\n`);
        emit(text);
      }
    };
    for (const s of sources) advance(s);
    const penReader = new LineReader(penFd);
    const window = new PenWindow(() => penReader.next(), o.jitter, o.tz);
    // -c: every line of pen's log, read again from the start for each web line (as Pen).
    const everything = function* (): Generator<PenLine> {
      const r = new LineReader(penFd, 0);
      for (let l = r.next(); l !== null; l = r.next()) {
        const p = parsePenLine(l, o.tz);
        if (p) yield p;
      }
    };
    for (;;) {
      let s: Source | null = null;
      for (const c of sources) if (c.line && (!s || c.line.t < s.line!.t)) s = c;
      if (!s) break;
      const w = s.line!;
      const candidates = o.cache ? window.around(w.t) : everything();
      const client = bestClient(candidates, s.server, w.t, w.request);
      if (client === null) unmatched++;
      if (o.debug >= 2) say(`mergelogs: ${w.client} "${w.request}" at ${w.t} -> ${client ?? `${s.server} (no match)`}\n`);
      emit(formatWebLine(w, client ?? s.server));
      advance(s);
    }
  } catch (e) {
    if (out) writeAllSync(outFd, Buffer.from(out, 'latin1'));
    say(`mergelogs: ${(e as Error).message}\n`);
    return 1;
  }
  if (out) writeAllSync(outFd, Buffer.from(out, 'latin1'));
  if (passed) say(`mergelogs: ${passed} line(s) were not in common or combined log format and were copied unchanged\n`);
  if (o.debug && unmatched) say(`mergelogs: ${unmatched} line(s) had no match in ${o.penlog} (their server address stands as the client)\n`);
  return 0;
}
