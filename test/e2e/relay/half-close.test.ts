// Half-close (spec/dataplane.md §2.6-7): after one side's EOF the other direction keeps
// flowing until it ends too. Pen lost responses here (31 of 40 small ones, 2 MB ones cut
// short) because it acted on EPOLLHUP before draining the backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pattern, sha256, startAfterEof, startSpeakFirst } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { loopback, type Endpoint } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(52);
const MB = 1 << 20;

/** `rounds` clients one after the other each send a request and their EOF, then must receive
    `body` and the EOF within ms; with stopAndGo, a client pauses its reads for 0-2 ms after
    every chunk. */
async function bigAnswers(s: Scope, at: Endpoint, body: Buffer, rounds: number, stopAndGo: boolean, ms: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const c = s.client(await connect(at));
    if (stopAndGo) {
      c.socket.on('data', () => {
        c.socket.pause();
        setTimeout(() => c.socket.resume(), round % 3);
      });
    }
    c.end('GET /big HTTP/1.0\r\n\r\n');
    const got = await c.readToEnd(ms);
    assert.equal(got.length, body.length, `round ${round}: length`);
    assert.equal(sha256(got), sha256(body), `round ${round}: content`);
    c.destroy();
  }
}

test('half-close: 40 clients send a request and EOF; every answer sent after EOF arrives complete', () => scoped(async (s) => {
  const b = s.backend(await startAfterEof('late', { host: ip(2) },
    (req) => `answer to ${req.toString()}: ${'x'.repeat(1000)}\n`));
  const pen = s.pen(await penOn(ip(1), [], [b.spec]));
  const answers = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const c = s.client(await connect(pen.endpoint));
    c.end(`request ${i}`);
    return (await c.readToEnd(10000)).toString();
  }));
  answers.forEach((a, i) => assert.equal(a, `answer to request ${i}: ${'x'.repeat(1000)}\n`, `client ${i}`));
}));

test('half-close: a 2 MB answer sent after the client\'s EOF arrives complete', () => scoped(async (s) => {
  const body = pattern(2 * MB, 7);
  const b = s.backend(await startAfterEof('late-big', { host: ip(12) }, () => body));
  const pen = s.pen(await penOn(ip(11), [], [b.spec]));
  await bigAnswers(s, pen.endpoint, body, 3, false, 15000);
  assert.equal(b.requests.length, 3);
  assert.equal(b.requests[0]!.toString(), 'GET /big HTTP/1.0\r\n\r\n');
}));

test('half-close: 30 rounds of a 2 MB answer after the client\'s EOF, read in stops and starts, each ending with the EOF', () => scoped(async (s) => {
  // The backend's data and FIN wait in pen's socket while the client's is full; the FIN is
  // reported once on edge-triggered sockets, and must still end the answer.
  const body = pattern(2 * MB, 9);
  const b = s.backend(await startAfterEof('late-paused', { host: ip(32) }, () => body));
  const pen = s.pen(await penOn(ip(31), [], [b.spec]));
  await bigAnswers(s, pen.endpoint, body, 30, true, 5000);
}));

test('half-close the other way: after the server\'s EOF the client can still send 1 MB', () => scoped(async (s) => {
  const hello = pattern(256 * 1024, 3);
  const b = s.backend(await startSpeakFirst('first', { host: ip(22) }, hello));
  const pen = s.pen(await penOn(ip(21), [], [b.spec]));
  const c = s.client(await connect(pen.endpoint));
  const got = await c.readToEnd(10000);
  assert.equal(sha256(got), sha256(hello), 'the server\'s data, then its EOF');
  const upload = pattern(MB, 4);
  c.end(upload);
  await waitFor(() => b.received.length === 1, 10000, 'the server to receive the upload and EOF');
  assert.equal(b.received[0]!.length, upload.length);
  assert.equal(sha256(b.received[0]!), sha256(upload));
  assert.equal(b.eofs, 1, 'the server saw the client\'s EOF, not a reset');
}));
