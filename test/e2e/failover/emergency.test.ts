// Emergency server (-e): used only when no regular server can take the client.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { closedPort, startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { loopback, specOf } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(23);

test('emergency: unused while a regular server works, used once every regular server fails', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
  const e = s.backend(await startHttpNamed('E', { host: ip(4) }));
  const pen = s.pen(await penOn(ip(1), ['-r', '-b', '30', '-e', e.spec], [a.spec, b.spec]));
  const normal: string[] = [];
  for (let i = 0; i < 4; i++) normal.push(await whoAnswers(pen.endpoint));
  assert.deepEqual(normal, ['A', 'B', 'A', 'B']);
  assert.equal(e.accepted, 0);

  await b.close(); // B now refuses: A still takes everyone
  const oneDown: string[] = [];
  for (let i = 0; i < 4; i++) oneDown.push(await whoAnswers(pen.endpoint));
  assert.deepEqual(oneDown, ['A', 'A', 'A', 'A']);
  assert.equal(e.accepted, 0, 'no emergency while A works');

  await a.close();
  await waitFor(() => a.open === 0, 2000, 'A closed');
  const allDown: string[] = [];
  for (let i = 0; i < 3; i++) allDown.push(await whoAnswers(pen.endpoint));
  assert.deepEqual(allDown, ['E', 'E', 'E']);
}));

test('emergency: with every regular server refusing from the start, clients reach -e', () => scoped(async (s) => {
  const d1 = await closedPort(ip(12));
  const d2 = await closedPort(ip(13));
  const e = s.backend(await startHttpNamed('E', { host: ip(14) }));
  const pen = s.pen(await penOn(ip(11), ['-e', e.spec], [specOf(d1), specOf(d2)]));
  for (let i = 0; i < 3; i++) {
    assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(100 + i) }), 'E');
  }
}));
