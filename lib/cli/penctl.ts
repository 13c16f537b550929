// penctl: send one command to a pen (or Pen) control socket and print the reply.
//
//   penctl host:port|[host]:port|/path/to/socket command [arg ...]
//
// As Pen's penctl: a target containing '/' is a unix socket; otherwise it splits at the LAST
// ':' (so ::1:10080 works); the words are joined by single spaces and sent with '\n'; the
// reply is copied to stdout until the server closes. Differences: [::1]:10080 is understood,
// a reply that is an error (lib/control/reply.ts) exits 1, the usage text exits 2, a
// server that does not answer within 10 s (timeoutMs) is given up on (exit 1), and a
// connection reset before any reply (pen's control socket resets what it drops unread: at its
// connection limit, by control_acl) exits 1 saying so. An empty reply closed normally is
// success: Pen's setters reply nothing.
import net from 'node:net';
import { parsePort } from '../config/listen-spec.js';
import { isErrorReply } from '../control/reply.js';
import { standardReply } from './standard.js';

export const USAGE = `usage: penctl HOST:PORT|[IPV6]:PORT|/path/to/socket COMMAND [ARG ...]

Sends one control command to a running pen (pen -C) and prints the reply. The exit status
is 1 when the reply is an error or no reply came, 2 for a usage error.

  penctl 127.0.0.1:10080 help              list every control command
  penctl 127.0.0.1:10080 help server       describe one command
  penctl 127.0.0.1:10080 servers           one line per server: conn, sx, rx, ...
  penctl 127.0.0.1:10080 server 1 blacklist 60
  penctl 127.0.0.1:10080 status            statistics (also written to the -w file)
  penctl /run/pen.ctl write /etc/pen.cfg   save the running configuration

  --help      this text
  --version   print the version
`;

/** Pen's reply to an unknown command word; the word is group 1. */
const UNKNOWN_COMMAND = /^do_cmd: ignoring command starting with '(.*)'/;

export interface PenctlIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Give up when nothing happens for this long (default 10000 ms). */
  timeoutMs?: number;
}

/** Longest command line sent, '\n' included: what the control socket accepts. */
export const MAX_COMMAND_BYTES = 4096;

type Target = { path: string } | { host: string; port: number } | { error: string };

/** The target argument -> where to connect, or the message to print. */
export function parseTarget(text: string): Target {
  if (text.includes('/')) return { path: text };
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) {
    [, host = '', portText = ''] = bracketed;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) {
      const example = /^\d+$/.test(text) ? `127.0.0.1:${text}` : `${text}:10080`;
      return { error: `penctl: control address "${text}" needs HOST:PORT (e.g. ${example}), [IPV6]:PORT or a unix socket path` };
    }
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  const p = parsePort(portText, 1);
  if ('reason' in p) return { error: `control address "${text}" ${p.reason}` };
  return { host: host || 'localhost', port: p.port };
}

/** Runs penctl with its arguments (without node and script); resolves to the exit status. */
export function penctl(args: readonly string[], io: PenctlIO): Promise<number> {
  const standard = standardReply(args, 'penctl', USAGE);
  if (standard !== null) {
    io.stdout.write(standard);
    return Promise.resolve(0);
  }
  if (args.length < 2) {
    io.stderr.write(USAGE);
    return Promise.resolve(2);
  }
  const target = parseTarget(args[0]!);
  if ('error' in target) {
    io.stderr.write(`${target.error}\n`);
    return Promise.resolve(1);
  }
  const line = `${args.slice(1).join(' ')}\n`;
  if (Buffer.byteLength(line) > MAX_COMMAND_BYTES) {
    io.stderr.write('Overlong argument list\n');
    return Promise.resolve(1);
  }

  return new Promise((resolve) => {
    let connected = false;
    let head = ''; // the start of the reply, enough to recognise an error
    let replied = false;
    let done = false;
    const finish = (status: number, message?: string) => {
      if (done) return;
      done = true;
      if (message) io.stderr.write(`${message}\n`);
      sock.destroy();
      resolve(status);
    };
    const sock = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
    sock.setTimeout(io.timeoutMs ?? 10_000, () =>
      finish(1, connected ? 'timeout waiting for the reply' : 'timeout connecting to server'));
    sock.on('connect', () => {
      connected = true;
      sock.write(line); // no half-close, as Pen's penctl: the server ends the exchange
    });
    sock.on('data', (chunk: Buffer) => {
      replied ||= chunk.length > 0;
      if (head.length < 256) head += chunk.toString('utf8');
      io.stdout.write(chunk);
    });
    sock.on('end', () => {
      const unknown = UNKNOWN_COMMAND.exec(head);
      // Pen's wording stays on stdout for scripts; the person gets a pointer to `help`.
      if (unknown) finish(1, `penctl: unknown command '${unknown[1]}' (try: penctl ${args[0]} help)`);
      else finish(isErrorReply(head) ? 1 : 0);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.syscall === 'getaddrinfo') finish(1, `getaddrinfo: ${e.code ?? e.message}`);
      else if (!replied && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
        // Accepted, then dropped unread (the reset may come before 'connect' is seen).
        finish(1, `the server closed the connection without a reply (${e.code})`);
      } else if (!connected) finish(1, `error connecting to server (${e.code ?? e.message})`);
      else finish(1, `error talking to server (${e.code ?? e.message})`);
    });
  });
}

/** The program: process.argv in, process.exitCode out (bin/penctl.js). */
export async function main(): Promise<void> {
  process.exitCode = await penctl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}

