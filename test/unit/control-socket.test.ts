// The control socket on loopback and on a unix path: Pen's protocol, and bad clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { checkControlPrivileges, controlExposureWarning, startControlServer, type ControlServer } from '../../lib/control/socket.js';
import { defaultSettings } from '../../lib/config/settings.js';
import { makeContext, type TestContext } from './control-fixture.js';

type Target = { port: number } | { path: string };

/** Sends `chunks` (with `gapMs` between them), optionally half-closes, and resolves with all bytes until EOF. */
function exchange(target: Target, chunks: Array<string | Buffer>, opts: { end?: boolean; gapMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in target ? net.connect(target.path) : net.connect(target.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d.toString(); });
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
    sock.on('connect', async () => {
      for (const c of chunks) {
        sock.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.end) sock.end();
    });
  });
}

async function tcpServer(ctx: TestContext, timeoutMs = 2000): Promise<{ server: ControlServer; target: Target }> {
  const server = await startControlServer({ ctx, address: '127.0.0.1:0', timeoutMs });
  const addr = server.address() as net.AddressInfo;
  return { server, target: { port: addr.port } };
}

test('one command per connection, reply then close', async () => {
  const ctx = makeContext();
  const { server, target } = await tcpServer(ctx);
  try {
    assert.equal(await exchange(target, ['timeout 7\n']), '7\n');
    assert.equal(await exchange(target, ['blacklist 5\r\ntimeout 9\n']), '5\n', 'only the first line runs');
    assert.equal(ctx.settings().timeout, 7);
    assert.equal(await exchange(target, ['no hash\n']), '', 'a setter replies nothing; EOF ends the reply');
    assert.equal(await exchange(target, ['pid'], { end: true }), '4242\n', 'EOF also ends the command');
    assert.equal(await exchange(target, ['tim', 'eout 4\n'], { gapMs: 50 }), '4\n', 'split across segments (quirk 35)');
    assert.equal(await exchange(target, [Buffer.from([0, 0xff, 1, 0x67, 0x0a])]),
      "do_cmd: ignoring command starting with '\x00\ufffd\x01g'\n", 'bytes that are not UTF-8 are shown as U+FFFD');
  } finally {
    await server.close();
  }
});

test('a silent client neither blocks others nor stays forever', async () => {
  const ctx = makeContext();
  const { server, target } = await tcpServer(ctx, 300);
  try {
    const silentClosed = exchange(target, []);
    const started = performance.now();
    assert.equal(await exchange(target, ['timeout\n']), '3\n');
    assert.ok(performance.now() - started < 250, 'answered while the silent client waits');
    assert.equal(await silentClosed, '', 'the silent client is dropped after the timeout');
  } finally {
    await server.close();
  }
});

test('a client trickling bytes is dropped at the deadline', async () => {
  const ctx = makeContext();
  const { server, target } = await tcpServer(ctx, 300);
  try {
    const started = performance.now();
    const got = await exchange(target, Array.from({ length: 20 }, () => 't'), { gapMs: 50 }).catch(() => 'reset');
    assert.ok(got === '' || got === 'reset');
    const took = performance.now() - started;
    assert.ok(took >= 250 && took < 900, `closed after ${took} ms`);
  } finally {
    await server.close();
  }
});

test('an overlong line is refused and changes nothing', async () => {
  const ctx = makeContext();
  const { server, target } = await tcpServer(ctx);
  try {
    assert.equal(await exchange(target, [`timeout 5${' '.repeat(5000)}\n`]), 'pen: command longer than 4095 bytes\n');
    assert.equal(ctx.settings().timeout, 3);
    assert.equal(await exchange(target, [`timeout 5${' '.repeat(4000)}\n`]), '5\n', 'just under the limit is fine');
  } finally {
    await server.close();
  }
});

test('control_acl: a denied peer is closed unread and unanswered', async () => {
  const ctx = makeContext();
  const { server, target } = await tcpServer(ctx);
  try {
    await ctx.update((d) => {
      d.acls[4] = [{ kind: 'ipv4', permit: false, address: '127.0.0.0', mask: '255.0.0.0' },
        { kind: 'ipv4', permit: true, address: '10.0.0.1', mask: '255.255.255.255' }];
      d.controlAcl = 4;
    });
    await assert.rejects(exchange(target, ['timeout 8\n']), { code: 'ECONNRESET' }, 'reset: penctl tells it from an empty reply');
    assert.equal(ctx.settings().timeout, 3);
    await ctx.update((d) => { d.acls[4] = [{ kind: 'ipv4', permit: true, address: '127.0.0.1', mask: '255.255.255.255' }]; });
    assert.equal(await exchange(target, ['timeout 8\n']), '8\n');
  } finally {
    await server.close();
  }
});

test('unix socket: stale socket replaced, other files refused, removed on close', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-control-'));
  const sockPath = path.join(dir, 'pen.ctl');
  try {
    // A socket file left behind by a process that died without cleaning up.
    execFileSync(process.execPath, ['-e',
      `require('net').createServer().listen(${JSON.stringify(sockPath)}, () => process.exit(0))`]);
    assert.ok(fs.lstatSync(sockPath).isSocket());

    const ctx = makeContext({ acls: Array.from({ length: 10 }, () => [{ kind: 'ipv4' as const, permit: false, address: '0.0.0.0', mask: '0.0.0.0' }]) });
    const server = await startControlServer({ ctx, address: sockPath });
    assert.equal(await exchange({ path: sockPath }, ['mode\n']), 'no hash no roundrobin no stubborn no weight no prio\n',
      'unix peers pass every ACL');
    await server.close();
    assert.equal(fs.existsSync(sockPath), false);

    const plain = path.join(dir, 'not-a-socket');
    fs.writeFileSync(plain, 'keep me');
    await assert.rejects(startControlServer({ ctx, address: plain }),
      { code: 'PEN_ERR_BIND', message: `cannot listen on ${plain}: the path exists and is not a socket` });
    assert.equal(fs.readFileSync(plain, 'utf8'), 'keep me');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a port that is taken is a PEN_ERR_BIND', async () => {
  const ctx = makeContext();
  const { server, target } = await tcpServer(ctx);
  try {
    const port = (target as { port: number }).port;
    await assert.rejects(startControlServer({ ctx, address: `127.0.0.1:${port}` }),
      { code: 'PEN_ERR_BIND', message: `cannot listen on 127.0.0.1:${port}: EADDRINUSE` });
  } finally {
    await server.close();
  }
});

test('root without -u may not open the control port', () => {
  assert.throws(() => checkControlPrivileges(0, null), /refusing to open the control port \(-C\) as root.*-u USER/);
  checkControlPrivileges(0, 'root');
  checkControlPrivileges(0, 'nobody');
  checkControlPrivileges(1000, null);
});

/** True when something accepts a TCP connection on host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, host);
    sock.on('connect', () => { sock.destroy(); resolve(true); });
    sock.on('error', () => resolve(false));
  });
}

/** A non-loopback address of this machine, or null when it has none. */
function externalAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return null;
}

test('-C PORT (no host) listens on loopback only: 127.0.0.1 and ::1, not the other addresses', async () => {
  const ctx = makeContext();
  const server = await startControlServer({ ctx, address: '0' });
  try {
    const { port } = server.address() as net.AddressInfo;
    assert.equal((server.address() as net.AddressInfo).address, '127.0.0.1');
    assert.equal(await accepts('127.0.0.1', port), true);
    const v6 = os.networkInterfaces().lo?.some((a) => a.family === 'IPv6') ?? false;
    if (v6) assert.equal(await accepts('::1', port), true, '::1 answers too');
    assert.equal(await accepts('127.0.0.2', port), false, 'not bound to every address');
    const ext = externalAddress();
    if (ext) assert.equal(await accepts(ext, port), false, `not reachable on ${ext}`);
  } finally {
    await server.close();
  }
});

test('a control port reachable from other hosts with an empty control_acl is warned about', () => {
  const s = { ...defaultSettings(), control: '0.0.0.0:10080' };
  assert.match(controlExposureWarning(s) ?? '', /^pen: warning: the control port 0\.0\.0\.0:10080 is reachable from other hosts and control_acl 0 is empty/);
  assert.notEqual(controlExposureWarning({ ...s, control: '[::]:10080' }), null);
  assert.notEqual(controlExposureWarning({ ...s, control: '192.0.2.1:10080' }), null);
  assert.equal(controlExposureWarning({ ...s, control: '10080' }), null, 'loopback by default');
  assert.equal(controlExposureWarning({ ...s, control: '127.0.0.1:10080' }), null);
  assert.equal(controlExposureWarning({ ...s, control: '[::1]:10080' }), null);
  assert.equal(controlExposureWarning({ ...s, control: '/run/pen.ctl' }), null);
  assert.equal(controlExposureWarning({ ...s, control: null }), null);
  const acls = defaultSettings().acls;
  acls[9] = [{ kind: 'ipv4', permit: true, address: '10.0.0.0', mask: '255.0.0.0' }];
  assert.equal(controlExposureWarning({ ...s, acls, controlAcl: 9 }), null, 'an ACL guards it');
});
