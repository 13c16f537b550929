// The ACL model, its compiler to data-plane tables, and the matcher used for control_acl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aclPermits, compileAcls, formatIPv6, ipv6Bytes, parseAclEntry, renderAclEntry, type AclEntry,
} from '../../lib/config/acl.js';

function entry(words: string): AclEntry {
  const e = parseAclEntry(words.split(' '));
  if ('reason' in e) throw new Error(e.reason);
  return e;
}

const list = (...lines: string[]) => compileAcls([lines.map(entry)])[0]!;

test('IPv6 text <-> bytes', () => {
  const cases: Array<[string, string]> = [
    ['::', '::'], ['::1', '::1'], ['2001:db8::1', '2001:db8::1'], ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'], ['fe80::', 'fe80::'], ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ];
  for (const [input, want] of cases) assert.equal(formatIPv6(ipv6Bytes(input)), want, input);
  assert.equal(ipv6Bytes('::ffff:1.2.3.4').toString('hex'), '00000000000000000000ffff01020304');
});

test('entries are masked on insert (quirk 30) and render back in the write format', () => {
  assert.deepEqual(entry('permit 10.1.2.3 255.0.0.0'),
    { kind: 'ipv4', permit: true, address: '10.0.0.0', mask: '255.0.0.0' });
  assert.deepEqual(entry('deny 127.0.0.1'),
    { kind: 'ipv4', permit: false, address: '127.0.0.1', mask: '255.255.255.255' });
  assert.deepEqual(entry('deny 2001:db8:ffff::1/32'), { kind: 'ipv6', permit: false, address: '2001:db8::', prefix: 32 });
  assert.deepEqual(entry('permit ::1'), { kind: 'ipv6', permit: true, address: '::1', prefix: 128 });
  assert.deepEqual(entry('permit 2001:db8::ff/121'), { kind: 'ipv6', permit: true, address: '2001:db8::80', prefix: 121 });
  assert.equal(renderAclEntry(1, entry('deny 10.1.2.3 255.0.0.0')), 'acl 1 deny 10.0.0.0 255.0.0.0');
  assert.equal(renderAclEntry(3, entry('deny 2001:db8::/32')), 'acl 3 deny 2001:db8::/32');
  assert.equal(renderAclEntry(4, entry('permit country se')), 'acl 4 permit country SE');
});

test('bad entries give reasons', () => {
  const reason = (w: string) => (parseAclEntry(w.split(' ').filter(Boolean)) as { reason: string }).reason;
  assert.equal(reason(''), 'missing permit or deny');
  assert.equal(reason('permit'), 'missing address after permit');
  assert.equal(reason('permit 1.2.3.4 255.255.0'), '"255.255.0" is not a dotted IPv4 mask');
  assert.equal(reason('permit 1.2.3.4 255.255.0.0 x'), 'unexpected "x" after the mask');
  assert.equal(reason('permit ::1 64'), 'unexpected "64" after an IPv6 address (write ADDR/LEN)');
  assert.equal(reason('permit fe80::1/x'), 'IPv6 prefix length must be 0..128, got "x"');
  assert.equal(reason('permit country SWE'), 'expected a two-letter country code, e.g. country SE');
  assert.equal(reason('deny 127.0.0.0/8'), 'IPv4 entries take a dotted mask, not /8: write "127.0.0.0 255.0.0.0"');
  assert.equal(reason('deny 10.1.0.0/20'), 'IPv4 entries take a dotted mask, not /20: write "10.1.0.0 255.255.240.0"');
});

test('compiled tables: IPv4 as IPv4-mapped IPv6, 16-byte masks, countries as codes', () => {
  const [l] = compileAcls([[entry('permit 10.1.2.3 255.0.0.0'), entry('deny 2001:db8::/32'), entry('deny country SE')]]);
  assert.deepEqual(l![0], {
    permit: true, family: 4,
    addr: Buffer.from('00000000000000000000ffff0a000000', 'hex'),
    mask: Buffer.from('ffffffffffffffffffffffffff000000', 'hex'),
  });
  assert.deepEqual(l![1], {
    permit: false, family: 6,
    addr: Buffer.from('20010db8000000000000000000000000', 'hex'),
    mask: Buffer.from('ffffffff000000000000000000000000', 'hex'),
  });
  assert.deepEqual(l![2], { permit: false, country: 'SE' });
  assert.equal(compileAcls([[], [], [], [], [], [], [], [], [], []]).length, 10);
});

test('matching: first match decides, else the opposite of the last entry', () => {
  const l = list('permit 127.0.0.1', 'deny 10.0.0.0 255.0.0.0');
  assert.equal(aclPermits(l, '127.0.0.1'), true);
  assert.equal(aclPermits(l, '10.9.8.7'), false);
  assert.equal(aclPermits(l, '192.168.1.1'), true, 'no match: opposite of the last entry (deny)');
  assert.equal(aclPermits(list('deny 10.0.0.0 255.0.0.0', 'permit 127.0.0.1'), '192.168.1.1'), false);
  assert.equal(aclPermits([], '192.168.1.1'), true, 'an empty list permits everyone');
});

test('matching: families, mapped clients, unix peers, countries', () => {
  const v4 = list('permit 127.0.0.0 255.0.0.0');
  assert.equal(aclPermits(v4, '::ffff:127.0.0.5'), true, 'dual-stack IPv4 clients match IPv4 entries (quirk 31)');
  assert.equal(aclPermits(v4, '::1'), false, 'IPv6 client: no applicable entry, opposite of permit');
  const v6 = list('deny ::/0');
  assert.equal(aclPermits(v6, '127.0.0.1'), true, 'an IPv6 entry does not apply to IPv4 clients');
  assert.equal(aclPermits(v6, 'fe80::1%eth0'), false);
  assert.equal(aclPermits(v4, null), true, 'unix-socket peers always pass');
  assert.equal(aclPermits(list('permit country SE'), '127.0.0.1'), false, 'no country lookup: never matches');
});

test('matching: country entries ask countryOf once, only when reached, for both families', () => {
  const asked: string[] = [];
  const countries: Record<string, string> = { '127.0.0.2': 'SE', '::1': 'SE', '127.0.0.3': 'US' };
  const countryOf = (ip: string) => { asked.push(ip); return countries[ip] ?? null; };
  const l = list('deny country SE', 'deny country NO', 'permit 127.0.0.0 255.0.0.0', 'deny ::/0');
  assert.equal(aclPermits(l, '127.0.0.2', countryOf), false, 'SE denied');
  assert.equal(aclPermits(l, '::1', countryOf), false, 'country entries apply to IPv6 clients too');
  assert.equal(aclPermits(l, '127.0.0.3', countryOf), true, 'US: no country entry matches, the address entry does');
  assert.equal(aclPermits(l, '127.0.0.4', countryOf), true, 'unknown country: country entries do not match');
  assert.deepEqual(asked, ['127.0.0.2', '::1', '127.0.0.3', '127.0.0.4'], 'one lookup per client');
  asked.length = 0;
  assert.equal(aclPermits(list('permit 127.0.0.3', 'deny country SE'), '127.0.0.3', countryOf), true);
  assert.deepEqual(asked, [], 'not looked up when an address entry decides first');
  assert.equal(aclPermits(list('permit country US'), '::ffff:127.0.0.2', countryOf), false,
    'no match: the opposite of the last entry');
  assert.equal(aclPermits(list('deny country SE'), null, countryOf), true, 'unix peers always pass');
});

test('matching: a TCP peer whose address is unknown fails closed (issue 12, defect 4)', () => {
  const v4 = list('permit 127.0.0.0 255.0.0.0');
  assert.equal(aclPermits(v4, undefined), false, 'remoteAddress undefined: the peer already reset');
  assert.equal(aclPermits(v4, ''), false);
  assert.equal(aclPermits(list('deny 10.0.0.0 255.0.0.0'), undefined), false, 'even where no match would permit');
  assert.equal(aclPermits([], undefined), true, 'an empty list permits everyone');
  assert.equal(aclPermits(v4, null), true, 'a unix-socket peer has no address and passes');
});
