// The bench's C helpers (bench/helpers/*.c: the UDP load and log sink, the bulk backend, the
// DSR flood, the null system call timing), compiled with `cc -O2` into a run's temp dir. The
// sources are not copied to dist/.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Binaries this process has compiled: `dir/name` -> the flags it was built with. */
const built = new Map<string, string>();

/**
 * Compiles bench/helpers/<name>.c (repoRoot: the repository) into dir/<name>, with any extra
 * flags, once per dir and process; returns the binary's path, or throws with the compiler's
 * words ("cc not installed ..." when there is no compiler).
 */
export function compileHelper(repoRoot: string, dir: string, name: string, flags: string[] = []): string {
  const source = path.join(repoRoot, 'bench', 'helpers', `${name}.c`);
  const bin = path.join(dir, name);
  if (built.get(bin) === flags.join(' ')) return bin;
  const r = spawnSync('cc', ['-O2', ...flags, '-o', bin, source], { encoding: 'utf8', timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('cc not installed (Debian: build-essential)');
  if (r.error || r.status !== 0) throw new Error(`cc ${source}: ${r.error?.message ?? r.stderr.trim().slice(-300)}`);
  built.set(bin, flags.join(' '));
  return bin;
}
