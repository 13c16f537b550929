// A small MaxMind DB (format 2.0) writer, so that tests can make the country databases they
// match against (https://maxmind.github.io/MaxMind-DB/). Written from the spec; checked against
// libmaxminddb itself (mmdblookup and the addon) in test/unit/mmdb-writer.test.ts.
//
//   writeMmdb(networks, opts)  the whole file as a Buffer
//   countryDb(map)             networks for { '127.0.5.2/32': 'SE', '::1/128': 'NO', ... }
//                              with GeoLite2-Country's record shape
//   encodeValue / controlBytes / packNode  the pieces, exported for their unit tests
//
// Layout of the file: the binary search tree (node 0 first; 24- or 28-bit records), 16 zero
// bytes, the data section (one encoded value per distinct record), then "\xAB\xCD\xEFMaxMind.com"
// and the metadata map. The tree is IPv6 (ip_version 6): an IPv4 network a.b.c.d/n sits at
// ::a.b.c.d/(96+n), and ::ffff:0:0/96 points at the same subtree (IPv4-mapped clients), as
// MaxMind's own databases do.
import net from 'node:net';

/** An unsigned integer of an explicit MaxMind type (a plain number is written as uint32). */
export class Uint {
  constructor(readonly bits: 16 | 32 | 64 | 128, readonly value: bigint) {}
}
export const u16 = (n: number) => new Uint(16, BigInt(n));
export const u64 = (n: number | bigint) => new Uint(64, BigInt(n));

export type MmdbValue = string | number | boolean | Uint | MmdbValue[] | { [key: string]: MmdbValue };

/** Type numbers of the spec ("Output Data Section"). */
const TYPE = { pointer: 1, string: 2, double: 3, bytes: 4, uint16: 5, uint32: 6, map: 7, int32: 8,
  uint64: 9, uint128: 10, array: 11, boolean: 14 } as const;

/**
 * The control byte(s) of a field: 3 type bits (0 + an extension byte for types > 7) and a
 * 5-bit size; sizes from 29 on continue in 1, 2 or 3 more bytes (29 + n, 285 + n, 65821 + n).
 */
export function controlBytes(type: number, size: number): Buffer {
  if (!(size >= 0 && size < 65821 + 2 ** 24)) throw new Error(`mmdb: size ${size} out of range`);
  let first: number;
  let extra: number[] = [];
  if (size < 29) {
    first = size;
  } else if (size < 285) {
    first = 29;
    extra = [size - 29];
  } else if (size < 65821) {
    first = 30;
    extra = [(size - 285) >> 8, (size - 285) & 0xff];
  } else {
    first = 31;
    const n = size - 65821;
    extra = [n >> 16, (n >> 8) & 0xff, n & 0xff];
  }
  const head = type <= 7 ? [(type << 5) | first] : [first, type - 7];
  return Buffer.from([...head, ...extra]);
}

/** Big-endian bytes of n without leading zeros (0 -> no bytes), as integer payloads are. */
function minimalBytes(n: bigint): Buffer {
  const out: number[] = [];
  for (let v = n; v > 0n; v >>= 8n) out.unshift(Number(v & 0xffn));
  return Buffer.from(out);
}

/** One value in the data-section encoding (no pointers: every value is written in full). */
export function encodeValue(v: MmdbValue): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([controlBytes(TYPE.string, b.length), b]);
  }
  if (typeof v === 'boolean') return controlBytes(TYPE.boolean, v ? 1 : 0);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) return encodeValue(new Uint(32, BigInt(v)));
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return Buffer.concat([controlBytes(TYPE.double, 8), b]);
  }
  if (v instanceof Uint) {
    if (v.value < 0n || v.value >= 1n << BigInt(v.bits)) throw new Error(`mmdb: ${v.value} does not fit uint${v.bits}`);
    const type = { 16: TYPE.uint16, 32: TYPE.uint32, 64: TYPE.uint64, 128: TYPE.uint128 }[v.bits];
    const b = minimalBytes(v.value);
    return Buffer.concat([controlBytes(type, b.length), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([controlBytes(TYPE.array, v.length), ...v.map(encodeValue)]);
  const entries = Object.entries(v);
  return Buffer.concat([controlBytes(TYPE.map, entries.length),
    ...entries.flatMap(([k, x]) => [encodeValue(k), encodeValue(x)])]);
}

/** One node: left and right record, big-endian, in 6 (24-bit) or 7 (28-bit) bytes. */
export function packNode(left: number, right: number, recordSize: 24 | 28): Buffer {
  const limit = 2 ** recordSize;
  if (!(left >= 0 && left < limit && right >= 0 && right < limit)) throw new Error(`mmdb: record does not fit ${recordSize} bits`);
  if (recordSize === 24) {
    return Buffer.from([left >> 16, (left >> 8) & 0xff, left & 0xff, right >> 16, (right >> 8) & 0xff, right & 0xff]);
  }
  // 28 bits: low 24 bits of left, then the high nibbles of left and right in one byte, then right.
  return Buffer.from([(left >> 16) & 0xff, (left >> 8) & 0xff, left & 0xff,
    ((left >>> 24) << 4) | (right >>> 24), (right >> 16) & 0xff, (right >> 8) & 0xff, right & 0xff]);
}

/** A network and the record for it ('10.0.0.0/8', '2001:db8::/32', '::1/128'). */
export interface Network {
  cidr: string;
  data: MmdbValue;
}

interface TreeNode {
  child: [Child, Child];
}
type Child = TreeNode | { data: number } | null;

/** 128 bits of the network's address in the IPv6 tree, and its prefix length there. */
function bitsOf(cidr: string): { bits: number[]; prefix: number } {
  const [addr = '', len] = cidr.split('/');
  const v4 = net.isIPv4(addr);
  if (!v4 && !net.isIPv6(addr)) throw new Error(`mmdb: "${cidr}" is not an IP network`);
  const full = v4 ? 32 : 128;
  const prefix = len === undefined ? full : Number(len);
  if (!(Number.isInteger(prefix) && prefix >= 0 && prefix <= full)) throw new Error(`mmdb: bad prefix in "${cidr}"`);
  const sa = new net.SocketAddress({ address: addr, family: v4 ? 'ipv4' : 'ipv6' });
  const bytes = v4 ? [...Array(12).fill(0), ...sa.address.split('.').map(Number)] : ipv6Bytes(sa.address);
  const bits = bytes.flatMap((b: number) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (b >> i) & 1));
  return { bits, prefix: prefix + (v4 ? 96 : 0) };
}

function ipv6Bytes(text: string): number[] {
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The node at `bits` (created on the way); bits.length levels below root. */
function nodeAt(root: TreeNode, bits: readonly number[]): TreeNode {
  let node = root;
  for (const bit of bits) {
    const next = node.child[bit as 0 | 1];
    if (next !== null && !('child' in next)) throw new Error('mmdb: a network is nested inside another one');
    node = next ?? (node.child[bit as 0 | 1] = { child: [null, null] });
  }
  return node;
}

export interface MmdbOptions {
  recordSize?: 24 | 28;
  databaseType?: string;
  description?: string;
  buildEpoch?: number;
  /** Make ::ffff:0:0/96 point at the IPv4 subtree (default true). */
  ipv4MappedAlias?: boolean;
}

/**
 * A complete database file. Networks must not overlap (a more specific network inside another
 * one is refused). Records with equal data share one encoded value.
 */
export function writeMmdb(networks: readonly Network[], opts: MmdbOptions = {}): Buffer {
  const recordSize = opts.recordSize ?? 28;
  const root: TreeNode = { child: [null, null] };
  const chunks: Buffer[] = [];
  const offsets = new Map<string, number>();
  let dataSize = 0;
  for (const { cidr, data } of networks) {
    const encoded = encodeValue(data);
    const key = encoded.toString('hex');
    let offset = offsets.get(key);
    if (offset === undefined) {
      offset = dataSize;
      offsets.set(key, offset);
      chunks.push(encoded);
      dataSize += encoded.length;
    }
    const { bits, prefix } = bitsOf(cidr);
    if (prefix === 0) throw new Error('mmdb: a /0 network cannot be written (the root must be a node)');
    const parent = nodeAt(root, bits.slice(0, prefix - 1));
    const bit = bits[prefix - 1] as 0 | 1;
    if (parent.child[bit] !== null) throw new Error(`mmdb: "${cidr}" overlaps another network`);
    parent.child[bit] = { data: offset };
  }
  if (opts.ipv4MappedAlias ?? true) {
    const v4root = nodeAt(root, Array(96).fill(0));
    const mapped = [...Array(80).fill(0), ...Array(16).fill(1)];
    const parent = nodeAt(root, mapped.slice(0, 95));
    parent.child[1] = v4root; // the alias: a second record pointing at the same node
  }

  // Number the nodes breadth-first (root = 0); a shared node (the alias) keeps one number.
  const index = new Map<TreeNode, number>();
  const order: TreeNode[] = [];
  const visit = (n: TreeNode) => {
    if (!index.has(n)) {
      index.set(n, order.length);
      order.push(n);
    }
  };
  visit(root);
  for (let i = 0; i < order.length; i++) {
    for (const c of order[i]!.child) if (c !== null && 'child' in c) visit(c);
  }
  const nodeCount = order.length;
  const record = (c: Child): number => {
    if (c === null) return nodeCount; // no data
    if ('child' in c) return index.get(c)!;
    return nodeCount + 16 + c.data;
  };
  const tree = Buffer.concat(order.map((n) => packNode(record(n.child[0]), record(n.child[1]), recordSize)));

  const metadata: MmdbValue = {
    binary_format_major_version: u16(2),
    binary_format_minor_version: u16(0),
    build_epoch: u64(opts.buildEpoch ?? Math.floor(Date.now() / 1000)),
    database_type: opts.databaseType ?? 'GeoLite2-Country',
    description: { en: opts.description ?? 'pen test database' },
    ip_version: u16(6),
    languages: ['en'],
    node_count: new Uint(32, BigInt(nodeCount)),
    record_size: u16(recordSize),
  };
  return Buffer.concat([tree, Buffer.alloc(16), ...chunks,
    Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), encodeValue(metadata)]);
}

/** The record GeoLite2-Country has for a country (the fields pen reads, plus names). */
export function countryRecord(iso: string, name = iso): MmdbValue {
  const country = { iso_code: iso, names: { en: name } };
  return { country, registered_country: country };
}

/** Networks for a { cidr: ISO code } map, with GeoLite2-Country's record shape. */
export function countryDb(map: Readonly<Record<string, string>>, opts: MmdbOptions = {}): Buffer {
  return writeMmdb(Object.entries(map).map(([cidr, iso]) => ({ cidr, data: countryRecord(iso) })), opts);
}
