// penlogd: merges pen's request log with the web servers' logs (lib/log/penlogd.ts), as Pen's.
//
//   penlogd [-d] [-f] [-b] [-j DIR] [-l FILE] [-n N] [-p PIDFILE] [-u USER] PORT
//
// Listens for UDP datagrams on PORT (all addresses, IPv6 and IPv4 where the system has IPv6;
// Pen: IPv4 only) and writes the merged log to stdout or -l FILE. Without -f it becomes a
// daemon (diagnostics then go to syslog as "penlogd"). HUP reopens the -l file, TERM and INT
// end it (removing the -p file). Output is written at the end of each burst of datagrams
// (Pen held it in a 4 KiB stdio buffer unless -b); -b writes every line as it is merged.
// Differences from Pen: the port is bound before the privilege drop (so ports below 1024
// work with -u), -u also sets the group, bad usage exits 2 (Pen: 0), and a write error
// (disk full) is reported and the line dropped instead of being ignored.
import dgram from 'node:dgram';
import fs from 'node:fs';

import { isDaemonChild, reportToParent, spawnDaemon } from '../run/daemon.js';
import { dropPrivileges, lookupUser } from '../run/privileges.js';
import { stderrLogger, type Logger } from '../log/debug.js';
import { Merger } from '../log/penlogd.js';
import { syslogLogger } from '../log/syslog.js';
import { writeAllSync } from '../log/write-sync.js';
import { getopt, number } from './getopt.js';
import { standardReply } from './standard.js';

export const USAGE = `Usage:
  penlogd [options] port

  -d        debugging on (repeat for more)
  -f        stay in foreground
  -j dir    run in chroot
  -l file   write log to file (default: stdout)
  -b        write every line at once (default: once per burst of datagrams)
  -n N      number of pen log entries to remember [1000]
  -p file   write pid to file
  -u user   run as alternative user
  --help    this text
  --version print the version
`;

interface Options {
  debug: number;
  foreground: boolean;
  unbuffered: boolean;
  chroot: string | null;
  logfile: string | null;
  entries: number;
  pidfile: string | null;
  user: string | null;
  port: number;
}

/** argv -> options; throws Error with the message to print before the usage text. */
export function parseOptions(argv: readonly string[]): Options {
  const { options, operands } = getopt(argv, 'j:l:n:p:u:dfb');
  const o: Options = {
    debug: 0, foreground: false, unbuffered: false, chroot: null, logfile: null, entries: 1000,
    pidfile: null, user: null, port: 0,
  };
  for (const [letter, value] of options) {
    if (letter === 'd') o.debug++;
    else if (letter === 'f') o.foreground = true;
    else if (letter === 'b') o.unbuffered = true;
    else if (letter === 'j') o.chroot = value;
    else if (letter === 'l') o.logfile = value;
    else if (letter === 'n') o.entries = number('-n', value, 1);
    else if (letter === 'p') o.pidfile = value;
    else if (letter === 'u') o.user = value;
  }
  if (operands.length !== 1) throw new Error(operands.length ? 'one PORT only' : 'no PORT given');
  o.port = number('PORT', operands[0]!, 1);
  if (o.port > 65535) throw new Error(`PORT ${o.port} out of range (1..65535)`);
  return o;
}

function bind(port: number): Promise<dgram.Socket> {
  const attempt = (type: 'udp6' | 'udp4'): Promise<dgram.Socket> => new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type, ipv6Only: false });
    s.once('error', (e) => { s.close(); reject(e); });
    s.bind(port, type === 'udp6' ? '::' : '0.0.0.0', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
  });
  return attempt('udp6').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES') throw e;
    return attempt('udp4'); // no IPv6 here
  });
}

/** The merged log's destination: stdout, or an append-mode file reopened on HUP. */
class Output {
  private fd: number;
  private pending = '';
  private scheduled = false;

  constructor(private readonly path: string | null, private readonly unbuffered: boolean,
    private readonly logger: Logger) {
    this.fd = path === null ? 1 : fs.openSync(path, 'a');
  }

  write(text: string): void {
    if (!text) return;
    this.pending += text;
    if (this.unbuffered || this.pending.length >= 65536) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (!this.pending) return;
    const buf = Buffer.from(this.pending, 'latin1');
    this.pending = '';
    try {
      writeAllSync(this.fd, buf);
    } catch (e) {
      this.logger.log(0, `cannot write the log (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); lines dropped`);
    }
  }

  reopen(): void {
    if (this.path === null) return;
    this.flush();
    try {
      const fd = fs.openSync(this.path, 'a');
      fs.closeSync(this.fd);
      this.fd = fd;
    } catch (e) {
      this.logger.log(0, `cannot reopen ${this.path} (${(e as NodeJS.ErrnoException).code}); still writing to the file opened before`);
    }
  }
}

/** Runs penlogd; resolves with an exit status when it ends by itself (errors, usage). */
export async function main(argv: string[]): Promise<number> {
  const standard = standardReply(argv, 'penlogd', USAGE);
  if (standard !== null) {
    process.stdout.write(standard);
    return 0;
  }
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`penlogd: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!o.foreground && !isDaemonChild()) return spawnDaemon('penlogd');
  let logger: Logger = stderrLogger(o.debug);
  const fail = (message: string): number => {
    if (isDaemonChild()) reportToParent({ error: `penlogd: ${message}`, exitCode: 1 });
    else process.stderr.write(`penlogd: ${message}\n`);
    return 1;
  };
  const warnings: string[] = [];
  if (isDaemonChild()) {
    try {
      logger = syslogLogger('penlogd', o.debug);
    } catch (e) {
      warnings.push(`penlogd: cannot reach syslog (${(e as Error).message}): diagnostics are discarded`);
    }
  }
  let sock: dgram.Socket;
  try {
    sock = await bind(o.port);
  } catch (e) {
    return fail(`cannot listen on UDP port ${o.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let out: Output;
  try {
    dropPrivileges(o.chroot, o.user ? lookupUser(o.user) : null);
    out = new Output(o.logfile, o.unbuffered, logger);
    if (o.pidfile) fs.writeFileSync(o.pidfile, String(process.pid));
  } catch (e) {
    sock.close();
    return fail((e as Error).message);
  }
  const merger = new Merger(o.entries);
  sock.on('message', (msg, rinfo) => {
    const r = merger.datagram(msg.toString('latin1'), rinfo.address);
    if (o.debug > 1) logger.log(2, `datagram from ${rinfo.address}: ${JSON.stringify(msg.toString('latin1'))}`);
    for (const n of r.notes) logger.log(1, n);
    out.write(r.out);
  });
  sock.on('error', (e) => logger.log(0, `receiving: ${e.message}`));
  const quit = (): void => {
    out.flush();
    if (o.pidfile) fs.rmSync(o.pidfile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
  process.on('SIGHUP', () => {
    logger.log(1, `reopening ${o.logfile ?? 'stdout'}`);
    out.reopen();
  });
  logger.log(1, `listening on UDP port ${o.port}, remembering ${o.entries} pen entries`);
  reportToParent({ ready: true, warnings });
  return -1;
}
