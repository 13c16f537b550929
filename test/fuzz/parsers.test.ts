// The control-plane fuzz targets (targets.ts), briefly: a fixed seed and a bounded number of
// executions each (FUZZ_ITERATIONS, default 300), so `npm test` stays fast and repeatable.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { runTargets } from './targets.js';

test('fuzz: tokenizer, penctl target, argv, server specs, every command, config files', { timeout: 120_000 }, async () => {
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? 300);
  const results = await runTargets({ seed: 12, iterations });
  assert.ok(results.every((r) => r.executions === iterations));
});
