// Tiny backends for e2e tests. Each listens on an address the test file owns (port 0) or a
// unix path, counts what it sees, and closes every socket it holds on close(), so that a
// failed test leaves nothing behind.
//   startHttpNamed  HTTP server whose every answer is its name (distribution tests)
//   startBanner     writes "name\n" on connect, then echoes; holds the connection open
//   startEcho       plain echo, half-close aware (ends after the client's EOF)
//   startAfterEof   reads the whole request, then answers (a response of N bytes) and ends
//   startSpeakFirst writes its payload and half-closes at once, then reads until EOF
//   startBulk       sends N bytes while hashing everything it receives (sha256 both ways)
//   closedPort      an address where connects are refused
//   startHungListener  an address where connects hang (for -t)
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

import { specOf, type Endpoint } from './net.js';
import { withTimeout } from './time.js';

/** Where a backend listens: a host (port chosen by the OS), host+port, or a unix path. */
export type Where = { host: string; port?: number } | { path: string };

export interface Backend {
  name: string;
  endpoint: Endpoint;
  /** pen's BACKEND syntax for this server: `127.0.1.2:4000`, `[::1]:4000`, or the path. */
  spec: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections currently open. */
  readonly open: number;
  /** Connections that have ended (closed by the peer or by us). */
  closed: number;
  /** Remote addresses of accepted connections, in order. */
  peers: string[];
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

function track(b: Backend, s: net.Socket): void {
  b.accepted++;
  b.peers.push(s.remoteAddress ?? '');
  b.sockets.add(s);
  s.on('error', () => undefined); // a reset from pen is a normal end here
  s.once('close', () => {
    b.sockets.delete(s);
    b.closed++;
  });
}

async function listen(server: net.Server, where: Where, name: string): Promise<Endpoint> {
  if ('path' in where) fs.rmSync(where.path, { force: true });
  await withTimeout(new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const opts = 'path' in where ? { path: where.path, backlog: 4096 }
      : { host: where.host, port: where.port ?? 0, backlog: 4096, exclusive: true };
    server.listen(opts, () => {
      server.off('error', reject);
      resolve();
    });
  }), 5000, `backend ${name} to listen`);
  if ('path' in where) return { path: where.path };
  const a = server.address() as net.AddressInfo;
  return { host: where.host, port: a.port };
}

function makeBackend(name: string, server: net.Server, endpoint: Endpoint): Backend {
  const b: Backend = {
    name,
    endpoint,
    spec: specOf(endpoint),
    accepted: 0,
    get open() { return this.sockets.size; },
    closed: 0,
    peers: [],
    sockets: new Set(),
    async close() {
      for (const s of b.sockets) s.destroy();
      await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000,
        `backend ${name} to close`).catch(() => undefined);
      if ('path' in endpoint) fs.rmSync(endpoint.path, { force: true });
    },
  };
  return b;
}

export interface HttpBackend extends Backend {
  /** Requests answered. */
  requests: number;
}

/** HTTP/1.1 server answering every request with its name as the body (Connection: close). */
export async function startHttpNamed(name: string, where: Where): Promise<HttpBackend> {
  const server = http.createServer((req, res) => {
    b.requests++;
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(name), connection: 'close' });
    res.end(name);
  });
  server.keepAliveTimeout = 1000;
  const endpoint = await listen(server, where, name);
  const b = makeBackend(name, server, endpoint) as HttpBackend;
  b.requests = 0;
  server.on('connection', (s: net.Socket) => track(b, s));
  return b;
}

/**
 * Writes `${name}\n` as soon as a client connects, then echoes whatever it receives, and keeps
 * the connection open until the client closes it. The banner proves the connection went all the
 * way through pen, and says to which server.
 */
export async function startBanner(name: string, where: Where): Promise<Backend> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    track(b, s);
    s.write(`${name}\n`);
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
  });
  const endpoint = await listen(server, where, name);
  const b = makeBackend(name, server, endpoint);
  return b;
}

/** Plain echo; ends its side after the client's EOF (so half-close works end to end). */
export async function startEcho(name: string, where: Where): Promise<Backend> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    track(b, s);
    s.pipe(s);
  });
  const endpoint = await listen(server, where, name);
  const b = makeBackend(name, server, endpoint);
  return b;
}

/** Deterministic payload of n bytes (repeating pattern that is not periodic at 2^k). */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface AfterEofBackend extends Backend {
  /** The requests received (complete, as seen at EOF), in order of EOF. */
  requests: Buffer[];
}

/**
 * Reads until the client's EOF (half-close) and only then writes `response(request)` and ends.
 * Pen lost such responses on EPOLLHUP (spec/dataplane.md §2.7).
 */
export async function startAfterEof(name: string, where: Where,
  response: (request: Buffer) => Buffer | string, opts: { delayMs?: number } = {}): Promise<AfterEofBackend> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    track(b, s);
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => {
      const req = Buffer.concat(parts);
      b.requests.push(req);
      const answer = (): void => {
        if (!s.destroyed) s.end(response(req));
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  const endpoint = await listen(server, where, name);
  const b = makeBackend(name, server, endpoint) as AfterEofBackend;
  b.requests = [];
  return b;
}

export interface SpeakFirstBackend extends Backend {
  /** What each connection received up to the client's EOF (or the close), in order of EOF. */
  received: Buffer[];
  /** How many connections saw EOF from the client side (pen). */
  eofs: number;
}

/**
 * Writes `payload` as soon as a client connects and half-closes (FIN) its side, then keeps
 * reading until EOF: the mirror image of startAfterEof.
 */
export async function startSpeakFirst(name: string, where: Where, payload: Buffer | string): Promise<SpeakFirstBackend> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    track(b, s);
    const parts: Buffer[] = [];
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      b.received.push(Buffer.concat(parts));
    };
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => {
      b.eofs++;
      record();
      s.destroy();
    });
    s.on('close', record);
    s.end(payload);
  });
  const endpoint = await listen(server, where, name);
  const b = makeBackend(name, server, endpoint) as SpeakFirstBackend;
  b.received = [];
  b.eofs = 0;
  return b;
}

export interface BulkResult {
  receivedBytes: number;
  receivedSha: string;
  sentBytes: number;
  sentSha: string;
}

export interface BulkBackend extends Backend {
  /** One result per finished connection, in order. */
  results: BulkResult[];
  /** Resolves with the result of the next connection to finish. */
  nextResult(timeoutMs: number): Promise<BulkResult>;
}

/**
 * On connect: streams `sendBytes` random bytes (respecting back-pressure) while hashing every
 * byte it receives; ends once both its sending is done and the client has sent EOF.
 */
export async function startBulk(name: string, where: Where, sendBytes: number): Promise<BulkBackend> {
  const waiters: ((r: BulkResult) => void)[] = [];
  let consumed = 0;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    track(b, s);
    const inHash = createHash('sha256');
    const outHash = createHash('sha256');
    let received = 0;
    let sent = 0;
    let gotEof = false;
    let doneSending = false;
    const finish = (): void => {
      if (!gotEof || !doneSending) return;
      s.end();
      const r = { receivedBytes: received, receivedSha: inHash.digest('hex'), sentBytes: sent, sentSha: outHash.digest('hex') };
      b.results.push(r);
      const w = waiters.shift();
      if (w) {
        consumed++;
        w(r);
      }
    };
    s.on('data', (d: Buffer) => {
      received += d.length;
      inHash.update(d);
    });
    s.on('end', () => { gotEof = true; finish(); });
    const pump = (): void => {
      while (sent < sendBytes) {
        const chunk = randomBytes(Math.min(65536, sendBytes - sent));
        sent += chunk.length;
        outHash.update(chunk);
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
      doneSending = true;
      finish();
    };
    pump();
  });
  const endpoint = await listen(server, where, name);
  const b = makeBackend(name, server, endpoint) as BulkBackend;
  b.results = [];
  b.nextResult = (ms) => {
    const ready = b.results[consumed];
    if (ready) {
      consumed++;
      return Promise.resolve(ready);
    }
    return withTimeout(new Promise<BulkResult>((resolve) => waiters.push(resolve)), ms,
      `backend ${name} to finish a bulk connection`);
  };
  return b;
}

/** A TCP port on `host` where nothing listens (connects are refused): reserved, then freed. */
export async function closedPort(host: string): Promise<Endpoint> {
  const s = net.createServer();
  const e = await listen(s, { host }, 'closed');
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return e;
}

/** Closes every backend given, ignoring failures (for after/finally). */
export async function closeAll(...bs: (Backend | undefined | null)[]): Promise<void> {
  await Promise.all(bs.map((b) => b?.close().catch(() => undefined)));
}

export interface HungListener {
  endpoint: Endpoint;
  spec: string;
  close(): Promise<void>;
}

/**
 * A TCP listener that never accepts and whose accept queue is full, so that connects to it
 * hang (SYNs are dropped) until the connector times out. Node cannot listen without
 * accepting, so python3 holds the socket. Resolves null when that is not possible here.
 */
export async function startHungListener(host: string): Promise<HungListener | null> {
  const py = spawn('python3', ['-c', [
    'import socket, sys, time',
    's = socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
    `s.bind((${JSON.stringify(host)}, 0))`,
    's.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'ignore'] });
  py.on('error', () => undefined);
  const port = await withTimeout(new Promise<number>((resolve) => {
    let out = '';
    py.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    py.once('close', () => resolve(0));
    py.once('error', () => resolve(0));
  }), 5000, 'python3 listener').catch(() => 0);
  const fillers: net.Socket[] = [];
  const close = async (): Promise<void> => {
    for (const f of fillers) f.destroy();
    py.stdin.end();
    py.kill('SIGKILL');
  };
  if (!port) {
    await close();
    return null;
  }
  // Fill the accept queue (backlog 0 holds one connection), then check that a connect hangs.
  const tryConnect = (ms: number): Promise<boolean> => new Promise((resolve) => {
    const s = net.connect({ host, port });
    fillers.push(s);
    s.on('error', () => undefined);
    const t = setTimeout(() => resolve(false), ms);
    s.once('connect', () => { clearTimeout(t); resolve(true); });
  });
  for (let i = 0; i < 3 && await tryConnect(300); i++) {
    // keep filling until a connect no longer completes
  }
  if (await tryConnect(300)) {
    await close();
    return null;
  }
  const endpoint = { host, port };
  return { endpoint, spec: specOf(endpoint), close };
}
