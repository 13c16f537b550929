// Server names are resolved when a server is new or its host changed, and on HUP
// (apply with resolveNames), never because some other setting changed: a weight change must
// neither wait for DNS nor fail because another server's name stopped resolving.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { defaultSettings, type Settings } from '../../lib/config/settings.js';
import { Engine } from '../../lib/engine/engine.js';
import { FAMILY } from '../../lib/engine/native.js';
import { PenError } from '../../lib/errors.js';

const quiet = { level: 0, log: () => undefined };

function settingsWith(hosts: string[]): Settings {
  const s = defaultSettings();
  s.servers = hosts.map((host) => ({ host, port: 80, maxc: 0, hard: 0, weight: 1, prio: 0, acl: 0 }));
  return s;
}

test('names are resolved for new or changed servers and on request, not on unrelated changes', async () => {
  const engine = new Engine(quiet);
  try {
    const lookups: string[] = [];
    const broken = new Set<string>();
    engine.resolveHost = async (host) => {
      lookups.push(host);
      if (broken.has(host)) throw new PenError('PEN_ERR_RESOLVE', { host });
      return { family: FAMILY.inet, addr: Buffer.from([127, 0, 0, lookups.length]), path: '', port: 0 };
    };
    const s = settingsWith(['web1.test', 'web2.test']);
    await engine.apply(s);
    assert.deepEqual(lookups.sort(), ['web1.test', 'web2.test'], 'start-up resolves every server');

    lookups.length = 0;
    broken.add('web2.test');
    s.servers[0]!.weight = 5;
    await engine.apply(s);
    assert.deepEqual(lookups, [], 'a weight change resolves nothing, and web2 no longer resolving does not matter');

    s.servers[1]!.host = 'web3.test';
    await engine.apply(s);
    assert.deepEqual(lookups, ['web3.test'], '`server 1 address` resolves that server only');

    lookups.length = 0;
    s.servers[1]!.host = 'web2.test';
    await assert.rejects(engine.apply(s), /unknown or invalid address \[web2\.test\]/, 'a new name that does not resolve is refused');
    lookups.length = 0;
    s.servers[1]!.host = 'web3.test';
    await engine.apply(s, { resolveNames: true });
    assert.deepEqual(lookups.sort(), ['web1.test', 'web3.test'], 'HUP resolves every server again');
  } finally {
    engine.close();
  }
});
