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
  CONTROL_FLAG_MASK,
  LOG_OVERHEAD,
  MAGIC_V2,
  readBatchHeader,
  setBaseOffset,
  setMaxTimestampAndLogAppend,
  setPartitionLeaderEpoch,
} from '../protocol/records.js';
import type { AppendOrigin, ProducerEntry, ProducerStateManager, TxnMarker } from './producer-state.js';
import type { AppendedBatch } from './segment.js';
import { markersOf, parseTxnMarker } from './txn-markers.js';

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
  /** 'coordinator' skips the duplicate and sequence checks (Kafka's AppendOrigin.COORDINATOR). */
  origin: AppendOrigin;
}

/** What a leader's or a follower's append writes: the batches' headers and where each sits in the buffer. */
export interface PlannedBatches {
  headers: BatchHeader[];
  /** What each control batch says (null for data batches); empty when there is no control batch. */
  markers: (TxnMarker | null)[];
  appended: AppendedBatch[];
  /** The log end offset once written. */
  nextOffset: number;
  /** Records in the batches (flush.messages counts these). */
  messages: number;
  maxTimestamp: number;
  firstOffset: number;
  lastOffset: number;
}

/** What to write: the batches' headers (offsets assigned) and where each sits in the buffer. */
export interface AppendPlan extends PlannedBatches {
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
  let anyControl = false;
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
    const control = h.producerId >= 0 && (h.attributes & CONTROL_FLAG_MASK) !== 0;
    anyControl ||= control;
    const check = o.producerState.check(h, pending, o.origin, control ? parseTxnMarker(records, pos) : null);
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
    markers: anyControl ? markersOf(records, headers, positions) : [],
    appended,
    nextOffset: next,
    messages,
    maxTimestamp,
    firstOffset,
    lastOffset,
    logAppendTime: logAppend ? o.now : -1,
  };
}

/** A follower's append (appendAsFollower): the leader's batches as they are, offsets kept. */
export interface FollowerAppendPlan extends PlannedBatches {
  /** The whole batches of `records` (a partial batch at the end, as a fetch may return, is left out). */
  data: Buffer;
}

/**
 * Walks the batches a follower fetched: each must start at or after the log end and be a well-formed v2 batch;
 * nothing is stamped (offsets, epochs and timestamps are the leader's). CORRUPT_MESSAGE when a batch goes
 * backwards or none is whole.
 */
export function planFollowerAppend(
  records: Buffer,
  logStartOffset: number,
  logEndOffset: number,
): FollowerAppendPlan | AppendResult {
  const headers: BatchHeader[] = [];
  const appended: AppendedBatch[] = [];
  let pos = 0;
  let expected = logEndOffset;
  let maxTimestamp = -1;
  let messages = 0;
  while (pos + BATCH_HEADER_BYTES <= records.length) {
    const h = readBatchHeader(records, pos);
    const size = LOG_OVERHEAD + h.batchLength;
    if (h.magic !== MAGIC_V2 || h.batchLength < BATCH_LENGTH_MIN || pos + size > records.length) break;
    if (h.baseOffset < expected || h.lastOffsetDelta < 0) {
      return appendError(
        ErrorCode.CORRUPT_MESSAGE,
        `batch at offset ${h.baseOffset} from the leader does not follow the log end ${expected}`,
        logStartOffset,
      );
    }
    headers.push(h);
    appended.push({
      bufferPos: pos,
      size,
      lastOffset: h.baseOffset + h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
    });
    expected = h.baseOffset + h.lastOffsetDelta + 1;
    maxTimestamp = Math.max(maxTimestamp, h.maxTimestamp);
    messages += h.recordCount;
    pos += size;
  }
  const first = headers[0];
  if (first === undefined)
    return appendError(ErrorCode.CORRUPT_MESSAGE, 'no whole record batch', logStartOffset);
  return {
    headers,
    markers: markersOf(
      records,
      headers,
      appended.map((a) => a.bufferPos),
    ),
    appended,
    nextOffset: expected,
    messages,
    maxTimestamp,
    firstOffset: first.baseOffset,
    lastOffset: expected - 1,
    data: pos === records.length ? records : records.subarray(0, pos),
  };
}
