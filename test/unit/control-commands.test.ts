// Every command of spec/penctl.md §3 against a FakeEngine: exact replies and effects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandTable } from '../../lib/control/table.js';
import { makeContext, run } from './control-fixture.js';

const server = (host: string, port: number, more: Record<string, number> = {}) =>
  ({ host, port, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0, ...more });

test('blank lines, comments and unknown words', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, ''), '');
  assert.equal(await run(ctx, '   \t '), '');
  assert.equal(await run(ctx, '# a comment'), '');
  assert.equal(await run(ctx, '#timeout 9'), '');
  assert.equal(await run(ctx, 'frobnicate 3'), "do_cmd: ignoring command starting with 'frobnicate'\n");
  assert.equal(await run(ctx, 'block'), "do_cmd: ignoring command starting with 'block'\n");
  assert.equal(await run(ctx, 'no'), "do_cmd: ignoring command starting with 'no'\n");
  assert.equal(await run(ctx, 'no such'), "pen: unknown command 'no such'\n");
  assert.equal(ctx.updates, 0);
});

test('only the first line is executed; tabs and runs of spaces separate words', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'timeout  7\r\ntimeout 9\n'), '7\n');
  assert.equal(await run(ctx, 'timeout\t8'), '8\n');
  assert.equal(ctx.settings().timeout, 8);
});

test('numeric settings show, set and validate', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'blacklist'), '30\n');
  assert.equal(await run(ctx, 'blacklist 12'), '12\n');
  assert.equal(await run(ctx, 'tracking 60'), '60\n');
  assert.equal(await run(ctx, 'debug 2'), '2\n');
  assert.equal(await run(ctx, 'timeout'), '3\n');
  assert.equal(await run(ctx, 'timeout 0'),
    'pen: timeout: N must be a whole number from 1 to 2147483, got "0"; usage: timeout [N]\n');
  assert.equal(await run(ctx, 'timeout abc'),
    'pen: timeout: N must be a whole number from 1 to 2147483, got "abc"; usage: timeout [N]\n');
  assert.equal(await run(ctx, 'timeout 1 2'), 'pen: timeout: too many arguments; usage: timeout [N]\n');
  assert.equal(ctx.settings().timeout, 3);
  assert.deepEqual([ctx.settings().blacklist, ctx.settings().tracking, ctx.settings().debug], [12, 60, 2]);
});

test('clients_max and conn_max only grow', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'clients_max 100'), '2048\n');
  assert.equal(await run(ctx, 'clients_max 4096'), '4096\n');
  assert.equal(await run(ctx, 'conn_max 10'), '500\n');
  assert.equal(await run(ctx, 'conn_max 1000'), '1000\n');
  assert.equal(ctx.settings().connMax, 1000);
});

test('pending_max and idle_timeout clamp like Pen', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'pending_max -5'), '');
  assert.equal(await run(ctx, 'pending_max'), '1\n');
  assert.equal(await run(ctx, 'pending_max 50'), '');
  assert.equal(ctx.settings().pendingMax, 50);
  assert.equal(await run(ctx, 'idle_timeout'), 'Idle timeout: 0 seconds\n');
  assert.equal(await run(ctx, 'idle_timeout 90'), 'Idle timeout: 90 seconds\n');
  assert.equal(await run(ctx, 'idle_timeout -4'), 'Idle timeout: 0 seconds\n');
});

test('selection flags and mode', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'mode'), 'no hash no roundrobin no stubborn no weight no prio\n');
  for (const w of ['hash', 'roundrobin', 'stubborn', 'weight', 'prio']) assert.equal(await run(ctx, w), '');
  assert.equal(await run(ctx, 'mode'), 'hash roundrobin stubborn weight prio\n');
  assert.equal(await run(ctx, 'no roundrobin'), '');
  assert.equal(await run(ctx, 'no weight'), '');
  assert.equal(await run(ctx, 'mode'), 'hash no roundrobin stubborn no weight prio\n');
  assert.equal(await run(ctx, 'hash now'), 'pen: hash: too many arguments; usage: hash\n');
});

test('socket options, fastclose, source', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'tcp_nodelay'), '');
  assert.equal(await run(ctx, 'keepalive'), '');
  assert.equal(await run(ctx, 'no keepalive'), '');
  assert.equal(ctx.settings().tcpNodelay, true);
  assert.equal(ctx.settings().keepalive, false);
  assert.equal(await run(ctx, 'tcp_fastclose'), 'do_cmd: ignoring tcp_fastclose without argument\n');
  assert.equal(await run(ctx, 'tcp_fastclose both'), '');
  assert.equal(ctx.settings().tcpFastclose, 'both');
  assert.equal(await run(ctx, 'tcp_fastclose sideways'),
    'pen: tcp_fastclose: the argument must be one of up, down, both, off, got "sideways"; ' +
    'usage: tcp_fastclose up|down|both|off\n');
  assert.equal(ctx.settings().tcpFastclose, 'both');
  assert.equal(await run(ctx, 'source'), '');
  assert.equal(await run(ctx, 'source 10.0.0.300'), "unable to set source address to '10.0.0.300'\n");
  assert.equal(await run(ctx, 'source 127.0.0.2'), '');
  assert.equal(await run(ctx, 'source'), '127.0.0.2\n');
  assert.equal(await run(ctx, 'no source'), '');
  assert.equal(ctx.settings().source, null);
  assert.equal(await run(ctx, 'abort_on_error'), '');
  assert.equal(ctx.settings().abortOnError, true);
});

test('server N creates, changes, validates all keys before changing anything', async () => {
  const ctx = makeContext({ servers: [server('127.0.0.2', 8001)] });
  assert.equal(await run(ctx, 'server 0 port 8002 max 10 hard 20 weight 3 prio 1 acl 2'), '');
  assert.deepEqual(ctx.settings().servers[0], server('127.0.0.2', 8002, { maxc: 10, hard: 20, weight: 3, prio: 1, acl: 2 }));
  assert.equal(await run(ctx, 'server 0 address ::1'), '');
  assert.equal(ctx.settings().servers[0]!.host, '::1');
  assert.equal(ctx.settings().servers[0]!.port, 8002, 'changing the address keeps the port');

  assert.equal(await run(ctx, 'server 3 address 10.0.0.9 port 80'), '');
  assert.equal(ctx.settings().servers.length, 4);
  assert.deepEqual(ctx.settings().servers[1], server('0.0.0.0', 0), 'placeholder slot');
  assert.deepEqual(ctx.settings().servers[3], server('10.0.0.9', 80));

  const before = structuredClone(ctx.settings().servers);
  assert.equal(await run(ctx, 'server 0 port 9 acl 10'),
    'pen: server: acl must be a whole number from 0 to 9, got "10"\n');
  assert.equal(await run(ctx, 'server 0 port 9 colour blue'),
    'pen: server: unknown key "colour" (expected acl, address, port, max, hard, blacklist, weight or prio)\n');
  assert.equal(await run(ctx, 'server 0 port'), 'pen: server: missing value after "port"\n');
  assert.equal(await run(ctx, 'server 0 address bad:host'), 'pen: server: "bad:host" is not an IPv6 address\n');
  assert.equal(await run(ctx, 'server 0 port 9 address nowhere.invalid'),
    'pen: unknown or invalid address [nowhere.invalid]\n');
  assert.equal(await run(ctx, 'server'), 'pen: server: missing argument; usage: server N [acl A] [address ADDR] ' +
    '[port P] [max M] [hard H] [blacklist T] [weight W] [prio P]\n');
  assert.equal(await run(ctx, 'server 70000 port 1'),
    'pen: server: the server number must be a whole number from 0 to 65535, got "70000"; usage: server N ' +
    '[acl A] [address ADDR] [port P] [max M] [hard H] [blacklist T] [weight W] [prio P]\n');
  assert.deepEqual(ctx.settings().servers, before, 'nothing changed by a failing command');
});

test('server N for a server that does not exist is refused unless the command gives an address', async () => {
  const ctx = makeContext({ servers: [server('127.0.0.2', 8001), server('127.0.0.3', 8002)] });
  const refusal = 'pen: server: server 5 does not exist (servers are 0..1); to add it, give its address: ' +
    'server 5 address HOST port PORT\n';
  assert.equal(await run(ctx, 'server 5 blacklist 60'), refusal);
  assert.equal(await run(ctx, 'server 5 port 80 max 3'), refusal);
  assert.equal(await run(ctx, 'server 5'), refusal);
  assert.equal(ctx.settings().servers.length, 2, 'no placeholders were created');
  assert.deepEqual(ctx.engine.blacklistCalls, []);
  assert.equal(await run(ctx, 'server 2 address 127.0.0.4 port 8003 blacklist 5'), '');
  assert.deepEqual(ctx.settings().servers[2], server('127.0.0.4', 8003));
  assert.deepEqual(ctx.engine.blacklistCalls, [{ server: 2, seconds: 5 }]);
});

test('server N blacklist T acts on the data plane after the change', async () => {
  const ctx = makeContext({ servers: [server('127.0.0.2', 8001)] });
  assert.equal(await run(ctx, 'server 0 blacklist 60'), '');
  assert.equal(await run(ctx, 'server 0 blacklist 0'), '');
  assert.deepEqual(ctx.engine.blacklistCalls, [{ server: 0, seconds: 60 }, { server: 0, seconds: 0 }]);
  assert.equal(ctx.updates, 0, 'blacklisting alone changes no settings');
});

test('servers lists settings with the data plane counters', async () => {
  const ctx = makeContext({ servers: [server('127.0.0.2', 8001, { maxc: 10, hard: 20, weight: 3 }), server('::1', 8002)] });
  ctx.engine.counters = [{ conn: 2n, sx: 100n, rx: 2000n }];
  assert.equal(await run(ctx, 'servers'),
    '0 addr 127.0.0.2 port 8001 conn 2 max 10 hard 20 weight 3 prio 0 sx 100 rx 2000\n' +
    '1 addr ::1 port 8002 conn 0 max 0 hard 0 weight 0 prio 0 sx 0 rx 0\n');
});

test('servers with DSR (the data plane reports DSR counters): Pen\'s line, then frames and bytes', async () => {
  const ctx = makeContext({ servers: [server('10.0.0.11', 80), server('10.0.0.12', 80)] });
  ctx.engine.counters = [{ conn: 0n, sx: 1500n, rx: 0n }];
  ctx.engine.dsrFrames = [20n, 0n];
  ctx.engine.dsrBytes = [1500n, 0n];
  assert.equal(await run(ctx, 'servers'),
    '0 addr 10.0.0.11 port 80 conn 0 max 0 hard 0 weight 0 prio 0 sx 1500 rx 0 frames 20 bytes 1500\n' +
    '1 addr 10.0.0.12 port 80 conn 0 max 0 hard 0 weight 0 prio 0 sx 0 rx 0 frames 0 bytes 0\n');
});

test('acl, no acl, client_acl, control_acl', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'acl 1 permit 127.0.0.1'), '');
  assert.equal(await run(ctx, 'acl 1 deny 10.1.2.3 255.0.0.0'), '');
  assert.equal(await run(ctx, 'acl 2 permit 2001:db8::1/32'), '');
  assert.equal(await run(ctx, 'acl 3 deny country se'),
    'pen: acl: country entries need a GeoIP database: set one with geoip_db FILE (none given, and no ' +
    '/var/lib/GeoIP/GeoLite2-Country.mmdb or /usr/share/GeoIP/GeoLite2-Country.mmdb)\n');
  assert.deepEqual(ctx.settings().acls[1], [
    { kind: 'ipv4', permit: true, address: '127.0.0.1', mask: '255.255.255.255' },
    { kind: 'ipv4', permit: false, address: '10.0.0.0', mask: '255.0.0.0' },
  ]);
  assert.deepEqual(ctx.settings().acls[2], [{ kind: 'ipv6', permit: true, address: '2001:db8::', prefix: 32 }]);
  assert.deepEqual(ctx.settings().acls[3], []);
  assert.equal(await run(ctx, 'acl 10 permit 1.2.3.4'),
    'pen: acl: the list number must be a whole number from 0 to 9, got "10"; usage: acl N permit|deny ' +
    'A.B.C.D [MASK] | IPV6[/LEN] | country CC\n');
  assert.equal(await run(ctx, 'acl 1 allow 1.2.3.4'), 'pen: acl: expected permit or deny, got "allow"\n');
  assert.equal(await run(ctx, 'acl 1 permit 1.2.3'),
    'pen: acl: "1.2.3" is not an IPv4 address, an IPv6 address or "country"\n');
  assert.equal(await run(ctx, 'acl 1 permit ::1/129'), 'pen: acl: IPv6 prefix length must be 0..128, got "129"\n');
  assert.equal(await run(ctx, 'no acl 1'), '');
  assert.deepEqual(ctx.settings().acls[1], []);
  assert.equal(await run(ctx, 'no acl'), 'pen: no acl: missing argument; usage: no acl N\n');

  assert.equal(await run(ctx, 'client_acl'), '0\n');
  assert.equal(await run(ctx, 'client_acl 2'), '2\n');
  assert.equal(await run(ctx, 'control_acl 3'), '3\n');
  assert.match(await run(ctx, 'control_acl 11'), /^pen: control_acl: N must be a whole number from 0 to 9, got "11"/);
  assert.equal(ctx.settings().controlAcl, 3);
});

test('recent, connection, close, socket', async () => {
  const ctx = makeContext({ connMax: 4 });
  const now = Date.now();
  ctx.engine.clientTable = [
    { address: '127.0.0.1', server: 0, connects: 3, sx: 10n, rx: 20n, lastSeenMs: now - 5_000 },
    { address: '::1', server: 1, connects: 1, sx: 0n, rx: 0n, lastSeenMs: now - 600_000 },
  ];
  ctx.engine.connectionTable = [{ id: 2, state: 2, downfd: 7, upfd: 9, client: '127.0.0.1', server: 1, initial: 1,
    pendingDown: 0, pendingUp: 0, clientIndex: 0 }];
  assert.equal(await run(ctx, 'recent'), '127.0.0.1 connects 3 sx 10 rx 20\n');
  assert.equal(await run(ctx, 'recent 3600'), '127.0.0.1 connects 3 sx 10 rx 20\n::1 connects 1 sx 0 rx 0\n');
  assert.equal(await run(ctx, 'connection 2'),
    'Connection 2:\nstate = 2\ndownfd = 7, upfd = 9\nclient = 0, server = 1\npend = 0\n');
  assert.equal(await run(ctx, 'connection'),
    'Connection 0:\nstate = 0\ndownfd = -1, upfd = -1\nclient = -1, server = -1\npend = 0\n');
  assert.equal(await run(ctx, 'connection 4'), 'Connection 4 out of range\n');
  assert.equal(await run(ctx, 'connection -1'), 'Connection -1 out of range\n');
  assert.equal(await run(ctx, 'socket 9'), 'Socket 9 belongs to connection 2\n');
  assert.equal(await run(ctx, 'socket 3'), 'Socket 3 belongs to connection -1\n');
  assert.equal(await run(ctx, 'close 1'), 'Forcibly closing connection 1\n');
  assert.deepEqual(ctx.engine.closedIds, [], 'closing an unused slot touches nothing (quirk 12)');
  assert.equal(await run(ctx, 'close 2'), 'Forcibly closing connection 2\n');
  assert.deepEqual(ctx.engine.closedIds, [2]);
  assert.equal(await run(ctx, 'close 9'), 'Connection 9 out of range\n');
});

test('pid, control, exit, listen', async () => {
  const ctx = makeContext({ listen: '127.0.0.1:8080' });
  assert.equal(await run(ctx, 'pid'), '4242\n');
  assert.equal(await run(ctx, 'control'), '(null)\n');
  assert.equal(await run(makeContext({ control: '127.0.0.3:19000' }), 'control'), '127.0.0.3:19000\n');
  assert.equal(await run(ctx, 'exit'), 'Exit is not enabled; restart with -X flag\n');
  assert.equal(ctx.exits, 0);
  const x = makeContext({ exitEnabled: true });
  assert.equal(await run(x, 'exit'), '');
  assert.equal(x.exits, 1);

  assert.equal(await run(ctx, 'listen'), '127.0.0.1:8080\n');
  assert.equal(await run(ctx, 'listen 127.0.0.1:8081'), '127.0.0.1:8081\n');
  assert.equal(ctx.settings().listen, '127.0.0.1:8081');
  assert.equal(await run(ctx, 'listen 127.0.0.1:busy'), 'pen: listen address "127.0.0.1:busy" has a port "busy" ' +
    'that is not a tcp service in /etc/services; give a number\n');
  assert.equal(await run(ctx, 'listen busy.example:80'), 'pen: cannot listen on busy.example:80: EADDRINUSE\n');
  assert.equal(ctx.settings().listen, '127.0.0.1:8081', 'old listener kept (quirk 41a)');
  assert.deepEqual(ctx.listens, ['127.0.0.1:8081', 'busy.example:80']);
  assert.equal(await run(ctx, 'listen 127.0.0.1:8081'), '127.0.0.1:8081\n');
  assert.equal(ctx.listens.length, 2, 'same address: not re-opened');
});

test('event backends are start-up only', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'epoll', 'option'), '');
  assert.equal(ctx.settings().eventBackend, 'epoll');
  assert.equal(await run(ctx, 'epoll'), '', 'the current choice is accepted anywhere');
  assert.equal(await run(ctx, 'poll'),
    'pen: poll: the event backend is chosen at start-up (-O or the -F file); restart pen to change it\n');
  assert.equal(await run(ctx, 'select', 'option'), "pen: 'select' is not supported yet\n");
});

test('unsupported features refuse to turn on but accept their off forms', async () => {
  const ctx = makeContext();
  for (const line of ['peek', 'dsr_ip 1.2.3.4']) {
    const word = line.split(' ')[0];
    assert.equal(await run(ctx, line), `pen: '${word}' is not supported yet\n`, line);
  }
  for (const line of ['no peek']) {
    assert.equal(await run(ctx, line), '', line);
  }
  assert.equal(ctx.updates, 0);
});

test('transparent / no transparent: set the flag, write renders it when on, refused with dsr_if or once -u took the capability', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'transparent'), '');
  assert.equal(ctx.settings().transparent, true);
  assert.deepEqual(commandTable().byName.get('transparent')!.render!(ctx.settings()), ['transparent']);
  assert.equal(await run(ctx, 'no transparent'), '');
  assert.equal(ctx.settings().transparent, false);
  assert.deepEqual(commandTable().byName.get('transparent')!.render!(ctx.settings()), []);
  assert.equal(await run(ctx, 'transparent 1'), 'pen: transparent: too many arguments; usage: transparent\n');

  const dsr = makeContext({ dsrIf: 'eth1' });
  assert.match(await run(dsr, 'transparent'), /^pen: transparent: it does not go with dsr_if/);
  assert.equal(dsr.settings().transparent, false);

  const lost = makeContext();
  lost.transparentRefusal = () => 'the data plane lacks CAP_NET_RAW';
  assert.equal(await run(lost, 'transparent'), 'pen: transparent: the data plane lacks CAP_NET_RAW\n');
  assert.equal(lost.settings().transparent, false);
  const kept = makeContext({ transparent: true });
  kept.transparentRefusal = () => 'the data plane lacks CAP_NET_RAW';
  assert.equal(await run(kept, 'transparent'), '', 'already on: nothing to refuse');
});

test('dummy / no dummy set the flag; refused with -U and dsr_if', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'dummy'), '');
  assert.equal(ctx.settings().dummy, true);
  assert.equal(await run(ctx, 'no dummy'), '');
  assert.equal(ctx.settings().dummy, false);
  const udp = makeContext({ udp: true });
  assert.equal(await run(udp, 'dummy'), 'pen: dummy: the dummy server answers TCP clients; it does not work with -U\n');
  const dsr = makeContext({ dsrIf: 'eth1' });
  assert.equal(await run(dsr, 'dummy'), 'pen: dummy: with dsr_if pen never answers a client itself\n');
  assert.equal(dsr.settings().dummy, false);
  const tls = makeContext({ sslCert: '/etc/pen/cert.pem' });
  assert.equal(await run(tls, 'dummy'), '', 'the answer goes out over TLS');
});

test('idlers [N]: Idlers: current/wanted; N below conn_max, refused above and with -U', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'idlers'), 'Idlers: 0/0\n');
  assert.equal(await run(ctx, 'idlers 3'), 'Idlers: 0/3\n');
  assert.equal(ctx.settings().idlers, 3);
  ctx.engine.idlers = 2;
  assert.equal(await run(ctx, 'idlers'), 'Idlers: 2/3\n', 'current comes from the data plane');
  assert.equal(await run(ctx, 'idlers 499'), 'Idlers: 2/499\n');
  assert.equal(await run(ctx, 'idlers 500'),
    'pen: idlers: 500 is too many: idlers take connection slots, so at most conn_max - 1 (499) may be kept, leaving room for clients\n');
  assert.equal(ctx.settings().idlers, 499);
  assert.equal(await run(ctx, 'idlers -1'), 'pen: idlers: N must be a whole number from 0 to 2147483647, got "-1"; usage: idlers [N]\n');
  assert.equal(await run(ctx, 'idlers 0'), 'Idlers: 2/0\n');
  const udp = makeContext({ udp: true });
  assert.equal(await run(udp, 'idlers 0'), 'Idlers: 0/0\n');
  assert.match(await run(udp, 'idlers 1'), /^pen: idlers: idle backend connections are TCP connections; they do not work with -U\n$/);
});

test('dsr_if is start-up only; tarpit_acl refuses an empty list and out-of-range numbers', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'dsr_if'), '');
  assert.equal(await run(ctx, 'dsr_if eth1', 'option'), '');
  assert.equal(ctx.settings().dsrIf, 'eth1');
  assert.equal(await run(ctx, 'dsr_if'), 'eth1\n');
  assert.equal(await run(ctx, 'dsr_if eth2'),
    'pen: dsr_if: dsr_if is set at start-up (-O or the -F file); restart pen to change it\n');
  assert.match(await run(ctx, 'dsr_if a/b', 'option'), /^pen: dsr_if: .*interface name/);
  assert.match(await run(ctx, 'dsr_if averyveryverylongname', 'option'), /^pen: dsr_if: .*interface name/);
  assert.equal(await run(ctx, 'tarpit_acl'), 'tarpit_acl = -1\n');
  assert.match(await run(ctx, 'tarpit_acl 1'), /^pen: tarpit_acl: ACL 1 is empty/);
  assert.equal(ctx.settings().tarpitAcl, -1);
  assert.match(await run(ctx, 'tarpit_acl 10'), /^pen: tarpit_acl: .*from -1 to 9/);
  assert.equal(await run(ctx, 'acl 1 permit 10.0.0.66'), '');
  assert.equal(await run(ctx, 'tarpit_acl 1'), '');
  assert.equal(await run(ctx, 'tarpit_acl'), 'tarpit_acl = 1\n');
  assert.equal(await run(ctx, 'tarpit_acl -1'), '');
  assert.equal(ctx.settings().tarpitAcl, -1);
});

test('help lists every entry and describes one', async () => {
  const ctx = makeContext();
  const help = await run(ctx, 'help');
  assert.match(help, /^timeout \[N\]: /m);
  assert.match(help, /^no acl N: /m);
  assert.equal(await run(ctx, 'help no acl'), 'no acl N: empty list N (an empty list permits everyone)\n');
  assert.equal(await run(ctx, 'help nothing'), 'pen: help: no command "nothing"\n');
});

test('a handler that throws something unexpected ends only that command', async () => {
  const ctx = makeContext();
  ctx.engine.stats = () => { throw new TypeError('engine gone'); };
  assert.equal(await run(ctx, 'servers'), 'pen: servers: internal error: engine gone\n');
  assert.equal(await run(ctx, 'timeout'), '3\n');
});

test('timeout: above 2147483 s (its milliseconds overflow 31 bits) is a range error (issue 12, defect 7)', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'timeout 2147483'), '2147483\n');
  assert.equal(await run(ctx, 'timeout 2147484'),
    'pen: timeout: N must be a whole number from 1 to 2147483, got "2147484"; usage: timeout [N]\n');
  assert.equal(ctx.settings().timeout, 2147483);
});
