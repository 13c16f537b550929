// Scale: 2,000 client connections open at the same time through pen, each served (banner
// from its backend, then an echo round trip), and all released cleanly afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startBanner } from '../../helpers/backends.js';
import { connect, type Client } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { nofileLimits, penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor, withTimeout } from '../../helpers/time.js';

const ip = loopback(34);
const N = 2000;

test(`concurrency: ${N} simultaneous connections are all served`, async (t) => {
  const { soft, hard } = await nofileLimits();
  // This process holds 2 sockets per connection (client + backend side), pen holds 2 more.
  if (soft < 2 * N + 200) {
    t.skip(`needs ulimit -n >= ${2 * N + 200} in the test process (soft limit is ${soft})`);
    return;
  }
  await scoped(async (s) => {
    const a = s.backend(await startBanner('A', { host: ip(2) }));
    const b = s.backend(await startBanner('B', { host: ip(3) }));
    const pen = s.pen(await penOn(ip(1), ['-r', '-x', '5000', '-c', '5000', '-q', '4096'], [a.spec, b.spec],
      { nofile: Math.min(hard, 20000) }));
    const clients: Client[] = [];
    const t0 = performance.now();
    const results = await withTimeout(Promise.allSettled(Array.from({ length: N }, async (_, i) => {
      // Spread the sources over a few addresses (the client table is keyed by address).
      const c = s.client(await connect(pen.endpoint, { localAddress: ip(100 + (i % 50)), timeoutMs: 15000 }));
      clients.push(c);
      const name = await c.line(15000);
      await c.write(`hello ${i}\n`);
      const echo = await c.line(15000);
      if (echo !== `hello ${i}`) throw new Error(`client ${i}: echo ${JSON.stringify(echo)}`);
      return name;
    })), 30000, `${N} clients`);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(failed.length, 0, `${failed.length} clients failed, e.g. ${failed.slice(0, 3).map((f) => String(f.reason)).join('; ')}`);
    // All were open at once: the backends hold every one of them right now.
    assert.equal(a.open + b.open, N, 'every connection is open at the same time');
    assert.equal(a.open, N / 2);
    assert.equal(b.open, N / 2);
    t.diagnostic(`${N} connections served in ${Math.round(performance.now() - t0)} ms`);

    for (const c of clients) c.destroy();
    await waitFor(() => a.open + b.open === 0, 10000, 'pen to close every backend connection');
    assert.ok(pen.isRunning());
  });
});
