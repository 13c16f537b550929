// Statistics: Pen's HTML status page (exact text), the USR1 text report, and the commands
// log, web_stats, status, ascii (with write saving them) through the command table.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FakeEngine } from '../../lib/engine/fake-engine.js';
import { defaultSettings } from '../../lib/config/settings.js';
import { renderTextStats } from '../../lib/log/textstats.js';
import { gatherStats, renderWebStats } from '../../lib/log/webstats.js';
import { makeContext, run } from './control-fixture.js';

const NOW = new Date(2026, 10, 25, 9, 41, 33); // local time, as the page shows it

function source() {
  const s = defaultSettings();
  s.servers = [
    { host: '127.0.0.2', port: 18001, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 },
    { host: '::1', port: 18002, maxc: 10, hard: 20, weight: 3, prio: 1, acl: 0 },
  ];
  s.blacklist = 30;
  const engine = new FakeEngine();
  engine.counters = [{ conn: 0n, sx: 79n, rx: 40n }, { conn: 1n, sx: 5n, rx: 6n }];
  engine.current = 1;
  engine.clientTable = [{ address: '127.0.0.1', server: 1, connects: 4, sx: 46n, rx: 84n, lastSeenMs: NOW.getTime() - 12_000 }];
  engine.connectionTable = [{ id: 3, state: 2, downfd: 11, upfd: 12, client: '127.0.0.1', server: 1, initial: 1, pendingDown: 7, pendingUp: 0, clientIndex: 0 }];
  const stats = engine.stats.bind(engine);
  engine.stats = () => {
    const st = stats();
    st.blacklistedUntil[1] = (1795599804 + 30) * 1000; // failed at 1795599804, blacklisted 30 s
    return st;
  };
  return { settings: () => s, engine };
}

const PAGE = `<html>
<head>
<title>Pen status page</title>
</head>
<body bgcolor="#ffffff"><h1>Pen status page</h1>
Time 2026-11-25 09:41:33, 2 servers, 1 current<p>
<table bgcolor="#c0c0c0">
<tr>
<td bgcolor="#80f080">server</td>
<td bgcolor="#80f080">address</td>
<td bgcolor="#80f080">status</td>
<td bgcolor="#80f080">port</td>
<td bgcolor="#80f080">connections</td>
<td bgcolor="#80f080">max soft</td>
<td bgcolor="#80f080">max hard</td>
<td bgcolor="#80f080">sent</td>
<td bgcolor="#80f080">received</td>
<td bgcolor="#80f080">weight</td>
<td bgcolor="#80f080">prio</td>
</tr>
<tr>
<td>0</td>
<td>127.0.0.2</td>
<td>0</td>
<td>18001</td>
<td>0</td>
<td>0</td>
<td>0</td>
<td>79</td>
<td>40</td>
<td>0</td>
<td>0</td>
</tr>
<tr>
<td>1</td>
<td>::1</td>
<td>1795599804</td>
<td>18002</td>
<td>1</td>
<td>10</td>
<td>20</td>
<td>5</td>
<td>6</td>
<td>3</td>
<td>1</td>
</tr>
</table>
<h2>Active clients</h2>Max number of clients: 2048<p><table bgcolor="#c0c0c0">
<tr>
<td bgcolor="#80f080">client</td>
<td bgcolor="#80f080">address</td>
<td bgcolor="#80f080">age(secs)</td>
<td bgcolor="#80f080">last server</td>
<td bgcolor="#80f080">connects</td>
<td bgcolor="#80f080">sent</td>
<td bgcolor="#80f080">received</td>
</tr>
<tr>
<td>0</td>
<td>127.0.0.1</td>
<td>12</td>
<td>1</td>
<td>4</td>
<td>46</td>
<td>84</td>
</tr>
</table>
<h2>Active connections</h2>Number of connections: 500 max, 1 used, 3 last<p><table bgcolor="#c0c0c0">
<tr>
<td bgcolor="#80f080">connection</td>
<td bgcolor="#80f080">downfd</td>
<td bgcolor="#80f080">upfd</td>
<td bgcolor="#80f080">pending data down</td>
<td bgcolor="#80f080">pending data up</td>
<td bgcolor="#80f080">client</td>
<td bgcolor="#80f080">server</td>
</tr>
<tr>
<td>3</td>
<td>11</td>
<td>12</td>
<td>7</td>
<td>0</td>
<td>0</td>
<td>1</td>
</tr>
</table>
Descriptors: 2 in use of 892 for connections (limit 1024, 132 kept for the control plane)<p>
</body>
</html>
`;

test('the HTML page is Pen\'s, line for line, then pen\'s descriptor budget', () => {
  assert.equal(renderWebStats(gatherStats(source(), NOW)), PAGE);
});

test('the page adds the access log counters when a log is set, and escapes text', () => {
  const src = { ...source(), accessLogStats: () => ({ destination: '/var/log/<pen>.log', written: 10, dropped: 2, failed: 1 }) };
  const page = renderWebStats(gatherStats(src, NOW));
  assert.ok(page.endsWith('</table>\n<h2>Access log</h2>/var/log/&lt;pen&gt;.log: 10 written, 2 dropped, 1 failed<p>\nDescriptors: 2 in use of 892 for connections (limit 1024, 132 kept for the control plane)<p>\n</body>\n</html>\n'));
  const none = { ...source(), accessLogStats: () => ({ destination: null, written: 0, dropped: 0, failed: 0 }) };
  assert.doesNotMatch(renderWebStats(gatherStats(none, NOW)), /Access log/);
});

test('dummy, idlers and DSR counters: added to the page and the text report only when in use', () => {
  const src = source();
  src.settings().dummy = true;
  src.settings().idlers = 3;
  src.engine.dummyAnswers = 12n;
  src.engine.idlers = 2;
  src.engine.dsrFrames = [20n, 4n];
  src.engine.dsrBytes = [1500n, 240n];
  const page = renderWebStats(gatherStats(src, NOW));
  assert.ok(page.endsWith('</table>\n<h2>Direct Server Return</h2><table bgcolor="#c0c0c0">\n<tr>\n' +
    '<td bgcolor="#80f080">server</td>\n<td bgcolor="#80f080">address</td>\n<td bgcolor="#80f080">frames</td>\n<td bgcolor="#80f080">bytes</td>\n</tr>\n' +
    '<tr>\n<td>0</td>\n<td>127.0.0.2</td>\n<td>20</td>\n<td>1500</td>\n</tr>\n<tr>\n<td>1</td>\n<td>::1</td>\n<td>4</td>\n<td>240</td>\n</tr>\n</table>\n' +
    '<h2>Dummy server</h2>Dummy server on, 12 answers<p>\n<h2>Idlers</h2>Idlers: 2 open or connecting, 3 wanted<p>\n' +
    'Descriptors: 2 in use of 892 for connections (limit 1024, 132 kept for the control plane)<p>\n</body>\n</html>\n'), page.slice(-900));
  const text = renderTextStats(gatherStats(src, NOW));
  assert.ok(text[1]!.endsWith('\n79 sent, 40 received\nDSR: 20 frames, 1500 bytes forwarded'));
  assert.ok(text.includes('Dummy server on, 12 answers') && text.includes('Idlers: 2 open or connecting, 3 wanted'));
  assert.equal(renderWebStats(gatherStats(source(), NOW)), PAGE, 'none of it when not in use');
});

test('the USR1 text report: Pen\'s blocks, with the client block printed right, servers named', () => {
  const left = Math.max(0, Math.ceil(((1795599804 + 30) * 1000 - NOW.getTime()) / 1000));
  const src = { ...source(), accessLogStats: () => ({ destination: 'loghost:10000', written: 3, dropped: 0, failed: 0 }) };
  assert.deepEqual(renderTextStats(gatherStats(src, NOW)), [
    'Time 2026-11-25 09:41:33, 2 servers, 1 current',
    'Server 0 status:\naddress 127.0.0.2\nnot blacklisted\nport 18001\n0 connections (0 soft, 0 hard)\n79 sent, 40 received',
    `Server 1 status:\naddress ::1\nblacklisted, ${left} s left (failed at 1795599804)\nport 18002\n1 connections (10 soft, 20 hard)\n5 sent, 6 received`,
    'Max number of clients: 2048',
    'Active clients:',
    'Client 0 status:\naddress 127.0.0.1\nage 12 seconds\nlast server 1 ([::1]:18002)\nconnects 4\nsent 46\nreceived 84',
    'Max number of connections: 500',
    'Active connections:',
    'Connection 3 status:\ndownfd = 11, upfd = 12\npending data 7 down, 0 up\nclient 0, server 1 ([::1]:18002)',
    'Access log loghost:10000: 3 written, 0 dropped, 0 failed',
    'Descriptors: 2 in use of 892 for connections (limit 1024, 132 kept for the control plane)',
  ]);
});

test('the transparent line: shown while it is on or has failed, in the page and the USR1 report', () => {
  const line = "Transparent: on, 3 failed binds to a client's address (those connections went out from pen's own)";
  const src = source();
  const s = src.settings();
  const stats = src.engine.stats.bind(src.engine);
  assert.doesNotMatch(renderWebStats(gatherStats(src, NOW)), /Transparent/, 'off and never failed: no line');
  s.transparent = true;
  src.engine.stats = () => ({ ...stats(), transparentFailures: 3 });
  assert.ok(renderWebStats(gatherStats(src, NOW)).endsWith(`control plane)<p>\n${line}<p>\n</body>\n</html>\n`));
  assert.equal(renderTextStats(gatherStats(src, NOW)).at(-1), line);
  s.transparent = false;
  assert.equal(renderTextStats(gatherStats(src, NOW)).at(-1), line.replace(': on,', ': off,'), 'off, but it failed while on');
});

test('the socket I/O line: batched or not, and why not, after the descriptors; none for UDP', () => {
  const src = source();
  const stats = src.engine.stats.bind(src.engine);
  assert.doesNotMatch(renderWebStats(gatherStats(src, NOW)), /Socket I\/O/, 'UDP workers: no line');
  src.engine.stats = () => ({ ...stats(), acceptedByWorker: [5, 7], ioBatched: 2 });
  const batched = 'Socket I/O: batched with io_uring, 2 of 2 workers';
  assert.ok(renderWebStats(gatherStats(src, NOW)).endsWith(`control plane)<p>\n${batched}<p>\n</body>\n</html>\n`));
  assert.equal(renderTextStats(gatherStats(src, NOW)).at(-1), batched);
  src.engine.stats = () => ({ ...stats(), ioBatched: 0, ioPlainWhy: 'event backend epoll chosen' });
  assert.equal(renderTextStats(gatherStats(src, NOW)).at(-1),
    'Socket I/O: one system call per read and per write on 1 of 1 workers (event backend epoll chosen)');
});

test('log: shows, sets (keeping HOST:PORT whole), refuses a bad port, no log clears', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'log'), '', 'nothing configured: no reply');
  assert.equal(await run(ctx, 'log /var/log/pen.log'), '/var/log/pen.log\n');
  assert.equal(await run(ctx, 'log'), '/var/log/pen.log\n');
  assert.equal(await run(ctx, 'log loghost:10000'), 'loghost:10000\n', 'Pen cut it at the colon (quirk 39)');
  assert.match(await run(ctx, 'log loghost:0'), /^pen: log: log destination "loghost:0" has port 0 out of range/);
  assert.equal(ctx.settings().log, 'loghost:10000');
  assert.equal(await run(ctx, 'no log'), '');
  assert.equal(ctx.settings().log, null);
});

test('web_stats and status: Pen\'s replies, the page written then read back', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'status'), 'Unable to create webstats\n');
  assert.equal(await run(ctx, 'web_stats'), '');
  assert.equal(await run(ctx, 'web_stats /srv/pen.html'), '/srv/pen.html\n');
  const page = await run(ctx, 'status');
  assert.match(page, /^<html>\n<head>\n<title>Pen status page<\/title>/);
  assert.equal(ctx.files.get('/srv/pen.html'), page);
  await run(ctx, 'web_stats /readonly/pen.html');
  assert.equal(await run(ctx, 'status'), 'Unable to create webstats\n');
  ctx.writeFile = async () => undefined; // written, but it cannot be read back
  await run(ctx, 'web_stats /gone.html');
  assert.equal(await run(ctx, 'status'), "Can't read webstats\n");
  assert.equal(await run(ctx, 'no web_stats'), '');
  assert.equal(ctx.settings().webStats, null);
});

test('ascii / no ascii, and write saves log, web_stats and ascii', async () => {
  const ctx = makeContext();
  await run(ctx, 'ascii');
  assert.equal(ctx.settings().ascii, true);
  await run(ctx, 'log loghost:10000');
  await run(ctx, 'web_stats /srv/pen.html');
  await run(ctx, 'write /etc/pen.cfg');
  const text = ctx.files.get('/etc/pen.cfg')!;
  for (const line of ['ascii', 'log loghost:10000', 'web_stats /srv/pen.html']) {
    assert.ok(text.split('\n').includes(line), `${line} in:\n${text}`);
  }
  await run(ctx, 'no ascii');
  await run(ctx, 'no log');
  await run(ctx, 'no web_stats');
  await run(ctx, 'write /etc/pen.cfg');
  const again = ctx.files.get('/etc/pen.cfg')!.split('\n');
  for (const line of ['no ascii', 'no log', 'no web_stats']) assert.ok(again.includes(line), line);
});

test('the USR1 text report says how long a blacklisted server stays out', () => {
  const src = source();
  const stats = src.engine.stats.bind(src.engine);
  src.engine.stats = () => {
    const st = stats();
    st.blacklistedUntil[0] = NOW.getTime() + 25_000;
    return st;
  };
  const blocks = renderTextStats(gatherStats(src, NOW));
  assert.match(blocks[1]!, /^Server 0 status:\naddress 127\.0\.0\.2\nblacklisted, 25 s left \(failed at \d+\)\nport 18001\n/);
});
