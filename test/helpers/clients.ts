// Clients for e2e tests: a raw TCP/unix connection that buffers what it receives (Client),
// an HTTP GET through pen that returns the body, and a bulk transfer hashing both directions.
// Every wait takes a timeout.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

import type { Endpoint } from './net.js';
import { withTimeout } from './time.js';

export interface ConnectOptions {
  /** Source address of the client socket (e.g. '127.0.0.5' for the hash tests). */
  localAddress?: string;
  /** Source port (with localAddress). */
  localPort?: number;
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Keep our side writable after the peer's EOF (default true). */
  allowHalfOpen?: boolean;
}

/** A connected socket plus everything it has received so far. */
export class Client {
  readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  private size = 0;
  private readPos = 0;
  private listeners: (() => void)[] = [];
  /** True once the peer's EOF arrived. */
  eof = false;
  /** True once the socket is fully closed. */
  isClosed = false;
  error: Error | null = null;
  /** Resolves when the peer's EOF arrives (or the socket closes without one). */
  readonly ended: Promise<void>;
  /** Resolves when the socket is closed; never rejects. */
  readonly closed: Promise<void>;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.size += d.length;
      this.notify();
    });
    socket.on('error', (e) => { this.error = e; });
    this.ended = new Promise((resolve) => {
      socket.once('end', () => { this.eof = true; this.notify(); resolve(); });
      socket.once('close', () => resolve());
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => { this.isClosed = true; this.notify(); resolve(); });
    });
  }

  private notify(): void {
    const ls = this.listeners;
    this.listeners = [];
    for (const l of ls) l();
  }

  /** Waits until `ready()` is true, re-checking on every arrival and on close. */
  private until(ready: () => boolean, ms: number, what: string): Promise<void> {
    return withTimeout(new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (ready()) resolve();
        else if (this.isClosed) reject(new Error(`connection closed before ${what}${this.error ? ` (${this.error.message})` : ''}; got ${JSON.stringify(this.text().slice(0, 200))}`));
        else this.listeners.push(check);
      };
      check();
    }), ms, what);
  }

  bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  text(): string {
    return this.bytes().toString('utf8');
  }

  get received(): number {
    return this.size;
  }

  /** The next line (without "\n") after the previous line() call. */
  async line(ms = 5000): Promise<string> {
    await this.until(() => this.bytes().indexOf(10, this.readPos) >= 0, ms, 'a line from the server');
    const b = this.bytes();
    const nl = b.indexOf(10, this.readPos);
    const s = b.subarray(this.readPos, nl).toString('utf8');
    this.readPos = nl + 1;
    return s;
  }

  /** Waits until at least n bytes have arrived in total. */
  async atLeast(n: number, ms = 5000): Promise<void> {
    await this.until(() => this.size >= n, ms, `${n} bytes from the server`);
  }

  /** Waits for the peer's EOF (or close) and returns everything received. */
  async readToEnd(ms = 5000): Promise<Buffer> {
    await withTimeout(this.ended, ms, 'the server to finish its answer (EOF)');
    return this.bytes();
  }

  write(data: string | Buffer): Promise<void> {
    return withTimeout(new Promise<void>((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    }), 10000, 'a write to be flushed');
  }

  /** Half-closes our side (FIN) after the data already written. */
  end(data?: string | Buffer): void {
    if (data !== undefined) this.socket.end(data);
    else this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Connects to `e`; rejects on error or after the timeout. */
export function connect(e: Endpoint, opts: ConnectOptions = {}): Promise<Client> {
  const ms = opts.timeoutMs ?? 5000;
  return withTimeout(new Promise<Client>((resolve, reject) => {
    const base = { allowHalfOpen: opts.allowHalfOpen ?? true };
    const s = 'path' in e
      ? net.connect({ ...base, path: e.path })
      : net.connect({
        ...base, host: e.host, port: e.port,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        ...(opts.localPort ? { localPort: opts.localPort } : {}),
      });
    const c = new Client(s); // attach before 'connect' so no early byte is lost
    const timer = setTimeout(() => s.destroy(), ms + 10); // a connect that never finishes
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', reject);
      resolve(c);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  }), ms, `connect to ${'path' in e ? e.path : `${e.host}:${e.port}`}`);
}

/** Destroys every client given (for finally blocks). */
export function destroyAll(cs: Iterable<Client | undefined | null>): void {
  for (const c of cs) c?.destroy();
}

export interface HttpAnswer {
  status: number;
  body: string;
  headers: string;
}

/**
 * `GET path` through pen on a fresh connection (Connection: close) and reads the whole answer.
 * Rejects if the connection is closed without an HTTP answer.
 */
export async function httpGet(e: Endpoint, opts: ConnectOptions & { path?: string } = {}): Promise<HttpAnswer> {
  const ms = opts.timeoutMs ?? 5000;
  const c = await connect(e, opts);
  try {
    c.end(`GET ${opts.path ?? '/'} HTTP/1.1\r\nHost: pen-test\r\nConnection: close\r\n\r\n`);
    const raw = (await c.readToEnd(ms)).toString('utf8');
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(raw);
    if (!m) {
      throw new Error(`no HTTP answer${c.error ? ` (${c.error.message})` : ''}: ${JSON.stringify(raw.slice(0, 200))}`);
    }
    return { status: Number(m[1]), headers: m[2]!, body: m[3]! };
  } finally {
    c.destroy();
  }
}

/** The body of `GET /` through pen (the name of the backend that answered). */
export async function whoAnswers(e: Endpoint, opts: ConnectOptions = {}): Promise<string> {
  return (await httpGet(e, opts)).body;
}

/**
 * Opens a connection to a banner backend through pen and returns it with the banner line
 * (the name of the server that got it). The connection stays open: destroy it when done.
 */
export async function holdOne(e: Endpoint, opts: ConnectOptions = {}): Promise<{ client: Client; server: string }> {
  const client = await connect(e, opts);
  try {
    const server = await client.line(opts.timeoutMs ?? 5000);
    return { client, server };
  } catch (err) {
    client.destroy();
    throw err;
  }
}

export interface BulkOutcome {
  sentBytes: number;
  sentSha: string;
  receivedBytes: number;
  receivedSha: string;
}

/**
 * Sends `sendBytes` random bytes then EOF, while reading and hashing everything until the
 * server's EOF. Both directions run at once.
 */
export async function bulkTransfer(e: Endpoint, sendBytes: number, timeoutMs: number,
  opts: ConnectOptions = {}): Promise<BulkOutcome> {
  const s = await withTimeout(new Promise<net.Socket>((resolve, reject) => {
    const sock = 'path' in e ? net.connect({ path: e.path, allowHalfOpen: true })
      : net.connect({ host: e.host, port: e.port, allowHalfOpen: true, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    sock.once('connect', () => { sock.off('error', reject); resolve(sock); });
    sock.once('error', reject);
  }), opts.timeoutMs ?? 5000, 'bulk connect');
  try {
    const inHash = createHash('sha256');
    const outHash = createHash('sha256');
    let received = 0;
    let sent = 0;
    const reading = new Promise<void>((resolve, reject) => {
      s.on('data', (d: Buffer) => { received += d.length; inHash.update(d); });
      s.once('end', () => resolve());
      s.once('error', reject);
      s.once('close', () => resolve());
    });
    const writing = new Promise<void>((resolve, reject) => {
      s.once('error', reject);
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
        s.end(() => resolve());
      };
      pump();
    });
    await withTimeout(Promise.all([reading, writing]), timeoutMs, `bulk transfer of ${sendBytes} bytes`);
    return { sentBytes: sent, sentSha: outHash.digest('hex'), receivedBytes: received, receivedSha: inHash.digest('hex') };
  } finally {
    s.destroy();
  }
}

/** Counts how often each name occurs. */
export function tally(names: readonly string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const n of names) t[n] = (t[n] ?? 0) + 1;
  return t;
}
