// The test MaxMind DB writer (test/helpers/mmdb.ts): its encodings against the spec's rules,
// the file's frame, and the whole file against libmaxminddb's own mmdblookup (Debian mmdb-bin;
// skipped with a reason when it is not installed). The addon's reading of these files is
// covered by test/e2e/geoip/.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { controlBytes, countryDb, encodeValue, packNode, u16, u64, Uint, writeMmdb } from '../helpers/mmdb.js';

const hex = (b: Buffer) => b.toString('hex');
const MARKER = Buffer.concat([Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com')]);

test('control bytes: type bits, extended types, and the 29/285/65821 size forms', () => {
  assert.equal(hex(controlBytes(2, 2)), '42', 'string of 2: 010 00010');
  assert.equal(hex(controlBytes(7, 3)), 'e3', 'map of 3 pairs: 111 00011');
  assert.equal(hex(controlBytes(11, 1)), '0104', 'array (11): type 0, then 11 - 7');
  assert.equal(hex(controlBytes(9, 8)), '0802', 'uint64 of 8 bytes');
  assert.equal(hex(controlBytes(2, 28)), '5c');
  assert.equal(hex(controlBytes(2, 29)), '5d00', '29: one more byte, size - 29');
  assert.equal(hex(controlBytes(2, 284)), '5dff');
  assert.equal(hex(controlBytes(2, 285)), '5e0000', '285: two more bytes, size - 285');
  assert.equal(hex(controlBytes(2, 65820)), '5effff');
  assert.equal(hex(controlBytes(2, 65821)), '5f000000', '65821: three more bytes, size - 65821');
  assert.equal(hex(controlBytes(11, 300)), '1e04000f', 'extended type with a long size: size bytes after the type byte');
});

test('values: strings, integers (fewest bytes), booleans, doubles, arrays, maps', () => {
  assert.equal(hex(encodeValue('US')), '425553');
  assert.equal(hex(encodeValue('')), '40');
  assert.equal(hex(encodeValue(0)), 'c0', 'uint32 0 has no payload');
  assert.equal(hex(encodeValue(258)), 'c20102');
  assert.equal(hex(encodeValue(u16(6))), 'a106');
  assert.equal(hex(encodeValue(u64(0x6b06ae80))), '0402' + '6b06ae80', 'uint64 in 4 bytes');
  assert.equal(hex(encodeValue(new Uint(128, 1n << 100n))), '0d03' + '10' + '00'.repeat(12));
  assert.equal(hex(encodeValue(true)), '0107');
  assert.equal(hex(encodeValue(false)), '0007');
  assert.equal(hex(encodeValue(1.5)), '68' + '3ff8000000000000');
  assert.equal(hex(encodeValue(['en'])), '0104' + '42656e');
  assert.equal(hex(encodeValue({ iso_code: 'SE' })), 'e1' + '48' + Buffer.from('iso_code').toString('hex') + '425345');
  assert.throws(() => encodeValue(u16(70000)), /does not fit uint16/);
});

test('nodes: 24-bit and 28-bit record layouts', () => {
  assert.equal(hex(packNode(0x123456, 0xabcdef, 24)), '123456abcdef');
  // 28 bits: left's low 24 bits, then left's top nibble and right's top nibble, then right's low 24.
  assert.equal(hex(packNode(0xa123456, 0xbabcdef, 28)), '123456' + 'ab' + 'abcdef');
  assert.throws(() => packNode(1 << 24, 0, 24), /does not fit 24 bits/);
});

test('the file: tree, 16-byte separator, data, marker, metadata; overlaps refused', () => {
  const file = writeMmdb([{ cidr: '10.0.0.0/8', data: 'X' }], { recordSize: 24, ipv4MappedAlias: false, buildEpoch: 1 });
  // 96 zero bits then 8 bits of 10 = 104 nodes on the path; the data record sits in the last one.
  const nodes = 104;
  const tree = nodes * 6;
  assert.equal(hex(file.subarray(tree, tree + 16)), '00'.repeat(16));
  assert.equal(hex(file.subarray(tree + 16, tree + 18)), '4158', 'the data section holds "X"');
  assert.equal(file.indexOf(MARKER), tree + 18, 'metadata right after the data');
  const meta = file.subarray(tree + 18 + MARKER.length);
  assert.ok(meta.includes(encodeValue('node_count')) && meta.includes(encodeValue(nodes)));
  assert.ok(meta.includes(Buffer.concat([encodeValue('record_size'), encodeValue(u16(24))])));
  assert.ok(meta.includes(Buffer.concat([encodeValue('ip_version'), encodeValue(u16(6))])));
  assert.ok(meta.includes(encodeValue('GeoLite2-Country')));
  // Node 0 is the root: left goes to node 1, right is "no data" (= node count).
  assert.equal(hex(file.subarray(0, 6)), '000001' + nodes.toString(16).padStart(6, '0'));
  assert.throws(() => writeMmdb([{ cidr: '10.0.0.0/8', data: 'X' }, { cidr: '10.1.0.0/16', data: 'Y' }]), /nested|overlaps/);
  assert.throws(() => writeMmdb([{ cidr: '10.0.0.0/33', data: 'X' }]), /bad prefix/);
  assert.throws(() => writeMmdb([{ cidr: 'example.com/8', data: 'X' }]), /not an IP network/);
});

const hasMmdblookup = spawnSync('mmdblookup', ['--version']).error === undefined;

test('libmaxminddb reads the files: mmdblookup finds every network, 24- and 28-bit',
  { skip: hasMmdblookup ? false : 'mmdblookup (Debian mmdb-bin) is not installed' }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-mmdb-'));
    try {
      const map = { '127.0.5.2/32': 'SE', '10.0.0.0/8': 'DE', '::1/128': 'NO', '2001:db8::/32': 'FR' };
      for (const recordSize of [24, 28] as const) {
        const file = path.join(dir, `c${recordSize}.mmdb`);
        fs.writeFileSync(file, countryDb(map, { recordSize }));
        const lookup = (ip: string, ...keys: string[]) => {
          const r = spawnSync('mmdblookup', ['-f', file, '-i', ip, ...keys], { encoding: 'utf8' });
          return (r.stdout + r.stderr).replace(/\s+/g, ' ').trim();
        };
        const cases: [string, string][] = [['127.0.5.2', 'SE'], ['10.200.1.1', 'DE'], ['::1', 'NO'],
          ['2001:db8:1::9', 'FR'], ['::ffff:10.0.0.1', 'DE']];
        for (const [addr, iso] of cases) {
          assert.equal(lookup(addr, 'country', 'iso_code'), `"${iso}" <utf8_string>`, `${addr} (${recordSize} bits)`);
          assert.equal(lookup(addr, 'registered_country', 'iso_code'), `"${iso}" <utf8_string>`);
        }
        assert.match(lookup('127.0.5.3'), /Could not find an entry/);
        const meta = execFileSync('mmdblookup', ['-f', file, '-i', '127.0.5.2', '-v'], { encoding: 'utf8' });
        assert.match(meta, /Record size:\s+(\d+) bits/);
        assert.equal(/Record size:\s+(\d+) bits/.exec(meta)![1], String(recordSize));
        assert.match(meta, /Binary format: 2\.0/);
        assert.match(meta, /Type:\s+GeoLite2-Country/);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
