// Client certificates (-R with -G / -A; spec/ssl.md, quirk 54): with -R a client must present
// a certificate that verifies against the -G/-A CAs, whose names are the ones advertised
// (Pen advertised the names in its own certificate file). Without -R none is asked for.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { makeCa, makeCert, sClient, type Ca, type KeyPair } from '../../helpers/tls.js';

const ip = loopback(114);
let serverCa: Ca;
let clientCa: Ca;
let strangerCa: Ca;
let server: KeyPair;
let good: KeyPair;
let stranger: KeyPair;

before(() => {
  serverCa = makeCa('cc-server', 'pen server CA');
  clientCa = makeCa('cc-client', 'pen client CA');
  strangerCa = makeCa('cc-stranger', 'stranger CA');
  server = makeCert(serverCa, 'localhost');
  good = makeCert(clientCa, 'alice', { client: true });
  stranger = makeCert(strangerCa, 'mallory', { client: true });
});
after(() => { for (const c of [serverCa, clientCa, strangerCa]) removeDir(c.dir); });

const req = 'GET / HTTP/1.0\r\n\r\n';
const answered = (out: string): boolean => /\r\n\r\nweb/.test(out);

test('-R -G: a valid client certificate gets through; none, or one from another CA, does not', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-d', '-d', '-E', server.cert, '-K', server.key, '-R', '-G', clientCa.cert], [b.spec]));
  const ok = await sClient(pen.endpoint, serverCa.cert, ['-cert', good.cert, '-key', good.key], req, { wait: true });
  assert.ok(answered(ok.stdout), ok.stdout + ok.stderr);
  const names = /Acceptable client certificate CA names\n([\s\S]*?)\n(Requested|Client Certificate Types|---)/.exec(ok.stdout)?.[1];
  assert.equal(names?.replace(/ = /g, '='), 'CN=pen client CA', 'names come from -G, not from the -E file');
  for (const args of [[], ['-cert', stranger.cert, '-key', stranger.key]]) {
    const no = await sClient(pen.endpoint, serverCa.cert, args, req, { wait: true });
    assert.ok(!answered(no.stdout), `refused: ${args.join(' ') || 'no certificate'}`);
  }
  assert.equal(b.requests, 1);
  assert.match(pen.stderr(), /TLS[^\n]*(certificate required|peer did not return a certificate|certificate verify failed|unknown ca)/);
}));

test('-R -A: the CA directory (hashed) works the same', () => scoped(async (s) => {
  const dir = path.join(clientCa.dir, 'hashed');
  fs.mkdirSync(dir);
  const hash = execFileSync('openssl', ['x509', '-in', clientCa.cert, '-noout', '-subject_hash'], { encoding: 'utf8' }).trim();
  fs.copyFileSync(clientCa.cert, path.join(dir, `${hash}.0`));
  const b = s.backend(await startHttpNamed('web', { host: ip(12) }));
  const pen = s.pen(await penOn(ip(11), ['-E', server.cert, '-K', server.key, '-R', '-A', dir], [b.spec]));
  const ok = await sClient(pen.endpoint, serverCa.cert, ['-cert', good.cert, '-key', good.key], req, { wait: true });
  assert.ok(answered(ok.stdout), ok.stdout + ok.stderr);
  const no = await sClient(pen.endpoint, serverCa.cert, ['-cert', stranger.cert, '-key', stranger.key], req, { wait: true });
  assert.ok(!answered(no.stdout));
}));

test('without -R no certificate is asked for', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(22) }));
  const pen = s.pen(await penOn(ip(21), ['-E', server.cert, '-K', server.key, '-G', clientCa.cert], [b.spec]));
  const r = await sClient(pen.endpoint, serverCa.cert, [], req, { wait: true });
  assert.ok(answered(r.stdout));
  assert.match(r.stdout, /No client certificate CA names sent/);
}));
