// Bad input around the logs: a log path that cannot be opened (at start-up, at run time, on a
// HUP reopen), a full disk, an unknown penlogd host, and garbage sent to penlogd. Each one
// gets a clear message, and the balancer (or penlogd) keeps serving.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { command, penWithControl } from '../../helpers/control.js';
import { converse, fileLines, spawnTool, startKeepAlive, waitLines } from '../../helpers/logs.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn, runPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { freeUdpPort } from '../../helpers/udp.js';
import { sleep, waitFor } from '../../helpers/time.js';

const ip = loopback(94);
const CLIENT = ip(9);

async function get(to: { host: string; port: number }, url: string): Promise<void> {
  await converse(to, CLIENT, [{ send: `GET ${url} HTTP/1.1\r\nHost: t\r\n\r\n`, answered: (a) => a.includes(`ok ${url}`) }]);
}

test('start-up: a log that cannot be opened, or an unknown penlogd host, stops pen with a message', async () => {
  const bad = await runPen(['-f', '-l', '/nonexistent-dir/x.log', `${ip(1)}:0`, `${ip(2)}:80`]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /^pen: cannot open the request log \/nonexistent-dir\/x\.log \(ENOENT/m);
  const host = await runPen(['-f', '-l', 'no-such-host.invalid:514', `${ip(1)}:0`, `${ip(2)}:80`]);
  assert.equal(host.code, 1, host.stderr);
  assert.match(host.stderr, /^pen: unknown or invalid address \[no-such-host\.invalid\]/m);
});

test('a full disk (/dev/full): pen keeps serving, says so once, and counts the lost lines', { skip: !fs.existsSync('/dev/full') }, () => scoped(async (s) => {
  const dir = tempDir('log-bad');
  s.defer(() => removeDir(dir));
  const stats = path.join(dir, 'stats.html');
  const web = s.backend(await startKeepAlive('web', ip(4)));
  const pen = s.pen(await penOn(ip(3), ['-l', '/dev/full', '-w', stats], [web.spec]));
  for (const url of ['/1', '/2', '/3']) await get(pen.endpoint, url);
  await waitFor(() => /could not be written/.test(pen.stderr()), 3000, 'the report');
  assert.equal(pen.stderr().match(/could not be written/g)!.length, 1, pen.stderr());
  assert.match(pen.stderr(), /request log \/dev\/full: [123] line\(s\) could not be written \(ENOSPC.*pen keeps serving/);
  // Records reach the writer in batches (up to 20 ms): ask for the page until the third is in.
  const counts = /<h2>Access log<\/h2>\/dev\/full: 0 written, 0 dropped, (\d+) failed<p>/;
  let page = '';
  await waitFor(async () => {
    fs.rmSync(stats, { force: true });
    process.kill(pen.pid, 'SIGUSR1');
    await waitFor(() => fs.existsSync(stats) && fs.readFileSync(stats, 'utf8').includes('</html>'), 3000, 'the stats page');
    page = fs.readFileSync(stats, 'utf8');
    return page.match(counts)?.[1] === '3';
  }, 5000, 'the stats page to count 3 failed lines');
  assert.match(page, counts);
  assert.ok(pen.isRunning());
}));

test('run time: `log` to a path that cannot be opened is refused and the old log stays', () => scoped(async (s) => {
  const dir = tempDir('log-bad');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'a.log');
  const web = s.backend(await startKeepAlive('web', ip(6)));
  const pen = s.pen(await penWithControl(ip(5), ['-l', file], [web.spec]));
  const reply = await command(pen.control, `log ${dir}/missing/b.log`);
  assert.match(reply, /^pen: log: cannot open the request log .*missing\/b\.log \(ENOENT/);
  assert.equal(await command(pen.control, 'log'), `${file}\n`);
  await get(pen.endpoint, '/still');
  assert.match((await waitLines(file, 1))[0]!, / GET \/still HTTP\/1\.1$/);
}));

test('HUP when the log\'s directory is gone: a message, the old file kept, pen serving', () => scoped(async (s) => {
  const dir = tempDir('log-bad');
  s.defer(() => removeDir(dir));
  const sub = path.join(dir, 'logs');
  fs.mkdirSync(sub);
  const file = path.join(sub, 'a.log');
  const web = s.backend(await startKeepAlive('web', ip(8)));
  const pen = s.pen(await penOn(ip(7), ['-l', file], [web.spec]));
  await get(pen.endpoint, '/before');
  await waitLines(file, 1);
  fs.rmSync(sub, { recursive: true });
  process.kill(pen.pid, 'SIGHUP');
  await waitFor(() => /cannot reopen/.test(pen.stderr()), 3000, 'the message');
  assert.match(pen.stderr(), /request log .*a\.log: cannot reopen \(ENOENT.*still writing to the file opened before/);
  await get(pen.endpoint, '/after');
  assert.ok(pen.isRunning());
  assert.deepEqual(fileLines(file), [], 'nothing was created in a directory that is gone');
}));

test('penlogd: garbage datagrams are discarded with a note, and merging goes on', () => scoped(async (s) => {
  const port = await freeUdpPort('127.0.0.1');
  const penlogd = spawnTool('penlogd', ['-f', '-d', String(port)]);
  s.defer(() => penlogd.stop().catch(() => undefined));
  await waitFor(() => /listening/.test(penlogd.stderr()), 5000, 'penlogd');
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, ip(10), () => r()));
  s.defer(() => sock.close());
  const send = (b: Buffer | string) => new Promise<void>((r) => sock.send(b, port, '127.0.0.1', () => r()));
  for (const junk of [
    'no quotes here\n', '+ only-two fields\n', '+ 192.0.2.1 not.an.address GET / HTTP/1.1\n', '+\n', '\n',
    Buffer.from([0, 1, 2, 255, 254, 10]), Buffer.alloc(60_000, 0x41), '"unterminated\n',
  ]) await send(junk);
  await send(`+ 192.0.2.77 ${ip(10)} GET /ok HTTP/1.1\n`);
  await sleep(50);
  await send('127.0.0.1 - - [25/Nov/2026:09:41:33 +0000] "GET /ok HTTP/1.1" 200 2\n');
  await waitFor(() => penlogd.stdout().includes('/ok'), 3000, 'the merged line');
  assert.equal(penlogd.stdout(), '192.0.2.77 - - [25/Nov/2026:09:41:33 +0000] "GET /ok HTTP/1.1" 200 2\n');
  assert.equal(penlogd.child.exitCode, null, 'still running');
  assert.match(penlogd.stderr(), /bogus web line no quotes here/);
  assert.match(penlogd.stderr(), /discarding bogus pen line \+ only-two fields/);
  assert.match(penlogd.stderr(), /bogus address not\.an\.address/);
}));
