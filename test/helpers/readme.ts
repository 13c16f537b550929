// The README's command blocks as data: which command lines it shows, split into words the way
// a shell would (double and single quotes, a trailing "# comment" dropped).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

export interface ReadmeLine {
  /** The `## heading` the block is under. */
  section: string;
  text: string;
  /** Shell words, the program first (see programWords). */
  words: string[];
}

/** Shell-like split: quotes group words, an unquoted # starts a comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '#' && !inWord) {
      break;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * The words with the program first, as installed: `npx penlb ARGS` and `npx pen ARGS` (in a
 * checkout) are `pen ARGS`, `npx -p penlb PROGRAM ARGS` is `PROGRAM ARGS`.
 */
export function programWords(words: string[]): string[] {
  if (words[0] !== 'npx') return words;
  if (words[1] === 'penlb' || words[1] === 'pen') return ['pen', ...words.slice(2)];
  if (words[1] === '-p' && words[2] === 'penlb') return words.slice(3);
  return words;
}

/** Every line of every ``` block of README.md, with its section. */
export function readmeLines(file = README): ReadmeLine[] {
  const out: ReadmeLine[] = [];
  let section = '';
  let inBlock = false;
  for (const text of fs.readFileSync(file, 'utf8').split('\n')) {
    if (text.startsWith('```')) {
      inBlock = !inBlock;
      continue;
    }
    if (!inBlock) {
      if (text.startsWith('## ')) section = text.slice(3).trim();
      continue;
    }
    const words = programWords(shellWords(text));
    if (words.length) out.push({ section, text, words });
  }
  return out;
}

export const repoRoot = path.dirname(README);
