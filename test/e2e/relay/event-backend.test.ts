// The event backend and how the workers read and write sockets (README "Several cores"):
// by default on Linux a worker reads the chunks of every connection a turn found ready, and
// forwards them, with one system call for all (io_uring), and closes the turn's sockets
// together; `-O epoll`, `-O poll` and -P choose plain system calls, and take effect (they were
// once accepted and ignored); a backend this system lacks (`kqueue` on Linux) is refused.
// The same exchanges must come out byte for byte either way: many clients at once, chunks
// below and above the 16 KiB read made ahead, a half-close in each direction.
// Block 153 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { pattern, sha256, startEcho } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { command, penWithControl } from '../../helpers/control.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { runPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(153);

/** The "Socket I/O: ..." line of the status page. */
async function socketIo(control: Parameters<typeof command>[0]): Promise<string> {
  const page = await command(control, 'status');
  const line = /^Socket I\/O: [^<\n]*/m.exec(page); // the HTML page ends the line with <p>
  assert.ok(line, `the status page has a socket I/O line: ${page.slice(-400)}`);
  return line[0];
}

/** The sockets process pid holds open now. */
function sockets(pid: number): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** n round trips of sizes[i] bytes through an echo backend on one connection; then a half-close. */
async function echoRounds(e: { host: string; port: number }, sizes: number[], seed: number): Promise<void> {
  const c = await connect(e);
  try {
    let total = 0;
    for (const [i, size] of sizes.entries()) {
      const chunk = pattern(size, seed * 1000 + i);
      await c.write(chunk);
      total += size;
      await c.atLeast(total, 10_000);
    }
    c.end(); // our FIN: the echo backend answers with its own once it has sent everything
    const all = await c.readToEnd(10_000);
    const want = Buffer.concat(sizes.map((size, i) => pattern(size, seed * 1000 + i)));
    assert.equal(all.length, want.length, `connection ${seed}: every byte came back`);
    assert.equal(sha256(all), sha256(want), `connection ${seed}: in order`);
  } finally {
    c.destroy();
  }
}

const CASES: { name: string; args: string[]; line: RegExp }[] = [
  {
    name: 'default',
    args: [],
    // Batched where this kernel allows io_uring; else plain, saying why.
    // (PEN_TEST_WORKERS may run it with several workers.)
    line: /^Socket I\/O: (batched with io_uring, (\d) of \2 workers|one system call per read and per write on (\d) of \3 workers \(.+\))$/,
  },
  {
    name: 'default, workers 2',
    args: ['-O', 'workers 2'],
    line: /^Socket I\/O: (batched with io_uring, 2 of 2 workers|one system call per read and per write on 2 of 2 workers \(.+\))$/,
  },
  {
    name: '-O epoll',
    args: ['-O', 'epoll'],
    line: /^Socket I\/O: one system call per read and per write on \d of \d workers \(event backend epoll chosen\)$/,
  },
  {
    name: '-O poll',
    args: ['-O', 'poll'],
    line: /^Socket I\/O: one system call per read and per write on \d of \d workers \(event backend poll chosen\)$/,
  },
  {
    name: '-P',
    args: ['-P'],
    line: /^Socket I\/O: one system call per read and per write on \d of \d workers \(event backend poll chosen\)$/,
  },
];

for (const [i, c] of CASES.entries()) {
  test(`${c.name}: the status page says how sockets are read and written; 40 clients echo small and large chunks, then half-close`, () => scoped(async (s) => {
    const block = 10 * i;
    const backend = s.backend(await startEcho('echo', { host: ip(block + 2) }));
    const dir = tempDir('event-backend');
    s.defer(() => removeDir(dir));
    const pen = s.pen(await penWithControl(ip(block + 1), [...c.args, '-w', path.join(dir, 'status.html')], [backend.spec]));
    assert.match(await socketIo(pen.control), c.line);
    const idle = sockets(pen.pid);
    // Small exchanges (one read each), one of exactly 16 KiB, and large ones (several reads).
    const sizes = [1, 64, 700, 16_384, 3, 40_000, 1460, 200_000, 9];
    await Promise.all(Array.from({ length: 40 }, (_, k) => echoRounds(pen.endpoint, sizes, k + 1)));
    await waitFor(async () => /Number of connections: \d+ max, 0 used/.test(await command(pen.control, 'status')),
      5000, 'every connection closed and its slot given back');
    await waitFor(() => sockets(pen.pid) <= idle, 5000, `pen's sockets back to ${idle} (the closes made in batches too)`);
  }));
}

test('-O kqueue on Linux: refused at start-up, naming the backend', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
  const r = await runPen(['-f', '-O', 'kqueue', `${ip(100)}:0`, `${ip(101)}:1`]);
  assert.equal(r.code, 2, `exit status 2: ${r.stderr}`);
  assert.match(r.stderr, /event backend 'kqueue' is not available on this system/);
});
