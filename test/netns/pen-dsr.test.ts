// pen itself with `dsr_if` (Direct Server Return) and `tarpit_acl`, on a layer-2 segment of
// network namespaces (root only): a client with four addresses, the pen host, two backends with
// the VIP on loopback. pen runs with -u nobody: the raw socket is opened before privileges go.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Lan, netnsUnavailable } from '../helpers/netns.js';
import { PEN_BIN, runPen, threadNames } from '../helpers/pen.js';
import { sleep } from '../helpers/time.js';

const skip = netnsUnavailable() ?? false;
const PENCTL = fileURLToPath(new URL('../../../bin/penctl.js', import.meta.url));
const RAW_SYN = fileURLToPath(new URL('../../../test/netns/raw_syn.py', import.meta.url));
const CONTROL = '127.0.0.1:10080'; // inside the pen namespace: nothing else listens there
const STATUS_FILE = `/tmp/pen-dsr-status-${process.pid}.html`; // -w for pen (user nobody)

interface Setup {
  lan: Lan;
  vip: string;
  clients: string[];
  penctl(cmd: string): Promise<string>;
}

/** The LAN, HTTP (or UDP) backends answering their name, and pen started with args. */
async function withPen(args: string[], udp: boolean, fn: (s: Setup) => Promise<void>): Promise<void> {
  const lan = await Lan.create(['client', 'pen', 'b1', 'b2'],
    { client: '10.77.0.1', pen: '10.77.0.10', b1: '10.77.0.11', b2: '10.77.0.12' });
  try {
    const vip = lan.addr(100);
    const clients = [1, 2, 3, 4].map((x) => lan.addr(x));
    for (const c of clients.slice(1)) await lan.exec('client', ['ip', 'addr', 'add', `${c}/24`, 'dev', 'eth0']);
    for (const b of ['b1', 'b2']) {
      await lan.dsrBackend(b, vip);
      const js = udp
        ? `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('${b}:'+m,r.port,r.address));s.bind(53,'${vip}',()=>console.log('up'))`
        : `require('http').createServer((q,r)=>r.end('${b}')).listen(80,'0.0.0.0',()=>console.log('up'))`;
      const c = lan.spawn(b, [process.execPath, '-e', js]);
      await new Promise<void>((resolve, reject) => {
        c.stdout!.once('data', () => resolve());
        c.once('exit', (code) => reject(new Error(`backend ${b} exited (${code})`)));
      });
    }
    const pen = lan.spawn('pen', [process.execPath, PEN_BIN, '-f', '-u', 'nobody', '-C', CONTROL, ...args]);
    let err = '';
    pen.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    // penctl's reply, also when it is an error (penctl then exits 1)
    const penctl = (cmd: string) => lan.exec('pen', [process.execPath, PENCTL, CONTROL, cmd], 5000)
      .catch((e: { stdout?: string; stderr?: string }) => {
        if (e.stdout || e.stderr) return `${e.stdout ?? ''}${e.stderr ?? ''}`;
        throw e;
      });
    for (let i = 0; ; i++) {
      if (pen.exitCode !== null) throw new Error(`pen exited (${pen.exitCode}): ${err}`);
      try {
        await lan.exec('pen', [process.execPath, PENCTL, CONTROL, 'pid'], 5000);
        break;
      } catch {
        if (i > 80) throw new Error(`pen did not become ready: ${err}`);
        await sleep(100);
      }
    }
    await fn({ lan, vip, clients, penctl });
  } finally {
    await lan.close();
  }
}

async function curlAll(s: Setup): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const src of s.clients) seen.add(await s.lan.exec('client', ['curl', '-sS', '-m', '5', '--interface', src, `http://${s.vip}/`]));
  return seen;
}

/** sx (bytes sent to the server) of each line of `servers`. */
function sentBytes(servers: string): number[] {
  return servers.trim().split('\n').map((l) => Number(/ sx (\d+)/.exec(l)?.[1]));
}

/** The DSR counters that end each line of `servers` with dsr_if: frames, bytes, and sx. */
function dsrCounters(servers: string): Array<{ frames: number; bytes: number; sx: number }> {
  return servers.trim().split('\n').map((l) => {
    const m = / sx (\d+) rx \d+ frames (\d+) bytes (\d+)$/.exec(l);
    assert.ok(m, `a servers line with the DSR counters: ${l}`);
    return { sx: Number(m[1]), frames: Number(m[2]), bytes: Number(m[3]) };
  });
}

test('pen dsr_if: HTTP through the VIP reaches the servers; a server added by `server 1 address` gets frames, counted per server in servers and status', { skip }, () =>
  withPen(['-O', 'dsr_if eth0', '-w', STATUS_FILE, '10.77.0.100:80', '10.77.0.11:80'], false, async (s) => {
    assert.deepEqual(await curlAll(s), new Set(['b1']));
    assert.equal(await s.penctl(`server 1 address ${s.lan.addr(12)} port 80`), '');
    assert.deepEqual(await curlAll(s), new Set(['b1', 'b2']));
    const sx = sentBytes(await s.penctl('servers'));
    assert.ok(sx[0]! > 0 && sx[1]! > 0, `servers: ${sx}`);
    // Frames and bytes per server: one request counts on the server that answered it only.
    const before = dsrCounters(await s.penctl('servers'));
    const who = await s.lan.exec('client', ['curl', '-sS', '-m', '5', '--interface', s.clients[0]!, `http://${s.vip}/`]);
    const after = dsrCounters(await s.penctl('servers'));
    const hit = who === 'b1' ? 0 : 1;
    assert.ok(after[hit]!.frames - before[hit]!.frames >= 3, `a TCP exchange is several frames: ${JSON.stringify([before, after])}`);
    assert.ok(after[hit]!.bytes - before[hit]!.bytes >= 60 * (after[hit]!.frames - before[hit]!.frames), 'whole Ethernet frames are counted');
    assert.deepEqual(after[1 - hit], before[1 - hit], 'the other server counted nothing');
    for (const c of after) assert.equal(c.bytes, c.sx, 'DSR bytes are what sx shows');
    const page = await s.penctl('status');
    assert.match(page, /<h2>Direct Server Return<\/h2>/);
    assert.ok(page.includes(`<td>${after[hit]!.frames}</td>`), 'the status page shows the frames');
    assert.equal(await s.penctl('dsr_if'), 'eth0\n');
    const pid = Number(await s.penctl('pid'));
    assert.ok(threadNames(pid).includes('pen-dsr'), `the forwarding thread is named: ${threadNames(pid)}`);
    assert.match(await s.penctl('dsr_if eth1'), /set at start-up/);
    // blacklisting a server takes it out of the DSR table at once (Pen's table never changed)
    await s.penctl('server 0 blacklist 60');
    assert.deepEqual(await curlAll(s), new Set(['b2']));
  }).finally(() => fs.rmSync(STATUS_FILE, { force: true })));

test('pen dsr_if -U: datagrams to the VIP reach both servers, replies come from the VIP', { skip }, () =>
  withPen(['-U', '-O', 'dsr_if eth0', '10.77.0.100:53', '10.77.0.11:53', '10.77.0.12:53'], true, async (s) => {
    const js = `const d=require('dgram');const srcs=${JSON.stringify(s.clients)};const out=[];let n=0;
      for(const a of srcs){const k=d.createSocket('udp4');k.bind(0,a,()=>{k.connect(53,'${s.vip}',()=>k.send('hi'))});
        k.on('message',(m)=>{out.push(String(m));k.close();if(++n===srcs.length){console.log(JSON.stringify(out));process.exit(0)}})}
      setTimeout(()=>{console.log(JSON.stringify(out));process.exit(1)},4000)`;
    const replies = JSON.parse(await s.lan.exec('client', [process.execPath, '-e', js])) as string[];
    assert.deepEqual(new Set(replies), new Set(['b1:hi', 'b2:hi']));
  }));

test('pen tarpit_acl: a listed address answers SYNs with valid checksums and connect() completes', { skip }, () =>
  withPen(['-O', 'dsr_if eth0', '-O', 'acl 1 permit 10.77.0.66', '-O', 'tarpit_acl 1', '10.77.0.100:80', '10.77.0.11:80', '10.77.0.12:80'], false, async (s) => {
    const trap = s.lan.addr(66);
    const js = `const s=require('net').connect(22,'${trap}');s.on('connect',()=>{console.log('connected');process.exit(0)});
      s.on('error',(e)=>{console.log(e.code);process.exit(1)});setTimeout(()=>{console.log('timeout');process.exit(1)},4000)`;
    assert.equal((await s.lan.exec('client', [process.execPath, '-e', js])).trim(), 'connected');
    const mac = /lladdr (\S+)/.exec(await s.lan.exec('client', ['ip', 'neigh', 'show', trap]))![1]!;
    const r = JSON.parse(await s.lan.exec('client', ['python3', RAW_SYN, 'eth0', mac, s.lan.addr(1), trap, '8080', '20']));
    assert.deepEqual(r, { answered: true, flags: 0x12, ackOk: true, ipChecksumOk: true, tcpChecksumOk: true, ipHeader: 20, tcpHeader: 20 });
    // an address outside the list is not answered; the VIP still forwards
    const other = `const s=require('net').connect(22,'${s.lan.addr(67)}');s.on('connect',()=>{console.log('connected');process.exit(0)});
      s.on('error',(e)=>{console.log(e.code);process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},1500)`;
    assert.notEqual((await s.lan.exec('client', [process.execPath, '-e', other])).trim(), 'connected');
    assert.deepEqual(await curlAll(s), new Set(['b1', 'b2']));
    assert.equal(await s.penctl('tarpit_acl'), 'tarpit_acl = 1\n');
  }));

test('pen dsr_if: an interface that does not exist is refused at start-up with its name', async () => {
  const r = await runPen(['-f', '-O', 'dsr_if nosuch9', '127.0.0.1:0', '127.0.0.1:1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /dsr_if nosuch9: no such interface/);
});

test('pen dsr_if: the VIP must be IPv4', async () => {
  const r = await runPen(['-f', '-O', 'dsr_if lo', '[::1]:0', '127.0.0.1:1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /VIP must be an IPv4 address/);
});

test('pen: tarpit_acl without dsr_if, and dsr_if with -E, -H, several workers, dummy or idlers, are refused at start-up', async () => {
  for (const [args, re] of [
    [['-O', 'acl 1 permit 10.0.0.66', '-O', 'tarpit_acl 1'], /tarpit_acl needs dsr_if/],
    [['-O', 'dsr_if lo', '-H'], /dsr_if and -H/],
    [['-O', 'dsr_if lo', '-O', 'workers 2'], /workers must be 1 with it \(workers 2 was given\)/],
    [['-O', 'dummy', '-O', 'dsr_if lo'], /dsr_if and dummy cannot go together/],
    [['-O', 'idlers 2', '-O', 'dsr_if lo'], /dsr_if and idlers cannot go together/],
  ] as const) {
    const r = await runPen(['-f', ...args, '127.0.0.1:0', '127.0.0.1:1']);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re);
  }
});
