// The docs kept in step with the code: pen --help, the README option table and man/pen.1 name
// every option with the same default; penctl.1 names every control command with the default
// its help gives; each bin's man page names its options; package.json `man` lists every page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { USAGE as MERGELOGS_USAGE } from '../../lib/cli/mergelogs.js';
import { USAGE as PENCTL_USAGE } from '../../lib/cli/penctl.js';
import { USAGE as PENLOG_USAGE } from '../../lib/cli/penlog.js';
import { USAGE as PENLOGD_USAGE } from '../../lib/cli/penlogd.js';
import { usageText } from '../../lib/config/usage.js';
import { commandTable } from '../../lib/control/table.js';
import { DEFAULTS } from '../../lib/config/settings.js';

function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'penlb') return dir;
    if (dirname(dir) === dir) throw new Error('penlb checkout not found');
  }
}
const root = repoRoot();
const read = (rel: string): string => readFileSync(join(root, rel), 'utf8');

/** The tagged paragraphs (.TP) of a man page: tag line (troff escapes removed) -> the text after it. */
function manItems(page: string): Array<{ tag: string; body: string }> {
  const unescape = (t: string) => t.replace(/\\-/g, '-').replace(/\\\(dq/g, '"').replace(/\\e/g, '\\');
  return page.split(/\n\.TP\n/).slice(1).map((chunk) => {
    const [tag = '', ...rest] = chunk.split('\n');
    const end = rest.findIndex((l) => /^\.(SH|SS|TP)\b/.test(l));
    return { tag: unescape(tag), body: unescape((end < 0 ? rest : rest.slice(0, end)).join('\n')) };
  });
}

/** The option lines of a usage text: letter -> the line. */
function usageOptions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s+-([A-Za-z?])\b/.exec(line);
    if (m) out.set(m[1]!, line);
  }
  return out;
}

/** "[30]" -> "30": the bracketed default of a usage line, when it is a number or one word. */
function bracketDefault(line: string): string | null {
  return /\[([\w.]+)\]/.exec(line)?.[1] ?? null;
}

const PEN_USAGE = usageOptions(usageText());

test('package.json man lists a page for every bin, and every page exists', () => {
  const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; man: string[] };
  const bins = [...new Set(Object.values(pkg.bin))].map((f) => f.replace(/^bin\/(.*)\.js$/, '$1'));
  assert.deepEqual([...pkg.man].sort(), bins.map((b) => `man/${b}.1`).sort());
  assert.deepEqual(readdirSync(join(root, 'man')).sort(), pkg.man.map((m) => m.slice(4)).sort());
  for (const m of pkg.man) {
    const page = read(m);
    assert.match(page, /\\-\\-help/, `${m}: --help`);
    assert.match(page, /\\-\\-version/, `${m}: --version`);
  }
});

test('pen: every option of --help is in man/pen.1 and the README table, with the same default', () => {
  const man = manItems(read('man/pen.1'));
  const readme = read('README.md').split('\n').filter((l) => l.startsWith('| `-'));
  for (const [letter, line] of PEN_USAGE) {
    if (letter === '?') continue;
    const item = man.find((i) => new RegExp(`^\\.B[IR]* .*-${letter}\\b`).test(i.tag));
    assert.ok(item, `-${letter} has no item in man/pen.1`);
    const row = readme.find((r) => new RegExp(`^\\| [^|]*\`-${letter}\\b`).test(r));
    assert.ok(row, `-${letter} has no row in the README option table`);
    const d = bracketDefault(line);
    if (d === null) continue;
    assert.ok(item.body.includes(`[${d}]`), `man/pen.1 -${letter} says [${d}] like --help: ${item.body}`);
    assert.ok(row.includes(`default ${d}`), `README -${letter} says "default ${d}" like --help: ${row}`);
  }
  for (const row of readme) {
    for (const m of row.split('|')[1]!.matchAll(/`-([A-Za-z])\b/g)) {
      assert.ok(PEN_USAGE.has(m[1]!), `README row for -${m[1]} but --help has no such option`);
    }
  }
});

test('penctl.1 describes every control command, with the default its help gives', () => {
  const items = manItems(read('man/penctl.1'));
  const seen = new Set<unknown>();
  for (const cmd of commandTable().byName.values()) {
    if (seen.has(cmd)) continue;
    seen.add(cmd);
    const name = cmd.name[0]!;
    const item = items.find((i) => i.tag.startsWith(`.B "${name}`) && /^[ "]/.test(i.tag.slice(4 + name.length)));
    assert.ok(item, `control command '${name}' is not in man/penctl.1`);
    const d = /\[([\w.-]+)\]$/.exec(cmd.help)?.[1];
    if (d !== undefined) assert.ok(item.body.includes(`[${d}]`), `penctl.1 '${name}' says [${d}] like its help`);
  }
});

test('the small tools: every option of --help is in the man page, with the same default', () => {
  const tools: Array<[string, string]> = [
    ['penlogd', PENLOGD_USAGE], ['mergelogs', MERGELOGS_USAGE], ['penlog', PENLOG_USAGE], ['penctl', PENCTL_USAGE],
  ];
  for (const [tool, usage] of tools) {
    const items = manItems(read(`man/${tool}.1`));
    for (const [letter, line] of usageOptions(usage)) {
      const item = items.find((i) => new RegExp(`^\\.B[IR]* .*-${letter}\\b`).test(i.tag));
      assert.ok(item, `${tool}: -${letter} has no item in man/${tool}.1`);
      const d = bracketDefault(line);
      if (d !== null) assert.ok(item.body.includes(`[${d}]`), `man/${tool}.1 -${letter} says [${d}] like --help`);
    }
    for (const item of items) {
      const m = /^\.B[IR]* -([A-Za-z])\b/.exec(item.tag);
      if (m) assert.ok(usageOptions(usage).has(m[1]!), `man/${tool}.1 has -${m[1]} but --help does not`);
    }
  }
});

test('idle_timeout: 0 by default (TCP connections are never closed for idleness; UDP flows use 60 s)', () => {
  assert.equal(DEFAULTS.idleTimeout, 0);
  assert.match(read('native/udp/balancer.h'), /kDefaultIdleSec = 60\b/);
  assert.match(commandTable().byName.get('idle_timeout')!.help, /\(0 = never; UDP flows then use 60\) \[0\]$/);
  assert.match(read('man/pen.1'), /60 when idle_timeout is 0/);
  assert.match(read('README.md'), /60 while `idle_timeout` is 0, its\s+default/);
});
