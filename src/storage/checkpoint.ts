// Small text checkpoint files in Kafka's checkpoint format:
//
//   <version>\n        always 0
//   <count>\n          number of entry lines that follow
//   <entry>\n ...      space-separated fields, e.g. "5 1200" (leader-epoch-checkpoint: epoch startOffset)
//
// Written atomically: to "<name>.tmp", fsync, rename over the old file, fsync the directory. A crash leaves
// either the old or the new file, never a torn one. A file that does not parse is reported, not trusted.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

export const CHECKPOINT_VERSION = 0;

export function writeCheckpoint(file: string, entries: ReadonlyArray<ReadonlyArray<number | string>>): void {
  const text = `${CHECKPOINT_VERSION}\n${entries.length}\n${entries.map((e) => `${e.join(' ')}\n`).join('')}`;
  writeFileAtomic(file, Buffer.from(text, 'utf8'));
}

/**
 * writeCheckpoint without blocking the event loop (the log cleaner between slices; the periodic high-watermark
 * checkpoint). `tmp` lets a background writer use a file of its own, so that it never shares "<name>.tmp" with a
 * synchronous write of the same checkpoint.
 */
export async function writeCheckpointAsync(
  file: string,
  entries: ReadonlyArray<ReadonlyArray<number | string>>,
  tmp = `${file}.tmp`,
): Promise<void> {
  const text = `${CHECKPOINT_VERSION}\n${entries.length}\n${entries.map((e) => `${e.join(' ')}\n`).join('')}`;
  const h = await fsp.open(tmp, 'w');
  try {
    await h.writeFile(text, 'utf8');
    await h.sync();
  } finally {
    await h.close();
  }
  await fsp.rename(tmp, file);
  const dir = await fsp.open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } catch {
    // As fsyncDir: some file systems refuse fsync on directories.
  } finally {
    await dir.close();
  }
}

/** Entries as arrays of string fields, null when the file does not exist; throws when it is malformed. */
export function readCheckpoint(file: string, fieldsPerEntry: number): string[][] | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== String(CHECKPOINT_VERSION))
    throw new Error(`${file}: unsupported checkpoint version '${lines[0]}'`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0 || lines.length !== count + 2) {
    throw new Error(`${file}: expected ${lines[1]} entries, found ${lines.length - 2} lines`);
  }
  return lines.slice(2).map((line, i) => {
    const fields = line.split(' ');
    if (fields.length !== fieldsPerEntry) throw new Error(`${file}: entry ${i} has ${fields.length} fields`);
    return fields;
  });
}

/** The offset of a one-entry offset checkpoint; null when missing or unreadable (the loader reports those). */
export function readOffsetCheckpoint(file: string): number | null {
  try {
    const rows = readCheckpoint(file, 1);
    return rows !== null && rows.length === 1 ? intField(file, rows[0]![0]) : null;
  } catch {
    return null;
  }
}

/** Parses a decimal integer field of a checkpoint, throwing on anything else. */
export function intField(file: string, s: string | undefined): number {
  const n = Number(s);
  if (s === undefined || s === '' || !Number.isSafeInteger(n))
    throw new Error(`${file}: '${s}' is not an integer`);
  return n;
}

export function writeFileAtomic(file: string, data: Buffer): void {
  const tmp = `${file}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, data, 0, data.length, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    // Do not leave a partial copy behind (it would hold space on a full disk); the old file is intact.
    try {
      fs.rmSync(tmp, { force: true });
    } catch {}
    throw e;
  }
  fsyncDir(path.dirname(file));
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
