// Session resumption and SNI (issue 12, defect 6): every SNI context has its own session-id
// context, so a session (ticket or id) established under one server name never resumes under
// another name or the default certificate -- with client certificates, a session verified
// for one name must not open another. The same name still resumes. Block 244.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { makeCa, makeCert, sClient, type Ca, type KeyPair } from '../../helpers/tls.js';

const ip = loopback(244);
let ca: Ca;
let def: KeyPair;
let sniDir: string;

before(() => {
  ca = makeCa('tickets');
  def = makeCert(ca, 'default.example');
  sniDir = path.join(ca.dir, 'sni');
  fs.mkdirSync(sniDir);
  makeCert(ca, 'a.example', { dir: sniDir });
  makeCert(ca, 'b.example', { dir: sniDir });
});
after(() => removeDir(ca.dir));

/** A session made with name `first`, then offered with name `second`: "New" or "Reused" each. */
async function across(e: { host: string; port: number }, args: string[], first: string, second: string,
  tag: string): Promise<string[]> {
  const sess = path.join(ca.dir, `${tag}.sess`);
  fs.rmSync(sess, { force: true });
  const name = (n: string) => (n === '' ? ['-noservername'] : ['-servername', n]);
  const one = await sClient(e, ca.cert, [...args, ...name(first), '-sess_out', sess], 'GET / HTTP/1.0\r\n\r\n', { wait: true });
  const two = await sClient(e, ca.cert, [...args, ...name(second), '-sess_in', sess], 'GET / HTTP/1.0\r\n\r\n', { wait: true });
  return [one, two].map((r) => /^(New|Reused),/m.exec(r.stdout)?.[1] ?? `failed: ${r.stdout.slice(0, 200)}`);
}

test('a session resumes under its own server name only', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-E', def.cert, '-K', def.key, '-O', `ssl_sni_path ${sniDir}`], [b.spec]));
  for (const [label, args] of [['TLS 1.3 ticket', []], ['TLS 1.2 ticket', ['-tls1_2']],
    ['TLS 1.2 session id', ['-tls1_2', '-no_ticket']]] as Array<[string, string[]]>) {
    const tag = label.replace(/\W+/g, '-');
    assert.deepEqual(await across(pen.endpoint, args, 'a.example', 'a.example', `${tag}-same`), ['New', 'Reused'],
      `${label}: the same name resumes`);
    assert.deepEqual(await across(pen.endpoint, args, 'a.example', 'b.example', `${tag}-other`), ['New', 'New'],
      `${label}: not under another name`);
    assert.deepEqual(await across(pen.endpoint, args, 'a.example', '', `${tag}-default`), ['New', 'New'],
      `${label}: not under the default certificate`);
    assert.deepEqual(await across(pen.endpoint, args, '', 'b.example', `${tag}-fromdefault`), ['New', 'New'],
      `${label}: a default-certificate session does not open a name`);
  }
}));
