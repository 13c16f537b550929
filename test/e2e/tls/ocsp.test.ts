// OCSP stapling (ssl_ocsp_response FILE, DIR/NAME.ocsp): a response made with `openssl ocsp`
// is stapled for clients that ask (s_client -status), and a refreshed file is picked up when
// the command is repeated, as Pen's pen-ocsp.sh cron script does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { command, penWithControl } from '../../helpers/control.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { makeCa, makeCert, makeOcspResponse, sClient, type Ca } from '../../helpers/tls.js';

const ip = loopback(113);
let ca: Ca;

before(() => { ca = makeCa('ocsp'); });
after(() => removeDir(ca.dir));

const producedAt = (out: string): string | null => /Produced At: (.*)/.exec(out)?.[1] ?? null;

test('the OCSP response is stapled for clients that ask, and only for them', () => scoped(async (s) => {
  const cert = makeCert(ca, 'localhost');
  const resp = makeOcspResponse(ca, cert, path.join(ca.dir, 'localhost.ocsp'));
  const b = s.backend(await startHttpNamed('web', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-E', cert.cert, '-K', cert.key, '-O', `ssl_ocsp_response ${resp}`], [b.spec]));
  const r = await sClient(pen.endpoint, ca.cert, ['-status', '-servername', 'localhost'], '');
  assert.match(r.stdout, /OCSP Response Status: successful \(0x0\)/);
  assert.match(r.stdout, /Cert Status: good/);
  const plain = await sClient(pen.endpoint, ca.cert, ['-status', '-servername', 'localhost', '-no_tls1_3'], '');
  assert.match(plain.stdout, /OCSP Response Status: successful/, 'TLS 1.2 staples too');
  const none = await sClient(pen.endpoint, ca.cert, ['-servername', 'localhost'], '');
  assert.doesNotMatch(none.stdout, /OCSP Response Status/);
}));

test('SNI certificates staple DIR/NAME.ocsp; no response means no staple', () => scoped(async (s) => {
  const def = makeCert(ca, 'default.example');
  const dir = path.join(ca.dir, 'sni');
  fs.mkdirSync(dir);
  const named = makeCert(ca, 'stapled.example', { dir });
  makeOcspResponse(ca, named, path.join(dir, 'stapled.example.ocsp'));
  makeCert(ca, 'bare.example', { dir });
  const b = s.backend(await startHttpNamed('web', { host: ip(12) }));
  const pen = s.pen(await penOn(ip(11), ['-E', def.cert, '-K', def.key, '-O', `ssl_sni_path ${dir}`], [b.spec]));
  const r = await sClient(pen.endpoint, ca.cert, ['-status', '-servername', 'stapled.example'], '');
  assert.match(r.stdout, /OCSP Response Status: successful/);
  const bare = await sClient(pen.endpoint, ca.cert, ['-status', '-servername', 'bare.example'], '');
  assert.match(bare.stdout, /OCSP response: no response sent/);
}));

test('repeating ssl_ocsp_response after the file was refreshed staples the new response', () => scoped(async (s) => {
  const cert = makeCert(ca, 'refresh.example');
  const file = path.join(ca.dir, 'refresh.ocsp');
  makeOcspResponse(ca, cert, file);
  const b = s.backend(await startHttpNamed('web', { host: ip(22) }));
  const pen = s.pen(await penWithControl(ip(21), ['-E', cert.cert, '-K', cert.key, '-O', `ssl_ocsp_response ${file}`], [b.spec]));
  const first = producedAt((await sClient(pen.endpoint, ca.cert, ['-status'], '')).stdout);
  assert.ok(first);
  await new Promise((r) => setTimeout(r, 1100)); // "Produced At" has one-second resolution
  const fresh = path.join(ca.dir, 'refresh-new.ocsp');
  makeOcspResponse(ca, cert, fresh);
  fs.renameSync(fresh, file);
  assert.equal(await command(pen.control, `ssl_ocsp_response ${file}`), '');
  const second = producedAt((await sClient(pen.endpoint, ca.cert, ['-status'], '')).stdout);
  assert.ok(second && second !== first, `${first} -> ${second}`);
}));
