// The control socket (-C): Pen's protocol, one command per connection, served without ever
// blocking the process (quirks 34, 35).
//
// Per connection:
//  1. control_acl is checked against the peer address; a denied peer is closed unread and
//     unanswered (unix-socket peers always pass; a TCP peer whose address is unknown, e.g. it
//     reset before it was served, is denied by any non-empty list).
//  2. Bytes are read until the first '\r' or '\n', or EOF. More than `maxLineBytes` without a
//     line end replies an error; no line within `timeoutMs` of connecting closes the connection.
//  3. That one line is dispatched (origin 'socket'); the reply is written and the connection
//     closed: end of reply = EOF, as in Pen.
// At most `maxClients` connections are open at once. A connection closed unread (over that
// limit, or denied by control_acl) is reset, not closed with a FIN: penctl must be able to tell
// it from a command whose reply is empty (Pen's setters reply nothing) and fail (issue 12).
// A slow, silent or garbage client costs one socket and a timer, nothing else.
import fs from 'node:fs';
import net from 'node:net';
import { aclPermits, compileAcls } from '../config/acl.js';
import { parseListenSpec, type ListenSpec } from '../config/listen-spec.js';
import type { Settings } from '../config/settings.js';
import { isPenError, PenError } from '../errors.js';
import type { ControlContext } from './context.js';
import { dispatch } from './dispatch.js';

export interface ControlServerOptions {
  ctx: ControlContext;
  /** The -C argument: [host:]port, [host]:port, ::1:port or a unix socket path. */
  address: string;
  /** Time allowed for the line to arrive, and again for the reply to be taken (default 5000). */
  timeoutMs?: number;
  /** Longest accepted command line, in bytes, line end included (default 4096). */
  maxLineBytes?: number;
  /** Connections served at once (default 16). */
  maxClients?: number;
  /** Runs one line; default dispatch(ctx, line, 'socket'). */
  run?: (line: string) => Promise<string>;
}

export interface ControlServer {
  /** The (first) bound address: { port, address } for TCP, the path for a unix socket. */
  address(): net.AddressInfo | string;
  /** Stops accepting (on every bound address), waits for open connections to finish, removes a unix socket file. */
  close(): Promise<void>;
}

/**
 * pen refuses to open a control port as root unless -u is given (Pen refused silently).
 * Throws PenError saying why and what to do; returns when the port may be opened.
 */
export function checkControlPrivileges(uid: number, user: string | null): void {
  if (uid !== 0 || user !== null) return;
  throw new PenError('PEN_ERR_CONFIG', {
    detail: 'refusing to open the control port (-C) as root: anyone who can reach it could make a root ' +
      'process write files (write FILE). Run with -u USER to drop privileges, or -u root to insist',
  });
}

/**
 * The addresses `-C` binds: a port alone (`10080`, `:10080`) means loopback only, 127.0.0.1
 * and ::1 (Pen: every address); any other address is bound as written.
 */
export function controlHosts(spec: ListenSpec & { kind: 'inet' }): string[] {
  return spec.host === null ? ['127.0.0.1', '::1'] : [spec.host];
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || /^::ffff:127\./i.test(host);
}

/**
 * The start-up warning for a control port anyone on the network may reach: an inet address
 * that is not loopback, with an empty control_acl. Null when there is nothing to say.
 */
export function controlExposureWarning(s: Readonly<Settings>): string | null {
  if (s.control === null) return null;
  const spec = parseListenSpec(s.control);
  if (spec.kind === 'unix' || controlHosts(spec).every(isLoopback)) return null;
  if ((s.acls[s.controlAcl] ?? []).length > 0) return null;
  return `pen: warning: the control port ${s.control} is reachable from other hosts and control_acl ${s.controlAcl} ` +
    'is empty: anyone who can connect can reconfigure pen (set an ACL, e.g. -O "acl 9 permit 10.0.0.0 255.0.0.0" ' +
    '-O "control_acl 9", or listen on 127.0.0.1)';
}

/** Starts listening; resolves once bound, rejects with PenError PEN_ERR_BIND (or a spec error). */
export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const spec = parseListenSpec(opts.address);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxLineBytes = opts.maxLineBytes ?? 4096;
  const run = opts.run ?? ((line: string) => dispatch(opts.ctx, line, 'socket'));

  const maxClients = opts.maxClients ?? 16;
  let open = 0; // control connections open, over every listening socket
  const create = (): net.Server => net.createServer({ allowHalfOpen: true }, (sock) => {
    if (open >= maxClients) {
      dropUnread(sock);
      return;
    }
    open++;
    sock.once('close', () => { open--; });
    serveOne(sock, opts.ctx, run, timeoutMs, maxLineBytes, spec.kind === 'unix');
  });
  const bind = (server: net.Server, listen: (done: () => void) => void): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      listen(() => {
        server.removeListener('error', reject);
        server.on('error', () => {}); // after bind, per-connection errors are handled per socket
        resolve();
      });
    });
  const servers: net.Server[] = [];
  const closeAll = (): Promise<void> => Promise.all(servers.map((srv) =>
    new Promise<void>((resolve) => srv.close(() => resolve())))).then(() => undefined);
  try {
    if (spec.kind === 'unix') {
      removeStaleSocket(spec.path, opts.address);
      const server = create();
      await bind(server, (done) => server.listen(spec.path, done));
      servers.push(server);
    } else {
      let port = spec.port;
      for (const host of controlHosts(spec)) {
        const server = create();
        try {
          await bind(server, (done) => server.listen(port, host, done));
        } catch (e) {
          // ::1 of the loopback pair is optional: a host without IPv6 has only 127.0.0.1.
          const code = (e as NodeJS.ErrnoException).code;
          if (spec.host === null && host === '::1' && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
          throw e;
        }
        servers.push(server);
        port = (server.address() as net.AddressInfo).port; // port 0: the second binds the same one
      }
    }
  } catch (e) {
    await closeAll();
    if (isPenError(e)) throw e;
    throw new PenError('PEN_ERR_BIND', { address: opts.address, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
  }

  return {
    address: () => servers[0]!.address() ?? '',
    close: async () => {
      await closeAll();
      if (spec.kind === 'unix') fs.rmSync(spec.path, { force: true });
    },
  };
}

/** Pen unlinked the path blindly; pen removes only an old socket and refuses other files. */
function removeStaleSocket(path: string, address: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new PenError('PEN_ERR_BIND', { address, reason: 'the path exists and is not a socket' });
  }
  fs.unlinkSync(path);
}

/** Closes a connection without reading it: a TCP peer gets a reset (its read fails), a unix
    peer EPIPE/ECONNRESET on its write or read. */
function dropUnread(sock: net.Socket): void {
  sock.on('error', () => undefined);
  if (sock.remoteAddress !== undefined) sock.resetAndDestroy();
  else sock.destroy();
}

function serveOne(sock: net.Socket, ctx: ControlContext, run: (line: string) => Promise<string>,
  timeoutMs: number, maxLineBytes: number, unixPeer: boolean): void {
  sock.on('error', () => sock.destroy());
  const s = ctx.settings();
  const peer = unixPeer ? null : (sock.remoteAddress ?? '');
  if (!aclPermits(compileAcls([s.acls[s.controlAcl] ?? []])[0]!, peer, (ip) => ctx.engine.countryOf(ip))) {
    dropUnread(sock);
    return;
  }
  // Hard deadlines, not idle timers: a client trickling bytes cannot hold a slot either.
  let deadline = setTimeout(() => sock.destroy(), timeoutMs);
  sock.on('close', () => clearTimeout(deadline));
  const reply = (text: string) => {
    clearTimeout(deadline);
    deadline = setTimeout(() => sock.destroy(), timeoutMs); // for the client to take the reply
    sock.end(text);
  };

  const chunks: Buffer[] = [];
  let size = 0;
  let answered = false;
  const answer = (line: string) => {
    answered = true;
    sock.removeListener('data', onData); // further input is read and dropped
    clearTimeout(deadline);
    run(line).then((text) => { if (!sock.destroyed) reply(text); },
      () => sock.destroy()); // dispatch never rejects; a custom `run` might
  };
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    const all = Buffer.concat(chunks, size);
    const end = all.findIndex((b) => b === 0x0a || b === 0x0d);
    if (end >= 0 && end < maxLineBytes) {
      answer(all.subarray(0, end).toString('utf8'));
    } else if (size >= maxLineBytes) {
      answered = true;
      sock.removeListener('data', onData);
      reply(`pen: command longer than ${maxLineBytes - 1} bytes\n`);
    }
  };
  sock.on('data', onData);
  sock.on('end', () => {
    if (answered) return;
    if (size > 0) answer(Buffer.concat(chunks, size).toString('utf8'));
    else sock.end();
  });
}
