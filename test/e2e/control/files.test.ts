// Command files (spec/cli.md "Config file" and "Reload: SIGHUP", spec/penctl.md §4): -F read at
// start-up (with include inside it), include over the control socket (replies go to pen's
// stdout), HUP reload of a changed -F file while connections are open (they survive and keep
// relaying; ACL lines are not appended twice, checked through `write`), and the write ->
// restart round trip: a second pen started with `-F FILE` only reproduces the first one's state.
// Block 85 (see test/helpers/net.ts): pens on .1/.11/.21, backends next to them, clients .100+.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startBanner, startHttpNamed, type Backend } from '../../helpers/backends.js';
import { holdOne, httpGet, whoAnswers } from '../../helpers/clients.js';
import { command, penWithControl, runPenctl, servers, userArgs, waitControl } from '../../helpers/control.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { startPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(85);

type Where = { host: string; port: number };

const portOf = (b: Backend): number => (b.endpoint as { port: number }).port;

async function set(ctl: Where, ...lines: string[]): Promise<void> {
  for (const line of lines) assert.equal(await command(ctl, line), '', `reply to ${line}`);
}

/** 'denied' when pen closes the connection without an answer, else who answered. */
async function outcome(e: Where, localAddress: string): Promise<string> {
  try {
    return (await httpGet(e, { localAddress, timeoutMs: 3000 })).body;
  } catch (err) {
    if (/no HTTP answer|ECONNRESET|closed/.test((err as Error).message)) return 'denied';
    throw err;
  }
}

test('-F at start-up (with include inside it) and include over the control socket', () => scoped(async (s) => {
  const dir = tempDir('ctlf');
  s.defer(() => removeDir(dir));
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
  const c = s.backend(await startHttpNamed('C', { host: ip(4) }));
  const main = path.join(dir, 'main.cfg');
  const extra = path.join(dir, 'extra.cfg');
  fs.writeFileSync(extra, `timeout 2\nserver 2 address ${ip(4)} port ${portOf(c)}\n`);
  fs.writeFileSync(main, [
    '# pen e2e start-up file', '', 'blacklist 17', 'tracking 5', 'roundrobin',
    'acl 1 deny 127.0.85.100', 'client_acl 1', `include ${extra}`, '',
  ].join('\n'));
  const pen = s.pen(await penWithControl(ip(1), ['-F', main], [a.spec, b.spec]));

  assert.equal(await command(pen.control, 'blacklist'), '17\n');
  assert.equal(await command(pen.control, 'tracking'), '5\n');
  assert.equal(await command(pen.control, 'timeout'), '2\n', 'from the included file');
  assert.equal(await command(pen.control, 'mode'), 'no hash roundrobin no stubborn no weight no prio\n');
  assert.equal(await command(pen.control, 'client_acl'), '1\n');
  assert.deepEqual((await servers(pen.control)).map((r) => r.addr), [ip(2), ip(3), ip(4)]);
  const names: string[] = [];
  for (let i = 0; i < 6; i++) names.push(await outcome(pen.endpoint, ip(101)));
  assert.deepEqual([...names].sort(), ['A', 'A', 'B', 'B', 'C', 'C'], 'three servers, roundrobin');
  assert.equal(await outcome(pen.endpoint, ip(100)), 'denied', 'the file\'s client_acl applies');
  // Values echoed by the file's settings are not printed (Pen printed every reply).
  assert.equal(pen.stdout(), '');

  // include over the socket: error replies go to pen's stdout, not to the control client.
  const more = path.join(dir, 'more.cfg');
  fs.writeFileSync(more, 'blacklist 44\nhash\nno acl 1\n');
  const out = pen.stdout().length;
  assert.equal(await command(pen.control, `include ${more}`), '');
  assert.equal(await command(pen.control, 'blacklist'), '44\n');
  assert.equal(await command(pen.control, 'mode'), 'hash roundrobin no stubborn no weight no prio\n');
  assert.match(await outcome(pen.endpoint, ip(100)), /^[ABC]$/, 'no acl 1 from the included file: admitted');
  assert.equal(pen.stdout().slice(out), '', 'nothing printed for lines without errors');

  // Errors: a missing file, a file with a bad line (the good lines still run).
  assert.match(await command(pen.control, `include ${path.join(dir, 'missing.cfg')}`), /^pen: include: .*missing\.cfg.*\n$/);
  const bad = path.join(dir, 'bad.cfg');
  fs.writeFileSync(bad, 'blacklist 45\nfrobnicate\ntracking 6\n');
  assert.match(await command(pen.control, `include ${bad}`), /^pen: include: .*line 2.*\n$/);
  assert.equal(await command(pen.control, 'blacklist'), '45\n');
  assert.equal(await command(pen.control, 'tracking'), '6\n');
  assert.ok(pen.isRunning());
}));

test('HUP reload: a changed setting applies, open connections survive and relay, ACL lines are not duplicated', () => scoped(async (s) => {
  const dir = tempDir('ctlh');
  s.defer(() => removeDir(dir));
  const a = s.backend(await startBanner('A', { host: ip(12) }));
  const b = s.backend(await startBanner('B', { host: ip(13) }));
  const file = path.join(dir, 'pen.cfg');
  // No `no acl 1` line: Pen appended these entries again on every HUP.
  const body = (blacklist: number, prioA: number, prioB: number) => [
    `blacklist ${blacklist}`, 'acl 1 permit 127.0.85.101', 'acl 1 deny 127.0.85.100', 'client_acl 1',
    'prio', `server 0 prio ${prioA}`, `server 1 prio ${prioB}`, '',
  ].join('\n');
  fs.writeFileSync(file, body(10, 2, 1));
  const pen = s.pen(await penWithControl(ip(11), ['-F', file], [a.spec, b.spec]));
  assert.equal(await command(pen.control, 'blacklist'), '10\n');
  const held = await holdOne(pen.endpoint, { localAddress: ip(101) });
  s.client(held.client);
  assert.equal(held.server, 'B', 'prio 1 wins');

  fs.writeFileSync(file, body(20, 1, 2));
  process.kill(pen.pid, 'SIGHUP');
  await waitFor(async () => (await command(pen.control, 'blacklist')) === '20\n', 3000, 'the reload to apply blacklist 20');
  const after = await holdOne(pen.endpoint, { localAddress: ip(102) });
  s.client(after.client);
  assert.equal(after.server, 'A', 'the swapped prios apply to new connections');
  await held.client.write('across the reload\n');
  assert.equal(await held.client.line(2000), 'across the reload', 'the connection open during HUP still relays');

  process.kill(pen.pid, 'SIGHUP');
  await new Promise((r) => setTimeout(r, 300));
  process.kill(pen.pid, 'SIGHUP');
  await new Promise((r) => setTimeout(r, 300));
  const out = path.join(dir, 'written.cfg');
  assert.equal(await command(pen.control, `write ${out}`), '');
  const acl1 = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('acl 1 '));
  assert.deepEqual(acl1, ['acl 1 permit 127.0.85.101 255.255.255.255', 'acl 1 deny 127.0.85.100 255.255.255.255'],
    'after three HUPs list 1 still holds its two entries once');
  await held.client.write('still\n');
  assert.equal(await held.client.line(2000), 'still');
  assert.equal(b.open + a.open, 2, 'no connection was dropped by the reloads');
  assert.ok(pen.isRunning());
}));

test('write -> restart round trip: pen started with only -F FILE writes the same file back (but the date)', () => scoped(async (s) => {
  const dir = tempDir('ctlw');
  s.defer(() => removeDir(dir));
  const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(23) }));
  const c = s.backend(await startHttpNamed('C', { host: ip(24) }));
  const pen1 = s.pen(await penWithControl(ip(21), [], [a.spec, b.spec]));
  const file = path.join(dir, 'saved.cfg');

  // Change the state, partly through pen's penctl.
  for (const args of [['blacklist', '12'], ['tracking', '7'], ['server', '1', 'max', '5', 'hard', '9']]) {
    const r = await runPenctl([pen1.ctl, ...args]);
    assert.equal(r.code, 0, `penctl ${args.join(' ')}: ${r.stderr}`);
  }
  await set(pen1.control,
    'hash', 'weight', 'server 0 weight 3', 'server 1 weight 1 prio 4 acl 2',
    `server 2 address ${ip(24)} port ${portOf(c)} weight 2`,
    'acl 1 deny ::1/128', 'acl 1 permit 127.0.85.0 255.255.255.0', 'acl 2 deny 2001:db8::/32',
    'acl 3 permit 127.0.0.0 255.0.0.0',
    'tcp_fastclose up', 'tcp_nodelay', 'keepalive', 'pending_max 7');
  for (const [line, reply] of [['client_acl 1', '1\n'], ['control_acl 3', '3\n'], ['timeout 2', '2\n'], ['debug 1', '1\n'], ['idle_timeout 9', 'Idle timeout: 9 seconds\n'],
    ['conn_max 600', '600\n'], ['clients_max 3000', '3000\n']]) {
    assert.equal(await command(pen1.control, line!), reply);
  }
  assert.equal(await command(pen1.control, `write ${file}`), '');
  const first = fs.readFileSync(file, 'utf8');
  const mode1 = await command(pen1.control, 'mode');
  const servers1 = (await servers(pen1.control)).map((r) => ({ ...r, conn: 0, sx: 0, rx: 0 }));
  assert.match(first.split('\n')[0]!, /^# Generated by pen \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.match(first, /^acl 1 permit 127\.0\.85\.0 255\.255\.255\.0$/m);
  assert.match(first, /^acl 1 deny ::1\/128$/m);
  assert.match(first, /^server 1 acl 2 address 127\.0\.85\.23 port \d+ max 5 hard 9 weight 1 prio 4$/m);
  assert.match(await command(pen1.control, 'write /nonexistent-dir/x.cfg'), /^pen: write: can't write .*\n$/);

  // Restart from the file alone: same control address, same options, no LISTEN or BACKEND.
  assert.equal((await pen1.stop('SIGTERM', 3000)).code, 0);
  const pen2 = s.pen(await startPen([...userArgs(), '-C', pen1.ctl, '-F', file], { ready: pen1.endpoint }));
  await waitControl(pen2.pid, pen1.control);
  assert.equal(await command(pen1.control, 'write'), '', 'write without FILE writes the -F file');
  const second = fs.readFileSync(file, 'utf8');
  assert.deepEqual(second.split('\n').slice(1), first.split('\n').slice(1), 'the same file but for line 1 (the date)');

  assert.equal(await command(pen1.control, 'mode'), mode1);
  assert.deepEqual(await servers(pen1.control), servers1);
  for (const [line, reply] of [['blacklist', '12\n'], ['tracking', '7\n'], ['timeout', '2\n'], ['client_acl', '1\n'],
    ['control_acl', '3\n'], ['idle_timeout', 'Idle timeout: 9 seconds\n'], ['pending_max', '7\n'],
    ['conn_max', '600\n'], ['clients_max', '3000\n'], ['listen', `${pen1.endpoint.host}:${pen1.endpoint.port}\n`]]) {
    assert.equal(await command(pen1.control, line!), reply, `${line} after the restart`);
  }
  assert.match(await whoAnswers(pen1.endpoint, { localAddress: ip(100) }), /^[ABC]$/, 'the restarted pen serves');
  assert.equal(await outcome(pen1.endpoint, '127.0.86.1'), 'denied', 'client_acl 1 from the file: a client outside 127.0.85.0/24 is denied');
}));
