// Kafka 4's bounds on producer timestamps (KIP-937): for a CreateTime topic a record whose timestamp is more
// than message.timestamp.before.max.ms in the past or message.timestamp.after.max.ms in the future of the
// broker's clock is refused with INVALID_TIMESTAMP (32). Defaults are Kafka 4.0's: the past is unbounded
// (Long.MAX_VALUE), the future bounded to one hour (3600000). LogAppendTime topics are not checked: the broker
// overwrites the timestamps. Records with no timestamp (-1) pass, as in Kafka.
//
// What is checked, and why it differs from Kafka: Kafka checks every record. Samsa decides from the batch header
// (record-errors.ts): maxTimestamp against the future bound, baseTimestamp (the first record's timestamp, as
// producers write it) and maxTimestamp against the past bound. The header's maxTimestamp is what the log keeps
// for retention.ms and the time index, so it is the value that a far-future timestamp would poison. When the
// past bound is set (not Kafka 4's unbounded default) every record is checked, as in Kafka, since a record in
// the middle of a batch may be older than the first. The records of a refused batch are walked to name the
// offending ones in the response's record errors (Produce v8+), with Kafka's messages.

import type { BatchHeader } from '../protocol/records.js';

/** The two configs of a CreateTime topic, as numbers (compare) and as given (Kafka's message prints longs). */
export interface TimestampBounds {
  beforeMaxMs: number;
  afterMaxMs: number;
  beforeText: string;
  afterText: string;
}

/** Kafka's RecordBatch.NO_TIMESTAMP. */
const NO_TIMESTAMP = -1;

export function timestampBounds(before: string, after: string): TimestampBounds {
  return { beforeMaxMs: Number(before), afterMaxMs: Number(after), beforeText: before, afterText: after };
}

/** True when the record timestamp ts is outside the bounds; NO_TIMESTAMP (-1) never is. */
export function outOfRange(ts: number, now: number, b: TimestampBounds): boolean {
  if (ts === NO_TIMESTAMP) return false;
  return ts < now ? now - ts > b.beforeMaxMs : ts - now > b.afterMaxMs;
}

/** True when the batch header's timestamps are outside the bounds (the produce path's check). */
export function headerOutOfRange(h: BatchHeader, now: number, b: TimestampBounds): boolean {
  return outOfRange(h.maxTimestamp, now, b) || outOfRange(h.baseTimestamp, now, b);
}

/** Java's long arithmetic: Kafka prints now + after.max.ms wrapped when the bound is Long.MAX_VALUE. */
function int64(n: bigint): bigint {
  return BigInt.asIntN(64, n);
}

/** Kafka's text for one record (LogValidator.validateTimestamp); the range is printed as Kafka computes it. */
export function timestampMessage(ts: number, offset: number, now: number, b: TimestampBounds): string {
  const lo = int64(BigInt(now) - BigInt(b.beforeText));
  const hi = int64(BigInt(now) + BigInt(b.afterText));
  return `Timestamp ${ts} of message with offset ${offset} is out of range. The timestamp should be within [${lo}, ${hi}]`;
}
