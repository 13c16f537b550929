// `npm run demo`: says it runs until Ctrl-C, its first request is served by server 0
// (backend A: no readiness probe takes the first roundrobin turn), and Ctrl-C stops it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { waitFor } from '../../helpers/time.js';

const DEMO = fileURLToPath(new URL('../../../scripts/demo.js', import.meta.url));

test('npm run demo: runs until Ctrl-C, first request to server 0', async () => {
  const child = spawn(process.execPath, [DEMO], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '' } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => out.includes('Ctrl-C (which stops'), 10000, 'the demo to print its requests');
    assert.match(out, /^pen demo: .* it runs until you press Ctrl-C\./);
    assert.match(out, /request 1: hello from backend A\n {2}request 2: hello from backend B\n {2}request 3: hello from backend A\n/);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
