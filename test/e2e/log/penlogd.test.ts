// The remote log: pen -l HOST:PORT sends Pen's datagrams; penlogd merges them with the web
// server's log lines that penlog sends, so the merged log shows the real client addresses.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { converse, spawnTool, startKeepAlive, udpCollector, waitLines, type Tool } from '../../helpers/logs.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { freeUdpPort } from '../../helpers/udp.js';
import { sleep, waitFor } from '../../helpers/time.js';

const ip = loopback(93);
const CLIENT = ip(9);

async function get(to: { host: string; port: number }, url: string, from = CLIENT): Promise<void> {
  await converse(to, from, [{ send: `GET ${url} HTTP/1.1\r\nHost: t\r\n\r\n`, answered: (a) => a.includes(`ok ${url}`) }]);
}

/** penlogd -f on a free UDP port; resolves once it reported that it listens (-d). */
async function startPenlogd(args: string[]): Promise<{ tool: Tool; port: number }> {
  const port = await freeUdpPort('127.0.0.1');
  const tool = spawnTool('penlogd', ['-f', '-d', ...args, String(port)]);
  await waitFor(() => /listening on UDP port/.test(tool.stderr()) || tool.child.exitCode !== null, 5000,
    `penlogd to listen: ${tool.stderr()}`);
  assert.equal(tool.child.exitCode, null, tool.stderr());
  return { tool, port };
}

test('pen -l HOST:PORT sends "+ CLIENT SERVER REQUEST\\n" per request (Pen\'s format, for Pen\'s penlogd too)', () => scoped(async (s) => {
  const sink = await udpCollector('127.0.0.1');
  s.defer(() => sink.close());
  const web = s.backend(await startKeepAlive('web', ip(2)));
  const pen = s.pen(await penOn(ip(1), ['-l', `127.0.0.1:${sink.port}`], [web.spec]));
  await get(pen.endpoint, '/net/test');
  await converse(pen.endpoint, CLIENT, [{ send: Buffer.from('GET /\xe9 HTTP/1.1\r\n\r\n', 'latin1'), answered: (a) => a.includes('HTTP/1.1') }]);
  await waitFor(() => sink.datagrams.length >= 2, 3000, 'two datagrams');
  assert.equal(sink.datagrams[0]!.toString('latin1'), `+ ${CLIENT} ${ip(2)} GET /net/test HTTP/1.1\n`);
  assert.deepEqual([...sink.datagrams[1]!.subarray(-12)], [...Buffer.from('/\xe9 HTTP/1.1\n', 'latin1')], 'raw bytes, no substitution');
}));

test('round trip: pen -> penlogd <- penlog gives a merged log with the real client addresses', () => scoped(async (s) => {
  const dir = tempDir('penlogd');
  s.defer(() => removeDir(dir));
  const merged = path.join(dir, 'merged.log');
  const { tool: penlogd, port } = await startPenlogd(['-l', merged]);
  s.defer(() => penlogd.stop());
  // The web server pipes its access log into penlog, which sends it from the server's own
  // address (MY_IP): the address pen knows the server by.
  const penlog = spawnTool('penlog', ['127.0.0.1', String(port), ip(4)]);
  s.defer(() => penlog.stop('SIGKILL').catch(() => undefined));
  const web = s.backend(await startKeepAlive('web', ip(4), (line) => {
    setTimeout(() => penlog.child.stdin!.write(line), 50); // after pen's datagram, as in life
  }));
  const pen = s.pen(await penOn(ip(3), ['-l', `127.0.0.1:${port}`], [web.spec]));

  await get(pen.endpoint, '/index.html');
  await get(pen.endpoint, '/about.html', ip(10));
  await get(web.endpoint as { host: string; port: number }, '/direct', ip(11)); // not through pen: no pen entry, the line stays as it is
  const lines = await waitLines(merged, 3);
  const byUrl = new Map(lines.map((l) => [/"GET (\S+)/.exec(l)![1], l]));
  assert.match(byUrl.get('/index.html')!, new RegExp(`^${CLIENT.replace(/\./g, '\\.')} - - \\[.*\\] "GET /index\\.html HTTP/1\\.1" 200 \\d+$`));
  assert.match(byUrl.get('/about.html')!, new RegExp(`^${ip(10).replace(/\./g, '\\.')} - - `));
  assert.match(byUrl.get('/direct')!, new RegExp(`^${ip(11).replace(/\./g, '\\.')} - - `));
  assert.ok(web.peers.every((p) => p !== CLIENT), 'the web server itself only saw pen\'s address');

  // penlog ends at the end of its input, once everything is sent.
  penlog.child.stdin!.end();
  assert.equal(await penlog.exited, 0);
}));

test('penlogd takes a datagram exactly as Pen\'s pen sends it, and Pen\'s penlog\'s plain lines', () => scoped(async (s) => {
  const { tool: penlogd, port } = await startPenlogd([]);
  s.defer(() => penlogd.stop());
  const web = dgram.createSocket('udp4');
  await new Promise<void>((r) => web.bind(0, ip(5), () => r()));
  s.defer(() => web.close());
  const pen = dgram.createSocket('udp4');
  s.defer(() => pen.close());
  const send = (sock: dgram.Socket, text: string) => new Promise<void>((r) => sock.send(text, port, '127.0.0.1', () => r()));
  await send(pen, `+ 198.51.100.7 ${ip(5)} GET /pen.html HTTP/1.0\n`);
  await sleep(50);
  await send(web, '127.0.0.1 - - [25/Nov/2026:09:41:33 +0100] "GET /pen.html HTTP/1.0" 200 1234\n');
  await waitFor(() => penlogd.stdout().length > 0, 3000, 'penlogd output');
  await sleep(100);
  assert.equal(penlogd.stdout(), '198.51.100.7 - - [25/Nov/2026:09:41:33 +0100] "GET /pen.html HTTP/1.0" 200 1234\n');
}));

test('penlogd: HUP reopens -l FILE, TERM removes the pidfile; penlogd and penlog refuse bad usage', () => scoped(async (s) => {
  const dir = tempDir('penlogd');
  s.defer(() => removeDir(dir));
  const out = path.join(dir, 'm.log');
  const pidfile = path.join(dir, 'penlogd.pid');
  const { tool: penlogd, port } = await startPenlogd(['-b', '-l', out, '-p', pidfile]);
  s.defer(() => penlogd.stop().catch(() => undefined));
  assert.equal(fs.readFileSync(pidfile, 'utf8'), String(penlogd.child.pid));
  const sock = dgram.createSocket('udp4');
  s.defer(() => sock.close());
  const line = (n: number) => `10.0.0.1 - - [25/Nov/2026:09:41:33 +0000] "GET /${n} HTTP/1.1" 200 1\n`;
  const send = (text: string) => new Promise<void>((r) => sock.send(text, port, '127.0.0.1', () => r()));
  await send(line(1));
  await waitLines(out, 1);
  fs.renameSync(out, `${out}.1`);
  penlogd.child.kill('SIGHUP');
  await waitFor(() => fs.existsSync(out), 3000, 'the new file');
  await send(line(2));
  await waitLines(out, 1);
  assert.deepEqual(fs.readFileSync(`${out}.1`, 'utf8'), line(1));
  assert.deepEqual(fs.readFileSync(out, 'utf8'), line(2));
  assert.equal(await penlogd.stop(), 0);
  assert.equal(fs.existsSync(pidfile), false);

  for (const args of [[], ['0'], ['-q', '1000'], ['-n', 'x', '1000']]) {
    const t = spawnTool('penlogd', args);
    assert.equal(await t.exited, 2, `penlogd ${args.join(' ')}`);
    assert.match(t.stderr(), /^penlogd: .*\nUsage:\n {2}penlogd \[options\] port\n/);
  }
  const p = spawnTool('penlog', ['only-one-argument']);
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /^Usage: penlog server_ip server_port \[my_ip\]\n/);
  // A port in use: a message and exit 1.
  const holder = dgram.createSocket('udp4');
  await new Promise<void>((r) => holder.bind(0, '0.0.0.0', () => r()));
  s.defer(() => holder.close());
  const busy = spawnTool('penlogd', ['-f', String(holder.address().port)]);
  assert.equal(await busy.exited, 1);
  assert.match(busy.stderr(), /^penlogd: cannot listen on UDP port \d+ \(EADDRINUSE\)/);
}));

test('penlogd without -f becomes a daemon: the command returns 0 once it listens; TERM ends it', () => scoped(async (s) => {
  const dir = tempDir('penlogd');
  s.defer(() => removeDir(dir));
  const pidfile = path.join(dir, 'penlogd.pid');
  const out = path.join(dir, 'merged.log');
  s.defer(() => {
    try {
      process.kill(Number(fs.readFileSync(pidfile, 'utf8')), 'SIGKILL');
    } catch {
      // gone, or never started
    }
  });
  const port = await freeUdpPort('127.0.0.1');
  const starter = spawnTool('penlogd', ['-p', pidfile, '-l', out, String(port)],
    { ...process.env, PEN_SYSLOG_SOCKET: path.join(dir, 'no-syslog') });
  assert.equal(await starter.exited, 0, starter.stderr());
  assert.match(starter.stderr(), /^penlogd: cannot reach syslog/, 'says where its diagnostics went');
  const pid = Number(fs.readFileSync(pidfile, 'utf8'));
  assert.notEqual(pid, starter.child.pid);
  const sock = dgram.createSocket('udp4');
  s.defer(() => sock.close());
  await new Promise<void>((r) => sock.send('10.0.0.1 - - [25/Nov/2026:09:41:33 +0000] "GET /d HTTP/1.1" 200 1\n', port, '127.0.0.1', () => r()));
  await waitLines(out, 1);
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !fs.existsSync(pidfile), 3000, 'the daemon to exit and remove its pidfile');
}));
