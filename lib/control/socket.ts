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
import { parseListenSpec } from '../config/listen-spec.js';
import { PenError } from '../errors.js';
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
  /** The bound address: { port, address } for TCP, the path for a unix socket. */
  address(): net.AddressInfo | string;
  /** Stops accepting, waits for open connections to finish, removes a unix socket file. */
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

/** Starts listening; resolves once bound, rejects with PenError PEN_ERR_BIND (or a spec error). */
export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const spec = parseListenSpec(opts.address);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxLineBytes = opts.maxLineBytes ?? 4096;
  const run = opts.run ?? ((line: string) => dispatch(opts.ctx, line, 'socket'));

  const maxClients = opts.maxClients ?? 16;
  let open = 0;
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    if (open >= maxClients) {
      dropUnread(sock);
      return;
    }
    open++;
    sock.once('close', () => { open--; });
    serveOne(sock, opts.ctx, run, timeoutMs, maxLineBytes, spec.kind === 'unix');
  });

  if (spec.kind === 'unix') removeStaleSocket(spec.path, opts.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new PenError('PEN_ERR_BIND', { address: opts.address, reason: e.code ?? e.message })));
    if (spec.kind === 'unix') server.listen(spec.path, resolve);
    else server.listen(spec.port, spec.host ?? '0.0.0.0', resolve);
  });
  server.on('error', () => {}); // after bind, per-connection errors are handled per socket

  return {
    address: () => server.address() ?? '',
    close: () => new Promise<void>((resolve) => {
      server.close(() => {
        if (spec.kind === 'unix') fs.rmSync(spec.path, { force: true });
        resolve();
      });
    }),
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
