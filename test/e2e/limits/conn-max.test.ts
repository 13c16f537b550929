// The connection limit (-x): when it is reached pen stops accepting, so extra clients wait in
// the kernel backlog (their TCP connect succeeds) and are served, in turn, as slots free up.
// They are neither refused nor closed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startBanner } from '../../helpers/backends.js';
import { connect, holdOne, type Client } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';

const ip = loopback(32);

test('-x 2: extra clients wait in the backlog and are served once a slot frees', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-x', '2'], [a.spec]));
  const held = [await holdOne(pen.endpoint), await holdOne(pen.endpoint)];
  for (const h of held) s.client(h.client);

  const waiting: Client[] = [];
  for (let i = 0; i < 3; i++) waiting.push(s.client(await connect(pen.endpoint)));
  await sleep(400);
  for (const w of waiting) {
    assert.equal(w.received, 0, 'a waiting client gets nothing while the table is full');
    assert.equal(w.eof, false, 'a waiting client is not closed');
  }
  assert.equal(a.accepted, 2, 'the server saw only the two admitted clients');

  // Free both slots: two of the waiting clients are served, the third still waits.
  for (const h of held) h.client.destroy();
  await waitFor(() => waiting.filter((w) => w.received > 0).length === 2, 5000, 'two waiting clients to be served');
  await sleep(300);
  const still = waiting.filter((w) => w.received === 0);
  assert.equal(still.length, 1, 'the limit holds: only two at a time');
  assert.equal(still[0]!.eof, false);

  // Free one more: the last one is served too, and its connection works both ways.
  waiting.find((w) => w.received > 0)!.destroy();
  const last = still[0]!;
  assert.equal(await last.line(5000), 'A');
  await last.write('ping\n');
  assert.equal(await last.line(3000), 'ping');
}));
