// Kafka's per-record validation of a produced batch (LogValidator.validateRecord) and its answer with record errors
// (KIP-467, Produce v8+). Per record, in Kafka's order, the first problem found:
//
//   - a compacted topic (cleanup.policy includes compact) needs a key: INVALID_RECORD,
//     "Compacted topic cannot accept message without key in topic partition <topic>-<partition>";
//   - a CreateTime topic bounds record timestamps (timestamp-bounds.ts): INVALID_TIMESTAMP,
//     "Timestamp <ts> of message with offset <offset> is out of range. The timestamp should be within [lo, hi]";
//   - a batch marked LogAppendTime by its producer, on a LogAppendTime topic or without a timestamp:
//     INVALID_TIMESTAMP, "Invalid timestamp type in message DefaultRecord(...). Producer should not set
//     timestamp type to LogAppendTime.".
//
// One bad record refuses the whole batch (nothing of it is appended): the partition's error is INVALID_TIMESTAMP
// when any record has a timestamp error, INVALID_RECORD otherwise; its message is Kafka's
// (LogValidator.processRecordErrors), and recordErrors lists every bad record by its index in the batch. Kafka's
// Java producer then fails the bad records' sends with that error and the others with a KafkaException "part of a
// batch which had one or more invalid records".
//
// The produce path stays free of per-record work where it can: the header decides (recordWalk) whether the batch
// is refused anyway (its timestamps are out of range: walk only to name the records), needs its records checked
// (a compacted topic; a past bound that is set), or passes as is.

import { ErrorCode } from '../protocol/errors.js';
import { RecordCursor } from '../protocol/record-scan.js';
import { type BatchHeader, NO_TIMESTAMP, TIMESTAMP_TYPE_MASK } from '../protocol/records.js';
import { headerOutOfRange, outOfRange, type TimestampBounds, timestampMessage } from './timestamp-bounds.js';

export interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string;
}

/** What a topic checks per record. */
export interface RecordChecks {
  /** `<topic>-<partition>`, as Kafka's TopicPartition prints in messages. */
  topicPartition: string;
  /** cleanup.policy includes compact: every record needs a key. */
  compacted: boolean;
  /** message.timestamp.before/after.max.ms of a CreateTime topic; null for a LogAppendTime topic. */
  bounds: TimestampBounds | null;
  /**
   * The batch is compressed and keeps its codec: Kafka then reads its records with skipKeyValueIterator, whose
   * records print as PartialDefaultRecord (a null key or value as -1 bytes); otherwise as DefaultRecord (0 bytes).
   */
  partialRecords: boolean;
}

/** A batch refused for its records: the partition's error code and message, and the record errors. */
export interface RecordRefusal {
  errorCode: number;
  errorMessage: string;
  recordErrors: RecordError[];
}

/**
 * 'refuse': the header alone says the batch is refused (walk the records only to name the bad ones);
 * 'check': some record may be bad, walk them; 'none': every record passes whatever it holds.
 */
export type RecordWalk = 'refuse' | 'check' | 'none';

/**
 * A past bound beyond this (in ms) cannot refuse any timestamp a JS number holds exactly, so the records need not
 * be walked for it: Kafka 4's default before.max.ms is Long.MAX_VALUE (unbounded).
 */
const PAST_BOUND_UNBOUNDED_MS = Number.MAX_SAFE_INTEGER;

function appendTimeBatch(h: BatchHeader): boolean {
  return (h.attributes & TIMESTAMP_TYPE_MASK) !== 0;
}

/** From the batch header alone: what the records need (see RecordWalk). */
export function recordWalk(h: BatchHeader, checks: RecordChecks, now: number): RecordWalk {
  const b = checks.bounds;
  if (appendTimeBatch(h)) {
    // Every record's timestamp is the header's maxTimestamp (DefaultRecordBatch), so the header decides.
    if (b === null || h.maxTimestamp === NO_TIMESTAMP || outOfRange(h.maxTimestamp, now, b)) return 'refuse';
  } else if (b !== null) {
    if (headerOutOfRange(h, now, b)) return 'refuse';
    if (b.beforeMaxMs < PAST_BOUND_UNBOUNDED_MS) return 'check';
  }
  return checks.compacted ? 'check' : 'none';
}

interface Found {
  timestamp: boolean;
  error: RecordError;
}

/** Java's Record.toString for a v2 record (DefaultRecord or PartialDefaultRecord), as Kafka prints it. */
function describeRecord(
  partial: boolean,
  offset: number,
  ts: number,
  keyLength: number,
  valueLength: number,
): string {
  const key = partial ? keyLength : Math.max(0, keyLength);
  const value = partial ? valueLength : Math.max(0, valueLength);
  const name = partial ? 'PartialDefaultRecord' : 'DefaultRecord';
  return `${name}(offset=${offset}, timestamp=${ts}, key=${key} bytes, value=${value} bytes)`;
}

/** Kafka's validateKey then validateTimestamp for the cursor's record; null when it passes. */
function recordProblem(
  c: RecordCursor,
  i: number,
  h: BatchHeader,
  now: number,
  checks: RecordChecks,
): Found | null {
  if (checks.compacted && c.keyLength < 0) {
    return {
      timestamp: false,
      error: {
        batchIndex: i,
        batchIndexErrorMessage: `Compacted topic cannot accept message without key in topic partition ${checks.topicPartition}`,
      },
    };
  }
  const ts = appendTimeBatch(h) ? h.maxTimestamp : h.baseTimestamp + c.timestampDelta;
  const offset = h.baseOffset + c.offsetDelta;
  const b = checks.bounds;
  if (b !== null && ts !== NO_TIMESTAMP) {
    if (!outOfRange(ts, now, b)) return null;
    return {
      timestamp: true,
      error: { batchIndex: i, batchIndexErrorMessage: timestampMessage(ts, offset, now, b) },
    };
  }
  if (!appendTimeBatch(h)) return null;
  const record = describeRecord(checks.partialRecords, offset, ts, c.keyLength, c.valueLength);
  return {
    timestamp: true,
    error: {
      batchIndex: i,
      batchIndexErrorMessage: `Invalid timestamp type in message ${record}. Producer should not set timestamp type to LogAppendTime.`,
    },
  };
}

/** Kafka's RecordError.toString, as its InvalidRecordException message lists them. */
function recordErrorText(e: RecordError): string {
  return `RecordError(batchIndex=${e.batchIndex}, message='${e.batchIndexErrorMessage}')`;
}

/** Kafka's processRecordErrors: the partition's error code and message for a batch with bad records. */
function refusal(found: Found[]): RecordRefusal {
  const recordErrors = found.map((f) => f.error);
  if (found.some((f) => f.timestamp)) {
    return {
      errorCode: ErrorCode.INVALID_TIMESTAMP,
      errorMessage: 'One or more records have been rejected due to invalid timestamp',
      recordErrors,
    };
  }
  const shown = recordErrors.slice(0, 3).map(recordErrorText).join(', ');
  return {
    errorCode: ErrorCode.INVALID_RECORD,
    errorMessage: `One or more records have been rejected due to ${recordErrors.length} record errors in total, and only showing the first three errors at most: [${shown}]`,
    recordErrors,
  };
}

/**
 * Walks the uncompressed records body[0, end) of a batch with header h: null when every record passes, the
 * refusal otherwise. With refuse (recordWalk said so from the header) a batch whose records all pass (its
 * header disagrees with them) is still refused, with one error for the header's out-of-range timestamp.
 * Throws RecordDecodeError when the records do not decode.
 */
export function checkRecords(
  body: Buffer,
  h: BatchHeader,
  now: number,
  checks: RecordChecks,
  refuse = false,
): RecordRefusal | null {
  const found: Found[] = [];
  const c = new RecordCursor(body, 0, body.length, h.recordCount);
  for (let i = 0; c.next(); i++) {
    const f = recordProblem(c, i, h, now, checks);
    if (f !== null) found.push(f);
  }
  if (found.length === 0 && refuse && checks.bounds !== null) {
    const b = checks.bounds;
    const ts = outOfRange(h.maxTimestamp, now, b) ? h.maxTimestamp : h.baseTimestamp;
    const offset = h.baseOffset + h.lastOffsetDelta;
    found.push({
      timestamp: true,
      error: { batchIndex: 0, batchIndexErrorMessage: timestampMessage(ts, offset, now, b) },
    });
  }
  return found.length === 0 ? null : refusal(found);
}
