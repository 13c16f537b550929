// Debug output: -d levels, the level-3 chunk dumps (hex, or text with -a) written by the data
// plane, and syslog for a daemon (through a unix datagram socket; PEN_SYSLOG_SOCKET points
// it at a socket this test listens on, with python3, since node cannot bind one).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startEcho, startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { converse } from '../../helpers/logs.js';
import { freeEndpoint, loopback, removeDir, tempDir } from '../../helpers/net.js';
import { killDaemon, penOn, pidAlive, runPen } from '../../helpers/pen.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(96);
const CLIENT = ip(9);
const hasPython = spawnSync('python3', ['-c', 'import socket'], { stdio: 'ignore' }).status === 0;

test('-ddd dumps every chunk relayed, in hex; with -a as text', () => scoped(async (s) => {
  const echo = s.backend(await startEcho('echo', { host: ip(2) }));
  const hex = s.pen(await penOn(ip(1), ['-d', '-d', '-d'], [echo.spec]));
  await converse(hex.endpoint, CLIENT, [{ send: 'hello\x01\r\n', answered: (a) => a.length >= 8 }]);
  await waitFor(() => (hex.stderr().match(/8: 68 65 6c 6c 6f 01 0d 0a \n/g) ?? []).length >= 2, 3000,
    `both directions dumped in hex: ${JSON.stringify(hex.stderr().slice(-500))}`);

  const text = s.pen(await penOn(ip(3), ['-ddd', '-a'], [echo.spec]));
  await converse(text.endpoint, CLIENT, [{ send: 'hello\x01\r\n', answered: (a) => a.length >= 8 }]);
  await waitFor(() => (text.stderr().match(/8: hello\.\r\n\n/g) ?? []).length >= 2, 3000,
    `both directions dumped as text: ${JSON.stringify(text.stderr().slice(-500))}`);
}));

test('debug levels: nothing at 0, connection closes at 2', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(5) }));
  const quiet = s.pen(await penOn(ip(4), [], [a.spec]));
  const chatty = s.pen(await penOn(ip(6), ['-dd'], [a.spec]));
  assert.equal(await whoAnswers(quiet.endpoint), 'A');
  assert.equal(await whoAnswers(chatty.endpoint), 'A');
  await waitFor(() => / closed \(/.test(chatty.stderr()), 3000, 'a level-2 message');
  assert.match(quiet.stderr(), /^\S+ \S+: pen \S+ listening on [^\n]*\n$/, 'level 0: only the listening line');
  assert.doesNotMatch(chatty.stderr(), /^\d+: [0-9a-f]{2} /m, 'no dumps below level 3');
}));

/** A unix datagram socket at `file` whose messages are collected (python3). */
function syslogSink(s: Scope, file: string): { messages: () => string[] } {
  const py = spawn('python3', ['-u', '-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready")
while True:
    print(s.recv(65536).decode("latin1").replace("\\n", "\\\\n"))
`, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  s.defer(() => py.kill('SIGKILL'));
  let out = '';
  py.stdout.setEncoding('latin1').on('data', (d: string) => { out += d; });
  return { messages: () => out.split('\n').filter((l) => l && l !== 'ready') };
}

test('a daemon logs to syslog (ident pen, facility user), USR1 statistics included', { skip: !hasPython && 'python3 not installed' }, () => scoped(async (s) => {
  const dir = tempDir('syslog');
  s.defer(() => removeDir(dir));
  const sock = path.join(dir, 'log');
  const pidfile = path.join(dir, 'pen.pid');
  s.defer(() => killDaemon(pidfile));
  const sink = syslogSink(s, sock);
  await waitFor(() => fs.existsSync(sock), 5000, 'the syslog socket');
  const a = s.backend(await startHttpNamed('A', { host: ip(8) }));
  const e = await freeEndpoint(ip(7));
  process.env.PEN_SYSLOG_SOCKET = sock;
  let res;
  try {
    res = await runPen(['-d', '-p', pidfile, `${e.host}:${e.port}`, a.spec]);
  } finally {
    delete process.env.PEN_SYSLOG_SOCKET;
  }
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /^pen: running in the background, pid \d+ \(stop it with: kill \d+\)\n$/);
  const pid = Number(fs.readFileSync(pidfile, 'utf8'));
  assert.equal(await whoAnswers(e), 'A');
  await waitFor(() => sink.messages().some((m) => / listening on /.test(m)), 3000, `the start-up message: ${sink.messages()}`);
  assert.match(sink.messages().find((m) => / listening on /.test(m))!,
    new RegExp(`^<14>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d pen\\[${pid}\\]: pen \\S+ listening on `));
  process.kill(pid, 'SIGUSR1');
  await waitFor(() => sink.messages().some((m) => /Max number of connections/.test(m)), 3000, 'the statistics');
  assert.ok(sink.messages().some((m) => new RegExp(`^<14>.* pen\\[${pid}\\]: Server 0 status:\\\\naddress ${ip(8).replace(/\./g, '\\.')}`).test(m)),
    sink.messages().join('\n'));
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !pidAlive(pid), 3000, 'the daemon to stop');
}));

test('a daemon without syslog says so when it starts', () => scoped(async (s) => {
  const dir = tempDir('syslog');
  s.defer(() => removeDir(dir));
  const pidfile = path.join(dir, 'pen.pid');
  s.defer(() => killDaemon(pidfile));
  const a = s.backend(await startHttpNamed('A', { host: ip(11) }));
  const e = await freeEndpoint(ip(10));
  process.env.PEN_SYSLOG_SOCKET = path.join(dir, 'nobody-listens');
  let res;
  try {
    res = await runPen(['-p', pidfile, `${e.host}:${e.port}`, a.spec]);
  } finally {
    delete process.env.PEN_SYSLOG_SOCKET;
  }
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /^pen: cannot reach syslog \(.*nobody-listens.*\): diagnostics are discarded\npen: running in the background, pid \d+ /);
  assert.equal(await whoAnswers(e), 'A');
}));
