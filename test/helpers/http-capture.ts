// An HTTP/1.1 keep-alive backend that records every request it parsed (node's own parser:
// Content-Length, chunked, pipelining), for the -H tests: what headers arrived, whether the
// body arrived intact, and over which backend connection.
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';

import { withTimeout } from './time.js';

export interface SeenRequest {
  method: string;
  url: string;
  /** Header values by lower-case name; repeated headers keep every value, in order. */
  headers: Record<string, string[]>;
  bodyBytes: number;
  bodySha: string;
  /** Identifies the backend connection the request came on. */
  conn: number;
}

export interface CaptureBackend {
  host: string;
  port: number;
  spec: string;
  requests: SeenRequest[];
  /** Resolves once `n` requests have been seen. */
  waitFor(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Answers every request with `ok <n>` (n = its index), keeping the connection alive. */
export async function startCapture(host: string): Promise<CaptureBackend> {
  const requests: SeenRequest[] = [];
  const waiters: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  let conns = 0;
  const server = http.createServer({ keepAliveTimeout: 30000, maxHeaderSize: 256 * 1024 }, (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
    });
    req.on('end', () => {
      const headers: Record<string, string[]> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i]!.toLowerCase();
        (headers[k] ??= []).push(req.rawHeaders[i + 1]!);
      }
      const n = requests.length;
      requests.push({
        method: req.method ?? '', url: req.url ?? '', headers, bodyBytes: bytes, bodySha: hash.digest('hex'),
        conn: (req.socket as net.Socket & { penConn?: number }).penConn ?? -1,
      });
      const body = `ok ${n}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
      for (const w of waiters.splice(0)) w();
    });
  });
  server.on('connection', (s: net.Socket & { penConn?: number }) => {
    s.penConn = conns++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host, port, spec: `${host}:${port}`, requests,
    async waitFor(n: number, ms = 10000): Promise<void> {
      await withTimeout(new Promise<void>((resolve) => {
        const check = (): void => {
          if (requests.length >= n) resolve();
          else waiters.push(check);
        };
        check();
      }), ms, `${n} requests at the backend (got ${requests.length})`);
    },
    async close(): Promise<void> {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads `count` HTTP responses with Content-Length bodies from raw bytes; returns their bodies. */
export function responseBodies(raw: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', pos);
    if (end < 0) break;
    const head = raw.subarray(pos, end).toString('latin1');
    const m = /content-length: *(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    if (raw.length < end + 4 + len) break;
    out.push(raw.subarray(end + 4, end + 4 + len).toString('latin1'));
    pos = end + 4 + len;
  }
  return out;
}
