// Statistics from a running pen: -w FILE written on USR1, the `status` command, and the USR1
// text report on stderr when no -w file is set.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startBanner } from '../../helpers/backends.js';
import { holdOne } from '../../helpers/clients.js';
import { command, penWithControl } from '../../helpers/control.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(95);
const CLIENT = ip(9);

/** The cells of each <tr> of a page section (between its heading and </table>). */
function rows(page: string, heading: string): string[][] {
  const start = heading ? page.indexOf(heading) : 0;
  const table = page.slice(start, page.indexOf('</table>', start));
  return [...table.matchAll(/<tr>\n([\s\S]*?)<\/tr>\n/g)].map((m) => [...m[1]!.matchAll(/<td[^>]*>(.*?)<\/td>\n/g)].map((c) => c[1]!));
}

test('-w FILE: USR1 writes Pen\'s page with the servers, the clients and the open connections', () => scoped(async (s) => {
  const dir = tempDir('webstats');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'pen.html');
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-w', file], [a.spec, `${ip(3)}:9:10:20:3:1`]));
  const { client } = await holdOne(pen.endpoint, { localAddress: CLIENT });
  s.client(client);
  client.socket.write('hi\n');
  await waitFor(() => a.open === 1, 3000, 'the connection to reach the backend');

  process.kill(pen.pid, 'SIGUSR1');
  await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').endsWith('</html>\n'), 3000, 'the page');
  const page = fs.readFileSync(file, 'utf8');
  assert.match(page, /^<html>\n<head>\n<title>Pen status page<\/title>\n<\/head>\n<body bgcolor="#ffffff"><h1>Pen status page<\/h1>\nTime \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, 2 servers, 0 current<p>\n/);
  const servers = rows(page, '');
  assert.deepEqual(servers[0], ['server', 'address', 'status', 'port', 'connections', 'max soft', 'max hard', 'sent', 'received', 'weight', 'prio']);
  assert.deepEqual(servers[1]!.slice(0, 7), ['0', ip(2), '0', String((a.endpoint as { port: number }).port), '1', '0', '0']);
  assert.ok(Number(servers[1]![7]) >= 3 && Number(servers[1]![8]) >= 2, `bytes counted: ${servers[1]}`);
  assert.deepEqual(servers[2], ['1', ip(3), '0', '9', '0', '10', '20', '0', '0', '3', '1']);
  const clients = rows(page, '<h2>Active clients</h2>');
  assert.deepEqual(clients[0], ['client', 'address', 'age(secs)', 'last server', 'connects', 'sent', 'received']);
  assert.deepEqual([clients[1]![1], clients[1]![3], clients[1]![4]], [CLIENT, '0', '1']);
  assert.match(page, /<h2>Active connections<\/h2>Number of connections: 500 max, 1 used, \d+ last<p>/);
  const conns = rows(page, '<h2>Active connections</h2>');
  assert.equal(conns.length, 2, 'the header and the one open connection');
  assert.ok(Number(conns[1]![1]) > 2 && Number(conns[1]![2]) > 2, `descriptors: ${conns[1]}`);
  assert.deepEqual(conns[1]!.slice(5), ['0', '0'], 'client row 0, server 0');
  assert.doesNotMatch(page, /Access log/, 'no request log configured');
}));

test('status: the same page over the control socket; Pen\'s error without web_stats', () => scoped(async (s) => {
  const dir = tempDir('webstats');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'pen.html');
  const a = s.backend(await startBanner('A', { host: ip(5) }));
  const pen = s.pen(await penWithControl(ip(4), [], [a.spec]));
  assert.equal(await command(pen.control, 'status'), 'Unable to create webstats\n');
  assert.equal(await command(pen.control, `web_stats ${file}`), `${file}\n`);
  const page = await command(pen.control, 'status');
  assert.match(page, /^<html>\n[\s\S]*<\/body>\n<\/html>\n$/);
  assert.equal(fs.readFileSync(file, 'utf8'), page, 'written to the web_stats file, then read back');
}));

test('USR1 without -w: the text report, one message per block, on stderr', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(7) }));
  const pen = s.pen(await penOn(ip(6), [], [a.spec]));
  const { client } = await holdOne(pen.endpoint, { localAddress: CLIENT });
  s.client(client);
  process.kill(pen.pid, 'SIGUSR1');
  await waitFor(() => /Active connections:/.test(pen.stderr()) && /Connection \d+ status/.test(pen.stderr()), 3000, 'the report');
  const err = pen.stderr();
  const at = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d: ';
  assert.match(err, new RegExp(`^${at}Time .*, 1 servers, 0 current$`, 'm'));
  assert.match(err, new RegExp(`^${at}Server 0 status:\\naddress ${ip(7).replace(/\./g, '\\.')}\\nnot blacklisted\\nport \\d+\\n1 connections \\(0 soft, 0 hard\\)\\n\\d+ sent, \\d+ received$`, 'm'));
  assert.match(err, new RegExp(`^${at}Max number of clients: 2048$`, 'm'));
  assert.match(err, new RegExp(`^${at}Client 0 status:\\naddress ${CLIENT.replace(/\./g, '\\.')}\\nage \\d+ seconds\\nlast server 0 \\(${ip(7).replace(/\./g, '\\.')}:\\d+\\)\\nconnects 1\\nsent \\d+\\nreceived \\d+$`, 'm'));
  assert.match(err, new RegExp(`^${at}Max number of connections: 500$`, 'm'));
  assert.match(err, new RegExp(`^${at}Connection \\d+ status:\\ndownfd = \\d+, upfd = \\d+\\npending data 0 down, 0 up\\nclient 0, server 0 \\(${ip(7).replace(/\./g, '\\.')}:\\d+\\)$`, 'm'));
  assert.ok(pen.isRunning());
}));
