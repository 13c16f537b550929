// Addresses for e2e tests. node's test runner runs files concurrently, so every test file owns
// one block of loopback addresses, 127.0.<block>.<n> (Linux routes all of 127/8 to lo), and
// binds port 0 or reserves a port on its own address: two files can never race for a port.
//
// Blocks in use (add a row when you add a file; never reuse a number):
//   11 balance/roundrobin   12 balance/tracking   13 balance/hash   14 balance/weight
//   15 balance/prio         21 failover/failover  22 failover/blacklist  23 failover/emergency
//   31 limits/maxconn       32 limits/conn-max    33 limits/fd-exhaustion 34 limits/concurrency
//   35 limits/pending-max
//   41 addresses/ipv6       42 addresses/unix
//   51 relay/bulk           52 relay/half-close   53 relay/idle-timeout  54 relay/fastclose
//   61 cli/bad-args         62 cli/signals        63 cli/daemon
//   71 udp/selection        72 udp/failover       73 udp/expiry          74 udp/flood
//   75 udp/datagrams        76 udp/addresses      77 udp/engine          78 udp/dns-scale
//   91 log/access           92 log/rotation       93 log/penlogd         94 log/bad-input
//   95 log/webstats         96 log/debug          97 log/udp
//   81-87 control/* (see helpers/control.ts)
//   101 http/keepalive      102 http/format       103 http/refusals
//   111 tls/handshake       112 tls/sni           113 tls/ocsp           114 tls/client-cert
//   115 tls/protocols       116 tls/resumption    117 tls/bulk           118 tls/http
//   121 geoip/country-acl   122 geoip/database    123 geoip/udp
//   131 cli/first-contact   132 workers/udp       133 workers/control-under-load
//   134 workers/shared-pool
//   141 soak/soak
//   151 relay/dummy          152 relay/idlers         153 relay/event-backend
//   241 cli/config-errors   242 http/upgrade      243 log/escapes        244 tls/tickets
// The client addresses 127.0.0.x are used as *sources* only (hash test), never bound to listen.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A TCP address or a unix-domain socket path. */
export type Endpoint = { host: string; port: number } | { path: string };

/** `loopback(11)(2)` = '127.0.11.2'. */
export function loopback(block: number): (n: number) => string {
  if (!(block >= 1 && block <= 254)) throw new Error(`bad loopback block ${block}`);
  return (n: number) => {
    if (!(n >= 1 && n <= 254)) throw new Error(`bad loopback host ${n}`);
    return `127.0.${block}.${n}`;
  };
}

/** `[::1]:80` for IPv6 hosts, `a.b.c.d:80` otherwise, or the path: pen's BACKEND syntax. */
export function specOf(e: Endpoint): string {
  if ('path' in e) return e.path;
  return net.isIPv6(e.host) ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Pen's LISTEN syntax for an endpoint (IPv6 as `[::1]:port`, which pen accepts). */
export function listenSpecOf(e: Endpoint): string {
  return specOf(e);
}

/**
 * A port that is free on `host` right now: binds port 0, reads the port back, closes.
 * Only safe on an address this test file owns (see the block table above).
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A pen listen endpoint on `host` with a free port. */
export async function freeEndpoint(host: string): Promise<{ host: string; port: number }> {
  return { host, port: await freePort(host) };
}

let ipv6Checked: Promise<boolean> | null = null;

/** Whether ::1 can be bound on this machine (containers often lack IPv6). */
export function hasIPv6Loopback(): Promise<boolean> {
  ipv6Checked ??= new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '::1', port: 0 }, () => s.close(() => resolve(true)));
  });
  return ipv6Checked;
}

/** A fresh private directory (for unix sockets, pidfiles); remove it with removeDir. */
export function tempDir(tag: string): string {
  // Short base: unix socket paths are limited to ~107 bytes.
  return fs.mkdtempSync(path.join(os.tmpdir(), `pen-${tag}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** 16 bytes of an IPv6 literal (no embedded IPv4 form needed by the tests). */
export function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  const t = tail === null ? [] : parse(tail);
  const groups = tail === null ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

/** 4 or 16 network-order bytes of an IP literal. */
export function ipBytes(text: string): Buffer {
  if (net.isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  return ipv6Bytes(text);
}
