// The control port under bad input (spec/quirks.md D 34-37, 44): a root pen refuses -C without
// -u loudly; control clients that send nothing (one, then twenty more), 1 MB without a line
// end, binary junk or an overlong line neither stop nor slow the data plane (requests through
// pen keep succeeding quickly while they are connected), get an error or are dropped after a
// deadline, and pen answers control commands afterwards.
// Block 86 (see test/helpers/net.ts): pens on .1/.11, backends next to them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { command, exchange, isRoot, penWithControl, runPenctl } from '../../helpers/control.js';
import { freePort, loopback } from '../../helpers/net.js';
import { runPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor, withTimeout } from '../../helpers/time.js';

const ip = loopback(86);

test('as root, pen -C without -u exits non-zero with a message that mentions -u', async (t) => {
  if (!isRoot()) {
    t.skip('not running as root: the refusal only applies to uid 0');
    return;
  }
  await scoped(async (s) => {
    const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
    const port = await freePort(ip(1));
    const cport = await freePort(ip(3));
    const r = await runPen(['-f', '-C', `${ip(3)}:${cport}`, `${ip(1)}:${port}`, a.spec], { timeoutMs: 8000 });
    assert.notEqual(r.code, 0, `exit status; stdout ${r.stdout} stderr ${r.stderr}`);
    assert.match(r.stderr, /-u\b/, `the message says how to proceed (-u): ${r.stderr}`);
    assert.match(r.stderr, /root/, 'and why (root)');
    assert.equal(a.accepted, 0);
  });
});

/** A raw control connection that sends `data` (in 64 KiB pieces) and records how it ended. */
function abuser(where: { host: string; port: number }, data: Buffer | null) {
  const sock = net.connect({ host: where.host, port: where.port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  let sentBytes = 0;
  const closed = new Promise<{ reply: string; error: string | null }>((resolve) => {
    let error: string | null = null;
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('end', () => sock.end()); // pen has finished its reply: close our side too
    sock.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; });
    sock.on('close', () => resolve({ reply: Buffer.concat(chunks).toString('latin1'), error }));
  });
  sock.on('connect', () => {
    if (!data) return;
    const pump = (): void => {
      while (sentBytes < data.length && !sock.destroyed) {
        const piece = data.subarray(sentBytes, sentBytes + 65536);
        sentBytes += piece.length;
        if (!sock.write(piece)) {
          sock.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  return { sock, closed, sent: () => sentBytes };
}

test('silent, 1 MB, binary-junk and overlong control clients: the data plane keeps serving fast; pen answers afterwards', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(13) }));
  const pen = s.pen(await penWithControl(ip(11), ['-r'], [a.spec, b.spec]));

  const silent = abuser(pen.control, null);
  const huge = abuser(pen.control, Buffer.alloc(1 << 20, 0x41)); // 1 MiB of 'A', no line end
  const junk = randomBytes(1 << 16);
  for (let i = 0; i < junk.length; i++) if (junk[i] === 10 || junk[i] === 13) junk[i] = 0; // no line end either
  const binary = abuser(pen.control, junk);
  const binaryNl = abuser(pen.control, Buffer.concat([Buffer.from([0, 0xff, 0xfe, 7, 0x1b, 0x80, 0x20, 0x9c]), Buffer.from('\n')]));
  for (const x of [silent, huge, binary, binaryNl]) {
    s.defer(() => x.sock.destroy());
    await withTimeout(new Promise<void>((r) => (x.sock.connecting ? x.sock.once('connect', () => r()) : r())), 3000, 'abuser connect');
  }

  // Meanwhile: requests through pen succeed, and quickly.
  const timed = async (n: number): Promise<{ names: string[]; worst: number }> => {
    const names: string[] = [];
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      names.push(await whoAnswers(pen.endpoint, { timeoutMs: 2000 }));
      worst = Math.max(worst, performance.now() - t0);
    }
    return { names, worst };
  };
  const r1 = await timed(40);
  assert.deepEqual([...new Set(r1.names)].sort(), ['A', 'B']);
  assert.ok(r1.worst < 1000, `no request waited on the control clients (slowest ${r1.worst} ms)`);

  // The control port still answers a well-behaved client while the silent one is connected.
  const t0 = performance.now();
  assert.equal(await command(pen.control, 'blacklist'), '30\n');
  assert.ok(performance.now() - t0 < 1000, 'the control port answered at once');

  // The 1 MB line is refused with an error once the limit is passed; the junk likewise.
  const h = await withTimeout(huge.closed, 3000, 'pen to end the 1 MB client');
  assert.match(h.reply, /^pen: [^\n]*\n$/, `an error line for the 1 MB client: ${JSON.stringify(h.reply.slice(0, 120))}`);
  const j = await withTimeout(binary.closed, 3000, 'pen to end the junk client');
  assert.match(j.reply, /^pen: [^\n]*\n$/, `an error line for the junk client: ${JSON.stringify(j.reply.slice(0, 120))}`);
  const n = await withTimeout(binaryNl.closed, 3000, 'pen to answer the one-line junk client');
  assert.match(n.reply, /^(do_cmd: ignoring command starting with|pen: )[^\n]*\n$/s, `junk gets an error: ${JSON.stringify(n.reply)}`);

  // Overlong lines: penctl refuses to send one; pen answers a 4000-byte argument with an error.
  const r = await runPenctl([pen.ctl, 'servers', 'x'.repeat(5000)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Overlong argument list/);
  assert.match(await command(pen.control, `blacklist ${'9'.repeat(4000)}`), /^pen: blacklist: [^\n]*\n$/);

  // Twenty more silent clients (more than pen serves at once): the data plane does not care,
  // and the control port answers again once they are gone.
  const idle = Array.from({ length: 20 }, () => abuser(pen.control, null));
  for (const x of idle) s.defer(() => x.sock.destroy());
  await waitFor(() => idle.every((x) => !x.sock.connecting), 3000, 'the silent clients to connect');
  const r2 = await timed(20);
  assert.ok(r2.worst < 1000, `slowest request with 21 silent control clients: ${r2.worst} ms`);
  for (const x of idle) x.sock.destroy();
  await waitFor(async () => (await exchange(pen.control, 'pid\n', { timeoutMs: 2000 })).bytes.toString() === `${pen.pid}\n`,
    3000, 'the control port to answer once the silent clients left');

  // The first silent client is dropped after a while (a deadline, not forever).
  const sc = await withTimeout(silent.closed, 8000, 'pen to drop the silent control client');
  assert.equal(sc.reply, '', 'the silent client gets no reply');

  assert.ok(pen.isRunning());
  assert.equal(await command(pen.control, 'blacklist'), '30\n');
  assert.match(await whoAnswers(pen.endpoint), /^[AB]$/);
}));
