// What pen says at start-up: the listening line, the -w check, which argument a name that does
// not resolve came from, and whose rights apply after -u.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultSettings, type Settings } from '../../lib/config/settings.js';
import { checkWebStatsFile, listeningLine } from '../../lib/run/announce.js';
import { accessNote, PenError } from '../../lib/errors.js';
import { explainResolve } from '../../lib/run/explain.js';
import { VERSION } from '../../lib/run/version.js';

const server = (host: string, port: number) => ({ host, port, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 });
const settings = (more: Partial<Settings>): Settings => ({ ...defaultSettings(), ...more });

test('the listening line names the address, protocol, servers and algorithm', () => {
  const s = settings({ listen: '8080', servers: [server('127.0.0.1', 8001), server('::1', 8002)], roundrobin: true });
  assert.equal(listeningLine(s, 8080),
    `pen ${VERSION} listening on 0.0.0.0:8080 (TCP), 2 servers: 0 127.0.0.1:8001, 1 [::1]:8002; roundrobin`);
  assert.equal(listeningLine({ ...s, listen: '127.0.0.1:0', udp: true, hash: true, stubborn: true }, 40000),
    `pen ${VERSION} listening on 127.0.0.1:40000 (UDP), 2 servers: 0 127.0.0.1:8001, 1 [::1]:8002; hash, stubborn`);
  const many = settings({ listen: '/run/pen.sock', servers: Array.from({ length: 10 }, (_, i) => server(`10.0.0.${i}`, 80)) });
  assert.match(listeningLine(many, 0), /listening on \/run\/pen\.sock \(TCP\), 10 servers: 0 10\.0\.0\.0:80, .* 7 10\.0\.0\.7:80, \.\.\. \(2 more\); roundrobin$/);
});

test('-w FILE in a directory that does not exist is refused at start-up', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-w-'));
  try {
    checkWebStatsFile(path.join(dir, 'stats.html'), null);
    checkWebStatsFile(null, null);
    assert.throws(() => checkWebStatsFile(path.join(dir, 'missing', 'stats.html'), null), (e: PenError) => {
      assert.equal(e.code, 'PEN_ERR_START');
      assert.equal(e.message, `-w ${dir}/missing/stats.html: the directory ${dir}/missing cannot be used (ENOENT)`);
      return true;
    });
    fs.writeFileSync(path.join(dir, 'file'), '');
    assert.throws(() => checkWebStatsFile(path.join(dir, 'file', 'stats.html'), null), /\/file is not a directory$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a name that does not resolve: Pen\'s message, then which argument named it', () => {
  const s = settings({
    servers: [server('127.0.0.1', 8001), server('web1', 8080)], emergency: server('web1', 9000), log: 'web1:514',
  });
  const e = new PenError('PEN_ERR_RESOLVE', { host: 'web1' });
  assert.equal(explainResolve(e, s), 'unknown or invalid address [web1]: the host name could not be resolved, ' +
    'named by backend web1:8080 (server 1), emergency server -e web1:9000, -l web1:514');
  assert.equal(explainResolve(new PenError('PEN_ERR_RESOLVE', { host: 'other' }), s),
    'unknown or invalid address [other]: the host name could not be resolved');
  assert.equal(explainResolve(new Error('x'), s), null);
});

test('EACCES after -u says that pen runs as that user now', () => {
  const eacces = Object.assign(new Error('permission denied'), { code: 'EACCES' });
  assert.equal(accessNote(eacces, 'nobody'), " (pen runs as user 'nobody' now, -u: the file must be accessible to that user)");
  assert.equal(accessNote(eacces, null), '');
  assert.equal(accessNote(Object.assign(new Error('x'), { code: 'ENOENT' }), 'nobody'), '');
});
