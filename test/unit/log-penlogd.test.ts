// penlogd's merging: pen entries in a ring, web lines matched by server and request, and
// every kind of bad input (discarded with a note, never fatal).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pieces } from '../../lib/cli/penlog.js';
import { parseOptions } from '../../lib/cli/penlogd.js';
import { Merger, normalizeAddress, PIECE } from '../../lib/log/penlogd.js';

const WEB = '10.0.0.5 - - [25/Nov/2026:09:41:33 +0000] "GET /index.html HTTP/1.1" 200 512\n';

test('a matching web line gets pen\'s client in place of its first field', () => {
  const m = new Merger();
  assert.deepEqual(m.datagram('+ 192.0.2.7 10.0.0.2 GET /index.html HTTP/1.1\n', '10.0.0.9'), { out: '', notes: [] });
  const r = m.datagram(WEB, '10.0.0.2');
  assert.equal(r.out, '192.0.2.7 - - [25/Nov/2026:09:41:33 +0000] "GET /index.html HTTP/1.1" 200 512\n');
});

test('no match (other server, other request): the line is written unchanged', () => {
  const m = new Merger();
  m.datagram('+ 192.0.2.7 10.0.0.2 GET /index.html HTTP/1.1\n', '10.0.0.9');
  assert.equal(m.datagram(WEB, '10.0.0.3').out, WEB, 'another web server');
  assert.equal(m.datagram(WEB.replace('index', 'other'), '10.0.0.2').out, WEB.replace('index', 'other'));
  assert.equal(m.datagram(WEB.replace('"GET /index.html HTTP/1.1"', '"GET /"'), '10.0.0.2').out,
    WEB.replace('"GET /index.html HTTP/1.1"', '"GET /"'), 'a prefix is not a match (Pen matched it)');
});

test('the newest entry wins, entries are not consumed, and all N slots are searched', () => {
  const m = new Merger(3);
  m.datagram('+ 192.0.2.1 10.0.0.2 GET /index.html HTTP/1.1\n', 'x');
  m.datagram('+ 192.0.2.2 10.0.0.2 GET /index.html HTTP/1.1\n', 'x');
  assert.match(m.datagram(WEB, '10.0.0.2').out, /^192\.0\.2\.2 /);
  assert.match(m.datagram(WEB, '10.0.0.2').out, /^192\.0\.2\.2 /, 'the entry serves again');
  const r = new Merger(3);
  r.datagram('+ 192.0.2.1 10.0.0.2 GET /index.html HTTP/1.1\n', 'x'); // the oldest of a full ring
  r.datagram('+ 192.0.2.2 10.0.0.2 GET /a HTTP/1.1\n', 'x');
  r.datagram('+ 192.0.2.3 10.0.0.2 GET /b HTTP/1.1\n', 'x');
  assert.match(r.datagram(WEB, '10.0.0.2').out, /^192\.0\.2\.1 /, 'Pen never looked at the oldest slot');
  r.datagram('+ 192.0.2.4 10.0.0.2 GET /c HTTP/1.1\n', 'x'); // overwrites it
  assert.equal(r.datagram(WEB, '10.0.0.2').out, WEB);
});

test('requests are compared on their first 100 characters', () => {
  const m = new Merger();
  const url = `/${'a'.repeat(150)}`;
  m.datagram(`+ 192.0.2.7 10.0.0.2 GET ${url.slice(0, 96)}\n`, 'x'); // pen keeps 100 characters
  const line = `10.0.0.5 - - [25/Nov/2026:09:41:33 +0000] "GET ${url} HTTP/1.1" 200 1\n`;
  assert.match(m.datagram(line, '10.0.0.2').out, /^192\.0\.2\.7 /);
});

test('IPv4-mapped sources and IPv6 servers are matched', () => {
  assert.equal(normalizeAddress('::ffff:10.0.0.2'), '10.0.0.2');
  assert.equal(normalizeAddress('2001:DB8:0:0::1'), '2001:db8::1');
  const m = new Merger();
  m.datagram('+ 192.0.2.7 10.0.0.2 GET /index.html HTTP/1.1\n', '::ffff:10.0.0.9');
  assert.match(m.datagram(WEB, '::ffff:10.0.0.2').out, /^192\.0\.2\.7 /);
  m.datagram('+ 2001:db8::7 2001:db8::2 GET /index.html HTTP/1.1\n', '::1');
  assert.match(m.datagram(WEB, '2001:db8:0::2').out, /^2001:db8::7 /);
});

test('bad input is discarded with a note and changes nothing', () => {
  const m = new Merger();
  m.datagram('+ 192.0.2.7 10.0.0.2 GET /index.html HTTP/1.1\n', 'x');
  const bad = [
    ['+ 192.0.2.8 not-an-address GET /index.html HTTP/1.1\n', /bogus address not-an-address/],
    ['+ 192.0.2.8 10.0.0.2\n', /discarding bogus pen line/],
    ['+\n', /discarding bogus pen line/],
    ['no quotes at all\n', /bogus web line no quotes at all/],
    ['one " quote only\n', /bogus web line/],
    ['\x00\xff\xfe garbage\n', /bogus web line/],
  ] as const;
  for (const [text, note] of bad) {
    const r = m.datagram(text, '10.0.0.2');
    assert.equal(r.out, '', text);
    assert.match(r.notes.join('\n'), note, text);
  }
  assert.match(m.datagram(WEB, '10.0.0.2').out, /^192\.0\.2\.7 /, 'still merging afterwards');
  assert.deepEqual(m.datagram('', '10.0.0.2'), { out: '', notes: [] }, 'an empty datagram');
});

test('several lines in one datagram; a line without newline gets one', () => {
  const m = new Merger();
  const r = m.datagram(`+ 192.0.2.7 10.0.0.2 GET /index.html HTTP/1.1\n${WEB}${WEB.slice(0, -1)}`, '10.0.0.2');
  assert.equal(r.out.split('\n').filter(Boolean).length, 2);
  assert.ok(r.out.endsWith('\n'));
});

test('a long line sent in 1023-byte pieces (penlog) is joined again', () => {
  const m = new Merger();
  m.datagram('+ 192.0.2.7 10.0.0.2 GET /index.html HTTP/1.1\n', 'x');
  const long = `${WEB.slice(0, -1)} "${'r'.repeat(2500)}"\n`;
  const parts = pieces(Buffer.from(long));
  assert.deepEqual(parts.map((p) => p.length), [PIECE, PIECE, long.length - 2 * PIECE]);
  const outs = parts.map((p) => m.datagram(p.toString('latin1'), '10.0.0.2').out);
  assert.deepEqual(outs.slice(0, 2), ['', '']);
  assert.equal(outs[2], `192.0.2.7${long.slice(long.indexOf(' '))}`);
});

test('penlogd options: Pen\'s letters, PORT required', () => {
  const o = parseOptions(['-d', '-d', '-f', '-b', '-j', '/var/empty', '-l', '/var/log/m.log', '-n5', '-p', '/run/p.pid', '-u', 'nobody', '10000']);
  assert.deepEqual(o, { debug: 2, foreground: true, unbuffered: true, chroot: '/var/empty', logfile: '/var/log/m.log',
    entries: 5, pidfile: '/run/p.pid', user: 'nobody', port: 10000 });
  assert.throws(() => parseOptions([]), /no PORT/);
  assert.throws(() => parseOptions(['0']), /PORT must be/);
  assert.throws(() => parseOptions(['-x', '10000']), /unknown option -x/);
  assert.throws(() => parseOptions(['-n', '0', '10000']), /-n must be/);
});
