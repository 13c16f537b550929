// The JS thread is never starved by the data plane: while wrk saturates pen (one worker, and
// two), control commands that read the data plane (`servers`, `connection N`, `recent`) and
// change it (`server 0 blacklist`, `weight`) keep answering. The bound is generous (1 s per
// command) so that a busy machine cannot make it flake; the latencies are printed for the
// record. Skipped when wrk is not installed. Block 133 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { command, penWithControl } from '../../helpers/control.js';
import { loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, withTimeout } from '../../helpers/time.js';

const ip = loopback(133);

function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

const COMMANDS = ['servers', 'connection 0', 'recent', 'server 0 blacklist 0', 'server 1 weight 2', 'clients_max', 'mode'];

for (const [n, host] of [[1, 1], [2, 11]] as const) {
  test(`workers ${n}: control commands answer within 1 s while wrk saturates the data plane`, async (t) => {
    if (!hasWrk()) {
      t.skip('wrk is not installed');
      return;
    }
    await scoped(async (s) => {
      const a = s.backend(await startHttpNamed('A', { host: ip(host + 1) }));
      const b = s.backend(await startHttpNamed('B', { host: ip(host + 2) }));
      const pen = s.pen(await penWithControl(ip(host), ['-r', '-x', '2000', '-O', `workers ${n}`], [a.spec, b.spec]));
      const url = `http://${pen.endpoint.host}:${pen.endpoint.port}/`;
      const wrk = spawn('wrk', ['-t2', '-c64', '-d4s', '--timeout', '3s', url], { stdio: ['ignore', 'pipe', 'pipe'] });
      s.defer(() => {
        try {
          if (wrk.pid && wrk.exitCode === null) process.kill(wrk.pid, 'SIGKILL');
        } catch {
          // gone
        }
      });
      let out = '';
      wrk.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
      const done = new Promise<number | null>((resolve) => wrk.once('close', (code) => resolve(code)));
      await sleep(700); // under full load from here on
      const ms: number[] = [];
      for (let i = 0; i < 21; i++) {
        const line = COMMANDS[i % COMMANDS.length]!;
        const t0 = performance.now();
        const reply = await command(pen.control, line, { timeoutMs: 3000 });
        ms.push(performance.now() - t0);
        assert.ok(!/error|ignoring/i.test(reply), `${line}: ${reply}`);
      }
      const before = a.requests + b.requests;
      await sleep(300);
      assert.ok(a.requests + b.requests > before, 'the data plane was still serving while the commands ran');
      assert.equal(await withTimeout(done, 10000, 'wrk to finish'), 0, out);
      ms.sort((x, y) => x - y);
      const median = ms[Math.floor(ms.length / 2)]!;
      const max = ms[ms.length - 1]!;
      t.diagnostic(`workers ${n}: control command latency under load: median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms; ` +
        `wrk: ${/Requests\/sec:\s*(\S+)/.exec(out)?.[1] ?? '?'} req/s`);
      assert.ok(max < 1000, `every command answered within 1 s (max ${max.toFixed(1)} ms)`);
    });
  });
}
