// Steps 1 and 2 of PartitionLog.append, which change nothing on disk: walk the batches of a produce, assign
// offsets from the log end, check producer sequences (a retry of a batch already in the log is a duplicate:
// nothing is written and the original offsets are returned), then stamp the broker-owned fields into the buffer
// (baseOffset, partitionLeaderEpoch, and maxTimestamp for LogAppendTime, recomputing the CRC). The log then
// writes the buffer as it is (step 3).

import { ErrorCode } from '../protocol/errors.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  type BatchHeader,
  LOG_OVERHEAD,
  MAGIC_V2,
  readBatchHeader,
  setBaseOffset,
  setMaxTimestampAndLogAppend,
  setPartitionLeaderEpoch,
} from '../protocol/records.js';
import type { ProducerEntry, ProducerStateManager } from './producer-state.js';
import type { AppendedBatch } from './segment.js';

export interface AppendResult {
  errorCode: number;
  /** Why the append was refused (for the broker's log line), null on success. */
  errorMessage: string | null;
  /** Offset of the first record written (or of the original batch, for a duplicate); -1 on error. */
  baseOffset: number;
  lastOffset: number;
  /** The broker's timestamp for LogAppendTime topics, -1 otherwise. */
  logAppendTime: number;
  logStartOffset: number;
  /** True when the batch was a retry of one already in the log: nothing was written. */
  duplicate: boolean;
}

export function appendError(errorCode: number, errorMessage: string, logStartOffset: number): AppendResult {
  return {
    errorCode,
    errorMessage,
    baseOffset: -1,
    lastOffset: -1,
    logAppendTime: -1,
    logStartOffset,
    duplicate: false,
  };
}

export interface AppendInput {
  logStartOffset: number;
  logEndOffset: number;
  producerState: ProducerStateManager;
  leaderEpoch: number;
  /** message.timestamp.type is LogAppendTime. */
  logAppendTime: boolean;
  now: number;
}

/** What to write: the batches' headers (offsets assigned) and where each sits in the buffer. */
export interface AppendPlan {
  headers: BatchHeader[];
  appended: AppendedBatch[];
  /** The log end offset once written. */
  nextOffset: number;
  /** Records in the batches (flush.messages counts these). */
  messages: number;
  maxTimestamp: number;
  firstOffset: number;
  lastOffset: number;
  /** The broker's timestamp for LogAppendTime topics, -1 otherwise. */
  logAppendTime: number;
}

/** The plan, or the answer when nothing is to be written (an error, or a duplicate). */
export function planAppend(records: Buffer, o: AppendInput): AppendPlan | AppendResult {
  // 1. Walk the batches, assign offsets (tentatively) and check producer state. Nothing is changed yet.
  const headers: BatchHeader[] = [];
  const positions: number[] = [];
  const pending = new Map<number, ProducerEntry>();
  let next = o.logEndOffset;
  let pos = 0;
  let messages = 0;
  let maxTimestamp = -1;
  while (pos < records.length) {
    if (pos + BATCH_HEADER_BYTES > records.length) {
      return appendError(
        ErrorCode.CORRUPT_MESSAGE,
        `${records.length - pos} trailing bytes after the last batch`,
        o.logStartOffset,
      );
    }
    const h = readBatchHeader(records, pos);
    if (
      h.magic !== MAGIC_V2 ||
      h.batchLength < BATCH_LENGTH_MIN ||
      pos + LOG_OVERHEAD + h.batchLength > records.length
    ) {
      return appendError(ErrorCode.CORRUPT_MESSAGE, `malformed batch at byte ${pos}`, o.logStartOffset);
    }
    if (h.lastOffsetDelta < 0) {
      return appendError(
        ErrorCode.CORRUPT_MESSAGE,
        `negative lastOffsetDelta at byte ${pos}`,
        o.logStartOffset,
      );
    }
    h.baseOffset = next;
    const check = o.producerState.check(h, pending);
    if (check.kind === 'duplicate') {
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        baseOffset: check.batch.firstOffset,
        lastOffset: check.batch.lastOffset,
        logAppendTime: o.logAppendTime ? check.batch.timestamp : -1,
        logStartOffset: o.logStartOffset,
        duplicate: true,
      };
    }
    if (check.kind === 'error') return appendError(check.errorCode, check.message, o.logStartOffset);
    headers.push(h);
    positions.push(pos);
    next += h.lastOffsetDelta + 1;
    messages += h.recordCount;
    maxTimestamp = Math.max(maxTimestamp, h.maxTimestamp);
    pos += LOG_OVERHEAD + h.batchLength;
  }
  if (headers.length === 0)
    return appendError(ErrorCode.CORRUPT_MESSAGE, 'no record batch', o.logStartOffset);

  // 2. Stamp offsets, leader epoch, log-append time.
  const logAppend = o.logAppendTime;
  const appended: AppendedBatch[] = [];
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const p = positions[i]!;
    setBaseOffset(records, p, h.baseOffset);
    setPartitionLeaderEpoch(records, p, o.leaderEpoch);
    h.partitionLeaderEpoch = o.leaderEpoch;
    if (logAppend) {
      setMaxTimestampAndLogAppend(records, p, o.now);
      h.maxTimestamp = o.now;
    }
    appended.push({
      bufferPos: p,
      size: LOG_OVERHEAD + h.batchLength,
      lastOffset: h.baseOffset + h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
    });
  }
  if (logAppend) maxTimestamp = o.now;
  const firstOffset = headers[0]!.baseOffset;
  const lastOffset = next - 1;

  return {
    headers,
    appended,
    nextOffset: next,
    messages,
    maxTimestamp,
    firstOffset,
    lastOffset,
    logAppendTime: logAppend ? o.now : -1,
  };
}
