// -H and tunnels (issue 12, defect 1): after an Upgrade or CONNECT request the connection
// becomes a tunnel only when the server agrees (101 to the Upgrade, 2xx to the CONNECT). A
// bogus Upgrade that the server answers with 200 keeps the rewriting on, so the next request's
// forged X-Forwarded-For still gets the real address appended. The answers are followed with
// their framing: a response body that looks like "HTTP/1.1 101" does not open a tunnel.
// Block 242 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { connect } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(242);
const CLIENT = ip(5);

/** A backend that answers the k-th request head it receives with answers[k] (nothing when
    the list is exhausted) and records every byte. */
async function scripted(host: string, answers: string[]) {
  const got: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    let seen = Buffer.alloc(0);
    let heads = 0;
    sock.on('data', (d: Buffer) => {
      got.push(d);
      seen = Buffer.concat([seen, d]);
      for (;;) {
        const end = seen.indexOf('\r\n\r\n');
        if (end < 0) break;
        seen = seen.subarray(end + 4);
        const answer = answers[heads++];
        if (answer !== undefined) sock.write(answer);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    spec: `${host}:${port}`,
    text: () => Buffer.concat(got).toString('latin1'),
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

type Scope = Parameters<Parameters<typeof scoped>[0]>[0];

async function setUp(s: Scope, n: number, answers: string[]) {
  const b = await scripted(ip(n + 1), answers);
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(n), ['-H'], [b.spec]));
  const c = s.client(await connect(pen.endpoint, { localAddress: CLIENT }));
  return { b, c };
}

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
const FORGED = 'GET /next HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';
const xff = `X-Forwarded-Proto: http\r\nX-Forwarded-For: ${CLIENT}\r\n\r\n`;

test('a bogus Upgrade answered 200: the next request is still rewritten (forged X-Forwarded-For appended to)', () => scoped(async (s) => {
  const { b, c } = await setUp(s, 10, ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok2']);
  await c.write(UPGRADE);
  await c.atLeast(40);
  await c.write(FORGED);
  await waitFor(() => b.text().includes('/next'), 3000, 'the second request at the server');
  await waitFor(() => b.text().endsWith('\r\n\r\n'), 3000, 'its whole head');
  assert.equal(b.text(), `GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${xff}` +
    `GET /next HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6, ${CLIENT}\r\nX-Forwarded-Proto: http\r\n\r\n`);
}));

test('bytes sent right after the Upgrade wait for the answer, then are rewritten when it is not 101', () => scoped(async (s) => {
  const { b, c } = await setUp(s, 20, ['HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']);
  await c.write(UPGRADE + FORGED); // one write: the second request is held, not passed raw
  await waitFor(() => b.text().includes('/next') && b.text().endsWith('\r\n\r\n'), 3000, 'both requests at the server');
  assert.ok(b.text().endsWith(`X-Forwarded-For: 6.6.6.6, ${CLIENT}\r\nX-Forwarded-Proto: http\r\n\r\n`), b.text());
}));

test('a 101 makes the rest a tunnel, both ways, untouched', () => scoped(async (s) => {
  const { b, c } = await setUp(s, 30, ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nserver-frame']);
  await c.write(UPGRADE);
  await waitFor(() => c.text().includes('server-frame'), 3000, 'the 101 and the first server frame');
  await c.write(FORGED);
  await waitFor(() => b.text().includes('/next'), 3000, 'the tunnel bytes at the server');
  await waitFor(() => b.text().endsWith('\r\n\r\n'), 3000, 'all of them');
  assert.equal(b.text(), `${UPGRADE.slice(0, -2)}${xff}${FORGED}`, 'after the 101 nothing is rewritten');
}));

test('a 100 Continue before the 101 is an interim answer; bytes sent early pass once the 101 comes', () => scoped(async (s) => {
  const { b, c } = await setUp(s, 40, ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n']);
  await c.write(Buffer.from(UPGRADE + '\x81\x05hello', 'latin1'));
  await waitFor(() => b.text().endsWith('\x81\x05hello'), 3000, 'the early frame after the 101');
  assert.equal(b.text(), `${UPGRADE.slice(0, -2)}${xff}\x81\x05hello`);
}));

test('CONNECT: 200 opens the tunnel; 403 keeps HTTP', () => scoped(async (s) => {
  const ok = await setUp(s, 50, ['HTTP/1.1 200 Connection established\r\n\r\n']);
  await ok.c.write('CONNECT db:5432 HTTP/1.1\r\n\r\n');
  await ok.c.atLeast(20);
  await ok.c.write(FORGED);
  await waitFor(() => ok.b.text().endsWith(FORGED), 3000, 'the tunnel bytes untouched');

  const no = await setUp(s, 60, ['HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']);
  await no.c.write(`CONNECT db:5432 HTTP/1.1\r\n\r\n${FORGED}`);
  await waitFor(() => no.b.text().includes('/next') && no.b.text().endsWith('\r\n\r\n'), 3000, 'the second request');
  assert.ok(no.b.text().endsWith(`X-Forwarded-For: 6.6.6.6, ${CLIENT}\r\nX-Forwarded-Proto: http\r\n\r\n`), no.b.text());
}));

test('answers are matched by framing: a body that reads "HTTP/1.1 101" opens nothing', () => scoped(async (s) => {
  const fake = 'HTTP/1.1 101 Switching Protocols\r\n\r\n';
  const { b, c } = await setUp(s, 70, [
    `HTTP/1.1 200 OK\r\nContent-Length: ${fake.length}\r\n\r\n${fake}`, // the answer to /a: its body looks like a 101
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', // the answer to the Upgrade
    'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
  ]);
  await c.write(`GET /a HTTP/1.1\r\nHost: x\r\n\r\n${UPGRADE}`); // pipelined
  await waitFor(() => c.text().includes('hello'), 3000, 'both answers');
  await c.write(FORGED);
  await waitFor(() => b.text().includes('/next') && b.text().endsWith('\r\n\r\n'), 3000, 'the third request');
  assert.ok(b.text().endsWith(`X-Forwarded-For: 6.6.6.6, ${CLIENT}\r\nX-Forwarded-Proto: http\r\n\r\n`), b.text());
}));
