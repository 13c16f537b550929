// -H, byte for byte: what the server receives for a request (spec/dataplane.md §4, quirk 2,
// and the choices documented in native/tcp/xff.h and man/pen.1): X-Forwarded-Proto then
// X-Forwarded-For before the blank line, in the request's own line-ending style; an existing
// X-Forwarded-For gets the client address appended, an existing X-Forwarded-Proto is
// replaced; any method; non-HTTP bytes pass untouched (tunnels: upgrade.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pattern, startAfterEof } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';

const ip = loopback(102);

/** Sends `wire` through pen -H (client address ip(5)) and returns what the server got. */
async function through(s: Parameters<Parameters<typeof scoped>[0]>[0], n: number, wire: Buffer | string, opts: string[] = ['-H']): Promise<Buffer> {
  const b = s.backend(await startAfterEof('raw', { host: ip(n + 1) }, () => 'HTTP/1.0 200 OK\r\n\r\n'));
  const pen = s.pen(await penOn(ip(n), opts, [b.spec]));
  const c = s.client(await connect(pen.endpoint, { localAddress: ip(5) }));
  c.end(wire);
  await c.readToEnd(5000);
  return b.requests[0]!;
}

test('-H: CRLF request: Proto then For before the blank line (Pen\'s order)', () => scoped(async (s) => {
  const got = await through(s, 10, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(got.toString(), `GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: http\r\nX-Forwarded-For: ${ip(5)}\r\n\r\n`);
}));

test('-H: a bare-LF request gets bare-LF lines (Pen mixed in CRLF)', () => scoped(async (s) => {
  const got = await through(s, 20, 'GET /a HTTP/1.0\nHost: x\n\n');
  assert.equal(got.toString(), `GET /a HTTP/1.0\nHost: x\nX-Forwarded-Proto: http\nX-Forwarded-For: ${ip(5)}\n\n`);
}));

test('-H: an existing X-Forwarded-For is appended to (the last one), X-Forwarded-Proto is replaced', () => scoped(async (s) => {
  const got = await through(s, 30, 'POST /f HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-proto: https\r\n' +
    'Host: x\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\nContent-Length: 4\r\n\r\nbody');
  assert.equal(got.toString(), 'POST /f HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1\r\nHost: x\r\n' +
    `X-Forwarded-For: 10.0.0.2, 10.0.0.3, ${ip(5)}\r\nContent-Length: 4\r\nX-Forwarded-Proto: http\r\n\r\nbody`);
}));

test('-H: any method token; a head without headers', () => scoped(async (s) => {
  const got = await through(s, 40, 'PROPFIND /dav HTTP/1.1\r\n\r\nM-SEARCH * HTTP/1.1\r\n\r\n');
  assert.equal(got.toString(), `PROPFIND /dav HTTP/1.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-For: ${ip(5)}\r\n\r\n` +
    `M-SEARCH * HTTP/1.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-For: ${ip(5)}\r\n\r\n`);
}));

test('-H: Transfer-Encoding chunked wins over Content-Length, which is dropped (RFC 9112 §6.3)', () => scoped(async (s) => {
  const got = await through(s, 50, 'POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '3\r\nabc\r\n0\r\n\r\nGET /2 HTTP/1.1\r\n\r\n');
  assert.equal(got.toString(), 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n' +
    `X-Forwarded-Proto: http\r\nX-Forwarded-For: ${ip(5)}\r\n\r\n3\r\nabc\r\n0\r\n\r\n` +
    `GET /2 HTTP/1.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-For: ${ip(5)}\r\n\r\n`);
}));

test('-H: non-HTTP bytes pass untouched (binary, and a text protocol)', () => scoped(async (s) => {
  const bin = pattern(300000, 5);
  bin[0] = 0x16; // a TLS record to a plain port, say
  assert.ok((await through(s, 60, bin)).equals(bin));
  const text = 'HELO mail.example\r\nMAIL FROM:<a@b>\r\nGET / HTTP/1.1\r\n\r\n';
  assert.equal((await through(s, 70, text)).toString(), text);
}));

test('without -H the request is not touched; `no http` turns it off again', () => scoped(async (s) => {
  const req = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n';
  assert.equal((await through(s, 100, req, [])).toString(), req);
  assert.equal((await through(s, 110, req, ['-H', '-O', 'no http'])).toString(), req);
  assert.match((await through(s, 120, req, ['-O', 'http'])).toString(), /X-Forwarded-For/);
}));
