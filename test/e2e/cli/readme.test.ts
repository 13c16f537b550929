// The README's "## Use" blocks, run as written: each pen, curl and penctl line of the section
// is executed in order against two HTTP backends on loopback. Only what a test may not
// hard-code is replaced: the ports (8080, 8001, 8002, 10080 -> free ports), /tmp/pen.cfg (-> a
// private directory) and, when not root, "-u nobody" (needed only as root). The other blocks'
// lines are checked by test/unit/readme.test.ts; what they do is covered by the e2e tests of
// their subject (tls/, log/, udp/, control/acl, geoip/).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { isRoot, runPenctl, waitControl } from '../../helpers/control.js';
import { freePort, removeDir, tempDir } from '../../helpers/net.js';
import { startPen, type Pen } from '../../helpers/pen.js';
import { readmeLines } from '../../helpers/readme.js';
import { scoped } from '../../helpers/scope.js';

const HOST = '127.0.0.1';

test('README "Use": every pen, curl and penctl line runs as written', () => scoped(async (s) => {
  const lines = readmeLines().filter((l) => l.section === 'Use');
  const dir = tempDir('readme');
  s.defer(() => removeDir(dir));
  fs.chmodSync(dir, 0o777); // `write` runs as nobody
  const a = s.backend(await startHttpNamed('A', { host: HOST }));
  const b = s.backend(await startHttpNamed('B', { host: HOST }));
  const portOf = (x: typeof a): string => x.spec.slice(x.spec.lastIndexOf(':') + 1);
  const ports = new Map<string, string>([
    ['8001', portOf(a)], ['8002', portOf(b)],
    ['8080', String(await freePort(HOST))], ['10080', String(await freePort(HOST))],
  ]);
  const paths = new Map([['/tmp/pen.cfg', path.join(dir, 'pen.cfg')]]);
  const substitute = (w: string): string => {
    let out = paths.get(w) ?? w;
    for (const [from, to] of ports) out = out.replace(new RegExp(`(^|:)${from}(?=$|/)`), `$1${to}`);
    return out;
  };
  const listen = { host: HOST, port: Number(ports.get('8080')) };
  let pen: Pen | null = null;
  let ran = 0;
  for (const line of lines) {
    const [cmd, ...rest] = line.words;
    let args = rest.map(substitute);
    if (cmd === 'pen' && !line.text.includes('[options]')) {
      if (pen) await pen.stop();
      if (!isRoot()) args = args.join(' ').replace('-u nobody', '').split(' ').filter(Boolean);
      pen = s.pen(await startPen(args, { ready: listen, foreground: false }));
      const c = args.indexOf('-C');
      if (c >= 0) await waitControl(pen.pid, { host: HOST, port: Number(args[c + 1]) });
    } else if (cmd === 'curl') {
      assert.equal(args[0], `http://${HOST}:${listen.port}/`);
      assert.match(await whoAnswers(listen), /^[AB]$/, line.text);
    } else if (cmd === 'penctl') {
      const r = await runPenctl(args);
      assert.equal(r.code, 0, `${line.text}: ${r.stdout}${r.stderr}`);
      if (args[1] === 'servers') assert.match(r.stdout, new RegExp(`^0 addr ${HOST} port ${portOf(a)} `));
    } else {
      continue; // alias, npm run demo (test/e2e/cli/demo.test.ts), the synopsis
    }
    ran++;
  }
  assert.ok(ran >= 6, `ran ${ran} lines`);
  // "pen -F /tmp/pen.cfg reproduces it": the written file starts pen on its own.
  const cfg = paths.get('/tmp/pen.cfg')!;
  assert.match(fs.readFileSync(cfg, 'utf8'), new RegExp(`^server 1 acl 0 address ${HOST} port ${portOf(b)} `, 'm'));
  await pen!.stop();
  pen = s.pen(await startPen(['-F', cfg], { ready: listen }));
  assert.match(await whoAnswers(listen), /^[AB]$/);
}));
