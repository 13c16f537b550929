// Rotating the request log: rename the file, send HUP, and pen writes a new file; switching the
// log at run time with `log FILE` and stopping it with `no log` through the control socket.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { command, penWithControl } from '../../helpers/control.js';
import { converse, fileLines, startKeepAlive, waitLines } from '../../helpers/logs.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';

const ip = loopback(92);
const CLIENT = ip(9);

async function get(to: { host: string; port: number }, url: string): Promise<void> {
  await converse(to, CLIENT, [{ send: `GET ${url} HTTP/1.1\r\nHost: t\r\n\r\n`, answered: (a) => a.includes(`ok ${url}`) }]);
}
const requests = (file: string) => fileLines(file).map((l) => l.split(' ')[4]);

test('HUP rotation: mv the log, HUP, and new lines go to a new file', () => scoped(async (s) => {
  const dir = tempDir('log-rot');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'access.log');
  const web = s.backend(await startKeepAlive('web', ip(2)));
  const pen = s.pen(await penOn(ip(1), ['-l', file], [web.spec]));

  await get(pen.endpoint, '/one');
  await waitLines(file, 1);
  fs.renameSync(file, `${file}.1`);
  await get(pen.endpoint, '/two'); // still the open file, now named access.log.1
  await waitLines(`${file}.1`, 2);
  process.kill(pen.pid, 'SIGHUP');
  await waitFor(() => fs.existsSync(file), 3000, 'pen to create the new log file');
  await get(pen.endpoint, '/three');
  await waitLines(file, 1);
  assert.deepEqual(requests(`${file}.1`), ['/one', '/two']);
  assert.deepEqual(requests(file), ['/three']);
  assert.ok(pen.isRunning());
}));

test('log FILE and no log at run time, through the control socket', () => scoped(async (s) => {
  const dir = tempDir('log-rot');
  s.defer(() => removeDir(dir));
  const first = path.join(dir, 'first.log');
  const second = path.join(dir, 'second.log');
  const web = s.backend(await startKeepAlive('web', ip(4)));
  const pen = s.pen(await penWithControl(ip(3), ['-l', first], [web.spec]));

  assert.equal(await command(pen.control, 'log'), `${first}\n`);
  await get(pen.endpoint, '/a');
  await waitLines(first, 1);
  assert.equal(await command(pen.control, `log ${second}`), `${second}\n`);
  await get(pen.endpoint, '/b');
  await waitLines(second, 1);
  assert.equal(await command(pen.control, 'no log'), '');
  assert.equal(await command(pen.control, 'log'), '');
  await get(pen.endpoint, '/c');
  await sleep(300);
  assert.deepEqual(requests(first), ['/a']);
  assert.deepEqual(requests(second), ['/b']);
}));
