// Blacklisting (-b): a server whose connect failed is skipped for -b seconds, even once it is
// back; after that it gets traffic again.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { closedPort, startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep } from '../../helpers/time.js';

const ip = loopback(22);

test('blacklist -b 1: a recovered server is skipped until the blacklist expires, then used again', () => scoped(async (s) => {
  const xAddr = await closedPort(ip(2)); // nothing listens there yet
  if (!('host' in xAddr)) throw new Error('unreachable');
  const a = s.backend(await startHttpNamed('A', { host: ip(3) }));
  const pen = s.pen(await penOn(ip(1), ['-r', '-b', '1'], [`${xAddr.host}:${xAddr.port}`, a.spec]));

  assert.equal(await whoAnswers(pen.endpoint), 'A', 'X refused: served by A');
  const x = s.backend(await startHttpNamed('X', { host: xAddr.host, port: xAddr.port }));
  const during: string[] = [];
  for (let i = 0; i < 4; i++) during.push(await whoAnswers(pen.endpoint));
  assert.deepEqual(during, ['A', 'A', 'A', 'A'], 'X is blacklisted although it is back');
  assert.equal(x.accepted, 0);

  await sleep(1300);
  const after: string[] = [];
  for (let i = 0; i < 4; i++) after.push(await whoAnswers(pen.endpoint));
  assert.ok(x.requests >= 1, `X gets traffic again after the blacklist: ${after.join(',')}`);
  assert.deepEqual([...after].sort(), ['A', 'A', 'X', 'X'], 'roundrobin over both again');
}));
