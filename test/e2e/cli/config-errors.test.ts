// A configuration the operator did not write never runs (issue 12, defect 3): an unknown or
// refused command in -O stops start-up naming it, a bad line in the -F file stops start-up
// naming file:line, and a HUP whose file has a bad line keeps the running configuration and
// logs why. Block 241 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { command, penWithControl } from '../../helpers/control.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { runPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(241);

test('-O with an unknown or refused command: start-up stops, naming the command', async () => {
  const unknown = await runPen(['-f', '-O', 'blacklist 5', '-O', 'frobnicate now', `${ip(1)}:0`, `${ip(2)}:80`]);
  assert.equal(unknown.code, 2, `exit status (stderr: ${unknown.stderr})`);
  assert.match(unknown.stderr, /-O "frobnicate now": do_cmd: ignoring command starting with 'frobnicate'/);
  const refused = await runPen(['-f', '-O', 'timeout 0', `${ip(1)}:0`, `${ip(2)}:80`]);
  assert.equal(refused.code, 2, `exit status (stderr: ${refused.stderr})`);
  assert.match(refused.stderr, /-O "timeout 0": timeout: N must be a whole number/);
});

test('-F with a bad line: start-up stops, naming file:line', () => scoped(async (s) => {
  const dir = tempDir('cfgerr');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'pen.cfg');
  fs.writeFileSync(file, 'blacklist 5\n# a comment\nfrobnicate\ntracking 0\n');
  const r = await runPen(['-f', '-F', file, `${ip(1)}:0`, `${ip(2)}:80`]);
  assert.equal(r.code, 2, `exit status (stderr: ${r.stderr})`);
  assert.ok(r.stderr.includes(`${file}:3: do_cmd: ignoring command starting with 'frobnicate'`), r.stderr);
}));

test('HUP with a bad line in the -F file keeps the running configuration and logs why', () => scoped(async (s) => {
  const dir = tempDir('cfghup');
  s.defer(() => removeDir(dir));
  const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
  const file = path.join(dir, 'pen.cfg');
  fs.writeFileSync(file, 'blacklist 10\ntracking 7\n');
  const pen = s.pen(await penWithControl(ip(11), ['-F', file], [a.spec]));
  assert.equal(await command(pen.control, 'blacklist'), '10\n');

  fs.writeFileSync(file, 'blacklist 20\nserver 0 weight nope\ntracking 8\n');
  process.kill(pen.pid, 'SIGHUP');
  await waitFor(() => pen.stderr().includes('SIGHUP'), 3000, 'the reload to be logged');
  assert.ok(pen.stderr().includes(`the running one is kept: ${file}:2: server`), pen.stderr());
  assert.equal(await command(pen.control, 'blacklist'), '10\n', 'no line of the bad file applied');
  assert.equal(await command(pen.control, 'tracking'), '7\n');

  fs.writeFileSync(file, 'blacklist 30\ntracking 7\n');
  process.kill(pen.pid, 'SIGHUP');
  await waitFor(async () => (await command(pen.control, 'blacklist')) === '30\n', 3000, 'the corrected file to apply');
  assert.ok(pen.isRunning());
}));
