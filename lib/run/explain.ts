// Start-up errors made specific: which argument a name that does not resolve came from.
import { formatEndpoint } from '../config/server-spec.js';
import type { Server, Settings } from '../config/settings.js';
import { isPenError } from '../errors.js';

const hostPort = (v: Server): string => formatEndpoint(v.host, v.port);

/**
 * A PEN_ERR_RESOLVE error -> the same message (Pen's "unknown or invalid address [X]") followed
 * by which argument named X: a backend (with its server number), -e, -B or -l. Other errors:
 * null.
 */
export function explainResolve(err: unknown, s: Readonly<Settings>): string | null {
  if (!isPenError(err) || err.code !== 'PEN_ERR_RESOLVE') return null;
  const host = String((err.params as { host: string }).host);
  const where: string[] = [];
  s.servers.forEach((v, i) => { if (v.host === host) where.push(`backend ${hostPort(v)} (server ${i})`); });
  if (s.emergency?.host === host) where.push(`emergency server -e ${hostPort(s.emergency)}`);
  if (s.abuse?.host === host) where.push(`abuse server -B ${hostPort(s.abuse)}`);
  if (s.log !== null && s.log.startsWith(host + ':')) where.push(`-l ${s.log}`);
  const named = where.length ? `, named by ${where.join(', ')}` : '';
  return `${err.message}: the host name could not be resolved${named}`;
}
