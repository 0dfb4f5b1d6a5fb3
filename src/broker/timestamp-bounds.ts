// Kafka 4's bounds on producer timestamps (KIP-937): for a CreateTime topic a record whose timestamp is more
// than message.timestamp.before.max.ms in the past or message.timestamp.after.max.ms in the future of the
// broker's clock is refused with INVALID_TIMESTAMP (32). Defaults are Kafka 4.0's: the past is unbounded
// (Long.MAX_VALUE), the future bounded to one hour (3600000). LogAppendTime topics are not checked: the broker
// overwrites the timestamps. Records with no timestamp (-1) pass, as in Kafka.
//
// What is checked, and why it differs from Kafka: Kafka checks every record. Samsa checks the batch header on
// the produce path (no per-record work there): maxTimestamp against the future bound, baseTimestamp (the first
// record's timestamp, as producers write it) and maxTimestamp against the past bound. The header's
// maxTimestamp is what the log keeps for retention.ms and the time index, so it is the value that a far-future
// timestamp would poison. A record inside a batch whose own timestamp is older than the past bound while the
// first record's is not goes unnoticed. Only when a batch is refused are its records walked (decompressed if
// need be) to name the offending ones in the response's record errors (Produce v8+), with Kafka's message.

import { batchBody } from '../protocol/batch-compression.js';
import { RecordCursor } from '../protocol/record-scan.js';
import type { BatchHeader } from '../protocol/records.js';

/** The two configs of a CreateTime topic, as numbers (compare) and as given (Kafka's message prints longs). */
export interface TimestampBounds {
  beforeMaxMs: number;
  afterMaxMs: number;
  beforeText: string;
  afterText: string;
}

export interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string;
}

/** Kafka's RecordBatch.NO_TIMESTAMP. */
const NO_TIMESTAMP = -1;

export function timestampBounds(before: string, after: string): TimestampBounds {
  return { beforeMaxMs: Number(before), afterMaxMs: Number(after), beforeText: before, afterText: after };
}

function outOfRange(ts: number, now: number, b: TimestampBounds): boolean {
  if (ts === NO_TIMESTAMP) return false;
  return ts < now ? now - ts > b.beforeMaxMs : ts - now > b.afterMaxMs;
}

/** True when the batch header's timestamps are outside the bounds (the produce path's check). */
export function headerOutOfRange(h: BatchHeader, now: number, b: TimestampBounds): boolean {
  return outOfRange(h.maxTimestamp, now, b) || outOfRange(h.baseTimestamp, now, b);
}

/** Kafka's text for one record (LogValidator.validateTimestamp); the range is printed as Kafka computes it. */
function message(ts: number, offset: number, now: number, b: TimestampBounds): string {
  const lo = BigInt(now) - BigInt(b.beforeText);
  const hi = BigInt(now) + BigInt(b.afterText);
  return `Timestamp ${ts} of message with offset ${offset} is out of range. The timestamp should be within [${lo}, ${hi}]`;
}

/**
 * The record errors of a refused batch: every record whose timestamp is out of range (batchIndex = its position
 * in the batch). When the records cannot be read, or none of them is out of range (the header disagrees with
 * its records), one error for the batch's maxTimestamp. The first error's message is the partition's.
 */
export async function timestampRecordErrors(
  batch: Buffer,
  h: BatchHeader,
  now: number,
  b: TimestampBounds,
  decompressedBytesMax: number,
): Promise<RecordError[]> {
  const out: RecordError[] = [];
  try {
    const body = await batchBody(batch, decompressedBytesMax);
    const cursor = new RecordCursor(body, 0, body.length, h.recordCount);
    for (let i = 0; cursor.next(); i++) {
      const ts = h.baseTimestamp + cursor.timestampDelta;
      if (outOfRange(ts, now, b)) {
        out.push({ batchIndex: i, batchIndexErrorMessage: message(ts, cursor.offsetDelta, now, b) });
      }
    }
  } catch {
    // Unreadable records: the batch-level error below says what was wrong with the header.
  }
  if (out.length === 0) {
    const ts = outOfRange(h.maxTimestamp, now, b) ? h.maxTimestamp : h.baseTimestamp;
    out.push({ batchIndex: 0, batchIndexErrorMessage: message(ts, h.lastOffsetDelta, now, b) });
  }
  return out;
}
