// UDP backends for the -U tests, bound to an address the test file owns (port 0):
//   dns   answers DNS queries (as `dig` sends them) with one TXT record holding its name, and
//         echoes any other datagram with "name:" in front (so plain clients see who answered)
//   echo  sends every datagram back unchanged (sizes, zero length)
//   twice answers every datagram with two replies ("name:1:" + data, "name:2:" + data)
// Each counts what it receives and from which source ports; close() releases the socket.
import dgram from 'node:dgram';
import net from 'node:net';

import { withTimeout } from './time.js';

export type UdpMode = 'dns' | 'echo' | 'twice';

export interface UdpBackend {
  name: string;
  host: string;
  port: number;
  /** pen's BACKEND syntax: `127.0.71.2:4000` or `[::1]:4000`. */
  spec: string;
  /** Datagrams received. */
  received: number;
  /** Payload bytes received. */
  bytes: number;
  /** Source ports seen, in order of arrival (one entry per datagram). */
  ports: number[];
  /** Source addresses seen, in order of arrival (one entry per datagram). */
  hosts: string[];
  /** Sizes of the datagrams received, in order. */
  sizes: number[];
  /** Stops answering without closing the socket (replies are dropped). */
  mute: boolean;
  close(): Promise<void>;
}

/** Byte length of the question section starting at 12, or -1 when malformed. */
function questionEnd(q: Buffer): number {
  let i = 12;
  while (i < q.length) {
    const len = q[i]!;
    if (len === 0) return i + 5 <= q.length ? i + 5 : -1;
    if (len >= 0xc0) return -1;
    i += len + 1;
  }
  return -1;
}

/** A DNS answer to query q (one TXT record: text), or null when q is not a plain query. */
export function dnsAnswer(q: Buffer, text: string): Buffer | null {
  if (q.length < 17 || (q[2]! & 0x80) !== 0 || q.readUInt16BE(4) !== 1) return null;
  const end = questionEnd(q);
  if (end < 0) return null;
  const header = Buffer.alloc(12);
  q.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8400 | (q.readUInt16BE(2) & 0x0100), 2); // QR, AA, RD copied
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(1, 6); // ANCOUNT
  const t = Buffer.from(text);
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  rr.writeUInt16BE(16, 2); // TXT
  rr.writeUInt16BE(1, 4); // IN
  rr.writeUInt32BE(0, 6); // TTL
  rr.writeUInt16BE(t.length + 1, 10);
  return Buffer.concat([header, q.subarray(12, end), rr, Buffer.from([t.length]), t]);
}

export async function startUdpBackend(name: string, host: string, mode: UdpMode = 'dns'): Promise<UdpBackend> {
  const sock = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: 8 << 20 });
  const b: UdpBackend = {
    name, host, port: 0, spec: '', received: 0, bytes: 0, ports: [], hosts: [], sizes: [], mute: false,
    close: () => withTimeout(new Promise<void>((resolve) => sock.close(() => resolve())), 5000,
      `UDP backend ${name} to close`).catch(() => undefined),
  };
  sock.on('error', () => undefined);
  sock.on('message', (msg, rinfo) => {
    b.received++;
    b.bytes += msg.length;
    b.ports.push(rinfo.port);
    b.hosts.push(rinfo.address);
    b.sizes.push(msg.length);
    if (b.mute) return;
    const send = (data: Buffer) => sock.send(data, rinfo.port, rinfo.address, () => undefined);
    if (mode === 'echo') send(msg);
    else if (mode === 'twice') {
      send(Buffer.concat([Buffer.from(`${name}:1:`), msg]));
      send(Buffer.concat([Buffer.from(`${name}:2:`), msg]));
    } else send(dnsAnswer(msg, name) ?? Buffer.concat([Buffer.from(`${name}:`), msg]));
  });
  await withTimeout(new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, host, () => resolve());
  }), 5000, `UDP backend ${name} to bind`);
  b.port = sock.address().port;
  b.spec = net.isIPv6(host) ? `[${host}]:${b.port}` : `${host}:${b.port}`;
  try {
    sock.setSendBufferSize(8 << 20);
  } catch {
    // the default is enough for the small tests
  }
  return b;
}
