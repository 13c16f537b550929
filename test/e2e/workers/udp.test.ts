// UDP mode (-U) with `workers 2`: each worker has its own SO_REUSEPORT socket and its own flows
// (the kernel keeps a client address:port on one worker), selection and tracking are shared.
// dig sends every query from a new source port, so each query is a new flow that lands on
// either worker; the status page says how many each worker took on. Block 132 (see
// test/helpers/net.ts).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { command, userArgs } from '../../helpers/control.js';
import { freePort, loopback, removeDir, tempDir } from '../../helpers/net.js';
import { threadNames } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';
import { startUdpBackend } from '../../helpers/udp-backends.js';
import { dig, freeUdpPort, startUdpPen } from '../../helpers/udp.js';

const ip = loopback(132);

test('udp, workers 2: every query answered, a client IP keeps its server, flows on both workers', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(2));
  s.defer(() => a.close());
  const b = await startUdpBackend('B', ip(3));
  s.defer(() => b.close());
  const control = { host: ip(1), port: await freePort(ip(1)) };
  const listen = { host: ip(1), port: await freeUdpPort(ip(1)) };
  const dir = tempDir('workers-udp');
  s.defer(() => removeDir(dir));
  const pen = await startUdpPen(listen, [...userArgs(), '-C', `${control.host}:${control.port}`, '-O', 'workers 2',
    '-w', path.join(dir, 'status.html')], [a.spec, b.spec]);
  s.defer(() => pen.kill());
  await waitFor(async () => (await command(control, 'workers').catch(() => '')) === '2\n', 5000, 'the control port');
  if (process.platform === 'linux') {
    await waitFor(() => threadNames(pen.pid).filter((n) => n.startsWith('pen-')).length === 2, 5000, 'named threads');
    assert.deepEqual(threadNames(pen.pid).filter((n) => n.startsWith('pen-')), ['pen-udp-0', 'pen-udp-1']);
  }

  const first: string[] = [];
  for (let i = 0; i < 16; i++) first.push(await dig(pen.endpoint, ip(100)));
  assert.equal(new Set(first).size, 1, `one server for one client IP: ${first.join(',')}`);
  const other: string[] = [];
  for (let i = 0; i < 6; i++) other.push(await dig(pen.endpoint, ip(101)));
  assert.equal(new Set(other).size, 1);
  assert.notEqual(other[0], first[0], 'a new client IP is balanced to the other server');

  // The flows are still open (idle timeout 60 s), numbered 0..21 across both workers.
  const open: number[] = [];
  for (let n = 0; n < 30; n++) {
    if (!/state = 0\n/.test(await command(control, `connection ${n}`))) open.push(n);
  }
  assert.deepEqual(open, Array.from({ length: 22 }, (_, i) => i));
  const m = /2 workers, clients accepted: (\d+), (\d+)/.exec(await command(control, 'status'));
  assert.ok(m, 'the status page shows the workers');
  assert.equal(Number(m[1]) + Number(m[2]), 22);
  assert.ok(Number(m[1]) > 0 && Number(m[2]) > 0, `both workers hold flows: ${m[0]}`);
}));
