// Weight (-W): weighted least connections. Each new client goes to the available server with
// the smallest 256*connections/weight (ties: lowest index); weight-0 servers are not chosen;
// with no weights at all pen treats every server as weight 1 (Pen dropped every client).
// Connections are held open (banner backends) so that the counts build up.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startBanner } from '../../helpers/backends.js';
import { holdOne, tally, type Client } from '../../helpers/clients.js';
import { loopback, type Endpoint } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(14);

/** Opens held connections one after another from distinct client IPs; returns their servers. */
async function holdMany(s: Scope, e: Endpoint, n: number, firstIp: number,
  held: { client: Client; server: string }[]): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = await holdOne(e, { localAddress: ip(firstIp + i) });
    s.client(h.client);
    held.push(h);
    names.push(h.server);
  }
  return names;
}

test('weight: weights 1 and 3 share held connections 1:3; weight 0 gets none', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const b = s.backend(await startBanner('B', { host: ip(3) }));
  const c = s.backend(await startBanner('C', { host: ip(4) }));
  const pen = s.pen(await penOn(ip(1), ['-W'], [`${a.spec}:0:0:1`, `${b.spec}:0:0:3`, `${c.spec}:0:0:0`]));
  const held: { client: Client; server: string }[] = [];
  const names = await holdMany(s, pen.endpoint, 8, 100, held);
  // loads 256*c/w: (0,0)->A (256,0)->B (256,85)->B (256,170)->B (256,256)->A tie, then B x3
  assert.deepEqual(names, ['A', 'B', 'B', 'B', 'A', 'B', 'B', 'B']);
  assert.deepEqual(tally(names), { A: 2, B: 6 });
  assert.equal(c.accepted, 0, 'the weight-0 server is never chosen');

  // Closing A's two connections makes A the least loaded again.
  for (const h of held.filter((x) => x.server === 'A')) h.client.destroy();
  await waitFor(() => a.open === 0, 3000, 'pen to close both connections to A');
  const more = await holdMany(s, pen.endpoint, 2, 120, held);
  assert.deepEqual(more, ['A', 'A']);
}));

test('weight: -W without any weights balances by least connections (all weight 1)', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(12) }));
  const b = s.backend(await startBanner('B', { host: ip(13) }));
  const pen = s.pen(await penOn(ip(11), ['-W'], [a.spec, b.spec]));
  const held: { client: Client; server: string }[] = [];
  const names = await holdMany(s, pen.endpoint, 4, 100, held);
  assert.deepEqual(names, ['A', 'B', 'A', 'B']);
  // Free one on B: the next client goes to B (fewest connections), not to A.
  held[1]!.client.destroy();
  await waitFor(() => b.open === 1, 3000, 'pen to close the connection to B');
  assert.deepEqual(await holdMany(s, pen.endpoint, 1, 120, held), ['B']);
}));
