// -H on keep-alive connections (issue 5): every request gets X-Forwarded-For and
// X-Forwarded-Proto, whatever its size, however it is split across reads, pipelined or not;
// bodies (Content-Length and chunked) reach the server byte-exact and are never taken for
// requests. Pen rewrote only reads that held a whole head, and dropped the header when a large
// POST filled its buffer.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pattern, sha256 } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { responseBodies, startCapture } from '../../helpers/http-capture.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';

const ip = loopback(101);
const MB = 1 << 20;

test('-H: each of 20 requests on one keep-alive connection gets both headers', () => scoped(async (s) => {
  const b = await startCapture(ip(2));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(1), ['-H'], [b.spec]));
  const c = s.client(await connect(pen.endpoint, { localAddress: ip(5) }));
  for (let i = 0; i < 20; i++) {
    const method = ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'PURGE'][i % 5]!;
    await c.write(`${method} /r${i} HTTP/1.1\r\nHost: pen-test\r\nUser-Agent: t\r\n\r\n`);
    await b.waitFor(i + 1);
  }
  await waitFor(() => responseBodies(c.bytes()).length === 20 || c.text().split('HTTP/1.1 200').length > 20, 5000, '20 answers');
  assert.equal(b.requests.length, 20);
  for (const [i, r] of b.requests.entries()) {
    assert.equal(r.url, `/r${i}`);
    assert.deepEqual(r.headers['x-forwarded-for'], [ip(5)], `request ${i}`);
    assert.deepEqual(r.headers['x-forwarded-proto'], ['http'], `request ${i}`);
    assert.equal(r.conn, b.requests[0]!.conn, 'one backend connection');
  }
}));

test('-H: pipelined requests in one write each get the header, bodies untouched', () => scoped(async (s) => {
  const b = await startCapture(ip(12));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(11), ['-H'], [b.spec]));
  const c = s.client(await connect(pen.endpoint, { localAddress: ip(15) }));
  const body = 'GET /not-a-request HTTP/1.1\r\n\r\n';
  await c.write(`GET /a HTTP/1.1\r\nHost: x\r\n\r\n` +
    `POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
    `PUT /c HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
  await b.waitFor(3);
  await waitFor(() => responseBodies(c.bytes()).length === 3, 5000, 'three answers');
  assert.deepEqual(b.requests.map((r) => `${r.method} ${r.url}`), ['GET /a', 'POST /b', 'PUT /c']);
  for (const r of b.requests) assert.deepEqual(r.headers['x-forwarded-for'], [ip(15)]);
  assert.equal(b.requests[1]!.bodySha, sha256(body));
}));

test('-H: a 10 MB POST with a binary body keeps its header and body; the next request is rewritten too', () => scoped(async (s) => {
  const b = await startCapture(ip(22));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(21), ['-H'], [b.spec]));
  // Random bytes with request heads planted in them: a parser that lost its place would
  // rewrite them (or take them for requests).
  const body = pattern(10 * MB, 9);
  const fake = Buffer.from('\r\n\r\nGET /evil HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n');
  for (const at of [0, 65530, 65536 * 3 - 7, 5 * MB, 10 * MB - fake.length]) fake.copy(body, at);
  const c = s.client(await connect(pen.endpoint, { localAddress: ip(25) }));
  await c.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`);
  for (let off = 0; off < body.length; off += 1 << 20) await c.write(body.subarray(off, off + (1 << 20)));
  await c.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
  await b.waitFor(2, 30000);
  await waitFor(() => responseBodies(c.bytes()).length === 2, 10000, 'two answers');
  assert.equal(b.requests.length, 2, 'no request was found inside the body');
  const [post, after] = b.requests as [typeof b.requests[0], typeof b.requests[0]];
  assert.equal(post.url, '/upload');
  assert.equal(post.bodyBytes, body.length);
  assert.equal(post.bodySha, sha256(body), 'body byte-exact');
  assert.deepEqual(post.headers['x-forwarded-for'], [ip(25)]);
  assert.equal(after.url, '/after');
  assert.deepEqual(after.headers['x-forwarded-for'], [ip(25)]);
}));

test('-H: chunked bodies (extensions, trailers, fake heads inside) are skipped exactly', () => scoped(async (s) => {
  const b = await startCapture(ip(32));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(31), ['-H'], [b.spec]));
  const c = s.client(await connect(pen.endpoint, { localAddress: ip(35) }));
  const parts = ['GET /x HTTP/1.1\r\n\r\n', pattern(70000, 3).toString('latin1'), '0\r\n\r\nGET /y HTTP/1.1\r\n\r\n'];
  let chunked = '';
  for (const p of parts) chunked += `${Buffer.byteLength(p, 'latin1').toString(16)};ext=1\r\n${p}\r\n`;
  chunked += '0\r\nX-Trailer: yes\r\n\r\n';
  const wire = Buffer.from(`POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}` +
    'GET /next HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
  // Dribble it in odd-sized pieces so that sizes, CRLFs and heads are cut everywhere.
  for (let off = 0, step = 1; off < wire.length; off += step, step = (step * 7 + 3) % 5000 + 1) {
    await c.write(wire.subarray(off, off + step));
  }
  await b.waitFor(2);
  assert.deepEqual(b.requests.map((r) => r.url), ['/chunked', '/next']);
  assert.equal(b.requests[0]!.bodySha, sha256(Buffer.from(parts.join(''), 'latin1')));
  assert.deepEqual(b.requests[0]!.headers['x-forwarded-for'], [ip(35)]);
  assert.deepEqual(b.requests[1]!.headers['x-forwarded-for'], [ip(35)]);
}));

test('-H: a head written one byte at a time still gets the header', () => scoped(async (s) => {
  const b = await startCapture(ip(42));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(41), ['-H'], [b.spec]));
  const c = s.client(await connect(pen.endpoint, { localAddress: ip(45) }));
  c.socket.setNoDelay(true);
  for (const ch of 'GET /slow HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n') {
    await c.write(ch);
    await sleep(2);
  }
  await b.waitFor(1);
  assert.deepEqual(b.requests[0]!.headers['x-forwarded-for'], [ip(45)]);
  assert.equal(b.requests[0]!.headers.accept?.[0], '*/*');
}));
