// Soak (issue 12): mixed load for PEN_SOAK_SECONDS (default 40; set it to 600 or more for a
// long run) -- keep-alive and connection-per-request HTTP through a two-worker pen (wrk), bulk
// transfers through a second pen, DNS-style UDP through a third -- with a penctl change every
// second on each. Afterwards every pen's descriptor count must come back to its idle baseline
// (+2) within 15 s, and the main pen's memory must not keep growing after the warm-up.
// Skipped when wrk is not installed. Block 141 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import { pattern, startBulk, startHttpNamed } from '../../helpers/backends.js';
import { bulkTransfer } from '../../helpers/clients.js';
import { command, penWithControl, userArgs } from '../../helpers/control.js';
import { freePort, loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';
import { skipWithoutWrk, startWrk, wrkClockStepMs, wrkRate, wrkTimeouts } from '../../helpers/wrk.js';
import { startUdpBackend } from '../../helpers/udp-backends.js';
import { fdCount, freeUdpPort, startUdpPen, UdpClient } from '../../helpers/udp.js';

const ip = loopback(141);
const SECONDS = Number(process.env.PEN_SOAK_SECONDS ?? 40);
const MB = 1 << 20;

function rss(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

test(`soak: ${SECONDS} s of mixed TCP, bulk and UDP load with a penctl change every second`,
  { timeout: (SECONDS + 120) * 1000 }, async (t) => {
    if (skipWithoutWrk(t)) return;
    await scoped(async (s) => {
      const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
      const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
      const web = s.pen(await penWithControl(ip(1), ['-x', '2000', '-O', 'workers 2'], [a.spec, b.spec]));
      const bulkBackend = s.backend(await startBulk('bulk', { host: ip(12) }, 4 * MB));
      const bulk = s.pen(await penWithControl(ip(11), [], [bulkBackend.spec]));
      const dns = await startUdpBackend('D', ip(22));
      s.defer(() => dns.close());
      const udpControl = { host: ip(21), port: await freePort(ip(21)) };
      const udp = await startUdpPen({ host: ip(21), port: await freeUdpPort(ip(21)) },
        [...userArgs(), '-C', `${ip(21)}:${udpControl.port}`, '-O', 'idle_timeout 3'], [dns.spec]);
      s.defer(() => udp.kill());
      await waitFor(async () => (await command(udpControl, 'idle_timeout').catch(() => '')) !== '', 5000, 'the UDP control port');

      await sleep(500);
      const baseline = { web: fdCount(web.pid), bulk: fdCount(bulk.pid), udp: fdCount(udp.pid) };
      const url = `http://${web.endpoint.host}:${web.endpoint.port}/`;
      const wrkArgs = ['-t1', '-c8', `-d${SECONDS}s`, '--timeout', '5s'];
      const loads = [startWrk(s, [...wrkArgs, url]), startWrk(s, [...wrkArgs, '-H', 'Connection: close', url])];
      const end = performance.now() + SECONDS * 1000;
      let bulkDone = 0;
      let udpAnswered = 0;
      let changes = 0;
      const bulkLoop = (async () => {
        while (performance.now() < end) {
          const r = await bulkTransfer(bulk.endpoint, 2 * MB, 30000);
          const server = await bulkBackend.nextResult(10000);
          assert.equal(r.receivedSha, server.sentSha, 'bulk download exact');
          bulkDone++;
        }
      })();
      const udpLoop = (async () => {
        while (performance.now() < end) {
          const c = await UdpClient.open(ip(100));
          try {
            await c.ask(udp.endpoint, pattern(40, udpAnswered + 1), 3000);
            udpAnswered++;
          } finally {
            await c.close();
          }
        }
      })();
      const changeLoop = (async () => {
        const webCommands = ['server 0 weight 3', 'server 1 blacklist 1', 'tracking 10', 'server 0 weight 1',
          'server 1 blacklist 0', 'tracking 0', 'servers', 'recent'];
        const udpCommands = ['udp_responses 1', 'udp_timeout 2', 'udp_responses 0', 'udp_timeout 0', 'servers'];
        for (let i = 0; performance.now() < end; i++) {
          for (const [e, line] of [[web.control, webCommands[i % webCommands.length]!],
            [bulk.control, i % 2 ? 'blacklist 30' : 'blacklist 31'], [udpControl, udpCommands[i % udpCommands.length]!]] as const) {
            const reply = await command(e, line, { timeoutMs: 5000 });
            assert.ok(!/error|ignoring/i.test(reply), `${line}: ${reply}`);
          }
          changes++;
          await sleep(1000);
        }
      })();
      await sleep(Math.min(SECONDS / 3, 20) * 1000);
      const warmRss = rss(web.pid);
      const runs = await Promise.all(loads.map((l) => l.done));
      await Promise.all([bulkLoop, udpLoop, changeLoop]);
      const endRss = rss(web.pid);
      const steps = runs.map(wrkClockStepMs).filter((ms) => ms > 1000);
      t.diagnostic(`wrk: ${runs.map((r) => wrkRate(r.out)).join(' and ')} req/s; ` +
        (steps.length ? `the wall clock stepped ${(Math.max(...steps) / 1000).toFixed(1)} s forward during wrk's run; ` : '') +
        `${bulkDone} bulk transfers, ${udpAnswered} UDP queries, ${changes} rounds of penctl changes; ` +
        `RSS ${(warmRss / MB).toFixed(1)} MiB after warm-up, ${(endRss / MB).toFixed(1)} MiB at the end`);
      for (const r of runs) assert.equal(wrkTimeouts(r, 8), 0, `wrk saw no timeouts: ${r.out}`);
      assert.ok(bulkDone > 0 && udpAnswered > 0 && changes >= Math.floor(SECONDS / 2));
      assert.ok(endRss <= warmRss * 1.3 + 16 * MB, `memory does not keep growing (${warmRss} -> ${endRss} bytes)`);
      for (const [name, pid, base] of [['web', web.pid, baseline.web], ['bulk', bulk.pid, baseline.bulk],
        ['udp', udp.pid, baseline.udp]] as const) {
        await waitFor(() => fdCount(pid) <= base + 2, 15000,
          `${name} pen's descriptors to come back to ${base} + 2 (now ${fdCount(pid)})`);
      }
    });
  });
