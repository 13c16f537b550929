// What a newcomer and an operator meet in the first hour (issue 15): the listening line, the
// control port on loopback by default, files named on the command line opened before -u,
// start-up checks and messages that name the argument at fault.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { isRoot, runPenctl, waitControl } from '../../helpers/control.js';
import { freeEndpoint, freePort, loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn, runPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { makeCa, makeCert } from '../../helpers/tls.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(131);

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, host);
    sock.on('connect', () => { sock.destroy(); resolve(false); });
    sock.on('error', () => resolve(true));
  });
}

test('foreground: one line says where pen listens, which servers and which algorithm', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-r'], [a.spec]));
  await waitFor(() => /listening on/.test(pen.stderr()), 3000, 'the listening line');
  assert.match(pen.stderr(), new RegExp(`pen \\d+\\.\\d+\\.\\d+ listening on ${ip(1).replace(/\./g, '\\.')}:${pen.endpoint.port} ` +
    `\\(TCP\\), 1 server: 0 ${a.spec.replace(/\./g, '\\.')}; roundrobin`));
}));

test('-F: settings in the file do not echo their values to stdout', () => scoped(async (s) => {
  const dir = tempDir('fc-F');
  s.defer(() => removeDir(dir));
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const cfg = path.join(dir, 'pen.cfg');
  fs.writeFileSync(cfg, 'blacklist 12\ntimeout 4\nidle_timeout 60\nroundrobin\n');
  const pen = s.pen(await penOn(ip(1), ['-F', cfg], [a.spec]));
  assert.equal(await whoAnswers(pen.endpoint), 'A');
  assert.equal(pen.stdout(), '');
}));

test('-C PORT without a host listens on loopback only', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const cport = await freePort('127.0.0.1');
  const pen = s.pen(await penOn(ip(1), [...(isRoot() ? ['-u', 'root'] : []), '-C', String(cport)], [a.spec]));
  await waitControl(pen.pid, { host: '127.0.0.1', port: cport });
  const r = await runPenctl([`127.0.0.1:${cport}`, 'servers']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^0 addr 127\.0\.131\.2 /);
  assert.equal(await refused(ip(1), cport), true, 'not on another address (Pen: 0.0.0.0)');
  assert.doesNotMatch(pen.stderr(), /reachable from other hosts/);
}));

test('-C 0.0.0.0:PORT with an empty control_acl is warned about at start-up', { skip: !isRoot() && 'needs root for -u' }, () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const cport = await freePort('0.0.0.0');
  const pen = s.pen(await penOn(ip(1), ['-u', 'root', '-C', `0.0.0.0:${cport}`], [a.spec]));
  await waitFor(() => /listening on/.test(pen.stderr()), 3000, 'the listening line');
  assert.match(pen.stderr(), /warning: the control port 0\.0\.0\.0:\d+ is reachable from other hosts and control_acl 0 is empty/);
}));

test('-u nobody: -p and -l in a directory only root may write are opened before the switch', { skip: !isRoot() && 'needs root' }, () => scoped(async (s) => {
  const dir = tempDir('fc-u'); // mode 0700, owned by root: nobody cannot write (or enter) it
  s.defer(() => removeDir(dir));
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const pidfile = path.join(dir, 'pen.pid');
  const log = path.join(dir, 'pen.log');
  const cport = await freePort('127.0.0.1');
  const pen = s.pen(await penOn(ip(1), ['-u', 'nobody', '-C', String(cport), '-p', pidfile, '-l', log], [a.spec]));
  assert.equal(fs.readFileSync(pidfile, 'utf8'), String(pen.pid));
  assert.equal(await whoAnswers(pen.endpoint), 'A');
  await waitFor(() => fs.readFileSync(log, 'utf8').includes(ip(2)), 3000, 'a request log line');
  // Later writes happen with nobody's rights, and the message says so.
  await waitControl(pen.pid, { host: '127.0.0.1', port: cport });
  const w = await runPenctl([`127.0.0.1:${cport}`, 'write', path.join(dir, 'pen.cfg')]);
  assert.equal(w.code, 1);
  assert.match(w.stdout, /can't write '.*pen\.cfg' \(EACCES\) \(pen runs as user 'nobody' now, -u/);
}));

test('-w FILE in a directory that does not exist is refused at start-up', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const e = await freeEndpoint(ip(1));
  const r = await runPen(['-f', '-w', '/nonexistent-pen-dir/stats.html', `${e.host}:${e.port}`, a.spec]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^pen: -w \/nonexistent-pen-dir\/stats\.html: the directory \/nonexistent-pen-dir cannot be used \(ENOENT\)$/m);
}));

test('messages name the argument at fault', async () => {
  const name = await runPen(['-f', `${ip(1)}:0`, `${ip(2)}:80`, 'no-such-backend.invalid:8080']);
  assert.equal(name.code, 1);
  assert.match(name.stderr, /^pen: unknown or invalid address \[no-such-backend\.invalid\]: the host name could not be resolved, named by backend no-such-backend\.invalid:8080 \(server 1\)$/m);
  const noPort = await runPen(['-f', '127.0.0.1', `${ip(2)}:80`]);
  assert.equal(noPort.code, 2);
  assert.match(noPort.stderr, /^pen: listen address "127\.0\.0\.1" has no port: LISTEN is PORT, HOST:PORT or \[IPV6\]:PORT, e\.g\. 127\.0\.0\.1:8080$/m);
  const ca = makeCa('fc'); // ca.crt holds only the certificate: no key in the -E file
  try {
    const noKey = await runPen(['-f', '-E', ca.cert, `${ip(1)}:0`, `${ip(2)}:80`]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /^pen: TLS: no private key in the certificate file '.*\.crt': give the key file with -K KEYFILE/m);
  } finally {
    removeDir(ca.dir);
  }
});

test('-u nobody: a TLS key only root may read is not reloaded on HUP, and the message says why', { skip: !isRoot() && 'needs root' }, () => scoped(async (s) => {
  const ca = makeCa('fc-hup'); // a 0700 directory owned by root: nobody cannot read in it
  s.defer(() => removeDir(ca.dir));
  const site = makeCert(ca, 'site.test');
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-u', 'nobody', '-E', site.cert, '-K', site.key], [a.spec]));
  fs.writeFileSync(site.cert, fs.readFileSync(site.cert)); // "renewed": HUP looks at it again
  process.kill(pen.pid, 'SIGHUP');
  await waitFor(() => /not refreshed/.test(pen.stderr()), 3000, `the reload message: ${pen.stderr()}`);
  assert.match(pen.stderr(), /SIGHUP: names, certificates and GeoIP database not refreshed \(the running configuration stays\): .*\(pen runs as user 'nobody' now, -u: .*restart pen to load it\)/);
  assert.ok(pen.isRunning(), 'pen goes on with the certificate it has');
}));
