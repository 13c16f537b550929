// UDP at DNS scale (issue 12, defect 10; spec/beyond-pen.md): `udp_responses 1` ends a flow
// with its answer, `udp_timeout S` drops a flow still waiting for its first reply, one client
// address cannot hold more than its share of flows, and a storm of 50,000 queries from new
// source ports keeps pen's descriptors low while the control socket keeps answering.
// Block 78 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { command, penWithControl, userArgs } from '../../helpers/control.js';
import { freePort, loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';
import { startUdpBackend } from '../../helpers/udp-backends.js';
import { dig, fdCount, freeUdpPort, startUdpPen, type UdpEndpoint } from '../../helpers/udp.js';

const ip = loopback(78);

/** pen -U with a control port on host; resolves once both answer. */
async function udpPenWithControl(s: { defer(fn: () => unknown): void }, host: string, options: string[], backends: string[]) {
  const control = { host, port: await freePort(host) };
  const listen = { host, port: await freeUdpPort(host) };
  const pen = await startUdpPen(listen, [...userArgs(), '-C', `${host}:${control.port}`, ...options], backends);
  s.defer(() => pen.kill());
  await waitFor(async () => (await command(control, 'udp_responses').catch(() => '')) !== '', 5000, 'the control port');
  return { pen, control, listen };
}

/** The numbers of the open flows (`connection N` for N below limit). */
async function openFlows(control: { host: string; port: number }, limit: number): Promise<number[]> {
  const open: number[] = [];
  for (let n = 0; n < limit; n++) if (!/state = 0\n/.test(await command(control, `connection ${n}`))) open.push(n);
  return open;
}

test('udp_responses 1: a flow ends with its answer', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(2));
  s.defer(() => a.close());
  const { pen, control } = await udpPenWithControl(s, ip(1), ['-O', 'udp_responses 1'], [a.spec]);
  assert.equal(await command(control, 'udp_responses'), '1\n');
  for (let i = 0; i < 3; i++) assert.equal(await dig(pen.endpoint, ip(100)), 'A');
  assert.deepEqual(await openFlows(control, 10), [], 'every answered flow is gone at once (Pen: held for good)');
  assert.equal(await command(control, 'udp_responses 0'), '0\n');
  assert.equal(await dig(pen.endpoint, ip(100)), 'A');
  assert.deepEqual(await openFlows(control, 10), [0], 'udp_responses 0: the flow stays until idle');
}));

test('udp_timeout 1: a flow that had no reply is dropped after a second, an answered one stays', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(12));
  s.defer(() => a.close());
  const { pen, control } = await udpPenWithControl(s, ip(11), ['-O', 'udp_timeout 1'], [a.spec]);
  assert.equal(await dig(pen.endpoint, ip(100)), 'A');  // flow 0: answered
  a.mute = true;
  assert.equal(await dig(pen.endpoint, ip(100), { timeS: 1 }), '', 'muted: no answer');  // flow 1
  assert.deepEqual(await openFlows(control, 5), [0]);
  await waitFor(async () => (await openFlows(control, 5)).length === 1, 3000, 'the unanswered flow to be dropped');
  assert.deepEqual(await openFlows(control, 5), [0], 'the answered flow stays (idle_timeout applies to it)');
}));

test('udp_responses and udp_timeout are refused outside UDP mode', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
  const pen = s.pen(await penWithControl(ip(21), [], [a.spec]));
  assert.match(await command(pen.control, 'udp_responses 1'), /udp_responses needs UDP mode \(-U\)/);
  assert.match(await command(pen.control, 'udp_timeout 2'), /udp_timeout needs UDP mode \(-U\)/);
  assert.equal(await command(pen.control, 'udp_responses'), '0\n', 'nothing was kept');
}));

/**
 * Sends `count` DNS-style queries, each from a fresh socket (a new source port), `window` at a
 * time, waiting up to 2 s for each window's answers. `sample` runs every 100 ms meanwhile.
 */
async function storm(to: UdpEndpoint, source: string, count: number, window: number): Promise<{ sent: number; answered: number }> {
  const query = Buffer.from('0001010000010000000000000377686f0370656e0474657374000010 0001'.replace(/ /g, ''), 'hex');
  let sent = 0;
  let answered = 0;
  while (sent < count) {
    const n = Math.min(window, count - sent);
    const socks = await Promise.all(Array.from({ length: n }, () => new Promise<dgram.Socket>((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.on('error', () => undefined);
      sock.bind(0, source, () => resolve(sock));
    })));
    let got = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      for (const sock of socks) {
        sock.once('message', () => {
          if (++got === socks.length) {
            clearTimeout(timer);
            resolve();
          }
        });
        sock.send(query, to.port, to.host);
      }
    });
    for (const sock of socks) sock.close();
    sent += n;
    answered += got;
  }
  return { sent, answered };
}

test('a storm of 50,000 queries from new source ports: few descriptors, control answers, the last query is answered',
  { timeout: 240_000 }, () => scoped(async (s) => {
    const a = await startUdpBackend('A', ip(32));
    s.defer(() => a.close());
    const { pen, control } = await udpPenWithControl(s, ip(31), ['-r', '-x', '30000', '-O', 'udp_responses 1'], [a.spec]);
    let maxFds = 0;
    let slowest = 0;
    let stormOver = false;
    const sampler = (async () => {
      while (!stormOver) {
        maxFds = Math.max(maxFds, fdCount(pen.pid));
        const t0 = performance.now();
        const reply = await command(control, 'servers', { timeoutMs: 5000 });
        slowest = Math.max(slowest, performance.now() - t0);
        assert.match(reply, /^0 addr /, 'the control socket answers during the storm');
        await sleep(100);
      }
    })();
    const r = await storm(pen.endpoint, ip(100), 50_000, 500).finally(() => { stormOver = true; });
    await sampler;
    assert.ok(maxFds < 2000, `descriptors stayed under 2,000 (max ${maxFds})`);
    assert.ok(slowest < 2000, `every control command answered within 2 s (slowest ${slowest} ms)`);
    assert.ok(r.answered > r.sent * 0.9, `most queries answered (${r.answered} of ${r.sent})`);
    assert.equal(await dig(pen.endpoint, ip(101)), 'A', 'a final query is answered');
    assert.ok(pen.isRunning());
  }));

test('one client address holds at most 1,024 flows: beyond that it recycles its own', { timeout: 120_000 }, () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(42));
  s.defer(() => a.close());
  const { pen } = await udpPenWithControl(s, ip(41), ['-r', '-x', '5000'], [a.spec]);
  await sleep(200);
  const before = fdCount(pen.pid);
  const r = await storm(pen.endpoint, ip(100), 1500, 250);
  assert.ok(r.answered >= r.sent * 0.98, `the queries are answered (${r.answered} of ${r.sent}; UDP may drop a few on a busy machine)`);
  const flows = fdCount(pen.pid) - before;  // one socket per open flow (udp_responses 0: they stay)
  assert.ok(flows >= 1000 && flows <= 1024, `the client's flows are capped at 1,024 (${flows} open)`);
  assert.equal(await dig(pen.endpoint, ip(101)), 'A', 'another client is served');
}));
