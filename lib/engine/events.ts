// The layout of the access records the data plane hands over, packed in one Buffer per batch
// (native/events.cc packAccess): per record, the time as a little-endian float64, then the
// client, the server and the request, each one length byte and its bytes (latin1: one char
// per byte, so the request's bytes come through untouched). lib/log/access.ts formats lines
// straight from these bytes.

/** Where the fields of one packed record are: each field offset points at its length byte. */
export interface AccessFields {
  time: number;
  client: number;
  server: number;
  request: number;
  /** Offset of the next record. */
  next: number;
}

/** Reads the record at offset `at`; throws RangeError when the batch is cut short. */
export function accessRecordAt(b: Buffer, at: number): AccessFields {
  const time = b.readDoubleLE(at);
  const client = at + 8;
  const server = client + 1 + (b[client] ?? 0);
  const request = server + 1 + (b[server] ?? 0);
  const next = request + 1 + (b[request] ?? 0);
  if (client >= b.length || server >= b.length || request >= b.length || next > b.length) {
    throw new RangeError('access records: truncated');
  }
  return { time, client, server, request, next };
}

/** One access record as the data plane made it (seconds, addresses without ports, request head). */
export interface AccessEvent {
  time: number;
  client: string;
  server: string;
  request: string;
}

/** The packing native/events.cc does, in JS (tests build batches with it). */
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
