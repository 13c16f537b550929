// TLS with -H: the decrypted requests get X-Forwarded-For and X-Forwarded-Proto: https
// (spec/ssl.md "Handshake and data path"), on every request of a keep-alive connection.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startCapture } from '../../helpers/http-capture.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { curl, hasCommand, makeCa, makeCert, sClient, type Ca, type KeyPair } from '../../helpers/tls.js';

const ip = loopback(118);
let ca: Ca;
let cert: KeyPair;

before(() => {
  ca = makeCa('http');
  cert = makeCert(ca, 'localhost');
});
after(() => removeDir(ca.dir));

test('curl, 3 requests on one TLS connection: each gets X-Forwarded-Proto: https and X-Forwarded-For',
  { skip: !hasCommand('curl') && 'curl not installed' }, () => scoped(async (s) => {
    const b = await startCapture(ip(2));
    s.defer(() => b.close());
    const pen = s.pen(await penOn(ip(1), ['-H', '-E', cert.cert, '-K', cert.key], [b.spec]));
    const r = await curl('localhost', pen.endpoint, ca.cert, '/one', [
      '-H', 'X-Forwarded-Proto: http', '--data-binary', 'posted', `https://localhost:${pen.endpoint.port}/two`,
      `https://localhost:${pen.endpoint.port}/three`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(b.requests.length, 3);
    for (const q of b.requests) {
      assert.deepEqual(q.headers['x-forwarded-proto'], ['https'], 'replaced, not the client\'s "http"');
      assert.deepEqual(q.headers['x-forwarded-for'], ['127.0.0.1']);
      assert.equal(q.conn, b.requests[0]!.conn);
    }
  }));

test('s_client, pipelined requests in one TLS record stream', () => scoped(async (s) => {
  const b = await startCapture(ip(12));
  s.defer(() => b.close());
  const pen = s.pen(await penOn(ip(11), ['-H', '-E', cert.cert, '-K', cert.key], [b.spec]));
  const reqs = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const r = await sClient(pen.endpoint, ca.cert, ['-servername', 'localhost', '-quiet'], reqs, { wait: true });
  assert.match(r.stdout, /ok 0[\s\S]*ok 1/);
  assert.deepEqual(b.requests.map((q) => [q.url, q.headers['x-forwarded-proto']?.[0]]), [['/a', 'https'], ['/b', 'https']]);
}));
