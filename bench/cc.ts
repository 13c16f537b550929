// The bench's C helpers (bench/helpers/*.c: the UDP load, the bulk backend, the DSR flood, the
// null system call timing), compiled with `cc -O2` into a run's temp dir. The sources are not
// copied to dist/.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * Compiles bench/helpers/<name>.c (repoRoot: the repository) into dir/<name>, with any extra
 * flags; returns the binary's path, or throws with the compiler's words.
 */
export function compileHelper(repoRoot: string, dir: string, name: string, flags: string[] = []): string {
  const source = path.join(repoRoot, 'bench', 'helpers', `${name}.c`);
  const bin = path.join(dir, name);
  const r = spawnSync('cc', ['-O2', ...flags, '-o', bin, source], { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) throw new Error(`cc ${source}: ${r.error?.message ?? r.stderr.trim().slice(-300)}`);
  return bin;
}
