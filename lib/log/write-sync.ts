// Synchronous, complete writes to a descriptor for the log tools (penlogd's output, mergelogs'
// stdout). A descriptor that is non-blocking (a pipe shared with another process) may refuse
// with EAGAIN: wait a little and go on, as a blocking write would.
import fs from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of buf to fd; throws the fs error (ENOSPC, EPIPE, ...). */
export function writeAllSync(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

/** Reads fd line by line (latin1: every byte kept), without the newlines. */
export class LineReader {
  private buf = '';
  private eof = false;
  private readonly chunk = Buffer.alloc(65536);

  /** position: read from this offset on without moving the file position; null: from the file position. */
  constructor(private readonly fd: number, private position: number | null = null) {}

  /** The next line, or null at the end (a last line without newline is still returned). */
  next(): string | null {
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        return line;
      }
      if (this.eof) {
        if (this.buf === '') return null;
        const line = this.buf;
        this.buf = '';
        return line;
      }
      const n = fs.readSync(this.fd, this.chunk, 0, this.chunk.length, this.position);
      if (this.position !== null) this.position += n;
      if (n === 0) this.eof = true;
      else this.buf += this.chunk.toString('latin1', 0, n);
    }
  }
}
