// Decoding the data plane's event batches (native.ts NativeEvent). Access records arrive
// packed in one Buffer per batch (native/events.h packAccess): per record, the time as a
// little-endian float64, then client, server and request, each a length byte and its bytes.
// Strings are latin1: one char per byte, so the request's bytes come through untouched.

/**
 * A request seen by the data plane (-l): seconds since the epoch, client and server
 * addresses without ports, and the head of what the client sent up to CR/LF (at most 100
 * bytes, one char per byte).
 */
export interface AccessEvent {
  time: number;
  client: string;
  server: string;
  request: string;
}

/** The records of one packed batch; throws RangeError when the buffer is cut short. */
export function decodeAccessRecords(b: Buffer): AccessEvent[] {
  const out: AccessEvent[] = [];
  let at = 0;
  const field = (): string => {
    const n = b[at];
    if (n === undefined || at + 1 + n > b.length) throw new RangeError('access records: truncated field');
    const s = b.toString('latin1', at + 1, at + 1 + n);
    at += 1 + n;
    return s;
  };
  while (at < b.length) {
    const time = b.readDoubleLE(at);
    at += 8;
    const client = field();
    const server = field();
    const request = field();
    out.push({ time, client, server, request });
  }
  return out;
}

/** The packing of decodeAccessRecords, for tests and the fake engine. */
export function encodeAccessRecords(events: readonly AccessEvent[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of events) {
    const t = Buffer.alloc(8);
    t.writeDoubleLE(e.time);
    parts.push(t);
    for (const s of [e.client, e.server, e.request]) {
      const b = Buffer.from(s, 'latin1').subarray(0, 255);
      parts.push(Buffer.from([b.length]), b);
    }
  }
  return Buffer.concat(parts);
}
