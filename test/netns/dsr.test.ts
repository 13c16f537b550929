// Direct Server Return and tarpit on a real layer-2 segment made of network namespaces
// (root only): a client, the host running the DSR plane, and two backends with the VIP on
// their loopback (arp_ignore=1, arp_announce=2). Until pen's control plane drives the DSR
// plane, the plane runs as build/native-tests/pen_dsr_forward (test/netns/dsr_forward.cc), whose
// chooser stands in for the balancing pool (Pen's DSR hash over the client address).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { dsrForwarderBin, Lan, netnsUnavailable, waitLine } from '../helpers/netns.js';

const skip = netnsUnavailable() ?? (dsrForwarderBin() ? false : 'build/native-tests/pen_dsr_forward is not built (scripts/run-tests.js builds it)');
const RAW_SYN = fileURLToPath(new URL('../../../test/netns/raw_syn.py', import.meta.url));

interface Forwarder {
  child: ChildProcess;
  mac: string;
  /** Sends one command line; resolves with the next line of output. */
  command(line: string): Promise<string>;
  /** "quit", then the counters it prints on the way out. */
  stop(): Promise<DsrCounters>;
}

interface DsrCounters {
  forwarded: number;
  arpReplies: number;
  macsLearned: number;
  tarpitSyns: number;
  tarpitDrops: number;
  servers: { frames: number; bytes: number }[];
}

/** client (.1-.4), pen (.10), backends b1 (.11) and b2 (.12); the VIP is .100. */
async function dsrLan(): Promise<{ lan: Lan; vip: string; clients: string[] }> {
  const lan = await Lan.create(['client', 'pen', 'b1', 'b2'],
    { client: '10.77.0.1', pen: '10.77.0.10', b1: '10.77.0.11', b2: '10.77.0.12' });
  const vip = lan.addr(100);
  const clients = [1, 2, 3, 4].map((x) => lan.addr(x));
  for (const c of clients.slice(1)) await lan.exec('client', ['ip', 'addr', 'add', `${c}/24`, 'dev', 'eth0']);
  for (const b of ['b1', 'b2']) await lan.dsrBackend(b, vip);
  return { lan, vip, clients };
}

async function withLan(fn: (l: { lan: Lan; vip: string; clients: string[] }) => Promise<void>): Promise<void> {
  const l = await dsrLan();
  try {
    await fn(l);
  } finally {
    await l.lan.close();
  }
}

async function startForwarder(lan: Lan, args: string[]): Promise<Forwarder> {
  const child = lan.spawn('pen', [dsrForwarderBin()!, ...args]);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const ready = await waitLine(child, /^ready /);
  return {
    child,
    mac: ready.split(' ')[1]!,
    command: (line: string) => {
      const reply = waitLine(child, /./);
      child.stdin!.write(`${line}\n`);
      return reply;
    },
    stop: () => new Promise<DsrCounters>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('pen_dsr_forward did not stop')), 5000);
      child.on('exit', () => {
        clearTimeout(t);
        const line = out.trim().split('\n').pop()!;
        try {
          resolve(JSON.parse(line) as DsrCounters);
        } catch {
          reject(new Error(`no counters in: ${out}`));
        }
      });
      child.stdin!.end('quit\n');
    }),
  };
}

/** A TCP (HTTP) or UDP server in backend `name` that answers with its name. */
async function startService(lan: Lan, name: string, kind: 'http' | 'udp', host: string, port: number): Promise<void> {
  const js = kind === 'http'
    ? `require('http').createServer((q,r)=>r.end('${name}')).listen(${port},'${host}',()=>console.log('up'))`
    : `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('${name}:'+m,r.port,r.address));s.bind(${port},'${host}',()=>console.log('up'))`;
  await waitLine(lan.spawn(name, [process.execPath, '-e', js]), /^up$/);
}

test('dsr tcp: HTTP through the VIP reaches both backends, which reply directly', { skip }, () => withLan(async ({ lan, vip, clients }) => {
  for (const b of ['b1', 'b2']) await startService(lan, b, 'http', '0.0.0.0', 80);
  const fwd = await startForwarder(lan, ['eth0', vip, '80', lan.addr(11), lan.addr(12)]);
  // the pen host does not route: a reply could not come back through it
  assert.equal((await lan.exec('pen', ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim(), '0');
  const seen: string[] = [];
  for (const src of clients) {
    seen.push(await lan.exec('client', ['curl', '-sS', '-m', '5', '--interface', src, `http://${vip}/`]));
  }
  assert.deepEqual(new Set(seen), new Set(['b1', 'b2']), `answers: ${seen.join(',')}`);
  // the client learned the VIP at pen's MAC
  assert.match(await lan.exec('client', ['ip', 'neigh', 'show', vip]), new RegExp(fwd.mac));
  const c = await fwd.stop();
  assert.ok(c.arpReplies >= 1);
  assert.equal(c.macsLearned, 2);
  assert.ok(c.servers[0]!.frames > 0 && c.servers[1]!.frames > 0, JSON.stringify(c));
  assert.equal(c.forwarded, c.servers[0]!.frames + c.servers[1]!.frames);
}));

test('dsr tcp: a backend added at run time starts receiving frames', { skip }, () => withLan(async ({ lan, vip, clients }) => {
  for (const b of ['b1', 'b2']) await startService(lan, b, 'http', '0.0.0.0', 80);
  const fwd = await startForwarder(lan, ['eth0', vip, '80', lan.addr(11)]);
  const ask = async () => {
    const seen = new Set<string>();
    for (const src of clients) seen.add(await lan.exec('client', ['curl', '-sS', '-m', '5', '--interface', src, `http://${vip}/`]));
    return seen;
  };
  assert.deepEqual(await ask(), new Set(['b1']));
  assert.equal(await fwd.command(`backends ${lan.addr(11)} ${lan.addr(12)}`), 'ok');
  // b2's MAC is learned on demand: the first frames wait for it instead of being lost
  assert.deepEqual(await ask(), new Set(['b1', 'b2']));
  const c = await fwd.stop();
  assert.ok(c.servers[1]!.frames > 0, JSON.stringify(c));
}));

test('dsr tcp: frames to another port than the listen port are not forwarded', { skip }, () => withLan(async ({ lan, vip }) => {
  for (const b of ['b1', 'b2']) await startService(lan, b, 'http', '0.0.0.0', 8080);
  const fwd = await startForwarder(lan, ['eth0', vip, '80', lan.addr(11), lan.addr(12)]);
  await assert.rejects(lan.exec('client', ['curl', '-sS', '-m', '2', `http://${vip}:8080/`]));
  const c = await fwd.stop();
  assert.equal(c.forwarded, 0);
}));

test('dsr udp (-U): datagrams to the VIP reach both backends, replies come from the VIP', { skip }, () => withLan(async ({ lan, vip, clients }) => {
  for (const b of ['b1', 'b2']) await startService(lan, b, 'udp', vip, 5353);
  const fwd = await startForwarder(lan, ['-U', 'eth0', vip, '5353', lan.addr(11), lan.addr(12)]);
  const js = `const d=require('dgram');const srcs=${JSON.stringify(clients)};const out=[];let n=0;
    for(const a of srcs){const s=d.createSocket('udp4');s.bind(0,a,()=>{s.connect(5353,'${vip}',()=>s.send('hi'))});
      s.on('message',(m)=>{out.push(String(m));s.close();if(++n===srcs.length){console.log(JSON.stringify(out));process.exit(0)}})}
    setTimeout(()=>{console.log(JSON.stringify(out));process.exit(1)},4000)`;
  // a connected socket only accepts replies whose source is the VIP
  const replies = JSON.parse(await lan.exec('client', [process.execPath, '-e', js])) as string[];
  assert.deepEqual(new Set(replies), new Set(['b1:hi', 'b2:hi']));
  assert.equal(replies.length, clients.length);
  const c = await fwd.stop();
  assert.ok(c.servers[0]!.frames > 0 && c.servers[1]!.frames > 0, JSON.stringify(c));
}));

test('tarpit: a raw SYN gets a SYN-ACK with valid checksums whatever its options; connect() completes', { skip }, () => withLan(async ({ lan, vip }) => {
  const trap = lan.addr(66);
  const fwd = await startForwarder(lan, ['-t', trap, 'eth0', vip, '80', lan.addr(11), lan.addr(12)]);
  for (const optionBytes of [0, 4, 20, 40]) {
    const r = JSON.parse(await lan.exec('client', ['python3', RAW_SYN, 'eth0', fwd.mac, lan.addr(1), trap, '22', String(optionBytes)]));
    assert.deepEqual(r, { answered: true, flags: 0x12, ackOk: true, ipChecksumOk: true, tcpChecksumOk: true, ipHeader: 20, tcpHeader: 20 },
      `${optionBytes} option bytes`);
  }
  // a real client: ARP for the tarpitted address, then the kernel's own handshake completes
  const js = `const s=require('net').connect(22,'${trap}');s.on('connect',()=>{console.log('connected');process.exit(0)});
    s.on('error',(e)=>{console.log(e.code);process.exit(1)});setTimeout(()=>{console.log('timeout');process.exit(1)},4000)`;
  assert.equal((await lan.exec('client', [process.execPath, '-e', js])).trim(), 'connected');
  assert.match(await lan.exec('client', ['ip', 'neigh', 'show', trap]), new RegExp(fwd.mac));
  const c = await fwd.stop();
  assert.equal(c.tarpitSyns, 5);
  assert.ok(c.tarpitDrops >= 1, 'the handshake ACK (and RSTs for the raw SYNs) are dropped');
  assert.equal(c.forwarded, 0);
}));
