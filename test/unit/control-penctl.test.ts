// The penctl client: target forms, the bytes on the wire, exit statuses, timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { parseTarget, penctl, USAGE } from '../../lib/cli/penctl.js';
import { startControlServer } from '../../lib/control/socket.js';
import { makeContext } from './control-fixture.js';

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, cb) { text += chunk.toString(); cb(); } });
  return { stream, text: () => text };
}

async function call(args: string[], timeoutMs?: number) {
  const out = sink();
  const err = sink();
  const status = await penctl(args, { stdout: out.stream, stderr: err.stream, timeoutMs });
  return { status, stdout: out.text(), stderr: err.text() };
}

/** A raw server standing in for Pen: records what arrives, answers `reply`, closes. */
async function rawServer(reply: string | null) {
  const received: string[] = [];
  const server = net.createServer((sock) => {
    let got = '';
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('\n') && reply !== null) {
        received.push(got);
        sock.end(reply);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, received };
}

test('target forms', () => {
  assert.deepEqual(parseTarget('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseTarget('::1:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseTarget('[::1]:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseTarget(':8080'), { host: 'localhost', port: 8080 });
  assert.deepEqual(parseTarget('/run/pen.ctl'), { path: '/run/pen.ctl' });
  assert.match((parseTarget('localhost') as { error: string }).error, /needs HOST:PORT/);
  assert.deepEqual(parseTarget('localhost:0'), { error: 'control address "localhost:0" has port 0 out of range (1..65535)' });
});

test('sends the words joined by single spaces plus a newline, prints the reply', async () => {
  const pen = await rawServer('0 addr 127.0.0.2 port 18001 conn 0 max 0 hard 0 weight 0 prio 0 sx 0 rx 0\n');
  try {
    const r = await call([`127.0.0.1:${pen.port}`, 'server', '0', 'port', '18001']);
    assert.deepEqual(pen.received, ['server 0 port 18001\n']);
    assert.deepEqual(r, { status: 0, stdout: '0 addr 127.0.0.2 port 18001 conn 0 max 0 hard 0 weight 0 prio 0 sx 0 rx 0\n', stderr: '' });
  } finally {
    pen.server.close();
  }
});

test('against pen: values exit 0, error replies exit 1', async () => {
  const ctx = makeContext();
  const server = await startControlServer({ ctx, address: '127.0.0.1:0' });
  const target = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  try {
    assert.deepEqual(await call([target, 'timeout', '6']), { status: 0, stdout: '6\n', stderr: '' });
    assert.deepEqual(await call([target, 'hash']), { status: 0, stdout: '', stderr: '' });
    assert.equal(ctx.settings().hash, true);
    assert.deepEqual(await call([target, 'bogus']),
      { status: 1, stdout: "do_cmd: ignoring command starting with 'bogus'\n",
        stderr: `penctl: unknown command 'bogus' (try: penctl ${target} help)\n` });
    assert.equal((await call([target, 'timeout', '0'])).status, 1);
    assert.equal((await call([target, 'exit'])).stdout, 'Exit is not enabled; restart with -X flag\n');
    assert.equal((await call([target, 'exit'])).status, 1);
  } finally {
    await server.close();
  }
});

test('usage, overlong commands, refused connections, silent servers', async () => {
  assert.deepEqual(await call(['127.0.0.1:1']),
    { status: 2, stdout: '', stderr: USAGE });
  assert.match(USAGE, /penctl 127\.0\.0\.1:10080 help/);
  assert.deepEqual(await call(['--help']), { status: 0, stdout: USAGE, stderr: '' });
  assert.match((await call(['--version'])).stdout, /^penctl \d+\.\d+\.\d+\n$/);
  assert.deepEqual(await call(['127.0.0.1:1', 'x'.repeat(5000)]), { status: 1, stdout: '', stderr: 'Overlong argument list\n' });
  assert.deepEqual(await call(['nohost', 'servers']), { status: 1, stdout: '',
    stderr: 'penctl: control address "nohost" needs HOST:PORT (e.g. nohost:10080), [IPV6]:PORT or a unix socket path\n' });
  assert.deepEqual(await call(['10080', 'servers']), { status: 1, stdout: '',
    stderr: 'penctl: control address "10080" needs HOST:PORT (e.g. 127.0.0.1:10080), [IPV6]:PORT or a unix socket path\n' });

  const free = net.createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const port = (free.address() as net.AddressInfo).port;
  await new Promise((r) => free.close(r));
  assert.deepEqual(await call([`127.0.0.1:${port}`, 'servers']),
    { status: 1, stdout: '', stderr: 'error connecting to server (ECONNREFUSED)\n' });

  const silent = await rawServer(null);
  try {
    const started = performance.now();
    assert.deepEqual(await call([`127.0.0.1:${silent.port}`, 'servers'], 200),
      { status: 1, stdout: '', stderr: 'timeout waiting for the reply\n' });
    assert.ok(performance.now() - started < 2000);
  } finally {
    silent.server.close();
  }
});

test('a connection dropped unread exits 1 with a message; an empty reply exits 0 (issue 12, defect 8)', async () => {
  const ctx = makeContext();
  const server = await startControlServer({ ctx, address: '127.0.0.1:0', maxClients: 1 });
  const port = (server.address() as net.AddressInfo).port;
  const target = `127.0.0.1:${port}`;
  const holder = net.connect(port, '127.0.0.1'); // silent: holds the only slot
  try {
    await new Promise((r) => holder.once('connect', r));
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await call([target, 'servers']),
        { status: 1, stdout: '', stderr: 'the server closed the connection without a reply (ECONNRESET)\n' });
    }
    holder.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await call([target, 'hash']), { status: 0, stdout: '', stderr: '' }, 'slot free again');
    await ctx.update((d) => {
      d.acls[2] = [{ kind: 'ipv4', permit: false, address: '127.0.0.0', mask: '255.0.0.0' }];
      d.controlAcl = 2;
    });
    assert.deepEqual(await call([target, 'hash']),
      { status: 1, stdout: '', stderr: 'the server closed the connection without a reply (ECONNRESET)\n' },
      'denied by control_acl');
  } finally {
    holder.destroy();
    await server.close();
  }
});
