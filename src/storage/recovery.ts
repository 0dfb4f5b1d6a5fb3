// Recovery of segments after an unclean stop (no .kafka_cleanshutdown marker in the log dir).
//
// Which segments: every segment from the one holding the partition's recovery point (the offset up to which the
// log was fsynced: recovery-point-offset-checkpoint, advanced by flushes and by the fsync that follows each
// roll) to the end; all segments when there is no recovery point. A killed process can only have torn the
// active segment's tail (older segments were complete before the roll), a machine crash anything not fsynced.
//
// What is checked, batch by batch from position 0: a whole 61-byte header is present; batchLength is at least
// the header size and the batch fits in the file; magic is 2; lastOffsetDelta >= 0; baseOffset is not below
// the previous batch's lastOffset + 1 (nor below the segment's base offset); the CRC32C over attributes..end
// matches. The .log is cut at the first batch failing any check, everything after it (including later
// segments, which follow a hole) is removed, a warn line names the file, position, bytes cut and reason, and
// the segment's .index/.timeindex are rebuilt from the batches that remain.
// Each recovered segment's .txnindex is rebuilt afterwards, by the producer-state replay (transactions.ts).
// Every rebuild of a segment's indexes is logged (warn, naming the .index file and why), also when nothing was
// cut: after an unclean stop the old index files cannot be trusted, whatever they contain.

import { crc32c } from '@node-rs/crc32';
import type { Logger } from '../logger.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  readInt64,
} from '../protocol/records.js';
import type { LogSegment } from './segment.js';

export interface SegmentRecovery {
  /** Batches kept. */
  batches: number;
  /** Bytes kept (the new file size). */
  validBytes: number;
  /** Bytes cut from the end of the .log (0 when the segment was intact). */
  truncatedBytes: number;
  /** Why the cut happened, null when nothing was cut. */
  reason: string | null;
  /** Offset after the last kept batch. */
  nextOffset: number;
  /** Control batches (transaction markers) kept: the segment's .txnindex is then rebuilt by the replay. */
  controlBatches: number;
}

/**
 * Validates every batch of a segment, cuts it at the first bad one and rebuilds its indexes.
 * minBaseOffset: where the previous segment ended (offsets must not go back across segments either).
 */
export function recoverSegment(
  seg: LogSegment,
  minBaseOffset: number,
  logger: Logger,
  why = 'recovery after an unclean shutdown',
): SegmentRecovery {
  seg.resetIndexes();
  // Rebuilt by the producer-state replay when the segment holds markers (transactions.ts), else empty.
  seg.txnIndex.reset();
  const win = seg.window();
  let controlBatches = 0;
  const size = seg.size;
  let pos = 0;
  let expected = Math.max(minBaseOffset, seg.baseOffset);
  let nextOffset = seg.baseOffset;
  let batches = 0;
  let reason: string | null = null;
  while (pos < size) {
    const left = size - pos;
    const h = win.view(pos, BATCH_HEADER_BYTES);
    if (h === null) {
      reason = `incomplete batch header (${left} bytes left, a header is ${BATCH_HEADER_BYTES})`;
      break;
    }
    const batchLength = h.readInt32BE(BATCH_LENGTH_OFFSET);
    if (batchLength < BATCH_LENGTH_MIN) {
      reason = `batchLength ${batchLength} is below the minimum ${BATCH_LENGTH_MIN}`;
      break;
    }
    if (LOG_OVERHEAD + batchLength > left) {
      reason = `incomplete batch: batchLength ${batchLength} needs ${LOG_OVERHEAD + batchLength} bytes, ${left} left`;
      break;
    }
    const magic = h.readInt8(MAGIC_OFFSET);
    if (magic !== MAGIC_V2) {
      reason = `magic ${magic}, expected ${MAGIC_V2}`;
      break;
    }
    const baseOffset = readInt64(h, 0);
    const lastOffsetDelta = h.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
    const maxTimestamp = readInt64(h, MAX_TIMESTAMP_OFFSET);
    if (lastOffsetDelta < 0) {
      reason = `negative lastOffsetDelta ${lastOffsetDelta}`;
      break;
    }
    if (baseOffset < expected) {
      reason = `baseOffset ${baseOffset} is below the expected ${expected} (offsets must increase)`;
      break;
    }
    const batch = win.view(pos, LOG_OVERHEAD + batchLength);
    if (batch === null) {
      reason = 'batch unreadable';
      break;
    }
    const stored = batch.readUInt32BE(CRC_OFFSET);
    const computed = crc32c(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0;
    if (stored !== computed) {
      reason = `CRC32C mismatch: stored ${stored}, computed ${computed} (batch at offset ${baseOffset})`;
      break;
    }
    const lastOffset = baseOffset + lastOffsetDelta;
    if ((h.readInt16BE(ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0) controlBatches++;
    seg.indexBatch(pos, LOG_OVERHEAD + batchLength, lastOffset, maxTimestamp);
    expected = lastOffset + 1;
    nextOffset = lastOffset + 1;
    batches++;
    pos += LOG_OVERHEAD + batchLength;
  }
  const truncatedBytes = seg.truncateToPosition(pos);
  seg.rewriteIndexes();
  // An empty segment has nothing to index: no line for it (a fresh log's first open comes through here too).
  if (size > 0)
    logger.warn('rebuilt the offset and time indexes of a segment from its .log', {
      file: seg.indexFile,
      timeIndexFile: seg.timeIndexFile,
      reason: why,
      batches,
      nextOffset,
    });
  if (truncatedBytes > 0) {
    logger.warn('recovery truncated a corrupt or incomplete segment tail', {
      file: seg.logFile,
      position: pos,
      bytesCut: truncatedBytes,
      reason,
      batchesKept: batches,
      nextOffset,
    });
  }
  return {
    batches,
    validBytes: pos,
    truncatedBytes,
    reason: truncatedBytes > 0 ? reason : null,
    nextOffset,
    controlBatches,
  };
}

/**
 * Recovers a partition's segments after an unclean stop: those from the one holding recoveryPoint to the end
 * (all of them when recoveryPoint is -1). Stops at the first segment that had to be cut and deletes the
 * segments after it. Returns the segments that remain and the base offset of the first recovered one holding
 * transaction markers, null when none does (from there on the .txnindex files are rebuilt when producer state
 * is replayed, transactions.ts; a log without transactions replays from its newest snapshot as before).
 */
export function recoverLog(
  segments: LogSegment[],
  recoveryPoint: number,
  logger: Logger,
): { segments: LogSegment[]; txnIndexFrom: number | null } {
  let from = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= recoveryPoint) from = i;
  let minBaseOffset = segments[from]!.baseOffset;
  let txnIndexFrom: number | null = null;
  for (let i = from; i < segments.length; i++) {
    const r = recoverSegment(segments[i]!, minBaseOffset, logger);
    minBaseOffset = r.nextOffset;
    if (r.controlBatches > 0 && txnIndexFrom === null) txnIndexFrom = segments[i]!.baseOffset;
    if (r.truncatedBytes > 0) {
      // Everything after a cut follows a hole.
      for (const later of segments.slice(i + 1)) {
        logger.warn('recovery deleted a segment after a truncated one', {
          file: later.logFile,
          bytes: later.size,
        });
        later.delete(0);
      }
      return { segments: segments.slice(0, i + 1), txnIndexFrom };
    }
  }
  return { segments, txnIndexFrom };
}
