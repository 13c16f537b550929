// Signals: TERM (and INT, which Pen left unhandled) shut pen down promptly with status 0 while
// connections are open, closing them and removing the -p pidfile; HUP and USR1 do not stop it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startBanner } from '../../helpers/backends.js';
import { holdOne, whoAnswers, type Client } from '../../helpers/clients.js';
import { startHttpNamed } from '../../helpers/backends.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor, withTimeout } from '../../helpers/time.js';

const ip = loopback(62);

for (const [n, signal] of [[1, 'SIGTERM'], [11, 'SIGINT']] as const) {
  test(`${signal} with connections open: exit 0 within 2 s, connections closed, pidfile removed`, () => scoped(async (s) => {
    const dir = tempDir('sig');
    s.defer(() => removeDir(dir));
    const pidfile = path.join(dir, 'pen.pid');
    const a = s.backend(await startBanner('A', { host: ip(n + 1) }));
    const pen = s.pen(await penOn(ip(n), ['-p', pidfile], [a.spec]));
    await waitFor(() => fs.existsSync(pidfile), 3000, 'the pidfile');
    assert.equal(fs.readFileSync(pidfile, 'utf8'), String(pen.pid), 'the pidfile holds the pid, no newline');

    const held: Client[] = [];
    for (let i = 0; i < 3; i++) held.push(s.client((await holdOne(pen.endpoint)).client));
    assert.equal(a.open, 3);

    const t0 = performance.now();
    const exit = await pen.stop(signal, 2000);
    assert.equal(exit.code, 0, `exit status; stderr: ${pen.stderr()}`);
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(fs.existsSync(pidfile), false, 'the pidfile is removed');
    await Promise.all(held.map((c) => withTimeout(c.ended, 2000, 'the client to see the connection closed')));
    await waitFor(() => a.open === 0, 2000, 'the backend connections to be closed');
  }));
}

test('SIGHUP and SIGUSR1 leave pen running and serving', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
  const pen = s.pen(await penOn(ip(21), [], [a.spec]));
  process.kill(pen.pid, 'SIGHUP');
  process.kill(pen.pid, 'SIGUSR1');
  await sleep(300);
  assert.ok(pen.isRunning(), `pen still runs; stderr: ${pen.stderr()}`);
  assert.equal(await whoAnswers(pen.endpoint), 'A');
  const exit = await pen.stop('SIGTERM', 2000);
  assert.equal(exit.code, 0);
}));
