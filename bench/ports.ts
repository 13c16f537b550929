// Loopback ports: ask the OS for a free one, and wait until something answers on one.
import net from 'node:net';

export const HOST = '127.0.0.1';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago (bind port 0, read it, close).
 * Another process may take it before the caller binds it; callers that start a server on
 * it treat "address in use" like any other start-up failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Resolves once a probe succeeds; `probe` returns true when the server answered as
 * expected. Retries every 50 ms; rejects with the last error after `timeoutMs`, or at once
 * when `stillRunning()` turns false (the server died while we waited).
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  stillRunning: () => boolean = () => true,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    if (!stillRunning()) throw new Error(`${what}: process exited before it answered`);
    try {
      if (await probe()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${what}: not answering after ${timeoutMs} ms (${last})`);
}

/**
 * One TCP exchange: connect, send `request` (if any), collect bytes until `done(received)`
 * says enough or the peer closes, then close. Resolves with what was received; rejects on
 * a socket error or after `timeoutMs`.
 */
export function exchange(
  port: number,
  request: string | null,
  done: (received: Buffer) => boolean,
  timeoutMs = 2000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ host: HOST, port });
    const finish = (err: Error | null) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    sock.on('connect', () => {
      if (request !== null) sock.write(request);
    });
    sock.on('data', (b) => {
      chunks.push(b);
      if (done(Buffer.concat(chunks))) finish(null);
    });
    sock.on('end', () => finish(null));
    sock.on('error', (e) => finish(e));
  });
}
