// For the GeoIP e2e tests (test/e2e/geoip/): whether this addon can match countries at all,
// and country databases written into a test's directory (test/helpers/mmdb.ts).
import fs from 'node:fs';
import path from 'node:path';

import { loadAddon } from '../../lib/engine/native.js';
import { countryDb, type MmdbOptions } from './mmdb.js';

/** Why GeoIP tests cannot run here, or null when they can. */
export function geoipMissing(): string | null {
  return loadAddon().maxminddb === null
    ? 'the addon was built without libmaxminddb (Debian: libmaxminddb-dev), so country ACL entries are refused'
    : null;
}

/**
 * Writes a country database { cidr: ISO code } as dir/name and returns its path. Written to a
 * temporary name and renamed, as geoipupdate does, so a running pen never sees half a file.
 */
export function writeCountryDb(dir: string, name: string, map: Readonly<Record<string, string>>,
  opts: MmdbOptions = {}): string {
  const file = path.join(dir, name);
  fs.writeFileSync(`${file}.tmp`, countryDb(map, opts));
  fs.renameSync(`${file}.tmp`, file);
  return file;
}
