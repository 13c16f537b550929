// For the request-log and statistics tests (test/e2e/log/):
//   startKeepAlive  HTTP/1.1 backend that keeps connections open and can write a common-log
//                   line per request (for penlog)
//   converse        one client connection that sends chunks, each after the previous answer
//   fileLines       the lines of a file (latin1), [] while it does not exist
//   waitLines       waits until a file has at least n lines
//   udpCollector    a UDP socket that collects datagrams (a stand-in for penlogd)
//   spawnTool       runs one of bin/penlogd.js, penlog.js, mergelogs.js as a child, killed at exit
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

import type { Backend } from './backends.js';
import { withTimeout, waitFor } from './time.js';

export interface KeepAliveBackend extends Backend {
  /** The request lines it saw ("GET /x HTTP/1.1"). */
  requests: string[];
}

/** A common-log line as Apache writes it, for `req` answered with `status` and `bytes`. */
export function commonLogLine(req: http.IncomingMessage, status: number, bytes: number, when = new Date()): string {
  const M = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  const t = `${p(when.getUTCDate())}/${M[when.getUTCMonth()]}/${when.getUTCFullYear()}:${p(when.getUTCHours())}:` +
    `${p(when.getUTCMinutes())}:${p(when.getUTCSeconds())} +0000`;
  return `${req.socket.remoteAddress} - - [${t}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${bytes}\n`;
}

/**
 * HTTP backend on host (port 0) answering "ok <url>" with keep-alive; `onLog` (if given)
 * receives a common-log line per request.
 */
export async function startKeepAlive(name: string, host: string, onLog?: (line: string) => void): Promise<KeepAliveBackend> {
  const sockets = new Set<net.Socket>();
  const b = {
    name, requests: [] as string[], accepted: 0, closed: 0, peers: [] as string[], sockets,
    get open() { return sockets.size; },
  } as unknown as KeepAliveBackend;
  const server = http.createServer((req, res) => {
    b.requests.push(`${req.method} ${req.url} HTTP/${req.httpVersion}`);
    req.resume();
    req.on('end', () => {
      const body = `ok ${req.url}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      onLog?.(commonLogLine(req, 200, Buffer.byteLength(body)));
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s: net.Socket) => {
    b.accepted++;
    b.peers.push(s.remoteAddress ?? '');
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => { sockets.delete(s); b.closed++; });
  });
  await withTimeout(new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => resolve());
  }), 5000, `backend ${name}`);
  const port = (server.address() as net.AddressInfo).port;
  b.endpoint = { host, port };
  b.spec = `${host}:${port}`;
  b.close = async () => {
    for (const s of sockets) s.destroy();
    await withTimeout(new Promise<void>((r) => server.close(() => r())), 5000, `backend ${name} to close`).catch(() => undefined);
  };
  return b;
}

/**
 * Connects to `to` (from `localAddress`), sends each chunk, and after each one waits until
 * `answered(received)` says the reply to it has come (default: anything new) or `pauseMs`
 * passed when `answered` is null (for chunks that get no reply, like a POST's first half).
 * Returns everything received. Closes the connection at the end.
 */
export async function converse(to: { host: string; port: number }, localAddress: string,
  steps: Array<{ send: string | Buffer; answered?: ((all: string) => boolean) | null; pauseMs?: number }>,
  timeoutMs = 5000): Promise<string> {
  const s = net.connect({ host: to.host, port: to.port, localAddress });
  let got = '';
  s.on('data', (d: Buffer) => { got += d.toString('latin1'); });
  s.on('error', () => undefined);
  try {
    await withTimeout(new Promise<void>((r, j) => { s.once('connect', () => r()); s.once('error', j); }), timeoutMs, 'connect');
    for (const step of steps) {
      const before = got.length;
      s.write(step.send);
      if (step.answered === null) await new Promise((r) => setTimeout(r, step.pauseMs ?? 150));
      else await waitFor(() => (step.answered ? step.answered(got) : got.length > before), timeoutMs, 'an answer');
    }
    return got;
  } finally {
    s.destroy();
  }
}

export function fileLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'latin1').split('\n').slice(0, -1);
  } catch {
    return [];
  }
}

export function waitLines(file: string, n: number, ms = 5000): Promise<string[]> {
  return waitFor(() => {
    const l = fileLines(file);
    return l.length >= n ? l : null;
  }, ms, `${n} line(s) in ${file} (have: ${JSON.stringify(fileLines(file))})`);
}

export interface Collector {
  port: number;
  datagrams: Buffer[];
  close(): void;
}

export async function udpCollector(host: string): Promise<Collector> {
  const s = dgram.createSocket('udp4');
  const datagrams: Buffer[] = [];
  s.on('message', (m) => datagrams.push(m));
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return { port: s.address().port, datagrams, close: () => s.close() };
}

const BIN = (name: string): string => fileURLToPath(new URL(`../../../bin/${name}.js`, import.meta.url));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) {
    try {
      if (c.pid) process.kill(c.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

export interface Tool {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node bin/NAME.js ARGS`; stdin is a pipe (penlog reads it). */
export function spawnTool(name: 'penlogd' | 'penlog' | 'mergelogs', args: string[], env?: NodeJS.ProcessEnv): Tool {
  const child = spawn(process.execPath, [BIN(name), ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('latin1').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<number | null>((r) => child.once('close', (code) => { children.delete(child); r(code); }));
  return {
    child, stdout: () => out, stderr: () => err, exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return withTimeout(exited, 5000, `${name} to exit`).catch(async (e) => {
        child.kill('SIGKILL');
        throw e;
      });
    },
  };
}
