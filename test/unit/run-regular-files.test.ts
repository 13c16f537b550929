// include / write / the -F file on paths that are not regular files (issue 12, defect 2): each is
// refused at once with a reply naming why, and nothing blocks the JS thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SettingsSchema, defaultSettings } from '../../lib/config/settings.js';
import { dispatch } from '../../lib/control/dispatch.js';
import type { Engine } from '../../lib/engine/engine.js';
import { Runtime } from '../../lib/run/runtime.js';
import { MAX_READ_BYTES, readRegularFile, writeRegularFile } from '../../lib/run/regular-files.js';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pen-files-'));
}

/** A Runtime that is not running: commands change its settings only (no engine is touched). */
function runtime(): Runtime {
  return new Runtime(SettingsSchema.parse(defaultSettings()), {} as Engine, () => undefined);
}

test('include of a device, a FIFO, a directory or a huge file replies an error at once', { timeout: 20_000 }, async () => {
  const dir = tmpdir();
  try {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const huge = path.join(dir, 'huge.cfg');
    fs.writeFileSync(huge, '#'.repeat(MAX_READ_BYTES + 1));
    const rt = runtime();
    {
      assert.equal(await dispatch(rt, 'include /dev/zero', 'socket'),
        "pen: include: can't read config file '/dev/zero' (not a regular file (a device))\n");
      assert.equal(await dispatch(rt, `include ${fifo}`, 'socket'),
        `pen: include: can't read config file '${fifo}' (not a regular file (a FIFO))\n`);
      assert.equal(await dispatch(rt, `include ${dir}`, 'socket'),
        `pen: include: can't read config file '${dir}' (not a regular file (a directory))\n`);
      assert.equal(await dispatch(rt, `include ${huge}`, 'socket'),
        `pen: include: can't read config file '${huge}' (larger than ${MAX_READ_BYTES} bytes)\n`);
      assert.equal(await dispatch(rt, `include ${path.join(dir, 'none')}`, 'socket'),
        `pen: include: can't read config file '${path.join(dir, 'none')}' (ENOENT)\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('write refuses a device, a FIFO and a directory, writes regular files', { timeout: 20_000 }, async () => {
  const dir = tmpdir();
  try {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const rt = runtime();
    assert.equal(await dispatch(rt, 'write /dev/zero', 'socket'),
      "pen: write: can't write '/dev/zero' (not a regular file (a device))\n");
    assert.equal(await dispatch(rt, `write ${fifo}`, 'socket'), `pen: write: can't write '${fifo}' (ENXIO)\n`,
      'a FIFO without a reader: the non-blocking open fails');
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      assert.equal(await dispatch(rt, `write ${fifo}`, 'socket'),
        `pen: write: can't write '${fifo}' (not a regular file (a FIFO))\n`, 'a FIFO with a reader is refused too');
    } finally {
      fs.closeSync(reader);
    }
    assert.equal(await dispatch(rt, `write ${dir}`, 'socket'), `pen: write: can't write '${dir}' (EISDIR)\n`);
    const file = path.join(dir, 'pen.cfg');
    fs.writeFileSync(file, 'x'.repeat(100_000));
    assert.equal(await dispatch(rt, `write ${file}`, 'socket'), '');
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /^# /, 'replaced, not appended to');
    assert.ok(text.length < 100_000, 'the old, longer contents were truncated');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('readRegularFile: exactly the bound is read, one byte more is refused', async () => {
  const dir = tmpdir();
  try {
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'abcd');
    assert.equal(await readRegularFile(file, 4), 'abcd');
    await assert.rejects(readRegularFile(file, 3), { code: 'larger than 3 bytes' });
    await writeRegularFile(file, 'xy');
    assert.equal(await readRegularFile(file), 'xy');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
