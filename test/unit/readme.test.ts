// Every pen, penctl, penlogd and mergelogs command line shown in README.md is one the programs
// accept as written (options, addresses, control commands and their arguments). The blocks of
// "## Use" also run for real in test/e2e/cli/readme.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseOptions as mergelogsOptions } from '../../lib/cli/mergelogs.js';
import { parseTarget } from '../../lib/cli/penctl.js';
import { parseOptions as penlogdOptions } from '../../lib/cli/penlogd.js';
import { parseArgv } from '../../lib/config/argv.js';
import { commandTable } from '../../lib/control/table.js';
import { readmeLines } from '../helpers/readme.js';

const lines = readmeLines();

test('the README has command blocks for pen and penctl', () => {
  assert.ok(lines.filter((l) => l.words[0] === 'pen').length >= 5);
  assert.ok(lines.filter((l) => l.words[0] === 'penctl').length >= 5);
});

test('every pen line parses', () => {
  for (const l of lines.filter((x) => x.words[0] === 'pen' && !x.text.includes('[options]'))) {
    assert.equal(parseArgv(l.words.slice(1)).action, 'run', l.text);
  }
});

test('every penctl line names a control address and a command with valid arguments', () => {
  const table = commandTable();
  for (const l of lines.filter((x) => x.words[0] === 'penctl')) {
    const [, target = '', first = '', ...rest] = l.words;
    const [word, args] = first === 'no' ? [`no ${rest[0] ?? ''}`, rest.slice(1)] : [first, rest]; // `no WORD` is one command
    assert.ok(!('error' in parseTarget(target)), `${l.text}: target`);
    const cmd = table.byName.get(word);
    assert.ok(cmd, `${l.text}: unknown command '${word}'`);
    assert.ok(cmd.args.safeParse(args).success, `${l.text}: arguments`);
  }
});

test('every penlogd and mergelogs line parses', () => {
  for (const l of lines.filter((x) => x.words[0] === 'penlogd')) penlogdOptions(l.words.slice(1));
  for (const l of lines.filter((x) => x.words[0] === 'mergelogs')) {
    const redirect = l.words.indexOf('>');
    mergelogsOptions(l.words.slice(1, redirect < 0 ? undefined : redirect));
  }
});
