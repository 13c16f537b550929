// idle_timeout (-O "idle_timeout N"): a connection with no traffic for N seconds is closed on
// both sides; traffic in either direction keeps it alive.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startBanner } from '../../helpers/backends.js';
import { holdOne } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor, withTimeout } from '../../helpers/time.js';

const ip = loopback(53);

test('idle_timeout 1: an idle connection is closed, a busy one is kept', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-O', 'idle_timeout 1'], [a.spec]));
  const idle = s.client((await holdOne(pen.endpoint)).client);
  const busy = s.client((await holdOne(pen.endpoint)).client);
  const t0 = performance.now();
  let stop = false;
  const pinger = (async () => {
    for (let i = 0; !stop; i++) {
      await busy.write(`ping ${i}\n`);
      assert.equal(await busy.line(2000), `ping ${i}`);
      await sleep(250);
    }
  })();
  try {
    await withTimeout(idle.ended, 4000, 'pen to close the idle connection');
    const took = performance.now() - t0;
    assert.ok(took >= 900, `not before the idle time (${took} ms)`);
    await sleep(1500); // the busy connection outlives the idle timeout by far
    assert.equal(busy.eof, false, 'the busy connection is still open');
  } finally {
    stop = true;
    await pinger.catch(() => undefined);
  }
  await pinger;
  await waitFor(() => a.open === 1, 3000, 'the idle connection to be closed on the server side too');
}));

test('idle_timeout off (default): an idle connection stays open', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(12) }));
  const pen = s.pen(await penOn(ip(11), [], [a.spec]));
  const idle = s.client((await holdOne(pen.endpoint)).client);
  await sleep(1600); // well past the 1 s that closes idle connections when the option is on
  assert.equal(idle.eof, false);
  await idle.write('still there\n');
  assert.equal(await idle.line(2000), 'still there');
  assert.equal(a.open, 1);
}));
