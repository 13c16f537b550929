// Reading and writing the files that commands name (include, write, status, the -F file) without
// ever blocking the JS thread: the control socket and the signals must keep being served.
//
// Only regular files are read or written. A device (/dev/zero), a FIFO, a socket or a directory
// is refused before a byte moves; FIFOs are opened with O_NONBLOCK so that the open itself
// cannot wait for a peer. A read is bounded (maxBytes): a larger file is refused, also one that
// grows while it is read. All I/O goes through fs.promises (libuv's thread pool).
import fs from 'node:fs';

/** The default bound of readRegularFile: a configuration file is far smaller. */
export const MAX_READ_BYTES = 1 << 20;

/** An error whose code is the reason itself, as replies print `code ?? message`. */
function refused(path: string, reason: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${reason}: '${path}'`), { code: reason, path });
}

/** What a stat says the path is, for the messages ("a directory", "a FIFO", ...). */
function kind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(path: string, st: fs.Stats): NodeJS.ErrnoException {
  const k = kind(st);
  return refused(path, k === 'not a regular file' ? k : `not a regular file (${k})`);
}

/**
 * The whole of `path` as UTF-8. Rejects (error.code says why, for the reply) when the path
 * cannot be opened (the fs code: ENOENT, EACCES, ...), is not a regular file
 * ("not a regular file (a directory)"), or holds more than maxBytes bytes
 * ("larger than N bytes").
 */
export async function readRegularFile(path: string, maxBytes = MAX_READ_BYTES): Promise<string> {
  const fh = await fs.promises.open(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, st);
    if (st.size > maxBytes) throw refused(path, `larger than ${maxBytes} bytes`);
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > maxBytes) throw refused(path, `larger than ${maxBytes} bytes`);
      if (got === buf.length) break; // grew past its size: one more byte was asked for
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Replaces the contents of `path` (created with mode 0666 & ~umask when absent). Rejects when it
 * cannot be opened or is not a regular file (nothing is written then), or on a write error.
 */
export async function writeRegularFile(path: string, text: string): Promise<void> {
  const fh = await fs.promises.open(path,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_NONBLOCK, 0o666);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, st);
    await fh.truncate(0);
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}
