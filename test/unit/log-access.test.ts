// The request log's formats (Pen's file line and penlogd datagram, field by field), its
// destinations, and the writer: batches, HUP reopen, a full disk, a failed open, the records
// kept before the log is open, and the UDP sink.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { encodeAccessRecords, type AccessEvent } from '../../lib/engine/events.js';
import { AccessLog, DATAGRAM_MAX, fileLines, parseLogDestination, penlogdDatagrams } from '../../lib/log/access.js';
import type { Logger } from '../../lib/log/debug.js';

const ev = (request: string, extra: Partial<AccessEvent> = {}): AccessEvent =>
  ({ time: 1795599804, client: '127.0.0.1', server: '127.0.0.2', request, ...extra });
/** A batch as the data plane packs it. */
const batch = (...events: AccessEvent[]): Buffer => encodeAccessRecords(events);
const fileLine = (e: AccessEvent): string => fileLines(batch(e)).toString('latin1');
const penlogdDatagram = (e: AccessEvent): Buffer => penlogdDatagrams(batch(e))[0]!;

function memoryLogger(level = 0): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { level, lines, log(l, m) { if (l <= this.level) lines.push(m); } };
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pen-log-unit-'));
}

test('file line: client, time, server, request, single spaces, LF', () => {
  const line = fileLine(ev('GET /some/path?x=1 HTTP/1.1'));
  assert.equal(line, '127.0.0.1 1795599804 127.0.0.2 GET /some/path?x=1 HTTP/1.1\n');
  const [client, time, server, ...rest] = line.slice(0, -1).split(' ');
  assert.deepEqual([client, time, server, rest.join(' ')], ['127.0.0.1', '1795599804', '127.0.0.2', 'GET /some/path?x=1 HTTP/1.1']);
});

test('file line: bytes >= 0x80 and control bytes become "." (issue 12, defect 7: no terminal escapes)', () => {
  assert.equal(fileLine(ev('GET /\xe9\xff HTTP/1.0')), '127.0.0.1 1795599804 127.0.0.2 GET /.. HTTP/1.0\n');
  assert.equal(fileLine(ev('body\x01\tdata')), '127.0.0.1 1795599804 127.0.0.2 body..data\n');
  assert.equal(fileLine(ev('GET /\x1b[2J\x1b]0;owned\x07\x7f HTTP/1.1')),
    '127.0.0.1 1795599804 127.0.0.2 GET /.[2J.]0;owned.. HTTP/1.1\n');
  assert.equal(fileLine(ev('')), '127.0.0.1 1795599804 127.0.0.2 \n', 'an empty first line still gives a line');
});

test('file line: IPv6 and dual-stack addresses without brackets, unix paths as they are', () => {
  assert.equal(fileLine(ev('x', { client: '::ffff:10.1.2.3', server: '::1' })), '::ffff:10.1.2.3 1795599804 ::1 x\n');
  assert.equal(fileLine(ev('x', { client: '', server: '/run/app.sock' })), ' 1795599804 /run/app.sock x\n');
});

test('penlogd datagram: "+ CLIENT SERVER TEXT\\n", raw bytes, at most 1024 bytes', () => {
  assert.equal(penlogdDatagram(ev('GET /net/test HTTP/1.1')).toString('latin1'), '+ 127.0.0.1 127.0.0.2 GET /net/test HTTP/1.1\n');
  assert.deepEqual([...penlogdDatagram(ev('\xe9')).subarray(-2)], [0xe9, 0x0a], 'no substitution');
  const long = penlogdDatagram(ev('x'.repeat(100), { client: '/'.repeat(107), server: '/'.repeat(107) }));
  assert.ok(long.length <= DATAGRAM_MAX, 'the largest record still fits Pen\'s 1024 bytes');
  assert.equal(long.toString('latin1'), `+ ${'/'.repeat(107)} ${'/'.repeat(107)} ${'x'.repeat(100)}\n`);
});

test('destinations: files, HOST:PORT (last colon, brackets), bad ports refused', () => {
  assert.deepEqual(parseLogDestination('/var/log/pen.log'), { kind: 'file', path: '/var/log/pen.log' });
  assert.deepEqual(parseLogDestination('access.log'), { kind: 'file', path: 'access.log' });
  assert.deepEqual(parseLogDestination('/odd:name'), { kind: 'file', path: '/odd:name' });
  assert.deepEqual(parseLogDestination('loghost:10000'), { kind: 'udp', host: 'loghost', port: 10000 });
  assert.deepEqual(parseLogDestination('::1:10000'), { kind: 'udp', host: '::1', port: 10000 });
  assert.deepEqual(parseLogDestination('[::1]:10000'), { kind: 'udp', host: '::1', port: 10000 });
  assert.throws(() => parseLogDestination('loghost:99999'), /log destination "loghost:99999" has port 99999 out of range/);
  assert.throws(() => parseLogDestination(':10000'), /has no host/);
  assert.throws(() => parseLogDestination('logs:x y'), /bad port/);
});

test('one write per batch, flushed at once; counters', async () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'a.log');
    const log = new AccessLog(memoryLogger());
    await log.open(file);
    log.write(batch(ev('GET /1 HTTP/1.1'), ev('GET /2 HTTP/1.1')));
    assert.equal(fs.readFileSync(file, 'latin1'),
      '127.0.0.1 1795599804 127.0.0.2 GET /1 HTTP/1.1\n127.0.0.1 1795599804 127.0.0.2 GET /2 HTTP/1.1\n',
      'on disk right away, not held in a buffer');
    assert.deepEqual(log.stats(), { destination: file, written: 2, dropped: 0, failed: 0 });
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('reopen after a rename (log rotation): old lines stay in the old file, new ones go to the new', async () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'a.log');
    const logger = memoryLogger();
    const log = new AccessLog(logger);
    await log.open(file);
    log.write(batch(ev('before')));
    fs.renameSync(file, `${file}.1`);
    log.write(batch(ev('after rename, before HUP')));
    log.reopen();
    log.write(batch(ev('after HUP')));
    assert.match(fs.readFileSync(`${file}.1`, 'latin1'), /before\n.*after rename, before HUP\n$/);
    assert.equal(fs.readFileSync(file, 'latin1'), '127.0.0.1 1795599804 127.0.0.2 after HUP\n');
    // The directory vanishes: the reopen fails, pen says so and keeps the file it had.
    fs.rmSync(dir, { recursive: true });
    log.reopen();
    assert.match(logger.lines.join('\n'), /cannot reopen \(ENOENT.*still writing to the file opened before/);
    log.write(batch(ev('still counted')));
    assert.equal(log.stats().written, 4);
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk (/dev/full): lines are counted as failed and reported once, nothing throws', { skip: !fs.existsSync('/dev/full') }, async () => {
  const logger = memoryLogger();
  const log = new AccessLog(logger);
  await log.open('/dev/full');
  log.write(batch(ev('a'), ev('b')));
  log.write(batch(ev('c')));
  assert.deepEqual(log.stats(), { destination: '/dev/full', written: 0, dropped: 0, failed: 3 });
  assert.equal(logger.lines.length, 1, 'reported once, not per line');
  assert.match(logger.lines[0]!, /request log \/dev\/full: 2 line\(s\) could not be written \(ENOSPC.*pen keeps serving/);
  log.close();
});

test('a log that cannot be opened is refused and the previous one stays', async () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'a.log');
    const log = new AccessLog(memoryLogger());
    await log.open(file);
    await assert.rejects(log.open(path.join(dir, 'no/such/dir/x.log')),
      (e: Error & { code?: string }) => e.code === 'PEN_ERR_CONFIG' && /cannot open the request log .*x\.log \(ENOENT/.test(e.message));
    assert.equal(log.destination, file);
    log.write(batch(ev('kept')));
    assert.match(fs.readFileSync(file, 'latin1'), /kept\n$/);
    await log.open(null);
    assert.equal(log.destination, null);
    log.write(batch(ev('nowhere')));
    assert.equal(log.stats().written, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('records that arrive before the log is open are kept for it', async () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'a.log');
    const log = new AccessLog(memoryLogger());
    log.expect(file);
    log.write(batch(ev('early')));
    await log.open(file);
    assert.equal(fs.readFileSync(file, 'latin1'), '127.0.0.1 1795599804 127.0.0.2 early\n');
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('records dropped by the data plane are counted and reported', () => {
  const logger = memoryLogger();
  const log = new AccessLog(logger);
  log.noteDropped(7);
  assert.equal(log.stats().dropped, 7);
  assert.match(logger.lines[0]!, /7 record\(s\) were dropped \(the log writer fell behind\)/);
});

test('debug level 3 echoes each line through the logger', async () => {
  const dir = tmp();
  try {
    const logger = memoryLogger(3);
    const log = new AccessLog(logger);
    await log.open(path.join(dir, 'a.log'));
    log.write(batch(ev('GET / HTTP/1.1')));
    assert.deepEqual(logger.lines, ['127.0.0.1 1795599804 127.0.0.2 GET / HTTP/1.1']);
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('HOST:PORT: one datagram per record in Pen\'s format', async () => {
  const server = dgram.createSocket('udp4');
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const got: string[] = [];
  server.on('message', (m) => got.push(m.toString('latin1')));
  try {
    const log = new AccessLog(memoryLogger());
    await log.open(`127.0.0.1:${server.address().port}`);
    log.write(batch(ev('GET /a HTTP/1.1'), ev('GET /\xe9 HTTP/1.1')));
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ['+ 127.0.0.1 127.0.0.2 GET /a HTTP/1.1\n', '+ 127.0.0.1 127.0.0.2 GET /\xe9 HTTP/1.1\n']);
    assert.equal(log.stats().written, 2);
    log.close();
    await assert.rejects(new AccessLog(memoryLogger()).open('no-such-host.invalid:514'), /no-such-host\.invalid/);
  } finally {
    server.close();
  }
});

test('a batch of several records: one line each, in order; datagrams likewise', () => {
  const b = batch(ev('GET /1 HTTP/1.1'), ev('x\xe9', { time: 1795599805, client: '::1', server: '/run/app.sock' }), ev(''));
  assert.equal(fileLines(b).toString('latin1'),
    '127.0.0.1 1795599804 127.0.0.2 GET /1 HTTP/1.1\n::1 1795599805 /run/app.sock x.\n127.0.0.1 1795599804 127.0.0.2 \n');
  assert.deepEqual(penlogdDatagrams(b).map((d) => d.toString('latin1')),
    ['+ 127.0.0.1 127.0.0.2 GET /1 HTTP/1.1\n', '+ ::1 /run/app.sock x\xe9\n', '+ 127.0.0.1 127.0.0.2 \n']);
  assert.throws(() => fileLines(b.subarray(0, b.length - 3)), RangeError, 'a cut batch is refused, not misread');
  assert.equal(fileLines(Buffer.alloc(0)).length, 0);
  assert.equal(fileLines(batch(ev('\xe9\x00\xff', { time: 2 ** 33 }))).toString('latin1'),
    `127.0.0.1 ${2 ** 33} 127.0.0.2 ...\n`, 'big times, NUL bytes');
});
