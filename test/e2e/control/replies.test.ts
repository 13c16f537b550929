// The control socket's replies over the real socket (spec/penctl.md §1-§3): the raw protocol
// byte for byte, pen's penctl program against a running pen, every show/set command's exact
// reply text, Pen's texts for unknown commands and `exit` without -X, pen's error replies for
// malformed and not-yet-supported commands (and that they change nothing), and `exit` with -X.
// Block 81 (see test/helpers/net.ts): pens on .1/.11/.21/... (listen and control port), their
// backends on the next addresses.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { closedPort, startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { command, exchange, penWithControl, runPenctl, servers } from '../../helpers/control.js';
import { hasIPv6Loopback, loopback } from '../../helpers/net.js';
import { commands as unsupported } from '../../../lib/control/commands/unsupported.js';
import { isListening } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, withTimeout } from '../../helpers/time.js';

const ip = loopback(81);

test('raw protocol: servers, mode, blacklist and pid byte for byte; one command per connection, reply ends at EOF', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
  const aPort = (a.endpoint as { port: number }).port;
  const bPort = (b.endpoint as { port: number }).port;
  const pen = s.pen(await penWithControl(ip(1), [], [`${a.spec}:5:10:3:2`, b.spec]));

  const raw = async (data: string | Buffer, end = false): Promise<Buffer> => {
    const x = await exchange(pen.control, data, { end });
    assert.equal(x.error, null, `the exchange ends with a clean EOF, not ${x.error}`);
    return x.bytes;
  };
  assert.deepEqual(await raw('servers\n'), Buffer.from(
    `0 addr ${ip(2)} port ${aPort} conn 0 max 5 hard 10 weight 3 prio 2 sx 0 rx 0\n` +
    `1 addr ${ip(3)} port ${bPort} conn 0 max 0 hard 0 weight 0 prio 0 sx 0 rx 0\n`));
  assert.deepEqual(await raw('mode\n'), Buffer.from('no hash no roundrobin no stubborn no weight no prio\n'));
  assert.deepEqual(await raw('blacklist\n'), Buffer.from('30\n'));
  assert.deepEqual(await raw('pid\n'), Buffer.from(`${pen.pid}\n`));

  // CRLF line ends (telnet) and text after the first line end: only the first line runs.
  assert.deepEqual(await raw('blacklist\r\n'), Buffer.from('30\n'));
  assert.deepEqual(await raw('blacklist 11\nblacklist 12\n'), Buffer.from('11\n'));
  assert.deepEqual(await raw('blacklist\n'), Buffer.from('11\n'), 'the second line was not executed');
  // A line without a line end, ended by the client's FIN, is still one command.
  assert.deepEqual(await raw('pid', true), Buffer.from(`${pen.pid}\n`));
  // A command split over two TCP segments (Pen truncated it; pen reads up to the line end).
  const split = await withTimeout(new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const c = net.connect(pen.control.port, pen.control.host);
    s.defer(() => c.destroy());
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', reject);
    c.on('close', () => resolve(Buffer.concat(chunks)));
    c.on('connect', () => {
      c.write('black');
      setTimeout(() => c.write('list\n'), 60);
    });
  }), 3000, 'the reply to a command split over two segments');
  assert.deepEqual(split, Buffer.from('11\n'));

  // Serving through pen works while the control port is in use.
  assert.match(await whoAnswers(pen.endpoint), /^[AB]$/);
}));

test("pen's penctl drives a running pen: replies on stdout, exit 0; error replies and connect failures exit 1", () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(13) }));
  const pen = s.pen(await penWithControl(ip(11), [], [a.spec, b.spec]));

  const shows = ['servers', 'mode', 'pid', 'connection 1'];
  const runs = await Promise.all(shows.map((cmd) => runPenctl([pen.ctl, ...cmd.split(' ')])));
  for (const [i, cmd] of shows.entries()) {
    const r = runs[i]!;
    assert.equal(r.code, 0, `penctl ${cmd}: exit status; stderr ${r.stderr}`);
    assert.equal(r.stdout, await command(pen.control, cmd), `penctl ${cmd} prints the raw reply`);
    assert.equal(r.stderr, '');
  }
  // Arguments are joined with single spaces; a setter prints nothing and exits 0.
  let r = await runPenctl([pen.ctl, 'server', '1', 'max', '4', 'hard', '6']);
  assert.deepEqual([r.code, r.stdout], [0, '']);
  assert.deepEqual((await servers(pen.control))[1]!.max, 4);
  r = await runPenctl([pen.ctl, 'blacklist', '9']);
  assert.deepEqual([r.code, r.stdout], [0, '9\n']);

  // The rest do not depend on each other: run them at once.
  const closed = await closedPort(ip(14)) as { host: string; port: number };
  const [bracketed, unknown, exit, bad, refused, noPort, usage] = await Promise.all([
    runPenctl([`[${ip(11)}]:${pen.control.port}`, 'blacklist']),
    runPenctl([pen.ctl, 'frobnicate', 'now']),
    runPenctl([pen.ctl, 'exit']),
    runPenctl([pen.ctl, 'blacklist', 'many']),
    runPenctl([`${closed.host}:${closed.port}`, 'servers']),
    runPenctl([ip(11), 'servers']),
    runPenctl([pen.ctl]),
  ]);
  assert.deepEqual([bracketed.code, bracketed.stdout], [0, '9\n'], 'the bracketed [host]:port target works too');
  // Error replies: printed, exit 1.
  assert.deepEqual([unknown.code, unknown.stdout], [1, "do_cmd: ignoring command starting with 'frobnicate'\n"]);
  assert.deepEqual([exit.code, exit.stdout], [1, 'Exit is not enabled; restart with -X flag\n']);
  assert.ok(pen.isRunning(), 'exit without -X leaves pen running');
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^pen: blacklist: .*\n$/);
  // Nothing listening, no port, no command: exit non-zero with a message on stderr.
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /error connecting to server/);
  assert.equal(noPort.code, 1);
  assert.match(noPort.stderr, /needs HOST:PORT/);
  assert.notEqual(usage.code, 0, 'a usage error is not a success');
  assert.match(usage.stderr + usage.stdout, /usage: penctl/);
  assert.equal(await whoAnswers(pen.endpoint, {}).then((n) => /^[AB]$/.test(n)), true);
}));

test('every show/set command replies exactly what spec/penctl.md §2 gives', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(23) }));
  const pen = s.pen(await penWithControl(ip(21), [], [a.spec, b.spec]));
  const listen = `${pen.endpoint.host}:${pen.endpoint.port}`;
  const steps: [string, string][] = [
    ['blacklist', '30\n'], ['blacklist 7', '7\n'], ['blacklist', '7\n'],
    ['timeout', '3\n'], ['timeout 5', '5\n'], ['timeout', '5\n'],
    ['tracking', '0\n'], ['tracking 9', '9\n'], ['tracking', '9\n'],
    ['debug', '0\n'], ['debug 1', '1\n'], ['debug 0', '0\n'],
    ['client_acl', '0\n'], ['client_acl 0', '0\n'],
    ['control_acl', '0\n'], ['control_acl 0', '0\n'],
    ['clients_max', '2048\n'], ['clients_max 4096', '4096\n'], ['clients_max 10', '4096\n'],
    ['conn_max', '500\n'], ['conn_max 600', '600\n'], ['conn_max 5', '600\n'],
    ['idle_timeout', 'Idle timeout: 0 seconds\n'], ['idle_timeout 7', 'Idle timeout: 7 seconds\n'],
    ['idle_timeout -3', 'Idle timeout: 0 seconds\n'],
    ['pending_max 5', ''], ['pending_max', '5\n'], ['pending_max -2', ''], ['pending_max', '1\n'],
    ['pending_max 100', ''],
    ['control', `${pen.ctl}\n`], ['listen', `${listen}\n`], ['pid', `${pen.pid}\n`],
    ['mode', 'no hash no roundrobin no stubborn no weight no prio\n'],
    ['hash', ''], ['roundrobin', ''], ['stubborn', ''], ['weight', ''], ['prio', ''],
    ['mode', 'hash roundrobin stubborn weight prio\n'],
    ['no hash', ''], ['mode', 'no hash roundrobin stubborn weight prio\n'],
    ['no roundrobin', ''], ['no stubborn', ''], ['no weight', ''], ['no prio', ''],
    ['mode', 'no hash no roundrobin no stubborn no weight no prio\n'],
    ['tcp_fastclose', "do_cmd: ignoring tcp_fastclose without argument\n"],
    ['tcp_fastclose both', ''], ['tcp_fastclose off', ''],
    ['tcp_nodelay', ''], ['no tcp_nodelay', ''], ['keepalive', ''], ['no keepalive', ''],
    ['abort_on_error', ''], ['no abort_on_error', ''],
    ['source', ''], ['source 127.0.81.21', ''], ['source', '127.0.81.21\n'],
    ['source nonsense', "unable to set source address to 'nonsense'\n"], ['source', '127.0.81.21\n'],
    ['no source', ''], ['source', ''],
    ['acl 1 permit 127.0.0.1', ''], ['acl 1 deny ::1/64', ''], ['no acl 1', ''],
    ['server 0 max 2 hard 3', ''], ['server 0 max 0 hard 0', ''],
    ['server 1 blacklist 0', ''],
    ['# a comment with words', ''], ['', ''],
    ['recent', ''],
    ['connection', 'Connection 0:\nstate = 0\ndownfd = -1, upfd = -1\nclient = -1, server = -1\npend = 0\n'],
    ['connection 3', 'Connection 3:\nstate = 0\ndownfd = -1, upfd = -1\nclient = -1, server = -1\npend = 0\n'],
    ['connection 600', 'Connection 600 out of range\n'], ['connection -1', 'Connection -1 out of range\n'],
    ['close 600', 'Connection 600 out of range\n'],
    ['socket 12345', 'Socket 12345 belongs to connection -1\n'],
    ['exit', 'Exit is not enabled; restart with -X flag\n'],
    // Show and off forms of optional features: what Pen shows when nothing is configured.
    ['idlers', 'Idlers: 0/0\n'], ['idlers 0', 'Idlers: 0/0\n'],
    ['no http', ''], ['no ascii', ''], ['no dummy', ''], ['no transparent', ''], ['no peek', ''],
    ['log', ''], ['no log', ''], ['web_stats', ''], ['no web_stats', ''],
  ];
  for (const [line, want] of steps) {
    assert.equal(await command(pen.control, line), want, `reply to ${JSON.stringify(line)}`);
  }
  // Pen sends this one without a newline; pen may add it (spec/quirks.md 36).
  assert.match(await command(pen.control, 'tarpit_acl'), /^tarpit_acl = -1\n?$/);
  // status with no web_stats file: Pen's text (or, before that lands, pen's refusal).
  assert.match(await command(pen.control, 'status'), /^(Unable to create webstats\n|pen: 'status' is not supported yet\n)$/);
  assert.ok(pen.isRunning());
}));

test("unknown commands get Pen's do_cmd reply; malformed and not-yet-supported ones an error naming the problem, and change nothing", () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(32) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(33) }));
  const pen = s.pen(await penWithControl(ip(31), ['-r'], [a.spec, b.spec]));
  const before = await command(pen.control, 'servers');

  for (const word of ['frobnicate', 'block', 'delayed_forward', 'SERVERS', 'servers,']) {
    assert.equal(await command(pen.control, `${word} 1 2`), `do_cmd: ignoring command starting with '${word}'\n`);
  }
  // Every entry of pen's "not supported yet" table (lib/control/commands/unsupported.ts; it
  // shrinks as features land), used to set something, is refused with one wording; its `no`
  // form (the feature is off) is accepted silently.
  const later = unsupported.flatMap((c) => c.name);
  for (const word of later.filter((w) => !w.startsWith('no '))) {
    assert.equal(await command(pen.control, `${word} 1`), `pen: '${word}' is not supported yet\n`, `reply to ${word} 1`);
  }
  for (const word of later.filter((w) => w.startsWith('no '))) {
    assert.equal(await command(pen.control, word), '', `reply to ${word}`);
  }
  // Malformed: one error line naming the command (Pen used atoi, crashed or was silent).
  for (const [line, word] of [
    ['blacklist many', 'blacklist'], ['timeout 0', 'timeout'], ['client_acl 12', 'client_acl'],
    ['control_acl -1', 'control_acl'], ['server zero max 1', 'server'], ['server 0 frob 1', 'server'],
    ['server 0 max', 'server'], ['server 0 port 70000', 'server'], ['acl 12 permit 1.2.3.4', 'acl'],
    ['acl 1 allow 1.2.3.4', 'acl'], ['acl 1 permit 1.2.3', 'acl'], ['acl 1 permit ::1/129', 'acl'],
    ['no acl', 'no acl'], ['tcp_fastclose sideways', 'tcp_fastclose'], ['connection x', 'connection'],
    ['socket', 'socket'], ['pid 3', 'pid'], ['include', 'include'], ['epoll', 'epoll'],
  ]) {
    const reply = await command(pen.control, line!);
    assert.match(reply, /^pen: [^\n]*\n$/, `one error line for ${JSON.stringify(line)}: ${JSON.stringify(reply)}`);
    assert.ok(reply.startsWith(`pen: ${word}`), `the error for ${JSON.stringify(line)} names the command: ${reply}`);
  }
  // `no X` for an unknown X: Pen ignored it silently; pen answers with an error naming it.
  assert.match(await command(pen.control, 'no frobnicate'), /^pen: .*no frobnicate.*\n$/);

  assert.equal(await command(pen.control, 'servers'), before, 'no failed command changed the servers');
  assert.equal(await command(pen.control, 'blacklist'), '30\n');
  assert.equal(await command(pen.control, 'timeout'), '3\n');
  assert.equal(await command(pen.control, 'client_acl'), '0\n');
  assert.equal(await command(pen.control, 'write'), "pen: write: no FILE given and pen was started without -F\n");
  const got = [await whoAnswers(pen.endpoint), await whoAnswers(pen.endpoint)].sort();
  assert.deepEqual(got, ['A', 'B'], 'pen still balances');
}));

test('exit with -X: no reply, pen shuts down like SIGTERM (status 0, listener closed)', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(42) }));
  const pen = s.pen(await penWithControl(ip(41), ['-X'], [a.spec]));
  assert.equal(await whoAnswers(pen.endpoint), 'A');
  const x = await exchange(pen.control, 'exit\n');
  assert.equal(x.bytes.length, 0, `exit replies nothing, got ${JSON.stringify(x.bytes.toString())}`);
  const exit = await withTimeout(pen.exited, 3000, 'pen to exit after the exit command');
  assert.deepEqual(exit, { code: 0, signal: null }, `stderr: ${pen.stderr()}`);
  await sleep(50);
  assert.notEqual(isListening(pen.pid, pen.endpoint), true);
  await assert.rejects(whoAnswers(pen.endpoint, { timeoutMs: 1000 }), 'the listener is gone');
}));

test("IPv6 control port: Pen's penctl form ::1:PORT and [::1]:PORT both reach it", async (t) => {
  if (!await hasIPv6Loopback()) {
    t.skip('no IPv6 loopback (::1) on this machine');
    return;
  }
  await scoped(async (s) => {
    const a = s.backend(await startHttpNamed('A', { host: ip(52) }));
    const pen = s.pen(await penWithControl(ip(51), [], [a.spec], { controlHost: '::1' }));
    assert.equal(await command(pen.control, 'control'), `${pen.ctl}\n`);
    for (const target of [`::1:${pen.control.port}`, `[::1]:${pen.control.port}`]) {
      const r = await runPenctl([target, 'pid']);
      assert.deepEqual([r.code, r.stdout], [0, `${pen.pid}\n`], `penctl ${target} pid; stderr ${r.stderr}`);
    }
  });
});
