// chroot (-j) and user switch (-u), in Pen's order: chroot first, then setgid + setuid.
// Everything pen needs later (the addon, every module) is loaded before this runs.
//
// Capabilities after -u (Linux): the data plane may need one privilege after the switch, for
// `transparent` (IP_TRANSPARENT / IPV6_TRANSPARENT on each backend socket): CAP_NET_RAW, the
// narrower of the two capabilities the kernel accepts for it (since Linux 3.2; capabilities(7):
// "bind to any address for transparent proxying"), not CAP_NET_ADMIN. pen keeps exactly what
// the settings at the switch need, and only on the data-plane worker threads, the threads that
// make those calls: the JS thread (control socket, files, config parsing) and every other
// thread keep nothing. A pen started as root with -u but without `transparent` keeps nothing,
// so penctl cannot turn it on later (refused, saying why): start with it on to switch it at run
// time. Direct Server Return needs nothing after -u: its raw socket is opened before the switch
// and stays open.
import fs from 'node:fs';

import type { Settings } from '../config/settings.js';
import type { NativeEngine } from '../engine/native.js';
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

/** What `transparent` needs on the data-plane threads after -u (Linux). */
export const TRANSPARENT_CAPABILITY = 'CAP_NET_RAW';

/** Where the data-plane threads are (pen's Engine) and what they run; penlogd has neither. */
export interface KeepOptions {
  engine: Pick<NativeEngine, 'keepCapabilities'>;
  settings: Readonly<Settings>;
}

export interface Dropped {
  /** The capabilities the data-plane threads kept. */
  kept: string[];
  /** The capability `transparent` would need that the switch from root took away ('root' where there are no capabilities), or null. */
  lost: string | null;
}

/**
 * chroot(dir) if given, then switch to account if given. With keep, when root switches to
 * another account, the engine's data-plane threads keep the capability transparent needs when
 * keep.settings has it on (Linux only: elsewhere this throws, naming the way out). Throws with
 * the failing step named.
 */
export function dropPrivileges(dir: string | null, account: Account | null, keep?: KeepOptions): Dropped {
  if (dir) loadAddon().chroot(dir);
  if (!account) return { kept: [], lost: null };
  const root = process.getuid?.() === 0;
  const switchUser = (): void => {
    if (root) process.setgroups?.([account.gid]);
    process.setgid?.(account.gid);
    process.setuid?.(account.uid);
  };
  const leavingRoot = root && account.uid !== 0 && keep !== undefined;
  const needed = leavingRoot && process.platform === 'linux' ? TRANSPARENT_CAPABILITY : null;
  const wanted = keep !== undefined && keep.settings.transparent && keep.settings.dsrIf === null;
  if (leavingRoot && wanted && needed === null) {
    throw new Error(`cannot switch to user '${account.name}' and keep transparent working: that needs Linux ` +
      `capabilities; on ${process.platform} run pen without -u (or with -u root)`);
  }
  try {
    if (needed !== null && wanted) return { kept: keep!.engine.keepCapabilities([needed], switchUser), lost: null };
    switchUser();
    return { kept: [], lost: leavingRoot ? needed ?? 'root' : null };
  } catch (err) {
    throw new Error(`cannot switch to user '${account.name}': ${(err as Error).message}`);
  }
}
