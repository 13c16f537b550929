// Which MaxMind DB file country ACL entries (`acl N permit|deny country CC`) are matched
// against. The data plane opens it (native/geo/db.h); this decides the file.
//
// Contract: `geoip_db FILE` names the file; without it pen looks in the places where Debian's
// and MaxMind's geoipupdate put GeoLite2-Country (Pen, built with legacy GeoIP, also used that
// library's default file), first existing one wins. The default is only opened when some list
// has a country entry, so a stray file there never stops a pen that does not use countries.
import fs from 'node:fs';
import type { AclEntry } from './acl.js';

/** Searched in this order when geoip_db is not set. */
export const GEOIP_DEFAULT_PATHS = [
  '/var/lib/GeoIP/GeoLite2-Country.mmdb',
  '/usr/share/GeoIP/GeoLite2-Country.mmdb',
] as const;

/**
 * Why country entries cannot work: the addon has no libmaxminddb (the refusal). It loads
 * libmaxminddb.so.0 at run time, so this mostly means the library is not installed; an addon
 * built from source without maxminddb.h has no GeoIP either (native/geo/db.h).
 */
export const GEOIP_UNSUPPORTED =
  'no GeoIP support: libmaxminddb is not installed (Debian/Ubuntu: apt-get install libmaxminddb0; ' +
  'FreeBSD: pkg install libmaxminddb), or the addon was built from source without maxminddb.h (libmaxminddb-dev)';

/**
 * The database file for a geoip_db setting: the setting itself (checked when the data plane
 * opens it), else the first of GEOIP_DEFAULT_PATHS that exists, else null.
 */
export function geoipDatabase(setting: string | null, exists: (file: string) => boolean = fs.existsSync): string | null {
  if (setting !== null) return setting;
  return GEOIP_DEFAULT_PATHS.find((f) => exists(f)) ?? null;
}

/** The numbers of the lists that hold a country entry. */
export function listsWithCountries(acls: readonly (readonly AclEntry[])[]): number[] {
  return acls.flatMap((list, n) => (list.some((e) => e.kind === 'country') ? [n] : []));
}

/** How to give pen a database, for refusals ('set one with geoip_db FILE (...)'). */
export function geoipHowTo(): string {
  return `set one with geoip_db FILE (none given, and no ${GEOIP_DEFAULT_PATHS.join(' or ')})`;
}
