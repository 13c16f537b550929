import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServerSpec } from '../../lib/config/server-spec.js';
import { ServerSchema } from '../../lib/config/settings.js';

const servicesFile = join(mkdtempSync(join(tmpdir(), 'pen-services-')), 'services');
writeFileSync(servicesFile, 'http 80/tcp www\nsmtp 25/tcp mail\n');
const ctx = { servicesFile };

const srv = (host: string, port: number, maxc = 0, hard = 0, weight = 0, prio = 0) =>
  ({ host, port, maxc, hard, weight, prio, acl: 0 });

function fails(spec: string, message: string | RegExp, defaultPort = 8080, extra = {}): void {
  assert.throws(() => parseServerSpec(spec, defaultPort, { ...ctx, ...extra }), (e: any) => {
    assert.equal(e.code, 'PEN_ERR_SERVER_SPEC');
    assert.equal(e.exitCode, 2);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('host alone takes the default port', () => {
  assert.deepEqual(parseServerSpec('www1', 8080, ctx), srv('www1', 8080));
  assert.deepEqual(parseServerSpec('10.0.0.1', 80, ctx), srv('10.0.0.1', 80));
});

test('every field', () => {
  assert.deepEqual(parseServerSpec('www1:81', 80, ctx), srv('www1', 81));
  assert.deepEqual(parseServerSpec('www1:81:10', 80, ctx), srv('www1', 81, 10));
  assert.deepEqual(parseServerSpec('www1:81:10:20', 80, ctx), srv('www1', 81, 10, 20));
  assert.deepEqual(parseServerSpec('www1:81:10:20:3', 80, ctx), srv('www1', 81, 10, 20, 3));
  assert.deepEqual(parseServerSpec('www1:81:10:20:3:4', 80, ctx), srv('www1', 81, 10, 20, 3, 4));
  assert.deepEqual(parseServerSpec('h:65535:2147483647:0:0:0', 80, ctx), srv('h', 65535, 2147483647));
});

test('empty fields: port -> default, numbers -> 0', () => {
  assert.deepEqual(parseServerSpec('www1:', 80, ctx), srv('www1', 80));
  assert.deepEqual(parseServerSpec('www1::10', 80, ctx), srv('www1', 80, 10));
  assert.deepEqual(parseServerSpec('www1::::5', 80, ctx), srv('www1', 80, 0, 0, 5));
  assert.deepEqual(parseServerSpec('www1:::::5', 80, ctx), srv('www1', 80, 0, 0, 0, 5));
  assert.deepEqual(parseServerSpec('www1:::2:5', 80, ctx), srv('www1', 80, 0, 2, 5));
});

test('service names in the port field', () => {
  assert.deepEqual(parseServerSpec('mailhost1:smtp', 25, ctx), srv('mailhost1', 25));
  assert.deepEqual(parseServerSpec('w:www:3', 1, ctx), srv('w', 80, 3));
  fails('w:nosuch', /has a port "nosuch" that is not a tcp service/);
});

test('bracket form: IPv6, IPv4, names', () => {
  assert.deepEqual(parseServerSpec('[::1]', 80, ctx), srv('::1', 80));
  assert.deepEqual(parseServerSpec('[::1]:8080', 80, ctx), srv('::1', 8080));
  assert.deepEqual(parseServerSpec('[::1]::7', 80, ctx), srv('::1', 80, 7));
  assert.deepEqual(parseServerSpec('[2001:db8::2]:81:1:2:3:4', 80, ctx), srv('2001:db8::2', 81, 1, 2, 3, 4));
  assert.deepEqual(parseServerSpec('[fe80::1%eth0]:81', 80, ctx), srv('fe80::1%eth0', 81));
  assert.deepEqual(parseServerSpec('[127.0.0.1]:22', 80, ctx), srv('127.0.0.1', 22));
  assert.deepEqual(parseServerSpec('[www1]:22', 80, ctx), srv('www1', 22));
});

test('unix socket paths carry port 0 and keep the other fields', () => {
  assert.deepEqual(parseServerSpec('/tmp/b.sock', 80, ctx), srv('/tmp/b.sock', 0));
  assert.deepEqual(parseServerSpec('/tmp/b.sock', 0, ctx), srv('/tmp/b.sock', 0));
  assert.deepEqual(parseServerSpec('/tmp/b.sock::10:20:1:2', 80, ctx), srv('/tmp/b.sock', 0, 10, 20, 1, 2));
  assert.deepEqual(parseServerSpec('/tmp/b.sock:0:5', 80, ctx), srv('/tmp/b.sock', 0, 5));
  assert.deepEqual(parseServerSpec('[/run/a:b.sock]::3', 80, ctx), srv('/run/a:b.sock', 0, 3));
  assert.deepEqual(parseServerSpec('./rel.sock', 80, ctx), srv('./rel.sock', 0));
  fails('/tmp/b.sock:80', 'backend "/tmp/b.sock:80" is a unix socket path and takes no port (got "80")');
});

test('no default port (unix or port-0 listener): the port must be explicit', () => {
  assert.deepEqual(parseServerSpec('www1:81', 0, ctx), srv('www1', 81));
  fails('www1', 'backend "www1" needs an explicit port when listening on a unix socket', 0,
    { noDefaultPort: 'when listening on a unix socket' });
  fails('www1::10', /needs an explicit port/, 0);
  fails('[::1]', 'backend "[::1]" needs an explicit port because the listen port is 0', 0);
});

test('role names the spec in errors', () => {
  fails('', 'emergency server (-e) "" is empty', 80, { role: 'emergency server (-e)' });
  fails('x:y', /^abuse server \(-B\) "x:y" has a port "y"/, 80, { role: 'abuse server (-B)' });
});

test('bad ports', () => {
  fails('www1:0', 'backend "www1:0" has port 0 out of range (1..65535)');
  fails('www1:65536', 'backend "www1:65536" has port 65536 out of range (1..65535)');
  fails('www1:-1', 'backend "www1:-1" has a bad port "-1" (expected 1..65535 or a service name)');
  fails('www1:8o', /has a bad port "8o"/);
  fails('www1: 80', /has a bad port " 80"/);
});

test('bad numbers name the field', () => {
  fails('www1:80:x', 'backend "www1:80:x" has a bad maxc "x" (expected a whole number 0..2147483647)');
  fails('www1:80:1:-2', /has a bad hard "-2"/);
  fails('www1:80:1:2:1.5', /has a bad weight "1\.5"/);
  fails('www1:80:1:2:3:2147483648', /has a bad prio "2147483648"/);
  fails('www1:80:1e3', /has a bad maxc "1e3"/);
});

test('structure errors', () => {
  fails('', 'backend "" is empty');
  fails(':80', 'backend ":80" has an empty host');
  fails('[]:80', 'backend "[]:80" has an empty host');
  fails('www1:80:1:2:3:4:5', 'backend "www1:80:1:2:3:4:5" has too many fields (at most host:port:maxc:hard:weight:prio)');
  fails('[::1]:80:1:2:3:4:5', /too many fields/);
  fails('[::1', 'backend "[::1" has "[" without "]"');
  fails('[::1]80', 'backend "[::1]80" has "80" after "]" where ":PORT" was expected');
  fails('[a:b]:80', 'backend "[a:b]:80" has a host "a:b" that is not an IPv6 address');
  fails('a b:80', 'backend "a b:80" has a bad host "a b"');
  fails('8080', 'backend "8080" has a host "8080" that looks like a port; write host:port');
});

test('bare IPv6 is refused with a hint', () => {
  const msg = (s: string) => `backend "${s}" starts with an IPv6 address without brackets; write e.g. [::1]:8080`;
  fails('::1', msg('::1'));
  fails('::1:80', msg('::1:80'));
  fails('2001:db8::1', msg('2001:db8::1'));
  fails('fe80::1:80:10', msg('fe80::1:80:10'));
  fails('::ffff:127.0.0.1', msg('::ffff:127.0.0.1'));
});

test('results satisfy the Server schema', () => {
  for (const s of ['a', 'a:1:2:3:4:5', '[::1]:9', '/x/y']) {
    ServerSchema.parse(parseServerSpec(s, 80, ctx));
  }
});
