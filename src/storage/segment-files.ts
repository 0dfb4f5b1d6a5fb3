// A segment's files on disk (Kafka's names): <baseOffset as 20 digits>.log, .index, .timeindex and .txnindex,
// the suffixes the cleaner and deletion add to them, and the renames, fsyncs and removals over all of them.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';
/** A segment the log cleaner is writing (removed on open: it never finished). */
export const CLEANED_SUFFIX = '.cleaned';
/** A finished cleaned segment being swapped in (completed on open, see segment-swap.ts). */
export const SWAP_SUFFIX = '.swap';

/** Kafka's file name stem: the offset as 20 zero-padded digits. */
export function offsetFileStem(offset: number): string {
  return String(offset).padStart(20, '0');
}

/**
 * Renames `file` from suffix `from` to suffix `to`; returns the new name. A file that does not exist is
 * skipped unless `mustExist`.
 */
export function renameSuffix(file: string, from: string, to: string, mustExist: boolean): string {
  if (!file.endsWith(from)) throw new Error(`${file} does not end with '${from}'`);
  const next = file.slice(0, file.length - from.length) + to;
  try {
    fs.renameSync(file, next);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || mustExist) throw e;
  }
  return next;
}

/** fsyncs the open descriptor, then each file (skipping `optional` ones that do not exist), off the loop. */
export async function fsyncSegmentFiles(
  fd: number,
  files: readonly string[],
  optional: string,
): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    fs.fsync(fd, (err) => (err === null ? resolve() : reject(err))),
  );
  for (const file of files) {
    if (file === optional && !fs.existsSync(file)) continue;
    const h = await fsp.open(file, 'r+');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
}

/** Removes the files now, or renames them to *.deleted and removes them after delayMs. */
export function deleteFiles(files: readonly string[], delayMs: number): void {
  for (const file of files) {
    if (delayMs <= 0) {
      fs.rmSync(file, { force: true });
      continue;
    }
    try {
      fs.renameSync(file, file + DELETED_SUFFIX);
    } catch {
      continue;
    }
    setTimeout(() => fs.rm(file + DELETED_SUFFIX, { force: true }, () => {}), delayMs).unref();
  }
}
