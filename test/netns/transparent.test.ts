// `transparent` with real clients (root + network namespaces; test/helpers/routed-net.ts): the
// client and the backend on two networks with the pen host routing between them, the backend's
// replies routed back through pen, and the pen host's policy routing from pen's README. The
// backends answer with the address they see the connection (datagram) come from.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ADDR, RoutedNet, routedNetUnavailable } from '../helpers/routed-net.js';
import { PEN_BIN } from '../helpers/pen.js';
import { sleep } from '../helpers/time.js';

const skip = routedNetUnavailable() ?? false;
const PENCTL = fileURLToPath(new URL('../../../bin/penctl.js', import.meta.url));
const CONTROL = '127.0.0.1:10080'; // inside the pen namespace: nothing else listens there
const TCP_PORT = 8000;
const UDP_PORT = 5300;
/** What transparent needs after -u: CAP_NET_RAW (bit 13), not CAP_NET_ADMIN. */
const NEEDED = 'CAP_NET_RAW';
const NEEDED_BIT = 1n << 13n;

interface Setup {
  net: RoutedNet;
  pid: number;
  stderr(): string;
  penctl(cmd: string): Promise<string>;
  /** The address the backend saw, for one TCP connection from the client to host:port. */
  tcp(host: string, port: number): Promise<string>;
  /** The address the backend saw, for one datagram from the client to host:port (its answer came back). */
  udp(host: string, port: number): Promise<string>;
  /** penctl status: the transparent line of the page ('' when there is none). */
  transparentLine(): Promise<string>;
}

/** The backends: TCP and UDP, IPv4 and IPv6, each answering with the peer's address. */
async function startBackends(net: RoutedNet): Promise<void> {
  const js = `const net=require('net'),d=require('dgram');let up=0;const ready=()=>{if(++up===3)console.log('up')};
    net.createServer((s)=>{s.end(s.remoteAddress.replace(/^::ffff:/,'')+'\\n')}).listen(${TCP_PORT},'::',ready);
    for(const t of ['udp4','udp6']){const u=d.createSocket({type:t,ipv6Only:t==='udp6'});
      u.on('message',(m,r)=>u.send(r.address,r.port,r.address));u.bind(${UDP_PORT},t==='udp4'?'0.0.0.0':'::',ready)}`;
  const c = net.spawn('backend', [process.execPath, '-e', js]);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('backend did not start')), 8000);
    c.stdout!.once('data', () => {
      clearTimeout(t);
      resolve();
    });
    c.once('exit', (code) => reject(new Error(`backend exited (${code})`)));
  });
}

/** The routed networks with policy routing, the backends, and pen (-f -C CONTROL -w FILE ARGS) in the pen namespace. */
async function withPen(args: string[], fn: (s: Setup) => Promise<void>, wrap: string[] = []): Promise<void> {
  const net = await RoutedNet.create();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-transparent-'));
  fs.chmodSync(dir, 0o777); // -u nobody writes the status page here
  try {
    await net.divert();
    await startBackends(net);
    const pen = net.spawn('pen', [...wrap, process.execPath, PEN_BIN, '-f', '-C', CONTROL, '-w', path.join(dir, 'status.html'), ...args]);
    let err = '';
    pen.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const penctl = (cmd: string) => net.exec('pen', [process.execPath, PENCTL, CONTROL, cmd], 5000)
      .catch((e: { stdout?: string; stderr?: string }) => {
        if (e.stdout || e.stderr) return `${e.stdout ?? ''}${e.stderr ?? ''}`;
        throw e;
      });
    let pid = 0;
    for (let i = 0; ; i++) {
      if (pen.exitCode !== null) throw new Error(`pen exited (${pen.exitCode}): ${err}`);
      try {
        pid = Number((await net.exec('pen', [process.execPath, PENCTL, CONTROL, 'pid'], 5000)).trim());
        break;
      } catch {
        if (i > 80) throw new Error(`pen did not become ready: ${err}`);
        await sleep(100);
      }
    }
    const tcp = async (host: string, port: number) => (await net.exec('client', [process.execPath, '-e',
      `const s=require('net').connect(${port},'${host}');let b='';s.on('data',(d)=>b+=d);s.on('end',()=>{process.stdout.write(b.trim());process.exit(0)});
       s.on('error',(e)=>{process.stdout.write('error '+e.code);process.exit(0)});setTimeout(()=>{process.stdout.write('timeout');process.exit(0)},4000)`])).trim();
    const udp = async (host: string, port: number) => (await net.exec('client', [process.execPath, '-e',
      `const u=require('dgram').createSocket('${host.includes(':') ? 'udp6' : 'udp4'}');
       u.on('message',(m)=>{process.stdout.write(String(m));process.exit(0)});u.send('hi',${port},'${host}');
       setTimeout(()=>{process.stdout.write('timeout');process.exit(0)},4000)`])).trim();
    const transparentLine = async () => /^Transparent: .*$/m.exec((await penctl('status')).replace(/<p>/g, ''))?.[0] ?? '';
    await fn({ net, pid, stderr: () => err, penctl, tcp, udp, transparentLine });
  } finally {
    await net.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const backend4 = `${ADDR.backend4}:${TCP_PORT}`;
const backend6 = `[${ADDR.backend6}]:${TCP_PORT}`;

test('transparent TCP over IPv4: the backend sees the client; without it, pen; penctl switches it at run time and write renders it', { skip }, () =>
  withPen(['-u', 'nobody', '-O', 'transparent', `${ADDR.penClient4}:9000`, backend4], async (s) => {
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.client4);
    assert.equal(await s.penctl('no transparent'), '');
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.pen4, 'no transparent: from pen\'s own address');
    assert.equal(await s.penctl('transparent'), '');
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.client4, 'transparent again at run time');
    assert.equal(await s.transparentLine(), "Transparent: on, 0 failed binds to a client's address (those connections went out from pen's own)");
  }));

test('write renders transparent (and a file with it turns it on at start-up)', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-transparent-w-'));
  fs.chmodSync(dir, 0o777);
  try {
    await withPen(['-u', 'nobody', '-O', 'transparent', `${ADDR.penClient4}:9000`, backend4], async (s) => {
      const file = path.join(dir, 'pen.cfg');
      assert.equal(await s.penctl(`write ${file}`), '');
      assert.match(fs.readFileSync(file, 'utf8'), /^transparent$/m);
      assert.equal(await s.penctl('no transparent'), '');
      assert.equal(await s.penctl(`write ${file}`), '');
      assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /^transparent$/m);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('transparent UDP over IPv4: the backend sees the client and its answer comes back', { skip }, () =>
  withPen(['-u', 'nobody', '-U', '-O', 'transparent', `${ADDR.penClient4}:9053`, `${ADDR.backend4}:${UDP_PORT}`], async (s) => {
    assert.equal(await s.udp(ADDR.penClient4, 9053), ADDR.client4);
    assert.equal(await s.penctl('no transparent'), '');
    assert.equal(await s.udp(ADDR.penClient4, 9053), ADDR.pen4, 'a new flow (new client port) after no transparent');
  }));

test('transparent over IPv6: TCP and UDP backends see the client\'s IPv6 address', { skip }, async () => {
  await withPen(['-u', 'nobody', '-O', 'transparent', `[${ADDR.penClient6}]:9000`, backend6], async (s) => {
    assert.equal(await s.tcp(ADDR.penClient6, 9000), ADDR.client6);
  });
  await withPen(['-u', 'nobody', '-U', '-O', 'transparent', `[${ADDR.penClient6}]:9053`, `[${ADDR.backend6}]:${UDP_PORT}`], async (s) => {
    assert.equal(await s.udp(ADDR.penClient6, 9053), ADDR.client6);
  });
});

test('a client of the other family: counted, logged once, and the connection goes out from pen\'s address', { skip }, () =>
  withPen(['-u', 'nobody', '-O', 'transparent', '[::]:9000', backend4], async (s) => {
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.client4, 'an IPv4 client on the dual-stack listener is IPv4');
    assert.equal(await s.tcp(ADDR.penClient6, 9000), ADDR.pen4);
    assert.equal(await s.tcp(ADDR.penClient6, 9000), ADDR.pen4);
    assert.equal(await s.transparentLine(), "Transparent: on, 2 failed binds to a client's address (those connections went out from pen's own)");
    const lines = s.stderr().split('\n').filter((l) => l.includes('no transparency for incompatible families'));
    assert.equal(lines.length, 1, `logged once: ${s.stderr()}`);
    assert.match(lines[0]!, new RegExp(`client ${ADDR.client6} to server 0`));
  }));

test('without CAP_NET_RAW and CAP_NET_ADMIN: the bind fails, is counted and logged once, and TCP and UDP still work from pen\'s address', { skip }, async () => {
  // -u root keeps the uid; setpriv takes both out of pen's bounding set (so out of every set)
  const wrap = ['setpriv', '--bounding-set', '-net_admin,-net_raw', '--'];
  await withPen(['-u', 'root', '-O', 'transparent', `${ADDR.penClient4}:9000`, backend4], async (s) => {
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.pen4);
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.pen4);
    assert.equal(await s.transparentLine(), "Transparent: on, 2 failed binds to a client's address (those connections went out from pen's own)");
    const lines = s.stderr().split('\n').filter((l) => l.includes('IP_TRANSPARENT: Operation not permitted'));
    assert.equal(lines.length, 1, `logged once: ${s.stderr()}`);
    assert.match(lines[0]!, /need CAP_NET_RAW or CAP_NET_ADMIN/);
  }, wrap);
  await withPen(['-u', 'root', '-U', '-O', 'transparent', `${ADDR.penClient4}:9053`, `${ADDR.backend4}:${UDP_PORT}`], async (s) => {
    assert.equal(await s.udp(ADDR.penClient4, 9053), ADDR.pen4);
    assert.match(await s.transparentLine(), /^Transparent: on, 1 failed binds/);
  }, wrap);
});

/** CapEff and CapPrm of every thread of pid. */
function threadCaps(pid: number): Array<{ tid: string; name: string; eff: bigint; prm: bigint }> {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const st = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const hex = (k: string) => BigInt(`0x${new RegExp(`^${k}:\\s*([0-9a-f]+)`, 'm').exec(st)![1]}`);
    return { tid, name: /^Name:\s*(.*)$/m.exec(st)![1]!, eff: hex('CapEff'), prm: hex('CapPrm') };
  });
}

test('after -u nobody: transparent works, the data-plane threads hold the one capability it needs, every other thread nothing', { skip }, () =>
  withPen(['-u', 'nobody', '-O', 'workers 2', '-O', 'transparent', `${ADDR.penClient4}:9000`, backend4], async (s) => {
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.client4);
    const status = fs.readFileSync(`/proc/${s.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^CapEff:\s+0+$/m, 'the process (its main thread) holds nothing');
    assert.match(status, /^CapPrm:\s+0+$/m);
    const threads = threadCaps(s.pid);
    const holding = threads.filter((t) => t.eff !== 0n || t.prm !== 0n);
    assert.equal(holding.length, 2, `the two workers: ${JSON.stringify(threads, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
    for (const t of holding) assert.deepEqual([t.eff, t.prm], [NEEDED_BIT, NEEDED_BIT], `thread ${t.tid} holds ${NEEDED} alone`);
  }));

test('after -u nobody without transparent: nothing is kept, and penctl transparent is refused saying why', { skip }, () =>
  withPen(['-u', 'nobody', `${ADDR.penClient4}:9000`, backend4], async (s) => {
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.pen4);
    assert.ok(threadCaps(s.pid).every((t) => t.eff === 0n && t.prm === 0n), 'no thread holds a capability');
    assert.equal(await s.penctl('transparent'), `pen: transparent: the data plane lacks ${NEEDED}, given up when pen switched to user 'nobody' (-u); ` +
      'start pen with transparent on to keep it (then "no transparent" and "transparent" switch it at run time)\n');
    assert.equal(await s.penctl('no transparent'), '');
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.pen4);
  }));

test('source wins over transparent, as in Pen', { skip }, () =>
  withPen(['-u', 'nobody', '-O', 'transparent', '-O', `source ${ADDR.pen4}`, `${ADDR.penClient4}:9000`, backend4], async (s) => {
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.pen4);
    assert.equal(await s.penctl('no source'), '');
    assert.equal(await s.tcp(ADDR.penClient4, 9000), ADDR.client4);
  }));

test('-u nobody with transparent when the capability cannot be kept: pen refuses to start, saying so', { skip }, async () => {
  const net = await RoutedNet.create();
  try {
    // setpriv: CAP_NET_RAW and CAP_NET_ADMIN out of the bounding set, so root's permitted set lacks them
    const r = await net.exec('pen', ['setpriv', '--bounding-set', '-net_admin,-net_raw', '--', process.execPath, PEN_BIN, '-f',
      '-u', 'nobody', '-O', 'transparent', `${ADDR.penClient4}:9000`, backend4], 10000)
      .then(() => ({ code: 0, stderr: '' }), (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? '' }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot switch to user 'nobody': cannot keep CAP_NET_RAW on the data-plane threads: Operation not permitted/);
  } finally {
    await net.close();
  }
});
