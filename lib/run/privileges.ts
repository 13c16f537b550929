// chroot (-j) and user switch (-u), in Pen's order: chroot first, then setgid + setuid.
// Everything pen needs later (the addon, every module) is loaded before this runs.
import fs from 'node:fs';

import { loadAddon } from '../engine/native.js';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** Looks `user` up in /etc/passwd (read before any chroot). Throws when it is unknown. */
export function lookupUser(user: string, passwd = '/etc/passwd'): Account {
  for (const line of fs.readFileSync(passwd, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[0] === user) return { name: user, uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(`unknown user '${user}'`);
}

/** chroot(dir) if given, then switch to account if given. Throws with the failing step named. */
export function dropPrivileges(dir: string | null, account: Account | null): void {
  if (dir) loadAddon().chroot(dir);
  if (!account) return;
  try {
    if (process.getuid?.() === 0) process.setgroups?.([account.gid]);
    process.setgid?.(account.gid);
    process.setuid?.(account.uid);
  } catch (err) {
    throw new Error(`cannot switch to user '${account.name}': ${(err as Error).message}`);
  }
}
