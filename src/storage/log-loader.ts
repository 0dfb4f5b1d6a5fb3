// Opening a partition directory (Kafka's LogLoader): finish or undo an interrupted cleaner swap
// (segment-swap.ts), find the segments, drop leftovers, read the offset checkpoints, then either trust the files
// (clean shutdown) or recover them (recovery.ts).
//
// Checkpoint files of a partition directory (Kafka's checkpoint text format, see checkpoint.ts), one entry each:
//   log-start-offset-checkpoint        "0\n1\n<logStartOffset>\n"   written whenever the log start moves
//   recovery-point-offset-checkpoint   "0\n1\n<recoveryPoint>\n"    offsets below were fsynced; written by the
//                                                                   LogManager's timer and on close
// (Kafka keeps these two per log dir with "topic partition offset" lines; Samsa keeps them per partition so a
// PartitionLog opens on its own.) A checkpoint that does not parse is reported and ignored.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../logger.js';
import { intField, readCheckpoint } from './checkpoint.js';
import type { LogConfig } from './config.js';
import { recoverLog, recoverSegment } from './recovery.js';
import { DELETED_SUFFIX, INDEX_SUFFIX, LogSegment, TIME_INDEX_SUFFIX } from './segment.js';
import { completeInterruptedSwaps } from './segment-swap.js';
import { TXN_INDEX_SUFFIX } from './txn-index.js';

export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';

export interface LoadedSegments {
  /** Oldest first; never empty; the last one is the active segment, loaded. */
  segments: LogSegment[];
  logStartOffset: number;
  logEndOffset: number;
  /**
   * Base offset of the first recovered segment holding transaction markers, or null: the .txnindex files from
   * there on are rebuilt by the producer-state replay (recovered segments without markers have none).
   */
  recoveredFrom: number | null;
}

export function loadSegments(
  dir: string,
  config: LogConfig,
  logger: Logger,
  cleanShutdown: boolean,
  now: number,
): LoadedSegments {
  fs.mkdirSync(dir, { recursive: true });
  completeInterruptedSwaps(dir, logger);
  const files = fs.readdirSync(dir);
  const bases: number[] = [];
  for (const f of files) {
    // Leftovers of interrupted atomic writes and of delayed deletions.
    if (f.endsWith('.tmp') || f.endsWith(DELETED_SUFFIX)) {
      fs.rmSync(path.join(dir, f), { force: true });
      continue;
    }
    if (/^\d{20}\.log$/.test(f)) bases.push(Number(f.slice(0, 20)));
  }
  bases.sort((a, b) => a - b);
  const baseSet = new Set(bases);
  for (const f of files) {
    const isIndex = f.endsWith(INDEX_SUFFIX) || f.endsWith(TIME_INDEX_SUFFIX) || f.endsWith(TXN_INDEX_SUFFIX);
    if (isIndex && /^\d{20}\./.test(f) && !baseSet.has(Number(f.slice(0, 20)))) {
      fs.rmSync(path.join(dir, f), { force: true });
    }
  }

  const savedStart = readOffsetCheckpoint(path.join(dir, LOG_START_OFFSET_CHECKPOINT), logger);
  const savedRecovery = readOffsetCheckpoint(path.join(dir, RECOVERY_POINT_CHECKPOINT), logger);
  let segments: LogSegment[] = [];
  try {
    for (const b of bases) segments.push(LogSegment.open(dir, b, config, now, logger));
    if (segments.length === 0) segments = [LogSegment.create(dir, Math.max(savedStart ?? 0, 0), config, now)];
    return finishLoading(segments, logger, cleanShutdown, savedStart, savedRecovery);
  } catch (e) {
    // Out of descriptors or an I/O error: nothing of this log stays open.
    for (const s of segments) s.release();
    throw e;
  }
}

function finishLoading(
  loaded: LogSegment[],
  logger: Logger,
  cleanShutdown: boolean,
  savedStart: number | null,
  savedRecovery: number | null,
): LoadedSegments {
  let segments = loaded;

  let recoveredFrom: number | null = null;
  if (cleanShutdown) {
    const active = segments[segments.length - 1]!;
    // A rebuild of its indexes ('rebuilt') is logged by the segment itself.
    if (active.load() === 'corrupt') {
      logger.warn('active segment does not parse after a clean shutdown; recovering it', {
        file: active.logFile,
      });
      const prev = segments[segments.length - 2];
      const r = recoverSegment(
        active,
        prev === undefined ? active.baseOffset : prev.baseOffset,
        logger,
        'the .log does not parse to its end after a clean shutdown',
      );
      if (r.controlBatches > 0) recoveredFrom = active.baseOffset;
    }
  } else {
    const recovered = recoverLog(segments, savedRecovery ?? -1, logger);
    segments = recovered.segments;
    recoveredFrom = recovered.txnIndexFrom;
  }

  const first = segments[0]!;
  const logEndOffset = segments[segments.length - 1]!.nextOffset;
  const logStartOffset = Math.min(Math.max(savedStart ?? first.baseOffset, first.baseOffset), logEndOffset);
  return { segments, logStartOffset, logEndOffset, recoveredFrom };
}

function readOffsetCheckpoint(file: string, logger: Logger): number | null {
  try {
    const rows = readCheckpoint(file, 1);
    if (rows === null || rows.length !== 1) return null;
    return intField(file, rows[0]![0]);
  } catch (e) {
    logger.warn('checkpoint unreadable, ignoring it', { file, error: (e as Error).message });
    return null;
  }
}
