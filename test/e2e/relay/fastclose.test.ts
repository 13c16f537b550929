// tcp_fastclose (-O "tcp_fastclose up|down|both|off", spec/dataplane.md): when a side sends EOF
// and nothing is buffered, close both sockets instead of half-closing:
//   off  (default) half-close: the other direction keeps flowing
//   up   close when the backend sends EOF
//   down close when the client sends EOF
//   both either
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startAfterEof, startSpeakFirst } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn, type ListeningPen } from '../../helpers/pen.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { sleep, waitFor, withTimeout } from '../../helpers/time.js';

const ip = loopback(54);

/** Client sends a request and EOF; the backend answers 300 ms after that EOF. Returns the answer. */
async function clientCloses(s: Scope, n: number, mode: string | null): Promise<{ answer: string; pen: ListeningPen }> {
  const b = s.backend(await startAfterEof('late', { host: ip(n + 1) }, () => 'late answer', { delayMs: 300 }));
  const pen = s.pen(await penOn(ip(n), mode ? ['-O', `tcp_fastclose ${mode}`] : [], [b.spec]));
  const c = s.client(await connect(pen.endpoint));
  c.end('request');
  const answer = (await c.readToEnd(5000)).toString();
  await waitFor(() => b.requests.length === 1, 3000, 'the backend to see the request and EOF');
  return { answer, pen };
}

/**
 * The backend sends "bye" and EOF at once; the client stays open and sends "after" 300 ms
 * later. Returns whether the backend's connection was closed by pen before the client closed,
 * and what the backend received.
 */
async function serverCloses(s: Scope, n: number, mode: string | null): Promise<{ closedEarly: boolean; received: string }> {
  const b = s.backend(await startSpeakFirst('first', { host: ip(n + 1) }, 'bye\n'));
  const pen = s.pen(await penOn(ip(n), mode ? ['-O', `tcp_fastclose ${mode}`] : [], [b.spec]));
  const c = s.client(await connect(pen.endpoint));
  assert.equal(await c.line(3000), 'bye');
  await withTimeout(c.ended, 3000, 'the backend\'s EOF to reach the client');
  await sleep(300);
  const closedEarly = b.open === 0;
  await c.write('after\n').catch(() => undefined);
  c.end();
  await waitFor(() => b.received.length === 1, 3000, 'the backend connection to end');
  return { closedEarly, received: b.received[0]!.toString() };
}

test('tcp_fastclose off: the answer to a half-closed request still arrives', () => scoped(async (s) => {
  const { answer } = await clientCloses(s, 1, null);
  assert.equal(answer, 'late answer');
}));

test('tcp_fastclose down: the client\'s EOF closes both sides, dropping the late answer', () => scoped(async (s) => {
  const { answer } = await clientCloses(s, 11, 'down');
  assert.equal(answer, '', 'closed at the client\'s EOF, before the backend answered');
}));

test('tcp_fastclose off: after the backend\'s EOF the client can still send to it', () => scoped(async (s) => {
  const r = await serverCloses(s, 21, null);
  assert.equal(r.closedEarly, false, 'the backend connection stays half-open');
  assert.equal(r.received, 'after\n');
}));

test('tcp_fastclose up: the backend\'s EOF closes both sides', () => scoped(async (s) => {
  const r = await serverCloses(s, 31, 'up');
  assert.equal(r.closedEarly, true, 'pen closed the backend connection at its EOF');
  assert.equal(r.received, '', 'nothing the client sent later reached the backend');
}));

test('tcp_fastclose up: the client\'s EOF alone does not close (the answer arrives)', () => scoped(async (s) => {
  const { answer } = await clientCloses(s, 41, 'up');
  assert.equal(answer, 'late answer');
}));

test('tcp_fastclose both: either side\'s EOF closes both', () => scoped(async (s) => {
  const { answer } = await clientCloses(s, 51, 'both');
  assert.equal(answer, '');
  const r = await serverCloses(s, 61, 'both');
  assert.equal(r.closedEarly, true);
  assert.equal(r.received, '');
}));
