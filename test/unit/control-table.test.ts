// The command table: complete against spec/penctl.md §3, one entry per name, generated help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { command, helpText } from '../../lib/control/command.js';
import { buildTable, commandTable } from '../../lib/control/table.js';
import { tokenize, firstLine } from '../../lib/control/tokenize.js';

/** Every command word of spec/penctl.md §3 (and `no source`, quirk 38). */
const PEN_COMMANDS = `abort_on_error|no abort_on_error|acl|no acl|ascii|no ascii|blacklist|client_acl|clients_max|
close|connection|conn_max|control|control_acl|debug|dsr_if|dsr_ip|dummy|no dummy|epoll|kqueue|poll|select|exit|
hash|no hash|http|no http|idle_timeout|idlers|include|keepalive|no keepalive|listen|log|no log|mode|peek|no peek|
pending_max|pid|prio|no prio|recent|roundrobin|no roundrobin|server|servers|socket|source|no source|ssl_ciphers|
ssl_client_renegotiation_interval|ssl_ocsp_response|ssl_option|ssl_sni_path|status|stubborn|no stubborn|tarpit_acl|
tcp_fastclose|tcp_nodelay|no tcp_nodelay|timeout|tracking|transparent|no transparent|web_stats|no web_stats|weight|
no weight|write`.replace(/\n/g, '').split('|');

test('every Pen command has an entry', () => {
  const table = commandTable();
  const missing = PEN_COMMANDS.filter((name) => !table.byName.has(name));
  assert.deepEqual(missing, []);
  const extra = [...table.byName.keys()].filter((name) => !PEN_COMMANDS.includes(name));
  assert.deepEqual(extra.sort(), ['geoip_db', 'help', 'no geoip_db', 'no ssl_ocsp_response', 'no ssl_option',
    'no ssl_sni_path', 'ssl_ciphersuites', 'udp_responses', 'udp_timeout', 'workers'],
    'the words Pen did not have: help, the GeoIP database, the TLS 1.3 ciphersuites, workers, UDP flow limits and ways to turn settings off');
});

test('duplicate and malformed names are refused when the table is built', () => {
  const entry = (name: string) => command({ name: [name], help: `${name}: x`, args: z.tuple([]), run: () => '' });
  assert.throws(() => buildTable([[entry('a')], [entry('a')]]), /command table: "a" is defined twice/);
  assert.throws(() => buildTable([[entry('two words')]]), /bad command name "two words"/);
  assert.equal(buildTable([[entry('a'), entry('no a')]]).byName.size, 2);
});

test('help has one line per entry, each "usage: description"', () => {
  const table = commandTable();
  const lines = helpText(table).split('\n').slice(0, -1);
  assert.equal(lines.length, table.commands.length);
  table.commands.forEach((c, i) => {
    assert.ok(lines[i]!.startsWith(c.name[0]!), lines[i]);
    assert.match(lines[i]!, /^\S.*?: \S/);
  });
});

test('tokenize and firstLine', () => {
  assert.deepEqual(tokenize('  server 1\taddress  ::1 \r\nmore'), ['server', '1', 'address', '::1']);
  assert.deepEqual(tokenize('\n'), []);
  assert.equal(firstLine('a b\rc\nd'), 'a b');
  assert.equal(firstLine('no newline'), 'no newline');
});
