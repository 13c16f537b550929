// examples/: the -F file loads without an error and means what its comments say; the systemd
// unit's command line parses and reload is HUP; logrotate rotates the log the file names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parseArgv } from '../../lib/config/argv.js';
import { loadConfigFile } from '../../lib/control/reload.js';
import { repoRoot } from '../helpers/readme.js';
import { makeContext } from './control-fixture.js';

const example = (name: string): string => readFileSync(join(repoRoot, 'examples', name), 'utf8');

test('examples/pen.cfg loads without errors', async () => {
  const ctx = makeContext();
  ctx.files.set('/etc/pen/pen.cfg', example('pen.cfg'));
  const r = await loadConfigFile(ctx, '/etc/pen/pen.cfg', ctx.settings(), { startup: true });
  assert.deepEqual(r.errors, []);
  assert.equal(ctx.output.join(''), '');
  const s = ctx.settings();
  assert.equal(s.listen, '80');
  assert.deepEqual(s.servers.map((v) => `${v.host}:${v.port}/${v.maxc}/${v.weight}`),
    ['10.0.0.11:8080/100/0', '10.0.0.12:8080/100/0', '10.0.0.13:8080/100/2']);
  assert.equal(s.roundrobin, true);
  assert.deepEqual([s.blacklist, s.timeout, s.idleTimeout, s.connMax], [30, 3, 600, 2000]);
  assert.deepEqual([s.clientAcl, s.controlAcl], [1, 2]);
  assert.equal(s.acls[1]!.length, 3);
  assert.equal(s.log, '/var/log/pen/pen.log');
});

test('examples/pen.service: pen in the foreground, reload = HUP, the pid file it writes', () => {
  const unit = example('pen.service');
  const exec = /^ExecStart=(\S+) (.*)$/m.exec(unit);
  assert.ok(exec);
  assert.match(exec[1]!, /\/pen$/);
  const argv = exec[2]!.split(/ +/);
  const parsed = parseArgv(argv);
  assert.equal(parsed.action, 'run');
  if (parsed.action !== 'run') return;
  assert.equal(parsed.settings.foreground, true, '-f: systemd supervises the process');
  assert.equal(parsed.settings.configFile, '/etc/pen/pen.cfg');
  assert.equal(parsed.settings.control, '10080', 'control port on loopback');
  assert.match(unit, /^PIDFile=(.*)$/m);
  assert.equal(/^PIDFile=(.*)$/m.exec(unit)![1], parsed.settings.pidfile);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
});

test('examples/pen.logrotate rotates the log pen.cfg names, for the -u user, then reloads', () => {
  const rot = example('pen.logrotate');
  const log = /^log (\S+)$/m.exec(example('pen.cfg'))![1]!;
  assert.ok(rot.includes(`${log} {`));
  const user = /-u (\S+)/.exec(example('pen.service'))![1]!;
  assert.match(rot, new RegExp(`^\\s+create 0640 ${user} `, 'm'));
  assert.match(rot, /postrotate\n\s+systemctl reload pen/);
});
