// The control plane from the outside, for e2e tests of the control socket (test/e2e/control/):
//   penWithControl  pen with -C on an address of the test file's block (and -u root when the
//                   tests run as root, since pen refuses a root control port without -u);
//                   resolves once both the listener and the control port are listening
//   exchange        one raw control connection: send bytes, read to EOF (Pen's protocol: one
//                   command per connection, end of reply = EOF), with an optional source address
//   command         exchange() of one line, as text
//   runPenctl       the real penctl program (bin/penctl.js) to completion
//   parseServers    the `servers` reply as rows
//   tallyRequests   n HTTP requests through pen, counted by answering backend
// Loopback blocks of the control e2e files (rows for the table in net.ts):
//   81 control/replies  82 control/servers  83 control/acl  84 control/live
//   85 control/files    86 control/robustness  87 control/load
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

import { httpGet, tally, type ConnectOptions } from './clients.js';
import { freePort, listenSpecOf, type Endpoint } from './net.js';
import { isListening, startPen, type ListeningPen, type PenOptions } from './pen.js';
import { waitFor, withTimeout } from './time.js';

export const PENCTL_BIN = fileURLToPath(new URL('../../../bin/penctl.js', import.meta.url));

/** Whether this test process runs as root (CI does). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** `-u root` when running as root (pen refuses -C as root without -u), nothing otherwise. */
export function userArgs(): string[] {
  return isRoot() ? ['-u', 'root'] : [];
}

/** `host:port` as pen's -C and penctl understand it (IPv6 as `[::1]:port`). */
export function controlSpec(e: { host: string; port: number }): string {
  return listenSpecOf(e);
}

export interface ControlPen extends ListeningPen {
  /** The control socket. */
  control: { host: string; port: number };
  /** `host:port` of the control socket, for penctl and -C. */
  ctl: string;
}

/** Two distinct free ports on `host`. */
async function twoPorts(host: string, other: string): Promise<[number, number]> {
  for (;;) {
    const a = await freePort(host);
    const b = await freePort(other);
    if (a !== b) return [a, b];
  }
}

/** Waits until `pid` listens on `e` (pen opens the control port after its listener). */
export async function waitControl(pid: number, e: Endpoint, ms = 5000): Promise<void> {
  await waitFor(() => {
    const r = isListening(pid, e);
    return r === null ? true : r;
  }, ms, `pen (pid ${pid}) to listen on its control port`);
}

/**
 * pen listening on `host` (a free port) with its control socket on `controlHost` (default:
 * the same host, another free port): `pen [-u root] -C CTL OPTIONS LISTEN BACKENDS`.
 */
export async function penWithControl(host: string, options: string[], backends: string[],
  opts: Omit<PenOptions, 'ready'> & { controlHost?: string } = {}): Promise<ControlPen> {
  const controlHost = opts.controlHost ?? host;
  const [port, cport] = await twoPorts(host, controlHost);
  const endpoint = { host, port };
  const control = { host: controlHost, port: cport };
  const ctl = controlSpec(control);
  const pen = await startPen([...userArgs(), '-C', ctl, ...options, listenSpecOf(endpoint), ...backends],
    { ...opts, ready: endpoint });
  try {
    await waitControl(pen.pid, control);
  } catch (err) {
    await pen.kill();
    throw new Error(`${(err as Error).message}\nstderr: ${pen.stderr()}`);
  }
  return Object.assign(pen, { endpoint, control, ctl });
}

export interface Exchange {
  /** Everything received until EOF (or the reset / close). */
  bytes: Buffer;
  /** The socket error that ended the exchange, if any (e.g. ECONNRESET). */
  error: string | null;
  /** Milliseconds from connect to close. */
  ms: number;
}

/**
 * One control connection: connects (from opts.localAddress if given), writes `data` (and
 * half-closes when opts.end), reads until the server closes. Rejects only if the connect fails or nothing ends within timeoutMs.
 */
export function exchange(e: Endpoint, data: string | Buffer,
  opts: ConnectOptions & { end?: boolean } = {}): Promise<Exchange> {
  const ms = opts.timeoutMs ?? 5000;
  return withTimeout(new Promise<Exchange>((resolve, reject) => {
    const t0 = performance.now();
    const s = 'path' in e ? net.connect({ path: e.path, allowHalfOpen: true })
      : net.connect({ host: e.host, port: e.port, allowHalfOpen: true,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    const chunks: Buffer[] = [];
    let connected = false;
    let error: string | null = null;
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('connect', () => {
      connected = true;
      if (opts.end) s.end(data);
      else s.write(data, () => undefined);
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') connected = true; // accepted, then reset before 'connect' ran
      if (!connected) {
        reject(err);
        return;
      }
      error = err.code ?? err.message;
    });
    s.on('end', () => s.end());
    s.on('close', () => {
      if (connected) resolve({ bytes: Buffer.concat(chunks), error, ms: performance.now() - t0 });
    });
    setTimeout(() => s.destroy(), ms + 50).unref();
  }), ms, `the control exchange ${JSON.stringify(String(data).slice(0, 40))} to finish`);
}

/** Sends one command line (`line` + '\n') and returns the reply text. */
export async function command(e: Endpoint, line: string, opts: ConnectOptions = {}): Promise<string> {
  return (await exchange(e, `${line}\n`, opts)).bytes.toString('utf8');
}

export interface PenctlResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/penctl.js ARGS` to completion (SIGKILL and reject after timeoutMs). */
export function runPenctl(args: string[], timeoutMs = 8000): Promise<PenctlResult> {
  const child = spawn(process.execPath, [PENCTL_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const done = new Promise<PenctlResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return withTimeout(done, timeoutMs, `penctl ${args.join(' ')}`).catch((err) => {
    try {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    throw err;
  });
}

export interface ServerRow {
  index: number;
  addr: string;
  port: number;
  conn: number;
  max: number;
  hard: number;
  weight: number;
  prio: number;
  sx: number;
  rx: number;
}

const SERVER_LINE = /^(\d+) addr (\S+) port (\d+) conn (\d+) max (\d+) hard (\d+) weight (\d+) prio (\d+) sx (\d+) rx (\d+)$/;

/** The `servers` reply as rows; throws on a line not in Pen's format. */
export function parseServers(text: string): ServerRow[] {
  if (!text.endsWith('\n')) throw new Error(`servers reply does not end in a newline: ${JSON.stringify(text)}`);
  return text.slice(0, -1).split('\n').map((line) => {
    const m = SERVER_LINE.exec(line);
    if (!m) throw new Error(`not a servers line in Pen's format: ${JSON.stringify(line)}`);
    const n = m.slice(1).map((v, i) => (i === 1 ? 0 : Number(v)));
    return { index: n[0]!, addr: m[2]!, port: n[2]!, conn: n[3]!, max: n[4]!, hard: n[5]!, weight: n[6]!,
      prio: n[7]!, sx: n[8]!, rx: n[9]! };
  });
}

/** `servers` over the control socket, parsed. */
export async function servers(e: Endpoint): Promise<ServerRow[]> {
  return parseServers(await command(e, 'servers'));
}

/** n sequential `GET /` through pen; the answering backends' names, counted. */
export async function tallyRequests(e: Endpoint, n: number, opts: ConnectOptions = {}): Promise<Record<string, number>> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push((await httpGet(e, opts)).body);
  return tally(names);
}
