// Spawning pen in tests: `startPen` runs `node bin/pen.js -f ARGS` as a child, waits until
// its listen socket is in the LISTEN state (read from /proc, so that readiness costs no
// connection through pen: a probe connection would move the roundrobin cursor and fill the
// client table), and gives back its pid, output and a bounded stop(). `runPen` runs pen to
// completion (bad command lines, --help, daemon start). Every child is remembered and
// killed by pid when the test process exits, also on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

import { freeEndpoint, ipBytes, listenSpecOf, specOf, type Endpoint } from './net.js';
import { sleep, TIME_SCALE, waitFor, withTimeout } from './time.js';

export const PEN_BIN = fileURLToPath(new URL('../../../bin/pen.js', import.meta.url));

/** How long pen may take to listen (stretched by PEN_TEST_TIME_SCALE, helpers/time.ts). */
const READY_MS = 8000 * TIME_SCALE;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PenOptions {
  /** Where pen listens: startPen returns once this socket is listening. */
  ready: Endpoint;
  /** Run under `ulimit -n N` (through sh; pen's pid is still the child's pid). */
  nofile?: number;
  /** Add -f (default true). */
  foreground?: boolean;
  /** Default 8000 ms. */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface Pen {
  pid: number;
  child: ChildProcess;
  args: string[];
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  isRunning(): boolean;
  /** Sends `signal` and waits up to timeoutMs for the exit; SIGKILLs and throws if it hangs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** SIGKILL (cleanup; never throws). */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) {
    try {
      if (c.pid) process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function spawnPen(args: string[], nofile: number | undefined, env: NodeJS.ProcessEnv | undefined): ChildProcess {
  const penArgv = [PEN_BIN, ...args];
  const opts = { stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], env: env ?? process.env };
  const child = nofile === undefined
    ? spawn(process.execPath, penArgv, opts)
    : spawn('/bin/sh', ['-c', 'ulimit -n "$1" && shift && exec "$@"', 'sh', String(nofile),
      process.execPath, ...penArgv], opts);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function collect(child: ChildProcess): { out: () => string; err: () => string; exited: Promise<Exit> } {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<Exit>((resolve) => {
    // 'close' waits for the pipes to drain, so the output is complete on exit.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { out: () => out, err: () => err, exited };
}

// ---- readiness through /proc ----

function socketInodes(pid: number): Set<string> | null {
  let names: string[];
  try {
    names = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  const inodes = new Set<string>();
  for (const n of names) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${n}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  return inodes;
}

/** The address bytes of a /proc/net/tcp{,6} field, in network order. */
function procAddrBytes(hex: string): Buffer {
  const b = Buffer.from(hex, 'hex');
  if (os.endianness() === 'LE') for (let i = 0; i < b.length; i += 4) b.subarray(i, i + 4).reverse();
  return b;
}

function listeningInodes(e: Endpoint): Set<string> {
  const found = new Set<string>();
  if ('path' in e) {
    let text = '';
    try {
      text = fs.readFileSync('/proc/net/unix', 'utf8');
    } catch {
      return found;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 = listening
      if (f.length >= 8 && f[7] === e.path && (parseInt(f[3]!, 16) & 0x10000) !== 0) found.add(f[6]!);
    }
    return found;
  }
  const want = ipBytes(e.host);
  const file = want.length === 4 ? '/proc/net/tcp' : '/proc/net/tcp6';
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return found;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
    const [addr, port] = f[1]!.split(':') as [string, string];
    if (parseInt(port, 16) !== e.port) continue;
    if (procAddrBytes(addr).equals(want)) found.add(f[9]!);
  }
  return found;
}

function hasProc(): boolean {
  return fs.existsSync('/proc/net/tcp');
}

/** Whether process `pid` holds a listening socket on `e` (null if /proc cannot tell). */
export function isListening(pid: number, e: Endpoint): boolean | null {
  if (!hasProc()) return null;
  const mine = socketInodes(pid);
  if (!mine) return false;
  for (const ino of listeningInodes(e)) if (mine.has(ino)) return true;
  return false;
}

function connectOnce(e: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const s = 'path' in e ? net.connect(e.path) : net.connect(e.port, e.host);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.setTimeout(500, () => { s.destroy(); resolve(false); });
  });
}

/** Waits until `pid` listens on `e` (or, without /proc, until a connect succeeds). */
async function waitListening(pid: number, e: Endpoint, exited: Promise<Exit>, ms: number,
  output: () => string): Promise<void> {
  let gone: Exit | null = null;
  void exited.then((x) => { gone = x; });
  const deadline = performance.now() + ms;
  for (;;) {
    if (gone) {
      throw new Error(`pen exited (${JSON.stringify(gone)}) before listening on ${specOf(e)}:\n${output()}`);
    }
    const r = isListening(pid, e);
    if (r === true || (r === null && await connectOnce(e))) return;
    if (performance.now() > deadline) {
      throw new Error(`pen did not listen on ${specOf(e)} within ${ms} ms:\n${output()}`);
    }
    await sleep(15);
  }
}

/**
 * stop() and kill() of a pen child, by pid: stop sends signal and waits up to timeoutMs for
 * exited (then SIGKILLs it and throws); kill sends SIGKILL and waits up to 5 s. isDone: exited.
 */
export function stopControls(pid: number, exited: Promise<Exit>, isDone: () => boolean): Pick<Pen, 'stop' | 'kill'> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // exited meanwhile
    }
  };
  const kill = async (): Promise<void> => {
    if (isDone()) return;
    signal('SIGKILL');
    await withTimeout(exited, 5000, `pen (pid ${pid}) to die after SIGKILL`).catch(() => undefined);
  };
  const stop = async (sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<Exit> => {
    if (!isDone()) signal(sig);
    try {
      return await withTimeout(exited, timeoutMs, `pen (pid ${pid}) to exit after ${sig}`);
    } catch (err) {
      await kill();
      throw err;
    }
  };
  return { stop, kill };
}

/**
 * PEN_TEST_WORKERS=N runs every TCP pen the tests start with `-O "workers N"` (unless the
 * test sets workers itself), so that the e2e suite proves the same behaviour on N workers.
 */
function workersArgs(args: string[]): string[] {
  const n = process.env.PEN_TEST_WORKERS;
  if (!n || args.includes('-U') || args.some((a) => /^workers\b/.test(a))) return [];
  return ['-O', `workers ${n}`];
}

/** Spawns `pen -f ARGS` (unless foreground: false) and waits until it listens on opts.ready. */
export async function startPen(args: string[], opts: PenOptions): Promise<Pen> {
  const withWorkers = [...workersArgs(args), ...args];
  const fullArgs = opts.foreground === false ? withWorkers : ['-f', ...withWorkers];
  const child = spawnPen(fullArgs, opts.nofile, opts.env);
  const io = collect(child);
  if (child.pid === undefined) {
    const x = await withTimeout(io.exited, 5000, 'spawn failure');
    throw new Error(`cannot spawn pen: ${JSON.stringify(x)}`);
  }
  const pid = child.pid;
  let done = false;
  void io.exited.then(() => { done = true; });
  const pen: Pen = {
    pid,
    child,
    args: fullArgs,
    stdout: io.out,
    stderr: io.err,
    exited: io.exited,
    isRunning: () => !done,
    ...stopControls(pid, io.exited, () => done),
  };
  try {
    const ms = opts.readyTimeoutMs ?? READY_MS;
    const output = () => `stdout: ${io.out()}\nstderr: ${io.err()}`;
    await waitListening(pid, opts.ready, io.exited, ms, output);
    // In the foreground the listening line comes last: start-up (pid file, -u) has finished.
    if (fullArgs.includes('-f')) {
      await waitFor(() => io.err().includes(' listening on ') || !pen.isRunning(), ms, `the listening line:\n${output()}`);
    }
  } catch (err) {
    await pen.kill();
    throw err;
  }
  return pen;
}

export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs `pen ARGS` (no -f added) to completion; SIGKILLs it and throws after timeoutMs. */
export async function runPen(args: string[], opts: { timeoutMs?: number; nofile?: number } = {}): Promise<RunResult> {
  const child = spawnPen(args, opts.nofile, undefined);
  const io = collect(child);
  try {
    const x = await withTimeout(io.exited, opts.timeoutMs ?? 10000, `pen ${args.join(' ')} to finish`);
    return { ...x, stdout: io.out(), stderr: io.err() };
  } catch (err) {
    try {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    throw err;
  }
}

/** The names of pid's threads (Linux: /proc/PID/task/TID/comm), sorted. */
export function threadNames(pid: number): string[] {
  const dir = `/proc/${pid}/task`;
  return fs.readdirSync(dir).map((tid) => fs.readFileSync(`${dir}/${tid}/comm`, 'utf8').trim()).sort();
}

/** Whether a process with this pid exists (signal 0). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Kills a daemonized pen by pid (SIGKILL): the one in pidfile, else every process whose
 * command line holds pidfile as an argument (a daemon that never wrote it). For cleanup.
 */
export function killDaemon(pidfile: string): void {
  let pids: number[];
  try {
    pids = [Number(fs.readFileSync(pidfile, 'utf8'))];
  } catch {
    pids = pidsWithArg(pidfile);
  }
  for (const p of pids) {
    try {
      if (p > 1 && p !== process.pid) process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Pids of processes whose command line contains `needle` (to clean up a lost daemon). */
export function pidsWithArg(needle: string): number[] {
  const out: number[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      const argv = fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
      if (argv.includes(needle)) out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

/** The soft and hard RLIMIT_NOFILE this process passes on to children. */
export async function nofileLimits(): Promise<{ soft: number; hard: number }> {
  const read = (flag: string): Promise<number> => new Promise((resolve) => {
    const c = spawn('/bin/sh', ['-c', `ulimit ${flag}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    c.once('close', () => {
      const t = out.trim();
      resolve(t === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(t) || 0);
    });
    c.once('error', () => resolve(0));
  });
  const [soft, hard] = await withTimeout(Promise.all([read('-Sn'), read('-Hn')]), 5000, 'ulimit -n');
  return { soft, hard };
}

export interface ListeningPen extends Pen {
  /** Where clients connect to reach pen. */
  endpoint: { host: string; port: number };
}

/**
 * The common case: pen listening on `host` (a free port on an address this test file owns)
 * with `options` before the positional arguments and `backends` after the listen address.
 */
export async function penOn(host: string, options: string[], backends: string[],
  opts: Omit<PenOptions, 'ready'> = {}): Promise<ListeningPen> {
  const endpoint = await freeEndpoint(host);
  const pen = await startPen([...options, listenSpecOf(endpoint), ...backends], { ...opts, ready: endpoint });
  return Object.assign(pen, { endpoint });
}
