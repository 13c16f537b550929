// mergelogs on sample logs: common and combined formats, the k-way merge by time, the nearest
// pen line within the jitter, -t, -c, long URLs, lines that do not parse, and bad usage.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { run } from '../../lib/cli/mergelogs.js';
import { formatTime, parsePenLine, parseTime, parseWebLine } from '../../lib/log/mergelogs.js';

const T0 = 1795599700;
/** Apache's time for epoch t in zone offset (minutes east of UTC). */
function apache(t: number, offsetMin = 0): string {
  const local = formatTime(t + offsetMin * 60).replace(' +0000', '');
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  return `${local} ${sign}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}

test('time: Apache format with its zone -> epoch, and back in UTC', () => {
  assert.equal(parseTime('09/Jan/2002:00:27:15 +0100'), Date.UTC(2002, 0, 8, 23, 27, 15) / 1000);
  assert.equal(parseTime('09/Jan/2002:00:27:15 -0130'), Date.UTC(2002, 0, 9, 1, 57, 15) / 1000);
  assert.equal(parseTime('09/Jan/2002:00:27:15'), Date.UTC(2002, 0, 9, 0, 27, 15) / 1000);
  assert.equal(parseTime('09/Foo/2002:00:27:15 +0100'), null);
  assert.equal(formatTime(Date.UTC(2002, 0, 8, 23, 27, 15) / 1000), '08/Jan/2002:23:27:15 +0000');
  assert.equal(parseTime(apache(T0, 90)), T0);
});

test('lines: common and combined split as Pen did; pen log lines', () => {
  const c = parseWebLine('10.0.18.6 - - [09/Jan/2002:00:28:50 +0100] "GET /robots.txt HTTP/1.0" 404 268')!;
  assert.deepEqual({ ...c, t: 0 }, { client: '10.0.18.6', b1: '- - ', time: '09/Jan/2002:00:28:50 +0100', b2: ' ',
    request: 'GET /robots.txt HTTP/1.0', b3: ' 404 268', t: 0 });
  const k = parseWebLine('1.2.3.4 - bob [09/Jan/2002:00:28:50 +0100] "GET / HTTP/1.1" 200 5 "http://x/" "Mozilla/5.0 (X11)"')!;
  assert.equal(k.request, 'GET / HTTP/1.1');
  assert.equal(k.b3, ' 200 5 "http://x/" "Mozilla/5.0 (X11)"');
  for (const bad of ['', 'garbage', '1.2.3.4 - - [bad time] "GET /" 200 1', '1.2.3.4 - - [09/Jan/2002:00:28:50 +0100] no quotes']) {
    assert.equal(parseWebLine(bad), null, bad);
  }
  assert.deepEqual(parsePenLine('127.0.0.1 1795599804 127.0.0.2 GET /some/path?x=1 HTTP/1.1', 4),
    { client: '127.0.0.1', t: 1795599800, server: '127.0.0.2', request: 'GET /some/path?x=1 HTTP/1.1' });
  assert.equal(parsePenLine('127.0.0.1 notatime 127.0.0.2 GET /'), null);
});

interface Outcome { code: number; out: string; err: string }

function mergelogs(files: Record<string, string>, args: (dir: string) => string[]): Outcome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-mergelogs-'));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text, 'latin1');
    const outFd = fs.openSync(path.join(dir, 'stdout'), 'w+');
    const errFd = fs.openSync(path.join(dir, 'stderr'), 'w+');
    const code = run(args(dir), outFd, errFd);
    fs.closeSync(outFd);
    fs.closeSync(errFd);
    return { code, out: fs.readFileSync(path.join(dir, 'stdout'), 'latin1'), err: fs.readFileSync(path.join(dir, 'stderr'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const LONG = `/search?q=${'x'.repeat(200)}`;
const PENLOG = [
  `192.0.2.1 ${T0} 10.0.0.2 GET /a HTTP/1.1`,
  `192.0.2.2 ${T0 + 1} 10.0.0.3 GET /b HTTP/1.1`,
  `192.0.2.3 ${T0 + 2} 10.0.0.2 GET /a HTTP/1.1`,
  `192.0.2.5 ${T0 + 50} 10.0.0.2 ${`GET ${LONG} HTTP/1.1`.slice(0, 100)}`,
  `192.0.2.4 ${T0 + 100} 10.0.0.3 GET /c HTTP/1.0`,
  '',
].join('\n');
const COMMON = [
  `10.0.0.1 - - [${apache(T0)}] "GET /a HTTP/1.1" 200 10`,
  `10.0.0.1 - frank [${apache(T0 + 3, 60)}] "GET /a HTTP/1.1" 200 11`,
  'this line is not in common log format',
  `10.0.0.1 - - [${apache(T0 + 50)}] "GET ${LONG} HTTP/1.1" 200 12`,
  `10.0.0.1 - - [${apache(T0 + 200)}] "GET /zzz HTTP/1.1" 404 0`,
  '',
].join('\n');
const COMBINED = [
  `10.0.0.1 - - [${apache(T0 + 1, -300)}] "GET /b HTTP/1.1" 200 5 "http://ref.example/" "curl/8.5"`,
  `10.0.0.1 - - [${apache(T0 + 100)}] "GET /c HTTP/1.0" 200 5 "-" "Mozilla/5.0 (X11; Linux)"`,
  '',
].join('\n');
const EXPECTED = [
  `192.0.2.1 - - [${formatTime(T0)}] "GET /a HTTP/1.1" 200 10`,
  `192.0.2.2 - - [${formatTime(T0 + 1)}] "GET /b HTTP/1.1" 200 5 "http://ref.example/" "curl/8.5"`,
  `192.0.2.3 - frank [${formatTime(T0 + 3)}] "GET /a HTTP/1.1" 200 11`,
  'this line is not in common log format',
  `192.0.2.5 - - [${formatTime(T0 + 50)}] "GET ${LONG} HTTP/1.1" 200 12`,
  `192.0.2.4 - - [${formatTime(T0 + 100)}] "GET /c HTTP/1.0" 200 5 "-" "Mozilla/5.0 (X11; Linux)"`,
  `10.0.0.2 - - [${formatTime(T0 + 200)}] "GET /zzz HTTP/1.1" 404 0`,
  '',
].join('\n');

test('common + combined logs merged in time order with the real clients', () => {
  const files = { 'pen.log': PENLOG, 'a.log': COMMON, 'b.log': COMBINED };
  const r = mergelogs(files, (d) => ['-p', `${d}/pen.log`, `10.0.0.2:${d}/a.log`, `10.0.0.3:${d}/b.log`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, EXPECTED);
  assert.equal(r.err, 'mergelogs: 1 line(s) were not in common or combined log format and were copied unchanged\n');
  const nocache = mergelogs(files, (d) => ['-c', '-p', `${d}/pen.log`, `10.0.0.2:${d}/a.log`, `10.0.0.3:${d}/b.log`]);
  assert.equal(nocache.out, EXPECTED, '-c: the same result without the sliding window');
});

test('jitter: a pen line further away than -j seconds is not used', () => {
  const pen = `192.0.2.9 ${T0} 10.0.0.2 GET /a HTTP/1.1\n`;
  const web = `10.0.0.1 - - [${apache(T0 + 30)}] "GET /a HTTP/1.1" 200 1\n`;
  const near = mergelogs({ 'pen.log': pen, 'a.log': web }, (d) => ['-p', `${d}/pen.log`, `10.0.0.2:${d}/a.log`]);
  assert.match(near.out, /^192\.0\.2\.9 /, 'within the default 600 s');
  const far = mergelogs({ 'pen.log': pen, 'a.log': web }, (d) => ['-j', '10', '-p', `${d}/pen.log`, `10.0.0.2:${d}/a.log`]);
  assert.match(far.out, /^10\.0\.0\.2 /, 'no match: the server address stands as the client');
});

test('-t: seconds subtracted from pen\'s times', () => {
  const pen = `192.0.2.9 ${T0 + 7200} 10.0.0.2 GET /a HTTP/1.1\n`;
  const web = `10.0.0.1 - - [${apache(T0)}] "GET /a HTTP/1.1" 200 1\n`;
  const files = { 'pen.log': pen, 'a.log': web };
  assert.match(mergelogs(files, (d) => ['-p', `${d}/pen.log`, `10.0.0.2:${d}/a.log`]).out, /^10\.0\.0\.2 /);
  assert.match(mergelogs(files, (d) => ['-t', '7200', '-p', `${d}/pen.log`, `10.0.0.2:${d}/a.log`]).out, /^192\.0\.2\.9 /);
});

test('IPv6 servers as [addr]:file; bytes kept as they are', () => {
  const pen = `2001:db8::9 ${T0} ::1 GET /\xe9 HTTP/1.1\n`;
  const web = `::1 - - [${apache(T0)}] "GET /\xe9 HTTP/1.1" 200 1\n`;
  const r = mergelogs({ 'pen.log': pen, 'a.log': web }, (d) => ['-p', `${d}/pen.log`, `[::1]:${d}/a.log`]);
  assert.equal(r.out, `2001:db8::9 - - [${formatTime(T0)}] "GET /\xe9 HTTP/1.1" 200 1\n`);
});

test('usage errors exit 2 with a message; missing files exit 1', () => {
  const noP = mergelogs({}, () => ['10.0.0.2:/x']);
  assert.equal(noP.code, 2);
  assert.match(noP.err, /^mergelogs: -p PENLOG is required\nUsage: mergelogs -p penlog/);
  assert.match(noP.err, /Jitter in seconds \[600\]/);
  assert.doesNotMatch(noP.err, /-r/);
  assert.equal(mergelogs({}, () => ['-p', 'x']).code, 2, 'no SERVER:LOGFILE');
  assert.match(mergelogs({}, () => ['-p', 'x', 'nocolon']).err, /bogus server 'nocolon'/);
  assert.match(mergelogs({}, () => ['-r', 'x', '-p', 'x', 'a:b']).err, /unknown option -r/);
  assert.match(mergelogs({}, () => ['-j', 'soon', '-p', 'x', 'a:b']).err, /-j must be a whole number/);
  const gone = mergelogs({ 'pen.log': '' }, (d) => ['-p', `${d}/pen.log`, `10.0.0.2:${d}/missing.log`]);
  assert.equal(gone.code, 1);
  assert.match(gone.err, /can't open '.*missing\.log' \(ENOENT\)/);
  const noPen = mergelogs({}, (d) => ['-p', `${d}/nope.log`, `10.0.0.2:${d}/x.log`]);
  assert.equal(noPen.code, 1);
  assert.match(noPen.err, /can't open '.*nope\.log'/);
});
