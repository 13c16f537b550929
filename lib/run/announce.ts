// What pen says once it is serving, and the start-up check of the -w file.
import fs from 'node:fs';
import path from 'node:path';

import { algorithmOf } from '../config/algorithms.js';
import { parseListenSpec } from '../config/listen-spec.js';
import { formatEndpoint } from '../config/server-spec.js';
import type { Settings } from '../config/settings.js';
import { PenError } from '../errors.js';
import { VERSION } from './version.js';

/** Servers named in the listening line; more are counted, not listed. */
const NAMED_SERVERS = 8;

/**
 * The line pen logs once it serves: version, listen address (`port`: the bound port, for
 * an OS-chosen 0), protocol, servers and algorithm, e.g.
 * "pen 0.1.0 listening on 0.0.0.0:8080 (TCP), 2 servers: 0 127.0.0.1:8001, 1 127.0.0.1:8002; roundrobin".
 */
export function listeningLine(s: Readonly<Settings>, port: number): string {
  const spec = parseListenSpec(s.listen ?? '');
  const where = spec.kind === 'unix' ? spec.path : formatEndpoint(spec.host, port || spec.port);
  const named = s.servers.slice(0, NAMED_SERVERS).map((v, i) => `${i} ${formatEndpoint(v.host, v.port)}`).join(', ');
  const more = s.servers.length > NAMED_SERVERS ? `, ... (${s.servers.length - NAMED_SERVERS} more)` : '';
  const algorithm = algorithmOf(s as Settings) + (s.stubborn ? ', stubborn' : '');
  return `pen ${VERSION} listening on ${where} (${s.udp ? 'UDP' : 'TCP'}), ` +
    `${s.servers.length} server${s.servers.length === 1 ? '' : 's'}: ${named}${more}; ${algorithm}`;
}

/**
 * -w FILE: the page is written on USR1 and `status`, long after start-up; a directory that
 * does not exist (or that the -u user cannot write) is refused now. Throws PenError.
 */
export function checkWebStatsFile(file: string | null, user: string | null): void {
  if (file === null) return;
  const dir = path.dirname(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    throw new PenError('PEN_ERR_START', {
      detail: `-w ${file}: the directory ${dir} cannot be used (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    });
  }
  if (!st.isDirectory()) throw new PenError('PEN_ERR_START', { detail: `-w ${file}: ${dir} is not a directory` });
  try {
    fs.accessSync(fs.existsSync(file) ? file : dir, fs.constants.W_OK);
  } catch {
    throw new PenError('PEN_ERR_START', {
      detail: `-w ${file}: not writable${user ? ` by user '${user}' (pen runs as that user now, -u)` : ''}`,
    });
  }
}
