// The client side of the -U tests: pen in UDP mode (ready once its UDP socket is bound, read
// from /proc/net/udp{,6}, so readiness costs no datagram through pen), `dig` as the real
// client, a plain datagram exchange, and pen's descriptor count.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

import { defaultSettings, type Settings } from '../../lib/config/settings.js';
import { Engine } from '../../lib/engine/engine.js';
import { ipBytes } from './net.js';
import { PEN_BIN, stopControls, type Exit, type Pen } from './pen.js';
import { sleep, withTimeout } from './time.js';

export interface UdpEndpoint {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`: pen's LISTEN and BACKEND syntax. */
export function udpSpec(e: UdpEndpoint): string {
  return net.isIPv6(e.host) ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** A UDP port free on `host` right now (bind port 0, read it, close). Use addresses you own. */
export function freeUdpPort(host: string): Promise<number> {
  return withTimeout(new Promise<number>((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  }), 5000, `a free UDP port on ${host}`);
}

/** The number of open descriptors of pid (entries of /proc/PID/fd). */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

function procAddr(hex: string): Buffer {
  const b = Buffer.from(hex, 'hex');
  if (os.endianness() === 'LE') for (let i = 0; i < b.length; i += 4) b.subarray(i, i + 4).reverse();
  return b;
}

/** Whether pid holds a UDP socket bound to e (/proc/net/udp{,6}). */
export function boundUdp(pid: number, e: UdpEndpoint): boolean {
  const mine = new Set<string>();
  try {
    for (const n of fs.readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${n}`, 'utf8'));
      if (m) mine.add(m[1]!);
    }
  } catch {
    return false;
  }
  const want = ipBytes(e.host);
  const text = fs.readFileSync(want.length === 4 ? '/proc/net/udp' : '/proc/net/udp6', 'utf8');
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [addr, port] = f[1]!.split(':') as [string, string];
    if (parseInt(port, 16) === e.port && procAddr(addr).equals(want) && mine.has(f[9]!)) return true;
  }
  return false;
}

export interface UdpPen extends Pen {
  endpoint: UdpEndpoint;
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

/**
 * Spawns `pen -f -U OPTIONS LISTEN BACKENDS` listening on `listen` (a free port on an address
 * the test owns; `bound` is where readiness is checked when listening on a wildcard) and
 * waits until the socket is bound. `nofile` runs it under `ulimit -n`.
 */
export async function startUdpPen(listen: UdpEndpoint, options: string[], backends: string[],
  opts: { nofile?: number; bound?: UdpEndpoint } = {}): Promise<UdpPen> {
  const args = ['-f', '-U', ...options, udpSpec(listen), ...backends];
  const stdio = ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[];
  const child = opts.nofile === undefined
    ? spawn(process.execPath, [PEN_BIN, ...args], { stdio })
    : spawn('/bin/sh', ['-c', 'ulimit -n "$1" && shift && exec "$@"', 'sh', String(opts.nofile),
      process.execPath, PEN_BIN, ...args], { stdio });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d; });
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const pid = child.pid ?? -1;
  const pen: UdpPen = {
    pid, child, args, endpoint: listen,
    stdout: () => out,
    stderr: () => err,
    exited,
    isRunning: () => !done,
    ...stopControls(pid, exited, () => done),
  };
  const where = opts.bound ?? listen;
  const deadline = performance.now() + 8000;
  // Bound, and start-up finished: the listening line comes last (fd counts are stable then).
  while (!boundUdp(pid, where) || !err.includes(' listening on ')) {
    if (done || performance.now() > deadline) {
      await pen.kill();
      throw new Error(`pen -U did not bind ${udpSpec(where)}:\nstdout: ${out}\nstderr: ${err}`);
    }
    await sleep(15);
  }
  return pen;
}

/**
 * Asks `server` for the TXT record of `name` with dig (one try, new source port per call, as
 * resolvers do) from source address `source`. Resolves with dig's short answer without quotes
 * ("A"), or '' when no answer came within `timeS` seconds.
 */
export function dig(server: UdpEndpoint, source: string, opts: { timeS?: number; name?: string } = {}): Promise<string> {
  const args = [`@${server.host}`, '-p', String(server.port), '-b', source, '+short', '+tries=1',
    `+time=${opts.timeS ?? 4}`, '+notcp', opts.name ?? 'who.pen.test', 'TXT'];
  return withTimeout(new Promise<string>((resolve, reject) => {
    execFile('dig', args, { timeout: 20_000 }, (e, stdout) => {
      if (e && !/timed out|no servers could be reached/i.test(stdout)) {
        reject(new Error(`dig ${args.join(' ')}: ${e.message} ${stdout}`));
        return;
      }
      const line = stdout.split('\n').map((l) => l.trim()).find((l) => l.startsWith('"'));
      resolve(line ? line.replace(/^"|"$/g, '') : '');
    });
  }), 30_000, 'dig');
}

/** A UDP client socket bound to `source` (port 0 unless given) that collects what it receives. */
export class UdpClient {
  readonly received: Buffer[] = [];
  readonly from: string[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (m, r) => {
      this.received.push(m);
      this.from.push(`${r.address}:${r.port}`);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  static async open(source: string, port = 0): Promise<UdpClient> {
    const s = dgram.createSocket({ type: net.isIPv6(source) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    await withTimeout(new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, source, () => resolve());
    }), 5000, `a UDP client socket on ${source}`);
    return new UdpClient(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(to: UdpEndpoint, data: Buffer | string): Promise<void> {
    return withTimeout(new Promise<void>((resolve, reject) => {
      this.socket.send(data, to.port, to.host, (e) => (e ? reject(e) : resolve()));
    }), 5000, 'a datagram to be sent');
  }

  /** Waits until n datagrams have arrived in total; throws after ms. */
  async atLeast(n: number, ms = 3000): Promise<Buffer[]> {
    const deadline = performance.now() + ms;
    while (this.received.length < n) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${n} datagram(s), got ${this.received.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** Sends `data` and returns the next datagram received (as text). */
  async ask(to: UdpEndpoint, data: Buffer | string, ms = 3000): Promise<string> {
    const n = this.received.length;
    await this.send(to, data);
    return (await this.atLeast(n + 1, ms))[n]!.toString();
  }

  close(): Promise<void> {
    return withTimeout(new Promise<void>((resolve) => this.socket.close(() => resolve())), 5000, 'close')
      .catch(() => undefined);
  }
}

/** The UDP data plane in this process (lib/engine), for tests that drive its calls directly. */
export interface UdpEngine {
  engine: Engine;
  endpoint: UdpEndpoint;
  settings: Settings;
  /** Log lines and server events the data plane reported (level 2 and below). */
  logs: string[];
  close(): void;
}

/**
 * Starts an in-process UDP engine listening on `listen` with the default settings changed by
 * `mutate` (servers, modes). Close it in a finally/after (Scope.defer).
 */
export async function startUdpEngine(listen: UdpEndpoint, mutate: (s: Settings) => void): Promise<UdpEngine> {
  const logs: string[] = [];
  const settings = defaultSettings();
  settings.udp = true;
  settings.debug = 2;
  mutate(settings);
  settings.listen = udpSpec(listen);
  const engine = new Engine({ level: 2, log: (_l, m) => { logs.push(m); } }, 'default', true);
  try {
    await engine.apply(settings);
    await engine.listen(settings.listen, settings);
  } catch (e) {
    engine.close();
    throw e;
  }
  let closed = false;
  return {
    engine, endpoint: listen, settings, logs,
    close() {
      if (!closed) engine.close();
      closed = true;
    },
  };
}
