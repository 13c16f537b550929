// Daemon mode (no -f): the command returns 0 once the detached pen serves; the -p pidfile holds
// the daemon's pid; a start-up failure in the daemon is reported by the command's exit status.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { freeEndpoint, loopback, removeDir, tempDir } from '../../helpers/net.js';
import { isListening, killDaemon, pidAlive, pidsWithArg, runPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(63);

test('daemon: returns 0 after readiness; the daemon serves; the pidfile has its pid; TERM stops it', () => scoped(async (s) => {
  const dir = tempDir('daemon');
  const pidfile = path.join(dir, 'pen.pid');
  // Whatever happens, kill the daemon by pid: from the pidfile, else by its unique argument.
  s.defer(() => killDaemon(pidfile));
  s.defer(() => removeDir(dir));
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const e = await freeEndpoint(ip(1));

  const t0 = performance.now();
  const res = await runPen(['-p', pidfile, `${e.host}:${e.port}`, a.spec], { timeoutMs: 10000 });
  assert.equal(res.code, 0, `the command succeeds; stderr: ${res.stderr}`);
  assert.ok(performance.now() - t0 < 10000);
  // Ready when the command returned: the daemon answers right away.
  assert.equal(await whoAnswers(e), 'A');

  const pid = Number(fs.readFileSync(pidfile, 'utf8'));
  assert.ok(Number.isInteger(pid) && pid > 1, `pidfile content ${pid}`);
  assert.match(res.stderr, new RegExp(`^pen: running in the background, pid ${pid} \\(stop it with: kill ${pid}\\)$`, 'm'));
  assert.ok(pidAlive(pid), 'the daemon runs');
  assert.equal(isListening(pid, e) ?? true, true, 'the pid in the file is the one listening');

  process.kill(pid, 'SIGTERM');
  await waitFor(() => !pidAlive(pid), 3000, 'the daemon to exit after SIGTERM');
  assert.equal(fs.existsSync(pidfile), false, 'the daemon removed its pidfile');
}));

test('daemon: a start-up failure (address in use) makes the command fail, naming it', () => scoped(async (s) => {
  const dir = tempDir('daemonf');
  s.defer(() => removeDir(dir));
  const pidfile = path.join(dir, 'pen.pid');
  s.defer(() => {
    for (const p of pidsWithArg(pidfile)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  const taken = s.backend(await startHttpNamed('taken', { host: ip(12) }));
  const res = await runPen(['-p', pidfile, taken.spec, `${ip(13)}:80`], { timeoutMs: 10000 });
  assert.notEqual(res.code, 0, 'the command fails');
  assert.match(res.stderr, new RegExp(taken.spec.replace(/\./g, '\\.') + '|in use', 'i'));
  assert.equal(fs.existsSync(pidfile), false);
  // The daemon child reported its error and is exiting: it must be gone shortly.
  await waitFor(() => pidsWithArg(pidfile).length === 0, 3000, 'no daemon left running');
}));
