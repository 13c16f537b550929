// The wrk report readers of test/helpers/wrk.ts, on reports wrk really printed: a forward step
// of the wall clock during a run (date -s "+8 seconds" 4 s into a 10 s run with 8 connections)
// makes wrk count every request then in flight as timed out once and report a runtime longer
// than its process lived.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { wrkClockStepMs, wrkSocketErrors, wrkTimeouts } from '../helpers/wrk.js';

const report = (runtime: string, timeouts: number): string => `Running 10s test @ http://127.0.0.1:18555/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    36.96ms   11.85ms  83.36ms   74.55%
    Req/Sec   208.15     28.73   252.00     84.00%
  2098 requests in ${runtime}, 13.10MB read
${timeouts ? `  Socket errors: connect 0, read 0, write 0, timeout ${timeouts}\n` : ''}Requests/sec:    116.53
Transfer/sec:    744.91KB
`;

test('wrk reports: socket errors, a step of the wall clock, the timeouts it does not explain', () => {
  const rows: { runtime: string; elapsedMs: number; counted: number; stepMs: number; timeouts: number }[] = [
    { runtime: '10.00s', elapsedMs: 10050, counted: 0, stepMs: 0, timeouts: 0 }, // an ordinary run
    { runtime: '10.00s', elapsedMs: 10050, counted: 3, stepMs: 0, timeouts: 3 }, // no step: every timeout counts
    { runtime: '18.00s', elapsedMs: 10050, counted: 8, stepMs: 7950, timeouts: 0 }, // the step seen for real
    { runtime: '18.00s', elapsedMs: 10050, counted: 13, stepMs: 7950, timeouts: 5 }, // a step and a hanging connection
    { runtime: '10.80s', elapsedMs: 10050, counted: 8, stepMs: 750, timeouts: 8 }, // under 1 s: not a step
    { runtime: '10.01m', elapsedMs: 600_700, counted: 0, stepMs: 0, timeouts: 0 }, // minutes
    { runtime: '10.05m', elapsedMs: 600_700, counted: 8, stepMs: 2300, timeouts: 0 },
  ];
  for (const row of rows) {
    const run = { code: 0, out: report(row.runtime, row.counted), elapsedMs: row.elapsedMs };
    assert.equal(wrkSocketErrors(run.out).timeout, row.counted, row.runtime);
    assert.ok(Math.abs(wrkClockStepMs(run) - row.stepMs) < 1e-6, `${row.runtime} step ${wrkClockStepMs(run)}`);
    assert.equal(wrkTimeouts(run, 8), row.timeouts, `${row.runtime}, ${row.counted} counted`);
  }
  assert.deepEqual(wrkSocketErrors('Socket errors: connect 1, read 2, write 3, timeout 4'),
    { connect: 1, read: 2, write: 3, timeout: 4 });
});
