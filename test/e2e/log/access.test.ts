// The request log to a file (-l FILE): Pen's line format field by field, one line per HTTP
// request (keep-alive included) or per connection for other protocols, written at once.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { startEcho } from '../../helpers/backends.js';
import { converse, fileLines, startKeepAlive, waitLines } from '../../helpers/logs.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep } from '../../helpers/time.js';

const ip = loopback(91);
const CLIENT = ip(9);
const responded = (n: number) => (all: string) => (all.match(/ok \//g) ?? []).length >= n;

test('HTTP: one line per request, keep-alive included; fields: client, time, server, request', () => scoped(async (s) => {
  const dir = tempDir('log-access');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'access.log');
  const web = s.backend(await startKeepAlive('web', ip(2)));
  const pen = s.pen(await penOn(ip(1), ['-l', file], [web.spec]));

  const t0 = Math.floor(Date.now() / 1000);
  await converse(pen.endpoint, CLIENT, [
    { send: 'GET /some/path?x=1 HTTP/1.1\r\nHost: t\r\n\r\n', answered: responded(1) },
    { send: 'GET /second HTTP/1.1\r\nHost: t\r\n\r\n', answered: responded(2) },
  ]);
  const lines = await waitLines(file, 2);
  const t1 = Math.ceil(Date.now() / 1000);
  assert.equal(lines.length, 2, 'the lines are on disk while pen runs (no 4 KiB stdio buffer)');
  const fields = lines.map((l) => /^(\S+) (\d+) (\S+) (.*)$/.exec(l));
  assert.ok(fields.every(Boolean), JSON.stringify(lines));
  const [a, b] = fields as RegExpExecArray[];
  assert.equal(a![1], CLIENT, 'client address, no port');
  assert.ok(Number(a![2]) >= t0 && Number(a![2]) <= t1, `time ${a![2]} in [${t0}, ${t1}]`);
  assert.equal(a![3], ip(2), 'server address, no port');
  assert.equal(a![4], 'GET /some/path?x=1 HTTP/1.1', 'the request line, without CR/LF');
  assert.equal(b![4], 'GET /second HTTP/1.1', 'the second request on the same connection');
}));

test('HTTP: a POST body in a later chunk makes no line; bytes >= 0x80 become "."; at most 100 bytes', () => scoped(async (s) => {
  const dir = tempDir('log-access');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'access.log');
  const web = s.backend(await startKeepAlive('web', ip(4)));
  const pen = s.pen(await penOn(ip(3), ['-l', file], [web.spec]));

  await converse(pen.endpoint, CLIENT, [
    { send: 'POST /form HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n', answered: null },
    { send: 'body\x01\tdata', answered: responded(1) },
  ]);
  await converse(pen.endpoint, CLIENT, [
    { send: Buffer.from('GET /\xe9\xff HTTP/1.0\r\n\r\n', 'latin1'), answered: (all) => all.includes('HTTP/1.') },
  ]);
  const long = `GET /${'x'.repeat(200)} HTTP/1.1`;
  await converse(pen.endpoint, CLIENT, [{ send: `${long}\r\nHost: t\r\n\r\n`, answered: responded(1) }]);
  const lines = await waitLines(file, 3);
  await sleep(200);
  const requests = fileLines(file).map((l) => l.split(' ').slice(3).join(' '));
  assert.deepEqual(requests, ['POST /form HTTP/1.1', 'GET /.. HTTP/1.0', long.slice(0, 100)]);
  assert.equal(lines.length, 3, 'nothing for the body chunk (Pen logged every read)');
  assert.deepEqual(web.requests.slice(0, 1), ['POST /form HTTP/1.1'], 'the request itself went through untouched');
}));

test('other protocols: one line per connection, from the first chunk', () => scoped(async (s) => {
  const dir = tempDir('log-access');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'access.log');
  const echo = s.backend(await startEcho('echo', { host: ip(6) }));
  const pen = s.pen(await penOn(ip(5), ['-l', file], [echo.spec]));

  await converse(pen.endpoint, CLIENT, [
    { send: 'EHLO client.example\r\n' },
    { send: 'MAIL FROM:<a@b>\r\n' },
    { send: 'DATA\r\n' },
  ]);
  await converse(pen.endpoint, CLIENT, [{ send: 'second connection\n' }]);
  await waitLines(file, 2);
  await sleep(200);
  assert.deepEqual(fileLines(file).map((l) => l.split(' ').slice(3).join(' ')), ['EHLO client.example', 'second connection']);
  assert.ok(fileLines(file).every((l) => l.startsWith(`${CLIENT} `) && l.split(' ')[2] === ip(6)));
}));

test('without -l nothing is written anywhere and requests still flow', () => scoped(async (s) => {
  const web = s.backend(await startKeepAlive('web', ip(8)));
  const pen = s.pen(await penOn(ip(7), [], [web.spec]));
  const got = await converse(pen.endpoint, CLIENT, [{ send: 'GET /x HTTP/1.1\r\nHost: t\r\n\r\n', answered: responded(1) }]);
  assert.match(got, /ok \/x/);
  assert.match(pen.stderr(), /^\S+ \S+: pen \S+ listening on [^\n]*\n$/, 'only the listening line');
}));
