// UDP mode addresses: replies leave from the address the client sent to, also on a wildcard
// listener (Pen let routing choose, quirk 7), on IPv4, IPv6 and dual-stack listeners, with
// backends of the other family; a unix path cannot be a UDP listener; `source` binds flow sockets.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { hasIPv6Loopback, loopback } from '../../helpers/net.js';
import { runPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { startUdpBackend } from '../../helpers/udp-backends.js';
import { freeUdpPort, startUdpPen, UdpClient } from '../../helpers/udp.js';

const ip = loopback(76);

test('udp: a wildcard listener replies from the address the client sent to', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(2));
  s.defer(() => a.close());
  const port = await freeUdpPort('0.0.0.0');
  const p = await startUdpPen({ host: '0.0.0.0', port }, [], [a.spec]);
  s.defer(() => p.kill());
  for (const [n, to] of [[100, 5], [101, 6]] as const) {
    // A client bound to 127.0.76.x gets the reply only if it comes from where it sent to;
    // routing alone would pick 127.0.0.1 as the source.
    const c = await UdpClient.open(ip(n));
    s.defer(() => c.close());
    assert.equal(await c.ask({ host: ip(to), port }, 'hi'), 'A:hi');
    assert.equal(c.from[0], `${ip(to)}:${port}`);
  }
}));

test('udp over IPv6: [::1] listener with an IPv4 backend, and a dual-stack wildcard', async (t) => {
  if (!(await hasIPv6Loopback())) {
    t.skip('no IPv6 loopback here');
    return;
  }
  await scoped(async (s) => {
    const a = await startUdpBackend('A', ip(12));
    const b6 = await startUdpBackend('B6', '::1');
    s.defer(() => Promise.all([a.close(), b6.close()]));
    const v6 = { host: '::1', port: await freeUdpPort('::1') };
    const p = await startUdpPen(v6, [], [a.spec]);
    s.defer(() => p.kill());
    const c6 = await UdpClient.open('::1');
    s.defer(() => c6.close());
    assert.equal(await c6.ask(v6, 'x'), 'A:x');
    assert.equal(c6.from[0], `::1:${v6.port}`);

    const port = await freeUdpPort('::');
    const dual = await startUdpPen({ host: '::', port }, [], [b6.spec]);
    s.defer(() => dual.kill());
    const c4 = await UdpClient.open(ip(100));
    s.defer(() => c4.close());
    assert.equal(await c4.ask({ host: ip(7), port }, 'y'), 'B6:y', 'an IPv4 client of a dual-stack listener');
    assert.equal(c4.from[0], `${ip(7)}:${port}`);
    const c6b = await UdpClient.open('::1');
    s.defer(() => c6b.close());
    assert.equal(await c6b.ask({ host: '::1', port }, 'z'), 'B6:z');
    assert.equal(c6b.from[0], `::1:${port}`);
  });
});

test('udp: a unix path is refused as a UDP listener', async () => {
  const r = await runPen(['-f', '-U', '/tmp/pen-udp-test.sock', `${ip(2)}:53`]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /UDP mode needs an IPv4 or IPv6 address/);
});

test('udp: `source IP` binds new flow sockets to IP; the backend sees datagrams from it', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(22));
  s.defer(() => a.close());
  const listen = { host: ip(21), port: await freeUdpPort(ip(21)) };
  const p = await startUdpPen(listen, ['-O', `source ${ip(29)}`], [a.spec]);
  s.defer(() => p.kill());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  assert.equal(await c.ask(listen, 'q'), 'A:q');
  assert.deepEqual(a.hosts, [ip(29)], 'the flow socket was bound to the source address');
}));
