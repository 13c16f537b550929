// Idle-connection client (own process, started with a high fd limit).
// Usage: idle-client.js '{"port":P,"count":N,"sources":["127.0.0.2",...],"concurrency":C,"timeoutMs":T}'
// Opens N connections to 127.0.0.1:P (source addresses used in turn, none = let connect()
// pick; at most C in flight)
// and counts one as open when the backend's greeting byte arrives through the balancer.
// Then prints {"event":"ready","open":..,"failed":..,"ms":..,"error":..} and holds them.
// On a "close" line on stdin (or stdin EOF) it resets them all (RST: no TIME_WAIT left on
// the client's ports to slow down the next run's binds), prints
// {"event":"closed","lost":L} (L = connections that died while held) and exits.
import net from 'node:net';
import readline from 'node:readline';

interface Options {
  port: number;
  count: number;
  sources: string[];
  concurrency: number;
  timeoutMs: number;
}
const opt = JSON.parse(process.argv[2] ?? '{}') as Options;

const sockets: net.Socket[] = [];
let started = 0;
let inFlight = 0;
let open = 0;
let failed = 0;
let lost = 0;
let firstError = '';
let reported = false;
let closing = false;
const t0 = performance.now();

function settle(): void {
  inFlight--;
  if (open + failed === opt.count && !reported) {
    reported = true;
    const ms = performance.now() - t0;
    process.stdout.write(JSON.stringify({ event: 'ready', open, failed, ms, error: firstError }) + '\n');
  }
  launch();
}

function connectOne(i: number): void {
  inFlight++;
  let state: 'pending' | 'open' | 'done' = 'pending';
  const localAddress = opt.sources.length ? opt.sources[i % opt.sources.length] : undefined;
  const sock = net.connect({ host: '127.0.0.1', port: opt.port, localAddress });
  sockets.push(sock);
  sock.setTimeout(opt.timeoutMs);
  const bad = (why: string): void => {
    if (state === 'pending') {
      state = 'done';
      failed++;
      firstError ||= why;
      sock.destroy();
      settle();
    } else if (state === 'open' && !closing) {
      state = 'done';
      lost++;
    }
  };
  sock.once('data', () => {
    if (state !== 'pending') return;
    state = 'open';
    open++;
    sock.setTimeout(0);
    settle();
  });
  sock.on('timeout', () => bad('timeout waiting for the backend greeting'));
  sock.on('error', (e) => bad(e.message));
  sock.on('close', () => bad('closed before the backend greeting'));
}

function launch(): void {
  while (inFlight < opt.concurrency && started < opt.count) connectOne(started++);
}

function closeAll(): void {
  closing = true;
  for (const s of sockets) {
    if (s.destroyed) continue;
    else if (s.readyState === 'open') s.resetAndDestroy();
    else s.destroy();
  }
  process.stdout.write(JSON.stringify({ event: 'closed', lost }) + '\n', () => process.exit(0));
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (l) => {
  if (l.trim() === 'close') closeAll();
});
rl.on('close', () => {
  if (!closing) closeAll();
});
if (opt.count === 0) {
  reported = true;
  process.stdout.write(JSON.stringify({ event: 'ready', open: 0, failed: 0, ms: 0, error: '' }) + '\n');
}
launch();
