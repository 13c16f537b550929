// pending_max (-O "pending_max N"): while N backend connects are in progress pen accepts no
// new client; the next client waits in the backlog (it is not lost) until a connect finishes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startHttpNamed, startHungListener } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep } from '../../helpers/time.js';

const ip = loopback(35);

test('pending_max 1: a second client waits until the first connect is resolved', async (t) => {
  await scoped(async (s) => {
    const hung = await startHungListener(ip(2));
    if (!hung) {
      t.skip('cannot make a listener whose connects hang (python3 missing?)');
      return;
    }
    s.defer(() => hung.close());
    const a = s.backend(await startHttpNamed('A', { host: ip(3) }));
    const pen = s.pen(await penOn(ip(1), ['-r', '-t', '1', '-O', 'pending_max 1'], [hung.spec, a.spec]));
    const t0 = performance.now();
    // First client: roundrobin picks the hanging server; its connect stays pending for -t 1.
    const first = whoAnswers(pen.endpoint, { localAddress: ip(100), timeoutMs: 6000 }).then((n) => ({ n, at: performance.now() - t0 }));
    await sleep(150);
    // Second client: would go to A at once, but pen may not accept it while one connect pends.
    const second = whoAnswers(pen.endpoint, { localAddress: ip(101), timeoutMs: 6000 }).then((n) => ({ n, at: performance.now() - t0 }));
    const [r1, r2] = await Promise.all([first, second]);
    assert.equal(r1.n, 'A', 'the first client failed over to A after the timeout');
    assert.equal(r2.n, 'A');
    assert.ok(r2.at >= 900, `the second client was held back while a connect was pending (served at ${r2.at} ms)`);
  });
});

test('pending_max default: a second client is not held back by a pending connect', async (t) => {
  await scoped(async (s) => {
    const hung = await startHungListener(ip(12));
    if (!hung) {
      t.skip('cannot make a listener whose connects hang (python3 missing?)');
      return;
    }
    s.defer(() => hung.close());
    const a = s.backend(await startHttpNamed('A', { host: ip(13) }));
    const pen = s.pen(await penOn(ip(11), ['-r', '-t', '1'], [hung.spec, a.spec]));
    const t0 = performance.now();
    const first = whoAnswers(pen.endpoint, { localAddress: ip(100), timeoutMs: 6000 });
    first.catch(() => undefined); // not awaited: the test ends (and pen is killed) before its failover
    await sleep(150);
    assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(101) }), 'A');
    assert.ok(performance.now() - t0 < 800, 'served while the first connect was still pending');
  });
});
