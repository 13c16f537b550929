// ACLs set over the control socket, checked on the data plane (spec/selection.md §8):
// client_acl with IPv4 address/mask entries and with IPv6 prefix entries (client ::1), the
// abuse server (-B) receiving denied clients, per-server acl (`server N acl A`: a denied client
// fails over to a server that admits it), and control_acl (a denied control client is closed
// without a reply and its command is not run).
// Block 83 (see test/helpers/net.ts): pens on .1/.11/..., backends next to them, clients .100+.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { httpGet, whoAnswers, type ConnectOptions } from '../../helpers/clients.js';
import { command, exchange, penWithControl, servers, tallyRequests } from '../../helpers/control.js';
import { hasIPv6Loopback, loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';

const ip = loopback(83);

type Where = { host: string; port: number };

/** Who answers a GET through pen, or 'denied' when pen closes the connection unanswered. */
async function outcome(e: Where, opts: ConnectOptions = {}): Promise<string> {
  try {
    return (await httpGet(e, { timeoutMs: 3000, ...opts })).body;
  } catch (err) {
    const m = (err as Error).message;
    if (/no HTTP answer|ECONNRESET|EPIPE|closed/.test(m)) return 'denied';
    throw err;
  }
}

async function set(ctl: Where, ...lines: string[]): Promise<void> {
  for (const line of lines) assert.equal(await command(ctl, line), '', `reply to ${line}`);
}

test('client_acl with IPv4 address/mask entries: denied clients are closed unanswered; list edits apply live', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const pen = s.pen(await penWithControl(ip(1), [], [a.spec]));
  const from = (n: number) => ({ localAddress: ip(n) });

  // .96/28 = .96-.111 is denied; a client matching no entry gets the opposite of the last one.
  await set(pen.control, 'acl 1 deny 127.0.83.96 255.255.255.240');
  assert.equal(await command(pen.control, 'client_acl 1'), '1\n');
  const before = a.requests;
  assert.equal(await outcome(pen.endpoint, from(100)), 'denied', '.100 is inside .96/28');
  assert.equal(await outcome(pen.endpoint, from(111)), 'denied', '.111 is inside .96/28');
  assert.equal(a.requests, before, 'denied clients never reach the server');
  assert.equal(await outcome(pen.endpoint, from(112)), 'A', '.112 is outside: permitted');
  assert.equal(await outcome(pen.endpoint, from(120)), 'A');

  // An empty list permits everyone.
  await set(pen.control, 'no acl 1');
  assert.equal(await outcome(pen.endpoint, from(100)), 'A');

  // A permit list: the listed client passes, everyone else gets the opposite of "permit".
  await set(pen.control, 'acl 1 permit 127.0.83.120');
  assert.equal(await outcome(pen.endpoint, from(120)), 'A');
  assert.equal(await outcome(pen.endpoint, from(100)), 'denied');
  // First match decides: an earlier deny wins over a later permit of the same client.
  await set(pen.control, 'no acl 1', 'acl 1 deny 127.0.83.120', 'acl 1 permit 127.0.83.0 255.255.255.0');
  assert.equal(await outcome(pen.endpoint, from(120)), 'denied');
  assert.equal(await outcome(pen.endpoint, from(121)), 'A');

  // client_acl back to list 0 (empty): everyone.
  assert.equal(await command(pen.control, 'client_acl 0'), '0\n');
  assert.equal(await outcome(pen.endpoint, from(120)), 'A');
}));

test('client_acl with IPv6 entries (client ::1): prefixes match, IPv4 entries do not apply to IPv6 clients', async (t) => {
  if (!await hasIPv6Loopback()) {
    t.skip('no IPv6 loopback (::1) on this machine');
    return;
  }
  await scoped(async (s) => {
    const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
    const pen = s.pen(await penWithControl('::1', [], [a.spec], { controlHost: ip(11) }));
    assert.equal(await command(pen.control, 'client_acl 3'), '3\n');
    const cases: [string[], string, string][] = [
      [['acl 3 deny ::1/128'], 'denied', 'exact ::1/128'],
      [['acl 3 deny ::1/64'], 'denied', '::1/64 (stored as ::/64) covers ::1'],
      [['acl 3 deny 2001:db8::/32'], 'A', 'no match: the opposite of the last entry (deny)'],
      [['acl 3 permit 2001:db8::/32'], 'denied', 'no match: the opposite of the last entry (permit)'],
      [['acl 3 permit ::1'], 'A', 'a permit without /LEN is /128'],
      [['acl 3 deny 0.0.0.0 0.0.0.0'], 'A', 'an IPv4 entry does not apply to an IPv6 client'],
      [['acl 3 deny 0.0.0.0 0.0.0.0', 'acl 3 deny ::/0'], 'denied', '::/0 matches every IPv6 client'],
      [[], 'A', 'an empty list permits everyone'],
    ];
    for (const [lines, want, why] of cases) {
      await set(pen.control, 'no acl 3', ...lines);
      assert.equal(await outcome(pen.endpoint), want, why);
    }
  });
});

test('-B abuse server: clients denied by client_acl are sent there; it is not listed by servers', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
  const abuse = s.backend(await startHttpNamed('ABUSE', { host: ip(23) }));
  const pen = s.pen(await penWithControl(ip(21), ['-B', abuse.spec], [a.spec]));
  await set(pen.control, 'acl 2 deny 127.0.83.100');
  assert.equal(await command(pen.control, 'client_acl 2'), '2\n');
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(100) }), 'ABUSE');
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(100) }), 'ABUSE');
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(101) }), 'A');
  assert.deepEqual((await servers(pen.control)).map((r) => r.addr), [ip(22)], 'the abuse server is hidden');
  await set(pen.control, 'no acl 2');
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(100) }), 'A', 'admitted again');
  assert.equal(abuse.requests, 2);
}));

test('server N acl A: a client the server\'s list denies fails over to a server that admits it', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(32) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(33) }));
  const pen = s.pen(await penWithControl(ip(31), ['-r'], [a.spec, b.spec]));
  await set(pen.control, 'acl 5 deny 127.0.83.100', 'server 0 acl 5');
  assert.deepEqual(await tallyRequests(pen.endpoint, 6, { localAddress: ip(100) }), { B: 6 }, '.100 is denied by A\'s list');
  assert.deepEqual(await tallyRequests(pen.endpoint, 4, { localAddress: ip(101) }), { A: 2, B: 2 }, '.101 may use both');
  // Denied by every server: closed unanswered.
  await set(pen.control, 'server 1 acl 5');
  assert.equal(await outcome(pen.endpoint, { localAddress: ip(100) }), 'denied');
  await set(pen.control, 'server 0 acl 0', 'server 1 acl 0');
  assert.deepEqual(await tallyRequests(pen.endpoint, 4, { localAddress: ip(100) }), { A: 2, B: 2 });
}));

test('control_acl: a denied control client is closed without a reply and its command is not run', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(42) }));
  const pen = s.pen(await penWithControl(ip(41), [], [a.spec]));
  const as = (n: number) => ({ localAddress: ip(n) });
  await set(pen.control, 'acl 4 deny 127.0.83.150');
  assert.equal(await command(pen.control, 'control_acl 4'), '4\n');

  const denied = await exchange(pen.control, 'blacklist 99\n', as(150));
  assert.equal(denied.bytes.length, 0, `no reply to a denied client: ${JSON.stringify(denied.bytes.toString())}`);
  assert.ok(denied.ms < 1000, `closed at once (${denied.ms} ms), not after a timeout`);
  assert.equal(await command(pen.control, 'blacklist', as(151)), '30\n', 'the denied command did not run');
  assert.equal(await whoAnswers(pen.endpoint, as(150)), 'A', 'control_acl does not touch the data plane');

  // A permit list locks out everyone else, the default source address included.
  await set(pen.control, 'acl 6 permit 127.0.83.151');
  assert.equal(await command(pen.control, 'control_acl 6', as(151)), '6\n');
  assert.equal((await exchange(pen.control, 'pid\n', as(150))).bytes.length, 0);
  assert.equal((await exchange(pen.control, 'pid\n', as(152))).bytes.length, 0);
  assert.equal(await command(pen.control, 'pid', as(151)), `${pen.pid}\n`);
  assert.equal(await command(pen.control, 'control_acl 0', as(151)), '0\n');
  assert.equal(await command(pen.control, 'pid', as(150)), `${pen.pid}\n`, 'list 0 (empty) admits everyone again');
}));
