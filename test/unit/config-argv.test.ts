import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { parseArgv, type ParsedArgv } from '../../lib/config/argv.js';
import { DEFAULTS, SettingsSchema, type Settings } from '../../lib/config/settings.js';
import { formatError } from '../../lib/errors.js';
import { toSnapshot } from '../../lib/engine/to-snapshot.js';

const servicesFile = join(mkdtempSync(join(tmpdir(), 'pen-services-')), 'services');
writeFileSync(servicesFile, 'http 80/tcp www\nsmtp 25/tcp mail\n');
const opts = { servicesFile };

type Run = Extract<ParsedArgv, { action: 'run' }>;

function run(...argv: string[]): Run {
  const r = parseArgv(argv, opts);
  assert.equal(r.action, 'run');
  return r as Run;
}
const settings = (...argv: string[]): Settings => run(...argv).settings;

const srv = (host: string, port: number, maxc = 0, hard = 0, weight = 0, prio = 0) =>
  ({ host, port, maxc, hard, weight, prio, acl: 0 });

/** Asserts that parseArgv throws PenError `code` with exit 2 and exactly `message` (or a match). */
function fails(argv: string[], code: string, message: string | RegExp): void {
  assert.throws(() => parseArgv(argv, opts), (e: any) => {
    assert.equal(e.code, code);
    assert.equal(e.exitCode, 2);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('LISTEN and BACKENDs with defaults everywhere else', () => {
  const r = run('80', 'www1:8080', 'www2');
  assert.deepEqual(r.commands, []);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.settings, {
    ...DEFAULTS, listen: '80', servers: [srv('www1', 8080), srv('www2', 80)],
  });
  SettingsSchema.parse(r.settings);
});

test('DEFAULTS are not mutated by parsing', () => {
  const before = structuredClone(DEFAULTS);
  settings('-d', '-x', '9', '80', 'a');
  assert.deepEqual(DEFAULTS, before);
  assert.deepEqual(settings('80', 'a').servers, [srv('a', 80)]);
});

test('flags', () => {
  assert.equal(settings('-f', '80', 'a').foreground, true);
  assert.equal(settings('-h', '80', 'a').hash, true);
  assert.equal(settings('-r', '80', 'a').roundrobin, true);
  assert.equal(settings('-s', '80', 'a').stubborn, true);
  assert.equal(settings('-W', '80', 'a').weight, true);
  assert.equal(settings('-X', '80', 'a').exitEnabled, true);
  assert.equal(settings('-P', '80', 'a').eventBackend, 'poll');
  const s = settings('80', 'a');
  for (const k of ['foreground', 'hash', 'roundrobin', 'stubborn', 'weight', 'exitEnabled'] as const) {
    assert.equal(s[k], false, k);
  }
  assert.equal(s.eventBackend, 'default');
});

test('-d is repeatable', () => {
  assert.equal(settings('80', 'a').debug, 0);
  assert.equal(settings('-d', '80', 'a').debug, 1);
  assert.equal(settings('-d', '-d', '80', 'a').debug, 2);
  assert.equal(settings('-ddd', '80', '-d', 'a').debug, 4);
});

test('numeric options, separate and attached', () => {
  const s = settings('-b', '10', '-c3000', '-T', '60', '-t', '7', '-x', '1000', '-m', '5', '-q', '1024', '80', 'a');
  assert.equal(s.blacklist, 10);
  assert.equal(s.clientsMax, 3000);
  assert.equal(s.tracking, 60);
  assert.equal(s.timeout, 7);
  assert.equal(s.connMax, 1000);
  assert.equal(s.multiAccept, 5);
  assert.equal(s.listenQueue, 1024);
  assert.equal(settings('-x500', '80', 'a').connMax, 500);
  assert.equal(settings('-b0', '80', 'a').blacklist, 0);
  assert.equal(settings('-T0', '80', 'a').tracking, 0);
  assert.equal(settings('-t1', '80', 'a').timeout, 1);
  assert.equal(settings('-x', '2147483647', '80', 'a').connMax, 2147483647);
  assert.equal(settings('-b', '007', '80', 'a').blacklist, 7);
});

test('string options', () => {
  const s = settings('-j', '/var/empty', '-p/run/pen.pid', '-u', 'nobody', '80', 'a');
  assert.equal(s.chroot, '/var/empty');
  assert.equal(s.pidfile, '/run/pen.pid');
  assert.equal(s.user, 'nobody');
  assert.equal(settings('-u', 'a', '-u', 'b', '80', 'x').user, 'b'); // the last one wins
  fails(['-p', '', '80', 'a'], 'PEN_ERR_USAGE', 'option -p needs a non-empty argument');
  fails(['-j', '', '80', 'a'], 'PEN_ERR_USAGE', 'option -j needs a non-empty argument');
  fails(['-u', '', '80', 'a'], 'PEN_ERR_USAGE', 'option -u needs a non-empty argument');
});

test('-O and -o collect commands in order, unexecuted', () => {
  const r = run('-O', 'blacklist 5', '80', '-o', 'roundrobin', 'a', '-Odebug 2', '-oprio');
  assert.deepEqual(r.commands, ['blacklist 5', 'roundrobin', 'debug 2', 'prio']);
  assert.equal(r.settings.blacklist, 30);
  assert.equal(r.settings.roundrobin, false);
  assert.deepEqual(run('-O', '-f', '80', 'a').commands, ['-f']); // an argument may start with '-'
  fails(['-O', '', '80', 'a'], 'PEN_ERR_USAGE', 'option -O needs a non-empty argument');
});

test('-e and -B use the backend syntax and the listen port', () => {
  const s = settings('-e', 'backup', '-B', '[::1]:81:5', '8080', 'a');
  assert.deepEqual(s.emergency, srv('backup', 8080));
  assert.deepEqual(s.abuse, srv('::1', 81, 5));
  assert.equal(settings('80', 'a').emergency, null);
  assert.equal(settings('80', 'a').abuse, null);
  fails(['-e', 'x:y', '80', 'a'], 'PEN_ERR_SERVER_SPEC', /^emergency server \(-e\) "x:y" has a port "y"/);
  fails(['-B', '::1', '80', 'a'], 'PEN_ERR_SERVER_SPEC', /^abuse server \(-B\) "::1" starts with an IPv6 address/);
});

test('clustered flags and an argument at the end of a cluster', () => {
  const s = settings('-frsW', '80', 'a');
  assert.deepEqual([s.foreground, s.roundrobin, s.stubborn, s.weight], [true, true, true, true]);
  const t = settings('-frx500', '80', 'a');
  assert.deepEqual([t.foreground, t.roundrobin, t.connMax], [true, true, 500]);
  const u = settings('-fx', '600', '80', 'a');
  assert.deepEqual([u.foreground, u.connMax], [true, 600]);
  const v = settings('-dfO', 'prio', '80', 'a');
  assert.equal(v.debug, 1);
  assert.deepEqual(run('-dfO', 'prio', '80', 'a').commands, ['prio']);
  // the argument swallows the rest of the cluster, like getopt
  assert.equal(settings('-urf', '80', 'a').user, 'rf');
  assert.equal(settings('-urf', '80', 'a').foreground, false);
});

test('GNU permutation: options after positionals', () => {
  const r = run('80', '-f', 'a:81', '-r', 'b', '-x', '900');
  assert.equal(r.settings.listen, '80');
  assert.deepEqual(r.settings.servers, [srv('a', 81), srv('b', 80)]);
  assert.equal(r.settings.foreground, true);
  assert.equal(r.settings.roundrobin, true);
  assert.equal(r.settings.connMax, 900);
});

test('-- ends the options', () => {
  const r = run('-f', '--', '80', '-r');
  assert.equal(r.settings.foreground, true);
  assert.equal(r.settings.roundrobin, false);
  assert.deepEqual(r.settings.servers, [srv('-r', 80)]);
  fails(['--', '--help', 'a'], 'PEN_ERR_LISTEN_SPEC', /^listen address "--help"/); // not help
  assert.equal(run('--', '80', 'a').settings.listen, '80');
});

test('a lone "-" is a positional', () => {
  assert.throws(() => parseArgv(['-', 'a'], opts), { code: 'PEN_ERR_LISTEN_SPEC' });
  assert.deepEqual(settings('80', '-').servers, [srv('-', 80)]);
});

test('help and version', () => {
  assert.deepEqual(parseArgv(['--help']), { action: 'help' });
  assert.deepEqual(parseArgv(['-?']), { action: 'help' });
  assert.deepEqual(parseArgv(['-f?']), { action: 'help' });
  assert.deepEqual(parseArgv(['80', 'a', '--help']), { action: 'help' });
  assert.deepEqual(parseArgv(['-f', '--help', '-k']), { action: 'help' }); // first come, first served
  assert.deepEqual(parseArgv(['--version']), { action: 'version' });
  assert.deepEqual(parseArgv(['-d', '--version', '80']), { action: 'version' });
  assert.equal(parseArgv(['-h', '80', 'a']).action, 'run'); // -h is hash, not help
});

test('unknown options', () => {
  fails(['-k', '80', 'a'], 'PEN_ERR_USAGE', 'unknown option -k');
  fails(['-fk', '80', 'a'], 'PEN_ERR_USAGE', 'unknown option -k');
  fails(['80', 'a', '-1'], 'PEN_ERR_USAGE', 'unknown option -1');
  fails(['--foo', '80', 'a'], 'PEN_ERR_USAGE', 'unknown option --foo');
  fails(['--hel', '80', 'a'], 'PEN_ERR_USAGE', 'unknown option --hel');
  fails(['--help=x'], 'PEN_ERR_USAGE', 'unknown option --help=x');
  try {
    parseArgv(['-k']);
    assert.fail('no error');
  } catch (e: any) {
    assert.equal(formatError(e), 'pen: unknown option -k (try pen --help)');
  }
});

test('missing option arguments', () => {
  fails(['-x'], 'PEN_ERR_USAGE', 'option -x requires an argument');
  fails(['80', 'a', '-b'], 'PEN_ERR_USAGE', 'option -b requires an argument');
  fails(['80', 'a', '-fe'], 'PEN_ERR_USAGE', 'option -e requires an argument');
  fails(['80', 'a', '-O'], 'PEN_ERR_USAGE', 'option -O requires an argument');
  fails(['80', 'a', '-S'], 'PEN_ERR_USAGE', 'option -S requires an argument');
});

test('missing LISTEN or BACKEND', () => {
  fails([], 'PEN_ERR_USAGE', 'no LISTEN address given');
  fails(['-f', '-d'], 'PEN_ERR_USAGE', 'no LISTEN address given');
  fails(['80'], 'PEN_ERR_USAGE', 'no BACKEND given: name at least one, e.g. pen 8080 127.0.0.1:8001');
  fails(['-f', '80', '-r'], 'PEN_ERR_USAGE', /^no BACKEND given/);
});

test('zero backends are allowed when a command may add servers', () => {
  const r = run('80', '-O', 'server 0 address 127.0.0.1 port 8001');
  assert.deepEqual(r.settings.servers, []);
  assert.deepEqual(r.commands, ['server 0 address 127.0.0.1 port 8001']);
});

test('-O "listen ADDR": every positional is a backend (quirk 40)', () => {
  const r = run('-O', 'listen 9000', 'b1', 'b2:81');
  assert.equal(r.settings.listen, null); // the command sets it when the control table runs it
  assert.deepEqual(r.settings.servers, [srv('b1', 9000), srv('b2', 81)]);
  assert.deepEqual(r.commands, ['listen 9000']);
  // the last listen command gives the default port
  assert.deepEqual(settings('-O', 'listen 1', '-o', 'listen  [::1]:2', 'b').servers, [srv('b', 2)]);
  // a command with no ADDR only shows the listener
  assert.equal(settings('-O', 'listen', '80', 'b').listen, '80');
  assert.deepEqual(run('-O', 'listen 9000').settings.servers, []);
  fails(['-O', 'listen 70000', 'b'], 'PEN_ERR_LISTEN_SPEC', /has port 70000 out of range/);
  fails(['-O', 'listen /tmp/p.sock', 'b'], 'PEN_ERR_SERVER_SPEC',
    'backend "b" needs an explicit port when listening on a unix socket');
});

test('LISTEN forms', () => {
  assert.equal(settings('127.0.0.1:8080', 'a').listen, '127.0.0.1:8080');
  assert.deepEqual(settings('127.0.0.1:8080', 'a').servers, [srv('a', 8080)]);
  assert.deepEqual(settings('::1:8080', 'a').servers, [srv('a', 8080)]);
  assert.deepEqual(settings(':::8081', 'a').servers, [srv('a', 8081)]);
  assert.deepEqual(settings('[::1]:8082', '[::1]').servers, [srv('::1', 8082)]);
  assert.equal(settings('[::1]:8082', 'a').listen, '[::1]:8082');
  fails(['[::1]', 'a'], 'PEN_ERR_LISTEN_SPEC', /needs a port after "\]"/);
  fails(['70000', 'a'], 'PEN_ERR_LISTEN_SPEC', /out of range/);
  fails(['a:b:80', 'a'], 'PEN_ERR_LISTEN_SPEC', /neither a name nor an IPv6 address/);
});

test('service names for LISTEN and backends (Pen\'s own example)', () => {
  const s = settings('smtp', 'mailhost1:smtp', 'mailhost2:25', 'mailhost3');
  assert.equal(s.listen, 'smtp');
  assert.deepEqual(s.servers, [srv('mailhost1', 25), srv('mailhost2', 25), srv('mailhost3', 25)]);
  fails(['nosuchservice', 'a:1'], 'PEN_ERR_LISTEN_SPEC', /not a tcp service/);
});

test('unix listener: backends need explicit ports (quirk 48)', () => {
  const s = settings('/tmp/pen.sock', 'a:80', '/tmp/b.sock');
  assert.equal(s.listen, '/tmp/pen.sock');
  assert.deepEqual(s.servers, [srv('a', 80), srv('/tmp/b.sock', 0)]);
  fails(['/tmp/pen.sock', 'a'], 'PEN_ERR_SERVER_SPEC', 'backend "a" needs an explicit port when listening on a unix socket');
  fails(['/tmp/pen.sock', 'a:80', '-e', 'x'], 'PEN_ERR_SERVER_SPEC',
    'emergency server (-e) "x" needs an explicit port when listening on a unix socket');
  fails(['0', 'a'], 'PEN_ERR_SERVER_SPEC', 'backend "a" needs an explicit port when the listen port is 0 (chosen by the OS)');
  assert.deepEqual(settings('0', 'a:1').servers, [srv('a', 1)]);
});

test('backend errors name the spec and field', () => {
  fails(['80', 'a:80:x'], 'PEN_ERR_SERVER_SPEC', 'backend "a:80:x" has a bad maxc "x" (expected a whole number 0..2147483647)');
  fails(['80', 'a', '::1'], 'PEN_ERR_SERVER_SPEC', /^backend "::1" starts with an IPv6 address without brackets/);
  fails(['80', 'a:1:2:3:4:5:6'], 'PEN_ERR_SERVER_SPEC', /too many fields/);
  fails(['80', '8080'], 'PEN_ERR_SERVER_SPEC', /looks like a port/);
});

test('-m and -q are bumped with Pen\'s messages', () => {
  let r = run('-m', '0', '-q', '49', '80', 'a');
  assert.equal(r.settings.multiAccept, 1);
  assert.equal(r.settings.listenQueue, 50);
  assert.deepEqual(r.warnings, ['multi_accept bumped to 1', 'listen_queue bumped to 50']);
  r = run('-m', '-3', '-q-1', '80', 'a');
  assert.equal(r.settings.multiAccept, 1);
  assert.equal(r.settings.listenQueue, 50);
  assert.equal(r.warnings.length, 2);
  r = run('-m1', '-q50', '80', 'a');
  assert.equal(r.settings.multiAccept, 1);
  assert.equal(r.settings.listenQueue, 50);
  assert.deepEqual(r.warnings, []);
  fails(['-m', 'lots', '80', 'a'], 'PEN_ERR_RANGE', '-m (multi_accept) must be a whole number up to 2147483647, got "lots"');
  fails(['-q', '1e3', '80', 'a'], 'PEN_ERR_RANGE', /^-q \(listen_queue\) must be a whole number/);
});

test('numbers are checked (no atoi)', () => {
  fails(['-t', '0', '80', 'a'], 'PEN_ERR_RANGE', '-t (timeout seconds) must be a whole number from 1 to 2147483, got "0"');
  fails(['-t-1', '80', 'a'], 'PEN_ERR_RANGE', /^-t \(timeout seconds\)/);
  fails(['-x', 'abc', '80', 'a'], 'PEN_ERR_RANGE', '-x (connection table size) must be a whole number from 1 to 2147483647, got "abc"');
  fails(['-x', '0', '80', 'a'], 'PEN_ERR_RANGE', /^-x \(connection table size\)/);
  fails(['-x', '2147483648', '80', 'a'], 'PEN_ERR_RANGE', /got "2147483648"/);
  fails(['-x', '', '80', 'a'], 'PEN_ERR_RANGE', /got ""/);
  fails(['-x', ' 5', '80', 'a'], 'PEN_ERR_RANGE', /got " 5"/);
  fails(['-c', '0', '80', 'a'], 'PEN_ERR_RANGE', /^-c \(client table size\) must be a whole number from 1/);
  fails(['-b', '-1', '80', 'a'], 'PEN_ERR_RANGE', /^-b \(blacklist seconds\) must be a whole number from 0/);
  fails(['-T', '1.5', '80', 'a'], 'PEN_ERR_RANGE', /^-T \(tracking seconds\)/);
  fails(['-b', '0x10', '80', 'a'], 'PEN_ERR_RANGE', /got "0x10"/);
  try {
    parseArgv(['-t', '0', '80', 'a'], opts);
  } catch (e: any) {
    assert.equal(formatError(e), 'pen: -t (timeout seconds) must be a whole number from 1 to 2147483, got "0" (try pen --help)');
  }
});

test('-H and the TLS options set their settings; TLS paths become absolute', () => {
  const r = parseArgv(['-H', '-E', 'c.pem', '-K', '/k.pem', '-G', 'ca.pem', '-A', '/etc/ssl/certs', '-R', '-Z',
    '-L', 'tls1.3', '80', 'a']);
  assert.ok(r.action === 'run');
  const s = r.settings;
  assert.equal(s.http, true);
  assert.equal(s.sslCert, path.resolve('c.pem'));
  assert.equal(s.sslKey, '/k.pem');
  assert.equal(s.sslCaFile, path.resolve('ca.pem'));
  assert.equal(s.sslCaDir, '/etc/ssl/certs');
  assert.equal(s.sslVerifyClient, true);
  assert.equal(s.sslBugWorkarounds, true);
  assert.equal(s.sslProtocol, 'tls1.3');
  assert.deepEqual(r.warnings, []);
  for (const p of ['ssl23', 'tls1', 'tls1.2']) {
    const x = parseArgv(['-E', 'c.pem', '-L', p, '80', 'a']);
    assert.equal(x.action === 'run' && x.settings.sslProtocol, p);
  }
});

test('-L refuses SSLv2/SSLv3/TLS 1.0/1.1 by name and unknown versions; TLS needs TCP', () => {
  fails(['-E', 'c.pem', '-L', 'ssl3', '80', 'a'], 'PEN_ERR_UNSUPPORTED', /-L ssl3: SSLv3 is insecure and not supported/);
  fails(['-E', 'c.pem', '-L', 'ssl2', '80', 'a'], 'PEN_ERR_UNSUPPORTED', /SSLv2 is insecure/);
  fails(['-E', 'c.pem', '-L', 'tls1.1', '80', 'a'], 'PEN_ERR_UNSUPPORTED', /TLS 1\.1 is insecure/);
  fails(['-L', 'tls9', '80', 'a'], 'PEN_ERR_USAGE', '-L: protocol version tls9 not known (ssl23, tls1, tls1.2 or tls1.3)');
  fails(['-U', '-E', 'c.pem', '80', 'a'], 'PEN_ERR_USAGE', '-E (TLS) needs TCP: it cannot be combined with -U');
  fails(['-U', '-H', '80', 'a'], 'PEN_ERR_USAGE', '-H (HTTP headers) needs TCP: it cannot be combined with -U');
  const r = parseArgv(['-R', '80', 'a']);
  assert.deepEqual(r.action === 'run' && r.warnings, ['-K, -G, -A, -R, -Z and -L have no effect without -E (TLS certificate)']);
});

test('-C and -F set the control socket and the config file; -F alone needs no LISTEN', () => {
  const r = parseArgv(['-C', '127.0.0.1:9000', '-F', '/etc/pen.cfg', '80', 'a:1']);
  assert.equal(r.action === 'run' && r.settings.control, '127.0.0.1:9000');
  assert.equal(r.action === 'run' && r.settings.configFile, '/etc/pen.cfg');
  const f = parseArgv(['-F', '/etc/pen.cfg']);
  assert.equal(f.action === 'run' && f.settings.listen, null);
  fails(['-C', '[::1', '80', 'a'], 'PEN_ERR_LISTEN_SPEC', /listen address/);
});

test('-N hashes without saving the server; -i is refused with exit 2', async () => {
  const snapshotOf = async (argv: string[]) => {
    const r = parseArgv(argv);
    assert.ok(r.action === 'run');
    return { settings: r.settings, snap: await toSnapshot(r.settings) };
  };
  const n = await snapshotOf(['-N', '80', '127.0.0.1']);
  assert.equal(n.settings.hash, true);
  assert.equal(n.settings.forgetServers, true);
  assert.equal(n.snap.algorithm, 'hash');
  assert.equal(n.snap.track, false, 'the client table is not consulted');
  assert.equal(n.snap.hashPort, false, 'the hash is of the address alone (unlike -h -r)');
  assert.equal((await snapshotOf(['-h', '80', '127.0.0.1'])).snap.track, true, '-h alone remembers');
  fails(['-i', 'pen', '80', 'a'], 'PEN_ERR_UNSUPPORTED', '-i (Windows service) is not supported on this platform');
});

test('obsolete options are accepted with Pen\'s messages', () => {
  const r = run('-D', '-n', '-Q', '-S', '5', '80', 'a');
  assert.deepEqual(r.warnings, [
    '-D: delayed forward was removed in 0.26.0',
    '-n: only non-blocking sockets since 0.26.0',
    '-Q: kqueue is already the default where available',
    '-S: the server table grows dynamically since 0.28.1',
  ]);
  assert.deepEqual(r.settings, { ...DEFAULTS, listen: '80', servers: [srv('a', 80)] });
  // -S takes an argument (ignored, even garbage); -D -n -Q do not
  assert.equal(run('-S', 'many', '80', 'a').settings.listen, '80');
  assert.equal(run('-S7', '80', 'a').warnings.length, 1);
  assert.equal(run('-DnQf', '80', 'a').settings.foreground, true);
});

test('every letter of Pen\'s option string is known', () => {
  const letters = 'B:C:F:O:S:T:b:c:e:i:j:l:m:o:p:q:t:u:w:x:DHNPQWXUadfhnrsE:K:G:A:ZRL:'.replace(/:/g, '');
  for (const letter of letters) {
    try {
      parseArgv([`-${letter}`, '1', '80', 'a'], opts);
    } catch (e: any) {
      assert.doesNotMatch(e.message, /unknown option/, letter);
    }
  }
});

test('warnings keep command-line order', () => {
  assert.deepEqual(run('-Q', '-m0', '-D', '80', 'a').warnings, [
    '-Q: kqueue is already the default where available',
    'multi_accept bumped to 1',
    '-D: delayed forward was removed in 0.26.0',
  ]);
});

test('a realistic command line', () => {
  const r = run('-f', '-r', '-d', '-t', '5', '-x', '10000', '-c', '4096', '-p', '/run/pen.pid',
    '-e', 'sorry.example:8080', '-O', 'tcp_nodelay', '-W',
    '0.0.0.0:80', 'www1:8080:100:200:3', 'www2:8080:100:200:1', '[2001:db8::3]:8080');
  SettingsSchema.parse(r.settings);
  assert.deepEqual(r.settings.servers, [
    srv('www1', 8080, 100, 200, 3), srv('www2', 8080, 100, 200, 1), srv('2001:db8::3', 8080),
  ]);
  assert.deepEqual(r.settings.emergency, srv('sorry.example', 8080));
  assert.deepEqual(r.commands, ['tcp_nodelay']);
  assert.equal(r.settings.listen, '0.0.0.0:80');
});

test('-U: UDP mode, and service names are looked up for udp', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'pen-services-')), 'services');
  writeFileSync(file, 'domain 53/tcp\ndomain 53/udp\nsyslog 514/udp\nshell 514/tcp cmd\n');
  const runU = (argv: string[]): Run => parseArgv(argv, { servicesFile: file }) as Run;
  const udp = runU(['-U', 'domain', '127.0.0.1', 'ns2:syslog']);
  assert.equal(udp.settings.udp, true);
  assert.equal(udp.settings.servers[0]!.port, 53);
  assert.equal(udp.settings.servers[1]!.port, 514);
  assert.equal(runU(['53', 'a']).settings.udp, false);
  // -U may follow the positionals (getopt permutation): the lookups still use udp.
  assert.equal(runU(['127.0.0.1:syslog', 'a', '-U']).settings.servers[0]!.port, 514);
  assert.throws(() => parseArgv(['-U', 'cmd', 'a'], { servicesFile: file }),
    (e: any) => e.code === 'PEN_ERR_LISTEN_SPEC' && /not a udp service/.test(e.message));
});
