// The request log in UDP mode (-U -l FILE): one line per flow (client address:port), from its
// first datagram, in the same format as TCP.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { fileLines, waitLines } from '../../helpers/logs.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { sleep } from '../../helpers/time.js';
import { freeUdpPort, startUdpPen, UdpClient } from '../../helpers/udp.js';
import { startUdpBackend } from '../../helpers/udp-backends.js';

const ip = loopback(97);

test('-U -l FILE: one line per flow, from its first datagram', () => scoped(async (s) => {
  const dir = tempDir('log-udp');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'udp.log');
  const echo = await startUdpBackend('echo', ip(2), 'echo');
  s.defer(() => echo.close());
  const listen = { host: ip(1), port: await freeUdpPort(ip(1)) };
  const pen = s.pen(await startUdpPen(listen, ['-l', file], [echo.spec]));
  const a = await UdpClient.open(ip(9));
  const b = await UdpClient.open(ip(10));
  s.defer(() => a.close());
  s.defer(() => b.close());
  assert.equal(await a.ask(listen, 'first datagram\nsecond line'), 'first datagram\nsecond line');
  assert.equal(await a.ask(listen, 'more from the same port'), 'more from the same port');
  assert.equal(await b.ask(listen, 'QUERY \xe9'), 'QUERY \xe9');
  await waitLines(file, 2);
  await sleep(200);
  const lines = fileLines(file);
  assert.equal(lines.length, 2, JSON.stringify(lines));
  assert.match(lines[0]!, new RegExp(`^${ip(9).replace(/\./g, '\\.')} \\d+ ${ip(2).replace(/\./g, '\\.')} first datagram$`));
  assert.match(lines[1]!, new RegExp(`^${ip(10).replace(/\./g, '\\.')} \\d+ ${ip(2).replace(/\./g, '\\.')} QUERY \\.\\.$`));
  assert.ok(pen.isRunning());
}));
