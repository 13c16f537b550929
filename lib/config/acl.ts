// Access control lists: the model kept in Settings, the parser of `acl N permit|deny ...`
// words, and the compiler to the plain tables the data plane matches on accept.
//
// Semantics (spec/selection.md §8, with quirks 30 and 31 fixed):
//  - ten lists 0..9; an empty list permits everyone;
//  - entries are checked in order; an address entry applies only to clients of its family
//    (an IPv4-mapped IPv6 client, ::ffff:a.b.c.d, counts as IPv4); a country entry applies to
//    every client whose country is known;
//  - the first applicable entry with (client & mask) == addr decides: permit or deny;
//  - no entry matched: the opposite of the LAST entry of the list, whatever its kind;
//  - addresses are masked when the entry is made, so `permit 10.1.2.3 255.0.0.0` means 10/8;
//  - unix-socket clients always pass.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from './zod.js';
import type { z as zt } from 'zod';

export const ACL_LISTS = 10;

export const AclEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('ipv4'),
    permit: z.boolean(),
    /** Dotted quad, already masked. */
    address: z.string().refine((s) => isIPv4(s), 'not an IPv4 address'),
    /** Dotted quad; need not be contiguous (Pen accepts any mask). */
    mask: z.string().refine((s) => isIPv4(s), 'not an IPv4 mask'),
  }),
  z.object({
    kind: z.literal('ipv6'),
    permit: z.boolean(),
    /** Compressed textual form, already masked to `prefix` bits. */
    address: z.string().refine((s) => isIPv6(s), 'not an IPv6 address'),
    prefix: z.number().int().min(0).max(128),
  }),
  z.object({
    kind: z.literal('country'),
    permit: z.boolean(),
    /** ISO 3166 alpha-2 code, upper case. */
    country: z.string().regex(/^[A-Z]{2}$/),
  }),
]);
export type AclEntry = zt.infer<typeof AclEntrySchema>;

export const AclListsSchema = z.array(z.array(AclEntrySchema)).length(ACL_LISTS);

/** Ten empty lists. */
export function emptyAcls(): AclEntry[][] {
  return Array.from({ length: ACL_LISTS }, () => []);
}

// ---- addresses as 16 bytes ------------------------------------------------------------------

const V4_MAPPED_PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/** IPv4 text -> ::ffff:a.b.c.d as 16 bytes. The caller has checked isIPv4. */
function mappedBytes(text: string): Buffer {
  return Buffer.concat([V4_MAPPED_PREFIX, ipv4Bytes(text)]);
}

/** IPv6 text (with '::' and an optional trailing dotted quad) -> 16 bytes. Checked by isIPv6. */
export function ipv6Bytes(text: string): Buffer {
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let body = text;
  const extra: number[] = [];
  if (tail) {
    const b = ipv4Bytes(tail[1]!);
    extra.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    body = text.slice(0, -tail[1]!.length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const [head, rest] = body.split('::') as [string, string | undefined];
  let groups: number[];
  if (rest === undefined) {
    groups = [...parse(head), ...extra];
  } else {
    const left = parse(head);
    const right = [...parse(rest), ...extra];
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** 16 bytes -> RFC 5952 text (longest run of two or more zero groups becomes '::'). */
export function formatIPv6(bytes: Buffer): string {
  if (bytes.subarray(0, 12).equals(V4_MAPPED_PREFIX)) return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** A mask of `bits` leading one bits in 16 bytes. */
function prefixMask(bits: number): Buffer {
  const m = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) m[i] = bits >= (i + 1) * 8 ? 0xff : bits > i * 8 ? (0xff << (8 - (bits - i * 8))) & 0xff : 0;
  return m;
}

function and(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((x, i) => x & b[i]!));
}

// ---- parsing `acl N permit|deny ...` ----------------------------------------------------------

/**
 * The entry described by the words after `acl N`: `permit|deny A.B.C.D [MASK]`,
 * `permit|deny IPV6[/LEN]` or `permit|deny country CC`. Returns the entry (address masked),
 * or a reason for the caller's error message.
 */
export function parseAclEntry(words: readonly string[]): AclEntry | { reason: string } {
  const [verb, what, extra, ...rest] = words;
  if (verb !== 'permit' && verb !== 'deny') {
    return { reason: verb === undefined ? 'missing permit or deny' : `expected permit or deny, got "${verb}"` };
  }
  const permit = verb === 'permit';
  if (what === undefined) return { reason: `missing address after ${verb}` };
  if (what === 'country') {
    if (extra === undefined || !/^[A-Za-z]{2}$/.test(extra) || rest.length) {
      return { reason: 'expected a two-letter country code, e.g. country SE' };
    }
    return { kind: 'country', permit, country: extra.toUpperCase() };
  }
  if (what.includes(':')) {
    if (extra !== undefined) return { reason: `unexpected "${extra}" after an IPv6 address (write ADDR/LEN)` };
    const [addr = '', len, more] = what.split('/');
    if (!isIPv6(addr) || more !== undefined) return { reason: `"${what}" is not an IPv6 address[/LEN]` };
    const prefix = len === undefined ? 128 : /^\d+$/.test(len) ? Number(len) : NaN;
    if (!(prefix >= 0 && prefix <= 128)) return { reason: `IPv6 prefix length must be 0..128, got "${len}"` };
    return { kind: 'ipv6', permit, address: formatIPv6(and(ipv6Bytes(addr), prefixMask(prefix))), prefix };
  }
  const cidr = /^([\d.]+)\/(\d+)$/.exec(what);
  if (cidr && isIPv4(cidr[1]!) && Number(cidr[2]) <= 32) {
    const len = Number(cidr[2]);
    const mask = [0, 8, 16, 24].map((b) => (len >= b + 8 ? 255 : len <= b ? 0 : (0xff << (8 - (len - b))) & 0xff)).join('.');
    return { reason: `IPv4 entries take a dotted mask, not /${len}: write "${cidr[1]} ${mask}"` };
  }
  if (!isIPv4(what)) return { reason: `"${what}" is not an IPv4 address, an IPv6 address or "country"` };
  const mask = extra ?? '255.255.255.255';
  if (!isIPv4(mask)) return { reason: `"${mask}" is not a dotted IPv4 mask` };
  if (rest.length) return { reason: `unexpected "${rest[0]}" after the mask` };
  const address = [...and(ipv4Bytes(what), ipv4Bytes(mask))].join('.');
  return { kind: 'ipv4', permit, address, mask };
}

/** The words of the `acl` command that recreates entry e in list n (the `write` format). */
export function renderAclEntry(n: number, e: AclEntry): string {
  const verb = e.permit ? 'permit' : 'deny';
  switch (e.kind) {
    case 'ipv4': return `acl ${n} ${verb} ${e.address} ${e.mask}`;
    case 'ipv6': return `acl ${n} ${verb} ${e.address}/${e.prefix}`;
    case 'country': return `acl ${n} ${verb} country ${e.country}`;
  }
}

// ---- compiled tables for the data plane -------------------------------------------------------

/**
 * One entry as the data plane matches it. IPv4 entries are stored IPv4-mapped: addr
 * ::ffff:a.b.c.d and mask ffff:...:ffff:<mask> (96 one bits, then the IPv4 mask), so the
 * matcher compares 16 bytes for every family; `family` says which clients the entry applies to.
 */
export type CompiledAclEntry =
  | { permit: boolean; family: 4 | 6; addr: Buffer; mask: Buffer }
  | { permit: boolean; country: string };

/** Lists 0..9 as plain tables (order kept: first match decides). */
export function compileAcls(acls: readonly (readonly AclEntry[])[]): CompiledAclEntry[][] {
  return acls.map((list) => list.map((e): CompiledAclEntry => {
    switch (e.kind) {
      case 'ipv4':
        return { permit: e.permit, family: 4, addr: mappedBytes(e.address),
          mask: Buffer.concat([prefixMask(96).subarray(0, 12), ipv4Bytes(e.mask)]) };
      case 'ipv6':
        return { permit: e.permit, family: 6, addr: ipv6Bytes(e.address), mask: prefixMask(e.prefix) };
      case 'country':
        return { permit: e.permit, country: e.country };
    }
  }));
}

/**
 * Whether `client` passes a compiled list. `client` is Node's textual remote address
 * ('127.0.0.1', '::1', '::ffff:127.0.0.1'), or null for a unix-socket peer (always passes).
 * An address that is unknown (undefined or '': a TCP peer that reset before it was read)
 * passes only an empty list: a non-empty list fails closed.
 * `countryOf` gives the client's ISO country code (the data plane's database, NativeEngine
 * countryOf) or null when unknown; it is asked at most once, and only when a country entry
 * is reached. Without it, or for an unknown country, country entries do not match.
 */
export function aclPermits(list: readonly CompiledAclEntry[], client: string | null | undefined,
  countryOf?: (ip: string) => string | null): boolean {
  if (list.length === 0 || client === null) return true;
  if (!client) return false;
  const bare = client.replace(/%.*$/, ''); // drop an IPv6 zone id
  let addr: Buffer;
  if (isIPv4(bare)) addr = mappedBytes(bare);
  else if (isIPv6(bare)) addr = ipv6Bytes(bare);
  else return false;
  const family = addr.subarray(0, 12).equals(V4_MAPPED_PREFIX) ? 4 : 6;
  let country: string | null | undefined; // undefined: not looked up yet
  for (const e of list) {
    if (!('family' in e)) {
      if (country === undefined) country = countryOf?.(bare) ?? null;
      if (country === e.country) return e.permit;
      continue;
    }
    if (e.family !== family) continue;
    if (and(addr, e.mask).equals(e.addr)) return e.permit;
  }
  return !list[list.length - 1]!.permit;
}
