// A control command under load: wrk drives HTTP through pen for ~3 s while the test sends
// `server 0 blacklist 5` over the control socket. Traffic must leave server 0 within a second
// (counted at the backends) and wrk must see no errors. Skipped when wrk is not installed.
// Block 87 (see test/helpers/net.ts): .1 pen, .2/.3 backends.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { command, penWithControl } from '../../helpers/control.js';
import { loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, withTimeout } from '../../helpers/time.js';
import { skipWithoutWrk, startWrk, wrkSocketErrors, wrkTimeouts } from '../../helpers/wrk.js';

const ip = loopback(87);

test('server 0 blacklist 5 under wrk load: server 0 gets nothing a second later, wrk sees no errors', async (t) => {
  if (skipWithoutWrk(t)) return;
  await scoped(async (s) => {
    const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
    const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
    const pen = s.pen(await penWithControl(ip(1), ['-r'], [a.spec, b.spec]));
    const url = `http://${pen.endpoint.host}:${pen.endpoint.port}/`;

    const wrk = startWrk(s, ['-t2', '-c16', '-d3s', '--timeout', '2s', url]);

    await sleep(1000);
    const atCommand = { a: a.requests, b: b.requests };
    assert.equal(await command(pen.control, 'server 0 blacklist 5'), '');
    const atReply = { a: a.requests, b: b.requests };
    await sleep(1000);
    const oneSecondLater = { a: a.requests, b: b.requests };
    const run = await withTimeout(wrk.done, 8000, 'wrk to finish');
    const { code, out } = run;
    const end = { a: a.requests, b: b.requests };

    const note = `A/B at the command ${atCommand.a}/${atCommand.b}, at its reply ${atReply.a}/${atReply.b}, 1 s later ${oneSecondLater.a}/${oneSecondLater.b}, ` +
      `at the end ${end.a}/${end.b}; wrk:\n${out}`;
    assert.equal(code, 0, note);
    assert.ok(atCommand.a > 50 && atCommand.b > 50, `both served before the command: ${note}`);
    assert.ok(oneSecondLater.a - atReply.a <= 16,
      `within a loop turn: only requests already in flight (one per wrk connection) reached A: ${note}`);
    assert.equal(end.a, oneSecondLater.a, `server 0 got no request from 1 s after the command on: ${note}`);
    assert.ok(end.b - oneSecondLater.b > 50, `server 1 took the whole load: ${note}`);
    const errors = { ...wrkSocketErrors(out), timeout: wrkTimeouts(run, 16) };
    assert.deepEqual(errors, { connect: 0, read: 0, write: 0, timeout: 0 }, `wrk reports no socket errors: ${note}`);
    assert.doesNotMatch(out, /Non-2xx/, `wrk reports no bad answers: ${note}`);
    t.diagnostic(note.replace(/\n/g, ' | '));
    const total = /(\d+) requests in/.exec(out);
    const served = end.a + end.b;
    // wrk stops with up to one request per connection in flight (answered but not counted).
    assert.ok(total && served >= Number(total[1]) && served <= Number(total[1]) + 16,
      `every request wrk counted was answered by a backend: ${note}`);
  });
});
