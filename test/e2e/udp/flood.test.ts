// UDP mode under a flood of new source ports (every DNS resolver picks a new port per query;
// Pen leaked two descriptors per datagram and died after ~10,000): 100,000 datagrams from
// 100,000 different source address:port pairs, all answered, with pen's descriptor count
// bounded by conn_max throughout; and descriptor exhaustion (a low `ulimit -n`) does not stop
// the service.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { test } from 'node:test';

import { loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { sleep } from '../../helpers/time.js';
import { startUdpBackend } from '../../helpers/udp-backends.js';
import { dig, fdCount, freeUdpPort, startUdpPen, type UdpEndpoint } from '../../helpers/udp.js';

const ip = loopback(74);

/** Source pairs: four addresses this file owns x ports 20000..64999, in order. */
function* sources(): Generator<[string, number]> {
  for (let port = 20000; port < 65000; port++) {
    for (const last of [101, 102, 103, 104]) yield [ip(last), port];
  }
}

/**
 * Sends one datagram from each of `count` fresh sockets, `window` sockets at a time, and
 * waits (up to 3 s per window) for each one's reply. `sample` runs after every window.
 * Returns how many were sent and answered.
 */
async function flood(to: UdpEndpoint, count: number, window: number, sample: () => void): Promise<{ sent: number; answered: number }> {
  const src = sources();
  let sent = 0;
  let answered = 0;
  while (sent < count) {
    const n = Math.min(window, count - sent);
    const socks: dgram.Socket[] = [];
    let got = 0;
    let wake: (() => void) | null = null;
    const bound = await Promise.all(Array.from({ length: n }, () => new Promise<dgram.Socket | null>((resolve) => {
      const next = src.next();
      if (next.done) throw new Error('out of source ports');
      const [addr, port] = next.value;
      const s = dgram.createSocket('udp4');
      s.once('error', () => { s.close(); resolve(null); }); // port taken by someone else: skip it
      s.bind(port, addr, () => {
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        s.once('message', () => {
          got++;
          if (got === socks.length) wake?.();
        });
        resolve(s);
      });
    })));
    for (const s of bound) if (s) socks.push(s);
    for (const s of socks) s.send('q', to.port, to.host);
    sent += socks.length;
    if (got < socks.length) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 3000);
        wake = () => { clearTimeout(t); resolve(); };
      });
    }
    answered += got;
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
    sample();
  }
  return { sent, answered };
}

test('udp: 100,000 datagrams from 100,000 source ports, descriptors bounded by conn_max', { timeout: 180_000 }, () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(2));
  const b = await startUdpBackend('B', ip(3));
  s.defer(() => Promise.all([a.close(), b.close()]));
  const listen = { host: ip(1), port: await freeUdpPort(ip(1)) };
  const p = await startUdpPen(listen, ['-r'], [a.spec, b.spec]); // conn_max: the default 500
  s.defer(() => p.kill());
  const base = fdCount(p.pid);
  let maxFds = base;
  const r = await flood(listen, 100_000, 200, () => { maxFds = Math.max(maxFds, fdCount(p.pid)); });
  assert.equal(r.sent, 100_000);
  assert.equal(r.answered, 100_000, 'every datagram was answered');
  assert.equal(a.received + b.received, 100_000);
  assert.ok(maxFds <= base + 500 + 4, `pen held at most ${maxFds} descriptors (base ${base}, conn_max 500)`);
  assert.ok(p.isRunning());
  assert.match(await dig(listen, ip(100)), /^[AB]$/, 'still answering afterwards');
}));

test('udp: out of descriptors (ulimit -n 150, conn_max 1000) evicts old flows and keeps answering', { timeout: 60_000 }, () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(12));
  s.defer(() => a.close());
  const listen = { host: ip(11), port: await freeUdpPort(ip(11)) };
  const p = await startUdpPen(listen, ['-x', '1000'], [a.spec], { nofile: 150 });
  s.defer(() => p.kill());
  let maxFds = 0;
  // Descriptors numbered past the limit were inherited from the test runner: not pen's.
  const own = () => fs.readdirSync(`/proc/${p.pid}/fd`).filter((n) => Number(n) < 150).length;
  const r = await flood(listen, 2000, 20, () => { maxFds = Math.max(maxFds, own()); });
  assert.equal(r.answered, r.sent, 'every datagram was answered');
  assert.ok(maxFds <= 150, `at most 150 descriptors (saw ${maxFds})`);
  assert.ok(maxFds > 100, `the descriptor budget was used (saw ${maxFds})`);
  await sleep(100);
  assert.ok(p.isRunning());
}));
