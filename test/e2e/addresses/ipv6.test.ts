// Address families (spec/dataplane.md §3): each backend socket uses the backend's family, so
// IPv6 clients reach IPv4 servers and IPv4 clients reach IPv6 servers; `:::port` is a
// dual-stack listener taking both.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { freePort, hasIPv6Loopback, loopback } from '../../helpers/net.js';
import { penOn, startPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';

const ip = loopback(41);

test('IPv6 client -> pen on [::1]:port -> IPv4 backend', async (t) => {
  if (!await hasIPv6Loopback()) {
    t.skip('::1 is not available on this machine');
    return;
  }
  await scoped(async (s) => {
    const a = s.backend(await startHttpNamed('A4', { host: ip(2) }));
    const pen = s.pen(await penOn('::1', [], [a.spec]));
    assert.equal(await whoAnswers({ host: '::1', port: pen.endpoint.port }), 'A4');
    assert.equal(a.peers.length, 1);
    assert.match(a.peers[0]!, /^(::ffff:)?127\./, 'the backend was reached over IPv4');
  });
});

test('IPv4 client -> pen on 127.x -> IPv6 backend [::1]', async (t) => {
  if (!await hasIPv6Loopback()) {
    t.skip('::1 is not available on this machine');
    return;
  }
  await scoped(async (s) => {
    const six = s.backend(await startHttpNamed('B6', { host: '::1' }));
    assert.match(six.spec, /^\[::1\]:\d+$/);
    const pen = s.pen(await penOn(ip(11), [], [six.spec]));
    assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(100) }), 'B6');
    assert.equal(six.peers[0], '::1', 'the backend was reached over IPv6');
  });
});

test('dual-stack listener :::port takes IPv4 and IPv6 clients to an IPv4 backend', async (t) => {
  if (!await hasIPv6Loopback()) {
    t.skip('::1 is not available on this machine');
    return;
  }
  await scoped(async (s) => {
    const a = s.backend(await startHttpNamed('A4', { host: ip(22) }));
    const port = await freePort('::');
    const pen = s.pen(await startPen([`:::${port}`, a.spec], { ready: { host: '::', port } }));
    assert.equal(await whoAnswers({ host: ip(21), port }, { localAddress: ip(100) }), 'A4', 'IPv4 client');
    assert.equal(await whoAnswers({ host: '::1', port }), 'A4', 'IPv6 client');
    assert.equal(a.requests, 2);
  });
});
