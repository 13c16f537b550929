// -H refusals (issue 5: "a request with headers larger than the limit gets a clear 431-style
// refusal, not a silent truncation"): a head over 64 KiB is answered 431 and a malformed head
// 400, then the connection closes. Nothing of the refused request reaches the server; the
// answers to earlier requests on the connection still arrive first.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startAfterEof } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { responseBodies, startCapture } from '../../helpers/http-capture.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(103);

test('-H: a head over 64 KiB is answered 431 and the server gets nothing', () => scoped(async (s) => {
  const b = s.backend(await startAfterEof('raw', { host: ip(2) }, () => ''));
  const pen = s.pen(await penOn(ip(1), ['-H'], [b.spec]));
  const c = s.client(await connect(pen.endpoint));
  // 200 KB of header in one write: pen reads past its limit, answers, and swallows the rest
  // (so that closing does not reset the connection before the client read the answer).
  c.end(`GET / HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(200000)}\r\n\r\n`);
  const answer = (await c.readToEnd(10000)).toString();
  assert.match(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(answer, /\r\nConnection: close\r\n/);
  await waitFor(() => b.requests.length === 1, 5000, 'the server to see EOF');
  assert.equal(b.requests[0]!.length, 0, 'not one byte of the refused request went to the server');
}));

test('-H: a head just under the limit passes', () => scoped(async (s) => {
  const b = await startCapture(ip(12));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(11), ['-H'], [b.spec]));
  const c = s.client(await connect(pen.endpoint));
  await c.write(`GET /big HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(60000)}\r\n\r\n`);
  await b.waitFor(1);
  assert.equal(b.requests[0]!.headers.cookie![0]!.length, 60000);
  assert.equal(b.requests[0]!.headers['x-forwarded-for']!.length, 1);
}));

test('-H: a malformed head after a good request: the good answer, then 400, then close', () => scoped(async (s) => {
  const b = await startCapture(ip(22));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(21), ['-H'], [b.spec]));
  const c = s.client(await connect(pen.endpoint));
  await c.write('GET /good HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\nHost: x\r\n folded: line\r\n\r\n');
  const raw = (await c.readToEnd(10000)).toString();
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n[\s\S]*ok 0HTTP\/1\.1 400 Bad Request\r\n/);
  assert.deepEqual(b.requests.map((r) => r.url), ['/good']);
}));

test('-H: bad Content-Length and Transfer-Encoding without chunked are refused with 400', () => scoped(async (s) => {
  const b = s.backend(await startAfterEof('raw', { host: ip(32) }, () => ''));
  const pen = s.pen(await penOn(ip(31), ['-H'], [b.spec]));
  for (const head of ['POST / HTTP/1.1\r\nContent-Length: 12, 13\r\n\r\n', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
    'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 'GET / HTTP/1.1\r\nBad Name: x\r\n\r\n']) {
    const c = s.client(await connect(pen.endpoint));
    c.end(head);
    assert.match((await c.readToEnd(5000)).toString(), /^HTTP\/1\.1 400 Bad Request\r\n/, head);
  }
  await waitFor(() => b.requests.length === 4, 5000, 'four EOFs at the server');
  assert.ok(b.requests.every((r) => r.length === 0));
}));

test('-H: a malformed request line that names HTTP is refused, never passed on without the header', () => scoped(async (s) => {
  const b = s.backend(await startAfterEof('raw', { host: ip(52) }, () => ''));
  const pen = s.pen(await penOn(ip(51), ['-H'], [b.spec]));
  const lines = ['GET / HTTP/1.1 \r\nX-Forwarded-For: 6.6.6.6\r\n\r\n', 'GET  /x HTTP/1.1\r\n\r\n',
    'get / http/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'];
  for (const line of lines) {
    const c = s.client(await connect(pen.endpoint));
    c.end(line);
    assert.match((await c.readToEnd(5000)).toString(), /^HTTP\/1\.1 400 Bad Request\r\n/, JSON.stringify(line));
  }
  await waitFor(() => b.requests.length === lines.length, 5000, 'EOF at the server for each');
  assert.ok(b.requests.every((r) => r.length === 0), 'nothing reached the server');
}));

test('-H: pen keeps serving after refusals', () => scoped(async (s) => {
  const b = await startCapture(ip(42));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(41), ['-H'], [b.spec]));
  for (let i = 0; i < 5; i++) {
    const bad = s.client(await connect(pen.endpoint));
    bad.end(`GET / HTTP/1.1\r\nX: ${'y'.repeat(70000)}\r\n\r\n`);
    assert.match((await bad.readToEnd(5000)).toString(), /^HTTP\/1\.1 431 /);
  }
  const c = s.client(await connect(pen.endpoint));
  await c.write('GET /fine HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(() => responseBodies(c.bytes()).length === 1, 5000, 'an answer');
  assert.deepEqual(b.requests.map((r) => r.url), ['/fine']);
}));
