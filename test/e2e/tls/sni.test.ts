// ssl_sni_path DIR (spec/ssl.md "SNI", quirk 53): the client's server name picks DIR/NAME.crt
// (without regard to case), unknown or invalid names (path traversal) get the default
// certificate, and changed files are served after HUP without dropping open connections.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';

import { startHttpNamed } from '../../helpers/backends.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor, withTimeout } from '../../helpers/time.js';
import { makeCa, makeCert, peerCn, sClient, type Ca, type KeyPair } from '../../helpers/tls.js';

const ip = loopback(112);
let ca: Ca;
let def: KeyPair;
let sniDir: string;

before(() => {
  ca = makeCa('sni');
  def = makeCert(ca, 'default.example');
  sniDir = path.join(ca.dir, 'sni');
  fs.mkdirSync(sniDir);
  makeCert(ca, 'a.example', { dir: sniDir });
  makeCert(ca, 'b.example', { dir: sniDir, file: 'B.Example' }); // upper-case file name
  // A certificate outside DIR that a traversing name would reach.
  makeCert(ca, 'secret.example', { dir: ca.dir, file: 'secret' });
});
after(() => removeDir(ca.dir));

async function cnFor(e: { host: string; port: number }, name: string | null): Promise<string | null> {
  const r = await sClient(e, ca.cert, name === null ? ['-noservername'] : ['-servername', name], '');
  return peerCn(r.stdout);
}

test('SNI picks DIR/NAME.crt, any case; unknown and invalid names get the default certificate', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-E', def.cert, '-K', def.key, '-O', `ssl_sni_path ${sniDir}`], [b.spec]));
  assert.equal(await cnFor(pen.endpoint, 'a.example'), 'a.example');
  assert.equal(await cnFor(pen.endpoint, 'A.EXAMPLE'), 'a.example');
  assert.equal(await cnFor(pen.endpoint, 'b.example'), 'b.example');
  assert.equal(await cnFor(pen.endpoint, 'nosuch.example'), 'default.example');
  assert.equal(await cnFor(pen.endpoint, '../secret'), 'default.example');
  assert.equal(await cnFor(pen.endpoint, null), 'default.example');
}));

test('HUP serves a replaced SNI certificate; an open connection keeps working', () => scoped(async (s) => {
  const dir = path.join(ca.dir, 'sni-hup');
  fs.mkdirSync(dir);
  makeCert(ca, 'c.example', { dir });
  const b = s.backend(await startHttpNamed('web2', { host: ip(12) }));
  const pen = s.pen(await penOn(ip(11), ['-E', def.cert, '-K', def.key, '-O', `ssl_sni_path ${dir}`], [b.spec]));
  assert.equal(await cnFor(pen.endpoint, 'c.example'), 'c.example');
  assert.equal(await cnFor(pen.endpoint, 'new.example'), 'default.example');
  const open = await withTimeout(new Promise<tls.TLSSocket>((resolve, reject) => {
    const t = tls.connect({ ...pen.endpoint, servername: 'c.example', ca: fs.readFileSync(ca.cert) });
    t.once('secureConnect', () => resolve(t));
    t.once('error', reject);
  }), 5000, 'a connection before the reload');
  s.defer(() => open.destroy());
  // Replace c.example with a certificate of another name and add a new name, then HUP.
  const replaced = makeCert(ca, 'c-renewed.example', { dir: ca.dir });
  fs.copyFileSync(replaced.cert, path.join(dir, 'c.example.crt'));
  fs.copyFileSync(replaced.key, path.join(dir, 'c.example.key'));
  makeCert(ca, 'new.example', { dir });
  process.kill(pen.pid, 'SIGHUP');
  await waitFor(async () => (await cnFor(pen.endpoint, 'new.example')) === 'new.example', 5000, 'the reload');
  assert.equal(await cnFor(pen.endpoint, 'c.example'), 'c-renewed.example');
  const answer = await withTimeout(new Promise<string>((resolve) => {
    let t = '';
    open.on('data', (d: Buffer) => { t += d.toString(); });
    open.once('end', () => resolve(t));
    open.end('GET / HTTP/1.0\r\n\r\n');
  }), 5000, 'the old connection to answer');
  assert.match(answer, /\r\n\r\nweb2$/);
}));
