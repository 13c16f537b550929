// `dummy` (spec/dataplane.md §8): pen answers every chunk a client sends with Pen's fixed HTTP
// reply, byte for byte, contacts no backend, and closes once the answer is written (also for a
// keep-alive client), with one worker or several, and over TLS (-E). A dummy connection takes
// a slot like any other and gives it back: the status page counts the answers and shows no
// connection left.
// `no dummy` balances again; `write` saves `dummy`.
// Block 151 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';

import { startEcho } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { command, penWithControl } from '../../helpers/control.js';
import { loopback, removeDir, tempDir, type Endpoint } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor, withTimeout } from '../../helpers/time.js';
import { makeCa, makeCert } from '../../helpers/tls.js';

const ip = loopback(151);
const REPLY = 'HTTP/1.1 200 OK\r\nContent-Length: 15\r\nContent-Type: text/html\r\n\r\nUlric was here.';
const KEEP_ALIVE = 'GET / HTTP/1.1\r\nHost: pen\r\nConnection: keep-alive\r\n\r\n';

/** Sends `request` and waits for pen's close: everything received. */
async function ask(e: Endpoint, request: string | Buffer): Promise<Buffer> {
  const c = await connect(e);
  try {
    await c.write(request);
    return await c.readToEnd(5000);
  } finally {
    c.destroy();
  }
}

/** "N max, U used" from the status page, and the dummy line. */
async function status(control: Endpoint): Promise<{ used: number; answers: number; fds: number; byWorker: number[] }> {
  const page = await command(control, 'status');
  const used = /Number of connections: \d+ max, (\d+) used/.exec(page);
  const dummy = /Dummy server on, (\d+) answers/.exec(page);
  const fds = /Descriptors: (\d+) in use/.exec(page);
  assert.ok(used && dummy && fds, `the status page shows the connections and the dummy server: ${page.slice(-600)}`);
  const workers = /\d+ workers, clients accepted: ([\d, ]+)/.exec(page);
  return { used: Number(used[1]), answers: Number(dummy[1]), fds: Number(fds[1]),
    byWorker: workers ? workers[1]!.split(', ').map(Number) : [] };
}

for (const workers of [1, 2]) {
  test(`dummy, workers ${workers}: the exact reply, then a close, also for keep-alive clients; no backend; slots given back`, () => scoped(async (s) => {
    const block = workers === 1 ? 0 : 10;
    const backend = s.backend(await startEcho('echo', { host: ip(block + 2) }));
    const dir = tempDir('dummy');
    s.defer(() => removeDir(dir));
    const pen = s.pen(await penWithControl(ip(block + 1),
      ['-O', `workers ${workers}`, '-O', 'dummy', '-x', '40', '-w', path.join(dir, 'status.html')], [backend.spec]));
    assert.equal((await ask(pen.endpoint, KEEP_ALIVE)).toString('latin1'), REPLY, 'keep-alive request: one reply, then EOF');
    assert.equal((await ask(pen.endpoint, Buffer.from([0, 1, 2, 255]))).toString('latin1'), REPLY, 'any bytes get the same reply');
    // Many at once, more than conn_max in all: every slot comes back.
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: 30 }, () => ask(pen.endpoint, KEEP_ALIVE)));
      for (const a of answers) assert.equal(a.toString('latin1'), REPLY);
    }
    assert.equal(backend.accepted, 0, 'no backend was contacted');
    await waitFor(async () => (await status(pen.control)).used === 0, 5000, 'every dummy connection to be closed');
    const st = await status(pen.control);
    assert.equal(st.answers, 92, 'every answer counted');
    assert.equal(st.fds, 0, 'every descriptor given back');
    if (workers === 2) assert.ok(st.byWorker.length === 2 && st.byWorker.every((n) => n > 0), `both workers answered: ${st.byWorker}`);
    const conn0 = await command(pen.control, 'connection 0');
    assert.match(conn0, /state = 0\n/, 'connection 0 is free again');

    const saved = path.join(dir, 'saved.cfg');
    assert.equal(await command(pen.control, `write ${saved}`), '');
    assert.match(fs.readFileSync(saved, 'utf8'), /^dummy$/m, 'write saves dummy');

    assert.equal(await command(pen.control, 'no dummy'), '');
    const c = s.client(await connect(pen.endpoint));
    await c.write('balanced again\n');
    assert.equal(await c.line(5000), 'balanced again', 'no dummy: the backend answers');
    assert.equal(backend.accepted, 1);
    assert.doesNotMatch(fs.readFileSync(saved, 'utf8'), /^idlers/m);
  }));
}

test('dummy: a client that sends nothing and closes is closed without an answer', () => scoped(async (s) => {
  const backend = s.backend(await startEcho('echo', { host: ip(22) }));
  const pen = s.pen(await penWithControl(ip(21), ['-O', 'dummy'], [backend.spec]));
  const c = s.client(await connect(pen.endpoint));
  c.end();
  assert.equal((await c.readToEnd(5000)).length, 0);
  assert.equal(backend.accepted, 0);
}));

test('dummy with -E: the answer over TLS, then close_notify and the close; the slot is given back', () => scoped(async (s) => {
  const ca = makeCa('dummy');
  s.defer(() => removeDir(ca.dir));
  const cert = makeCert(ca, 'localhost');
  const backend = s.backend(await startEcho('echo', { host: ip(32) }));
  const dir = tempDir('dummy-tls');
  s.defer(() => removeDir(dir));
  const pen = s.pen(await penWithControl(ip(31),
    ['-E', cert.cert, '-K', cert.key, '-O', 'dummy', '-w', path.join(dir, 'status.html')], [backend.spec]));
  for (let i = 0; i < 3; i++) {
    const got = await withTimeout(new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const t = tls.connect({ host: pen.endpoint.host, port: pen.endpoint.port, ca: fs.readFileSync(ca.cert), servername: 'localhost' });
      t.once('secureConnect', () => t.write(KEEP_ALIVE));
      t.on('data', (d: Buffer) => chunks.push(d));
      t.once('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      t.once('error', reject);
    }), 5000, 'the TLS answer and its end');
    assert.equal(got, REPLY);
  }
  assert.equal(backend.accepted, 0);
  await waitFor(async () => (await status(pen.control)).used === 0, 5000, 'every dummy connection to be closed');
  assert.equal((await status(pen.control)).answers, 3);
}));

test('dummy: a dummy connection holds a slot (-x) until it closes, like any other', () => scoped(async (s) => {
  const backend = s.backend(await startEcho('echo', { host: ip(42) }));
  const pen = s.pen(await penWithControl(ip(41), ['-O', 'dummy', '-x', '2'], [backend.spec]));
  const silent = [s.client(await connect(pen.endpoint)), s.client(await connect(pen.endpoint))];
  await waitFor(async () => /state = 2\n/.test(await command(pen.control, 'connection 1')), 5000, 'both silent clients to hold a slot');
  const third = s.client(await connect(pen.endpoint)); // waits in the listen backlog
  await third.write(KEEP_ALIVE);
  await sleep(500);
  assert.equal(third.received, 0, 'no slot: not answered yet');
  silent[0]!.destroy();
  assert.equal((await third.readToEnd(5000)).toString('latin1'), REPLY, 'answered once a slot came free');
}));
