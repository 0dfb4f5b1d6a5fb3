// Replacing segments with the cleaner's output, crash-safe (Kafka's .cleaned / .swap protocol, plus a marker
// that names the replaced range).
//
// The cleaner writes a group of consecutive segments [first .. last] as one new segment under the first's base
// offset X, in files X.log.cleaned, X.index.cleaned, X.timeindex.cleaned, fsynced, and beside them
//
//   0. cleaner-swap-checkpoint  "0\n1\n<X> <groupEnd>\n" written atomically (groupEnd = the offset after the
//                               group: the next segment's base offset). Alone it means nothing: a pass aborted
//                               after writing it leaves it to be overwritten by the next swap or removed on open.
//
// Then steps 1-5 run as one synchronous step:
//
//   1. X.*.cleaned -> X.*.swap  the indexes first, the .log last: a X.log.swap is a complete replacement
//   2. the log's segment list   old segments out, the new one in (readers never see a half state: reads are
//                               synchronous and this is one assignment)
//   3. old segments deleted     renamed *.deleted (file.delete.delay.ms) or removed; this frees the X.* names
//   4. X.*.swap -> X.*          the .log last
//   5. the marker removed
//
// On open (completeInterruptedSwaps, before segments are listed): *.cleaned files are removed (a pass that never
// finished). A X.log.swap means steps 1-4 were interrupted: every .log whose base offset is in [X, groupEnd)
// (groupEnd from the marker; without one, the swap's own next offset, Kafka's rule) is removed with its indexes,
// then the .swap files are renamed into place; index files that did not make it are rebuilt from the .log when
// the segment loads. Leftover index .swap files without a .log.swap, and the marker, are removed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../logger.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  readInt64,
} from '../protocol/records.js';
import { fsyncDir, intField, readCheckpoint, writeCheckpointAsync } from './checkpoint.js';
import {
  CLEANED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  type LogSegment,
  offsetFileStem,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
} from './segment.js';
import { TXN_INDEX_SUFFIX } from './txn-index.js';

export const CLEANER_SWAP_CHECKPOINT = 'cleaner-swap-checkpoint';

/** Test hook: called at each step of a swap (a test kills the process there to check recovery). */
export type SwapStepHook = (step: 'marker-written' | 'renamed-to-swap' | 'old-deleted') => void;

/** Step 0: records the range the cleaned segment replaces (asynchronously: it is written between slices). */
export function writeSwapMarker(dir: string, baseOffset: number, groupEnd: number): Promise<void> {
  return writeCheckpointAsync(path.join(dir, CLEANER_SWAP_CHECKPOINT), [[baseOffset, groupEnd]]);
}

/**
 * Steps 1-5: swaps the sealed cleaned segment in for `group` (consecutive segments of the log, oldest first).
 * `replace` does step 2 on the log's segment list. Synchronous.
 */
export function swapInCleaned(
  dir: string,
  group: readonly LogSegment[],
  cleaned: LogSegment,
  replace: () => void,
  fileDeleteDelayMs: number,
  hook?: SwapStepHook,
): void {
  hook?.('marker-written');
  cleaned.renameFiles(CLEANED_SUFFIX, SWAP_SUFFIX);
  hook?.('renamed-to-swap');
  replace();
  for (const old of group) old.delete(fileDeleteDelayMs);
  hook?.('old-deleted');
  cleaned.renameFiles(SWAP_SUFFIX, '');
  fsyncDir(dir);
  fs.rmSync(path.join(dir, CLEANER_SWAP_CHECKPOINT), { force: true });
}

/** Finishes or rolls back what a crash interrupted (see the top of this file). Call before listing segments. */
export function completeInterruptedSwaps(dir: string, logger: Logger): void {
  let files = fs.readdirSync(dir);
  const markerFile = path.join(dir, CLEANER_SWAP_CHECKPOINT);
  let marker: { base: number; end: number } | null = null;
  try {
    const rows = readCheckpoint(markerFile, 2);
    if (rows !== null && rows.length === 1)
      marker = { base: intField(markerFile, rows[0]![0]), end: intField(markerFile, rows[0]![1]) };
  } catch (e) {
    logger.warn('cleaner swap marker unreadable, ignoring it', {
      file: markerFile,
      error: (e as Error).message,
    });
  }
  for (const f of files) {
    if (f.endsWith(CLEANED_SUFFIX)) fs.rmSync(path.join(dir, f), { force: true });
  }
  const swapLog = new RegExp(`^\\d{20}\\${LOG_SUFFIX}\\${SWAP_SUFFIX}$`);
  const plainLog = new RegExp(`^\\d{20}\\${LOG_SUFFIX}$`);
  for (const f of files.filter((n) => swapLog.test(n))) {
    const base = Number(f.slice(0, 20));
    const end = marker !== null && marker.base === base ? marker.end : swapNextOffset(path.join(dir, f));
    const replaced: number[] = [];
    for (const g of files) {
      if (!plainLog.test(g)) continue;
      const b = Number(g.slice(0, 20));
      if (b < base || b >= end) continue;
      for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
        fs.rmSync(path.join(dir, offsetFileStem(b) + suffix), { force: true });
      }
      replaced.push(b);
    }
    const stem = path.join(dir, offsetFileStem(base));
    for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, LOG_SUFFIX]) {
      if (fs.existsSync(stem + suffix + SWAP_SUFFIX))
        fs.renameSync(stem + suffix + SWAP_SUFFIX, stem + suffix);
    }
    logger.warn('completed a segment swap interrupted by a crash', {
      dir,
      file: path.basename(stem + LOG_SUFFIX),
      replacedSegments: replaced,
      groupEnd: end,
    });
    files = fs.readdirSync(dir);
  }
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith(SWAP_SUFFIX)) fs.rmSync(path.join(dir, f), { force: true });
  }
  if (marker !== null || fs.existsSync(markerFile)) {
    fs.rmSync(markerFile, { force: true });
    fsyncDir(dir);
  }
}

/** Offset after the last whole batch of a .log file (its base offset when it holds none). */
function swapNextOffset(file: string): number {
  let next = Number(path.basename(file).slice(0, 20));
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const h = Buffer.alloc(BATCH_HEADER_BYTES);
    let pos = 0;
    while (pos + BATCH_HEADER_BYTES <= size) {
      if (fs.readSync(fd, h, 0, BATCH_HEADER_BYTES, pos) !== BATCH_HEADER_BYTES) break;
      const batchLength = h.readInt32BE(BATCH_LENGTH_OFFSET);
      if (batchLength < BATCH_LENGTH_MIN || pos + LOG_OVERHEAD + batchLength > size) break;
      next = readInt64(h, 0) + h.readInt32BE(LAST_OFFSET_DELTA_OFFSET) + 1;
      pos += LOG_OVERHEAD + batchLength;
    }
  } finally {
    fs.closeSync(fd);
  }
  return next;
}
