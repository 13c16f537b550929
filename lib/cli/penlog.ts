// penlog: send web-server log lines from stdin to penlogd, one UDP datagram per line, as Pen's.
//
//   penlog SERVER_IP SERVER_PORT [MY_IP]
//
// For Apache: CustomLog "|/usr/local/bin/penlog loghost 10000" common. SERVER_IP may be a
// name (resolved once; IPv4 or IPv6), SERVER_PORT a number or a udp service name; MY_IP binds
// the sending socket, so that penlogd sees the address pen uses for this web server. Lines
// keep their newline; a line longer than 1023 bytes goes in 1023-byte pieces, as Pen's penlog
// sent it (penlogd joins them again). Ends at the end of stdin, once everything is sent.
// Differences from Pen: usage errors exit 2 (Pen: 1); send errors are reported once per
// kind of error with a count, not once per line.
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';

import { parsePort } from '../config/listen-spec.js';
import { PIECE } from '../log/penlogd.js';
import { standardReply } from './standard.js';

export const USAGE = `Usage: penlog server_ip server_port [my_ip]

Reads web-server log lines from stdin and sends each to penlogd on server_ip:server_port (UDP),
from my_ip when given.

  --help      this text
  --version   print the version
`;
/** Datagrams in flight before stdin is paused. */
const IN_FLIGHT_MAX = 256;

async function resolve(host: string, family?: number): Promise<{ address: string; family: number }> {
  if (net.isIP(host)) return { address: host, family: net.isIP(host) };
  return dns.lookup(host, family ? { family } : {});
}

/** The pieces of one line (with its newline) as penlog sends them. */
export function pieces(line: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < line.length; off += PIECE) out.push(line.subarray(off, Math.min(off + PIECE, line.length)));
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const standard = standardReply(argv, 'penlog', USAGE);
  if (standard !== null) {
    process.stdout.write(standard);
    return 0;
  }
  if (argv.length < 2 || argv.length > 3) {
    process.stderr.write(USAGE);
    return 2;
  }
  const [host, portText, mine] = argv as [string, string, string | undefined];
  const p = parsePort(portText, 1, { proto: 'udp' });
  if ('reason' in p) {
    process.stderr.write(`penlog: server_port "${portText}" ${p.reason}\n`);
    return 2;
  }
  let target: { address: string; family: number };
  let local: { address: string; family: number } | null = null;
  try {
    target = await resolve(host);
    if (mine !== undefined) local = await resolve(mine, target.family);
  } catch (e) {
    process.stderr.write(`penlog: getaddrinfo: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  const sock = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((ok, ko) => {
      sock.once('error', ko);
      const connect = (): void => sock.connect(p.port, target.address, () => { sock.off('error', ko); ok(); });
      if (local) sock.bind(0, local.address, connect);
      else connect();
    });
  } catch (e) {
    process.stderr.write(`penlog: cannot send to ${host}:${portText}${local ? ` from ${mine}` : ''} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n`);
    sock.close();
    return 1;
  }

  let inFlight = 0;
  let ended = false;
  const errors = new Map<string, number>();
  return new Promise<number>((done) => {
    const finish = (): void => {
      if (!ended || inFlight > 0) return;
      sock.close();
      done(0);
    };
    const sent = (err: Error | null): void => {
      inFlight--;
      if (err) {
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        const n = (errors.get(code) ?? 0) + 1;
        errors.set(code, n);
        if (n === 1 || n % 1000 === 0) process.stderr.write(`penlog: problem sending data (${code}), ${n} line(s) so far\n`);
      }
      if (inFlight < IN_FLIGHT_MAX / 2 && process.stdin.isPaused()) process.stdin.resume();
      finish();
    };
    sock.on('error', () => undefined); // reported through the send callbacks
    let rest = Buffer.alloc(0);
    const send = (line: Buffer): void => {
      for (const piece of pieces(line)) {
        inFlight++;
        sock.send(piece, sent);
      }
      if (inFlight >= IN_FLIGHT_MAX) process.stdin.pause();
    };
    process.stdin.on('data', (chunk: Buffer) => {
      let data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let nl: number;
      while ((nl = data.indexOf(10)) >= 0) {
        send(data.subarray(0, nl + 1));
        data = data.subarray(nl + 1);
      }
      rest = Buffer.from(data);
    });
    process.stdin.on('end', () => {
      if (rest.length) send(rest);
      ended = true;
      finish();
    });
  });
}
