// Settings -> the plain-data Snapshot the data plane runs on. Host names are resolved here,
// through the caller's resolver (lib/engine/engine.ts resolves a server's name at start-up,
// when its address changes, and on HUP, as Pen does), so the data plane never blocks on DNS.
import dns from 'node:dns/promises';
import net from 'node:net';

import { compileAcls } from '../config/acl.js';
import { algorithmOf } from '../config/algorithms.js';
import { geoipDatabase, listsWithCountries } from '../config/geoip.js';
import { PenError } from '../errors.js';
import type { Server, Settings } from '../config/settings.js';
import {
  ABI_VERSION, FAMILY, FASTCLOSE, TLS_VERSION, type Snapshot, type SnapshotEndpoint, type SnapshotServer, type SnapshotTls,
} from './native.js';

/** Packs an IPv4/IPv6 literal into network-order bytes. */
export function packIp(ip: string): { family: 4 | 6; addr: Buffer } {
  if (net.isIPv4(ip)) return { family: 4, addr: Buffer.from(ip.split('.').map(Number)) };
  const sa = new net.SocketAddress({ address: ip, family: 'ipv6' });
  return { family: 6, addr: ipv6Bytes(sa.address) };
}

function ipv6Bytes(ip: string): Buffer {
  let [head, tail] = ip.includes('::') ? ip.split('::') : [ip, null];
  const parse = (s: string | null): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) {
        const v4 = part.split('.').map(Number);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else out.push(parseInt(part, 16));
    }
    return out;
  };
  const h = parse(head), t = parse(tail);
  const words = tail === null ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/**
 * Resolves a host (name, IPv4/IPv6 literal, or unix path containing '/') and port into an
 * endpoint. Throws PenError PEN_ERR_RESOLVE naming the host when it cannot be resolved.
 */
export async function resolveEndpoint(host: string, port: number): Promise<SnapshotEndpoint> {
  if (host.includes('/')) return { family: FAMILY.unix, addr: Buffer.alloc(0), path: host, port: 0 };
  let ip = host;
  if (!net.isIP(host)) {
    try {
      ip = (await dns.lookup(host)).address;
    } catch {
      throw new PenError('PEN_ERR_RESOLVE', { host });
    }
  }
  const { family, addr } = packIp(ip);
  return { family, addr, path: '', port };
}

/**
 * Resolves the host of the server in `slot` ('0', '1', ..., 'emergency', 'abuse') to an
 * endpoint (its port is ignored). Throws PenError PEN_ERR_RESOLVE.
 */
export type HostResolver = (host: string, slot: string) => Promise<SnapshotEndpoint>;

/** Resolves every name afresh. */
export const resolveAll: HostResolver = (host) => resolveEndpoint(host, 0);

async function server(s: Server, slot: string, resolve: HostResolver): Promise<SnapshotServer> {
  const ep = await resolve(s.host, slot);
  return { ...ep, port: ep.family === FAMILY.unix ? 0 : s.port, maxc: s.maxc, hard: s.hard, weight: s.weight, prio: s.prio, acl: s.acl };
}

/** Builds the complete snapshot for settings, resolving server names through `resolve`. */
export async function toSnapshot(s: Settings, resolve: HostResolver = resolveAll): Promise<Snapshot> {
  return {
    abi: ABI_VERSION,
    servers: await Promise.all(s.servers.map((sv, i) => server(sv, String(i), resolve))),
    emergency: s.emergency ? await server(s.emergency, 'emergency', resolve) : null,
    abuse: s.abuse ? await server(s.abuse, 'abuse', resolve) : null,
    algorithm: algorithmOf(s),
    track: !s.roundrobin && !s.forgetServers,
    hashPort: s.roundrobin && s.hash,
    stubborn: s.stubborn,
    trackingSec: s.tracking,
    blacklistSec: s.blacklist,
    clientsMax: s.clientsMax,
    connMax: s.connMax,
    multiAccept: s.multiAccept,
    timeoutMs: s.timeout * 1000,
    pendingMax: s.pendingMax,
    idleTimeoutSec: s.idleTimeout,
    dummy: s.dummy,
    idlers: s.idlers,
    udpResponses: s.udpResponses,
    udpTimeoutSec: s.udpTimeout,
    tcpNodelay: s.tcpNodelay,
    fastclose: FASTCLOSE[s.tcpFastclose],
    keepalive: s.keepalive,
    debug: s.debug,
    ascii: s.ascii,
    accessLog: s.log !== null,
    acls: compileAcls(s.acls),
    clientAcl: s.clientAcl,
    geoipDb: geoipDbOf(s),
    dsrIf: s.dsrIf ?? '',
    tarpitAcl: s.tarpitAcl,
    source: s.source === null ? null : { ...packIp(s.source), path: '', port: 0 },
    transparent: s.transparent,
    http: s.http,
    tls: tlsOf(s),
  };
}

/**
 * The database the data plane opens: a geoip_db file always (so a bad one is refused when it
 * is given), a default one only when some list has a country entry (lib/config/geoip.ts).
 */
function geoipDbOf(s: Settings): string {
  if (s.geoipDb !== null) return s.geoipDb;
  return listsWithCountries(s.acls).length > 0 ? geoipDatabase(null) ?? '' : '';
}

/**
 * The TLS part of the snapshot, null without -E. -L and ssl_option become a version range
 * (spec/ssl.md "modern equivalents"): TLS 1.2 and 1.3 unless -L tls1.3 or no_tlsv1.2 raise
 * the floor or no_tlsv1.3 lowers the ceiling; older versions are never spoken.
 */
export function tlsOf(s: Settings): SnapshotTls | null {
  if (s.sslCert === null) return null;
  const opts = new Set(s.sslOptions);
  const min = s.sslProtocol === 'tls1.3' || opts.has('no_tlsv1.2') ? TLS_VERSION.tls13 : TLS_VERSION.tls12;
  const max = opts.has('no_tlsv1.3') ? TLS_VERSION.tls12 : TLS_VERSION.tls13;
  return {
    cert: s.sslCert,
    key: s.sslKey ?? '',
    caFile: s.sslCaFile ?? '',
    caDir: s.sslCaDir ?? '',
    verifyClient: s.sslVerifyClient,
    bugWorkarounds: s.sslBugWorkarounds,
    minVersion: min,
    maxVersion: max,
    ciphers: s.sslCiphers ?? '',
    ciphersuites: s.sslCiphersuites ?? '',
    serverPreference: opts.has('cipher_server_preference'),
    sniPath: s.sslSniPath ?? '',
    ocspResponse: s.sslOcspResponse ?? '',
  };
}
