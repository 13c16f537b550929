// Unix-domain sockets: pen listening on a path (clients reach TCP backends), and unix-domain
// backends behind a TCP listener; the listening path is removed at TERM.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startEcho, startHttpNamed } from '../../helpers/backends.js';
import { connect, whoAnswers } from '../../helpers/clients.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn, startPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';

const ip = loopback(42);

test('unix listener: clients on a socket path reach TCP backends; the path is removed at TERM', () => scoped(async (s) => {
  const dir = tempDir('unix');
  s.defer(() => removeDir(dir));
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
  const sock = path.join(dir, 'pen.sock');
  const pen = s.pen(await startPen(['-r', sock, a.spec, b.spec], { ready: { path: sock } }));
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) seen.push(await whoAnswers({ path: sock }));
  assert.deepEqual(seen, ['A', 'B', 'A', 'B']);
  const exit = await pen.stop('SIGTERM');
  assert.equal(exit.code, 0);
  assert.equal(fs.existsSync(sock), false, 'the socket file is removed');
}));

test('unix backend: a TCP listener relays to a server on a socket path', () => scoped(async (s) => {
  const dir = tempDir('unixb');
  s.defer(() => removeDir(dir));
  const u = s.backend(await startHttpNamed('U', { path: path.join(dir, 'backend.sock') }));
  const pen = s.pen(await penOn(ip(11), [], [u.spec]));
  assert.equal(await whoAnswers(pen.endpoint), 'U');
  assert.equal(await whoAnswers(pen.endpoint), 'U');
  assert.equal(u.requests, 2);
}));

test('unix to unix: 1 MB echoed byte-exact with half-close', () => scoped(async (s) => {
  const dir = tempDir('unixu');
  s.defer(() => removeDir(dir));
  const echo = s.backend(await startEcho('E', { path: path.join(dir, 'echo.sock') }));
  const sock = path.join(dir, 'pen.sock');
  s.pen(await startPen([sock, echo.spec], { ready: { path: sock } }));
  const c = s.client(await connect({ path: sock }));
  const data = Buffer.alloc(1 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;
  c.end(data);
  const got = await c.readToEnd(10000);
  assert.equal(got.length, data.length);
  assert.ok(got.equals(data), 'echoed bytes are identical');
}));
