// Hash (-h): the initial server is the client's IPv4 address bytes read as a little-endian
// 32-bit number, modulo the number of servers (Pen's x86 answers, spec/selection.md
// "by_hash"); with -r as well, the port field (network order read little-endian) is XORed in.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';

const ip = loopback(13);

test('hash: with 3 servers 127.0.0.1 -> 2, 127.0.0.5 -> 0, 127.0.0.9 -> 1 (Pen-compatible)', () => scoped(async (s) => {
  const names = ['S0', 'S1', 'S2'];
  const bs = await Promise.all(names.map(async (n, i) => s.backend(await startHttpNamed(n, { host: ip(2 + i) }))));
  const pen = s.pen(await penOn(ip(1), ['-h'], bs.map((b) => b.spec)));
  // Out of index order, twice, so that neither a cursor nor the arrival order could explain it.
  const plan: [string, string][] = [
    ['127.0.0.9', 'S1'], ['127.0.0.1', 'S2'], ['127.0.0.5', 'S0'],
    ['127.0.0.5', 'S0'], ['127.0.0.9', 'S1'], ['127.0.0.1', 'S2'],
  ];
  for (const [client, want] of plan) {
    assert.equal(await whoAnswers(pen.endpoint, { localAddress: client }), want, `client ${client}`);
  }
}));

/** Pen's hash with the port (x86): le32(address bytes) ^ bswap16(port), modulo n. */
function hashWithPort(addr: string, port: number, n: number): number {
  const b = addr.split('.').map(Number);
  const h = (b[0]! | b[1]! << 8 | b[2]! << 16 | b[3]! << 24) >>> 0;
  const swapped = ((port >> 8) | ((port & 0xff) << 8)) >>> 0;
  return ((h ^ swapped) >>> 0) % n;
}

test('hash with -r: the client port is part of the hash', () => scoped(async (s) => {
  const names = ['S0', 'S1', 'S2'];
  const bs = await Promise.all(names.map(async (n, i) => s.backend(await startHttpNamed(n, { host: ip(12 + i) }))));
  const pen = s.pen(await penOn(ip(11), ['-h', '-r'], bs.map((b) => b.spec)));
  const client = ip(100);
  const seenServers = new Set<string>();
  // Source ports below the ephemeral range, each used once (no TIME_WAIT clash).
  let port = 20000 + Math.floor(Math.random() * 5000) * 2;
  let done = 0;
  let attempts = 0;
  while (done < 9) {
    port += 7;
    attempts++;
    assert.ok(attempts < 50, 'could not bind enough client ports');
    let got: string;
    try {
      got = await whoAnswers(pen.endpoint, { localAddress: client, localPort: port });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw err;
    }
    const want = names[hashWithPort(client, port, 3)]!;
    assert.equal(got, want, `client ${client} port ${port}`);
    seenServers.add(got);
    done++;
  }
  assert.ok(seenServers.size >= 2, 'different ports reached different servers');
}));
