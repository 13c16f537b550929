import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenPort, lookupService, parseListenSpec, parsePort } from '../../lib/config/listen-spec.js';

const servicesFile = join(mkdtempSync(join(tmpdir(), 'pen-services-')), 'services');
writeFileSync(servicesFile, [
  '# comment line',
  'http\t\t80/tcp\t\twww\t# WorldWideWeb HTTP',
  'smtp 25/tcp mail',
  'domain 53/udp',
  'both 7000/udp',
  'both 7001/tcp',
  'dup 1000/tcp',
  'dup 2000/tcp',
  'broken nonsense',
  '',
].join('\n'));
const opts = { servicesFile };

function fails(spec: string, message: string | RegExp): void {
  assert.throws(() => parseListenSpec(spec, opts), (e: any) => {
    assert.equal(e.code, 'PEN_ERR_LISTEN_SPEC');
    assert.equal(e.exitCode, 2);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('port only -> IPv4 wildcard', () => {
  assert.deepEqual(parseListenSpec('8080', opts), { kind: 'inet', host: null, port: 8080 });
  assert.deepEqual(parseListenSpec('1', opts), { kind: 'inet', host: null, port: 1 });
  assert.deepEqual(parseListenSpec('65535', opts), { kind: 'inet', host: null, port: 65535 });
});

test('port 0 means the OS chooses', () => {
  assert.deepEqual(parseListenSpec('0', opts), { kind: 'inet', host: null, port: 0 });
  assert.deepEqual(parseListenSpec('127.0.0.1:0', opts), { kind: 'inet', host: '127.0.0.1', port: 0 });
});

test('host:port, split at the last colon', () => {
  assert.deepEqual(parseListenSpec('127.0.0.1:8080', opts), { kind: 'inet', host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListenSpec('localhost:80', opts), { kind: 'inet', host: 'localhost', port: 80 });
  assert.deepEqual(parseListenSpec(':8080', opts), { kind: 'inet', host: null, port: 8080 });
});

test('IPv6 without brackets: everything before the last colon', () => {
  assert.deepEqual(parseListenSpec('::1:8080', opts), { kind: 'inet', host: '::1', port: 8080 });
  assert.deepEqual(parseListenSpec(':::8080', opts), { kind: 'inet', host: '::', port: 8080 });
  assert.deepEqual(parseListenSpec('fe80::1%lo:80', opts), { kind: 'inet', host: 'fe80::1%lo', port: 80 });
});

test('brackets around IPv6, IPv4 and names', () => {
  assert.deepEqual(parseListenSpec('[::1]:8080', opts), { kind: 'inet', host: '::1', port: 8080 });
  assert.deepEqual(parseListenSpec('[::]:443', opts), { kind: 'inet', host: '::', port: 443 });
  assert.deepEqual(parseListenSpec('[127.0.0.1]:22', opts), { kind: 'inet', host: '127.0.0.1', port: 22 });
  assert.deepEqual(parseListenSpec('[localhost]:http', opts), { kind: 'inet', host: 'localhost', port: 80 });
});

test('unix paths', () => {
  assert.deepEqual(parseListenSpec('/tmp/pen.sock', opts), { kind: 'unix', path: '/tmp/pen.sock' });
  assert.deepEqual(parseListenSpec('./pen.sock', opts), { kind: 'unix', path: './pen.sock' });
  assert.deepEqual(parseListenSpec('run/a:b', opts), { kind: 'unix', path: 'run/a:b' });
});

test('service names from the services file (tcp, aliases, first entry wins)', () => {
  assert.deepEqual(parseListenSpec('http', opts), { kind: 'inet', host: null, port: 80 });
  assert.deepEqual(parseListenSpec('www', opts), { kind: 'inet', host: null, port: 80 });
  assert.deepEqual(parseListenSpec('0.0.0.0:smtp', opts), { kind: 'inet', host: '0.0.0.0', port: 25 });
  assert.deepEqual(parseListenSpec('[::1]:mail', opts), { kind: 'inet', host: '::1', port: 25 });
  assert.equal(lookupService('both', 'tcp', servicesFile), 7001);
  assert.equal(lookupService('both', 'udp', servicesFile), 7000);
  assert.equal(lookupService('domain', 'tcp', servicesFile), null);
  assert.equal(lookupService('dup', 'tcp', servicesFile), 1000);
  assert.equal(lookupService('broken', 'tcp', servicesFile), null);
  assert.equal(lookupService('http', 'tcp', join(servicesFile, 'missing')), null);
});

test('the system /etc/services is the default', () => {
  const http = lookupService('http');
  if (http === null) return; // a machine without the file: nothing to check
  assert.equal(http, 80);
  assert.deepEqual(parseListenSpec('http'), { kind: 'inet', host: null, port: 80 });
});

test('unknown service names are refused clearly', () => {
  fails('nosuch', `listen address "nosuch" has no port (or "nosuch" is not a tcp service in ${servicesFile}): ` +
    'LISTEN is PORT, HOST:PORT or [IPV6]:PORT, e.g. nosuch:8080');
  fails('127.0.0.1', 'listen address "127.0.0.1" has no port: LISTEN is PORT, HOST:PORT or [IPV6]:PORT, e.g. 127.0.0.1:8080');
  fails('domain', /not a tcp service/);
  fails('host:nosuch', /not a tcp service/);
});

test('bad ports', () => {
  fails('65536', 'listen address "65536" has port 65536 out of range (1..65535, or 0 to let the OS choose)');
  fails('99999999999999999999', /out of range/);
  fails('-1', 'listen address "-1" has a bad port "-1" (expected 1..65535, 0 or a service name)');
  fails('8o8o', /has a bad port "8o8o"/);
  fails(' 80', /has a bad port " 80"/);
  fails('1.5', /has a bad port/);
  fails('host:', 'listen address "host:" has an empty port');
  fails('::1:', /has an empty port/);
});

test('bad hosts and brackets', () => {
  fails('', 'listen address "" is empty');
  fails('[::1', 'listen address "[::1" has "[" without "]"');
  fails('[]:80', 'listen address "[]:80" has nothing between "[" and "]"');
  fails('[::1]', 'listen address "[::1]" needs a port after "]", e.g. [::1]:8080');
  fails('[::1]8080', 'listen address "[::1]8080" has "8080" after "]" where ":PORT" was expected');
  fails('a:b:8080', 'listen address "a:b:8080" has a host "a:b" that is neither a name nor an IPv6 address');
  fails('[a:b]:8080', /neither a name nor an IPv6 address/);
  fails('a b:80', 'listen address "a b:80" has a bad host "a b"');
  fails('[[::1]]:80', /has a bad host|after "\]"/);
  fails('[a b]:80', 'listen address "[a b]:80" has a bad host "a b"');
});

test('parsePort', () => {
  assert.deepEqual(parsePort('80', 1, opts), { port: 80 });
  assert.deepEqual(parsePort('http', 1, opts), { port: 80 });
  assert.deepEqual(parsePort('0', 1, opts), { reason: 'has port 0 out of range (1..65535)' });
  assert.deepEqual(parsePort('0', 0, opts), { port: 0 });
  assert.deepEqual(parsePort('both', 1, { ...opts, proto: 'udp' }), { port: 7000 });
});

test('listenPort: the default backend port', () => {
  assert.equal(listenPort(parseListenSpec('8080', opts)), 8080);
  assert.equal(listenPort(parseListenSpec('[::1]:http', opts)), 80);
  assert.equal(listenPort(parseListenSpec('0', opts)), 0);
  assert.equal(listenPort(parseListenSpec('/tmp/x.sock', opts)), 0);
});
