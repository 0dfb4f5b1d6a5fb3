// Which records of a batch the log cleaner keeps, and the rewritten batch that holds them (Kafka's
// LogCleaner.shouldRetainRecord and MemoryRecords.filterTo / buildRetainedRecordsInto).
//
// A record below the mapped range's end is kept when it has a key, no later record has that key (the offset map
// holds the latest offset per key of the dirty section; a key absent from the map has no later record), and it
// is not a tombstone whose batch's delete horizon has passed. Records at or above the mapped range's end are
// never looked at (the pass keeps their batches whole).
//
// A rewritten batch keeps the original's baseOffset, lastOffsetDelta, partitionLeaderEpoch, producer id, epoch and
// baseSequence, its compression codec and its timestamp type, so every kept record keeps its offset and the
// producer's sequence numbers still line up. Its records are the kept ones, byte for byte from the key on; only
// their timestampDelta changes when the base timestamp does. The first time a batch holding a tombstone is
// cleaned, its delete horizon (now + delete.retention.ms) goes into baseTimestamp and attribute bit 6 is set
// (KIP-534); record timestamps stay what they were (deltas are relative to the new base). maxTimestamp is the
// kept records' largest (LogAppendTime batches keep theirs). batchLength, recordCount and the CRC are new.

import { RecordCursor, recordSize, writeRecordPrefix } from '../protocol/record-scan.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  CONTROL_FLAG_MASK,
  DELETE_HORIZON_FLAG_MASK,
  hasDeleteHorizon,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_COUNT_OFFSET,
  rewriteCrc,
  TIMESTAMP_TYPE_MASK,
  TimestampType,
  TRANSACTIONAL_FLAG_MASK,
  timestampType,
  writeInt64,
} from '../protocol/records.js';
import type { OffsetMap } from './offset-map.js';

/** A kept record: where it is in the (uncompressed) body and the fields that get re-encoded. */
export interface KeptRecord {
  end: number;
  tailPos: number;
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
}

export interface Selection {
  kept: KeptRecord[];
  recordCount: number;
  /** Records removed because a later record has their key. */
  superseded: number;
  /** Tombstones removed because their delete horizon passed. */
  tombstonesRemoved: number;
  /** Records removed because they have no key (a compacted topic cannot hold them). */
  keyless: number;
  /** Tombstones among the kept records. */
  tombstonesKept: number;
}

/** Applies the retention rule to every record of one batch (body: its uncompressed records section). */
export function selectRecords(h: BatchHeader, body: Buffer, map: OffsetMap, now: number): Selection {
  const horizon = hasDeleteHorizon(h.attributes) ? h.baseTimestamp : Number.POSITIVE_INFINITY;
  const sel: Selection = {
    kept: [],
    recordCount: h.recordCount,
    superseded: 0,
    tombstonesRemoved: 0,
    keyless: 0,
    tombstonesKept: 0,
  };
  const c = new RecordCursor(body, 0, body.length, h.recordCount);
  while (c.next()) {
    if (c.keyLength < 0) {
      sel.keyless++;
      continue;
    }
    const latest = map.get(body, c.keyPos, c.keyLength);
    if (latest > h.baseOffset + c.offsetDelta) {
      sel.superseded++;
      continue;
    }
    if (c.valueLength < 0) {
      if (now >= horizon) {
        sel.tombstonesRemoved++;
        continue;
      }
      sel.tombstonesKept++;
    }
    sel.kept.push({
      end: c.end,
      tailPos: c.tailPos,
      attributes: c.attributes,
      timestampDelta: c.timestampDelta,
      offsetDelta: c.offsetDelta,
    });
  }
  return sel;
}

/** Records every key of one batch (body: its uncompressed records section) at its offset. */
export function mapKeys(h: BatchHeader, body: Buffer, map: OffsetMap): number {
  const c = new RecordCursor(body, 0, body.length, h.recordCount);
  let n = 0;
  while (c.next()) {
    if (c.keyLength < 0) continue;
    map.put(body, c.keyPos, c.keyLength, h.baseOffset + c.offsetDelta);
    n++;
  }
  return n;
}

export interface RetainedRecords {
  /** The kept records, uncompressed, re-encoded against baseTimestamp. */
  records: Buffer;
  baseTimestamp: number;
  maxTimestamp: number;
}

/** Re-encodes the kept records; deleteHorizonMs >= 0 becomes the base timestamp (KIP-534). */
export function encodeKept(
  h: BatchHeader,
  body: Buffer,
  kept: readonly KeptRecord[],
  deleteHorizonMs: number,
): RetainedRecords {
  const first = kept[0];
  if (first === undefined) throw new Error('encodeKept needs at least one record');
  const baseTimestamp = deleteHorizonMs >= 0 ? deleteHorizonMs : h.baseTimestamp + first.timestampDelta;
  let maxTimestamp = -1;
  let size = 0;
  for (const r of kept) {
    const ts = h.baseTimestamp + r.timestampDelta;
    if (ts > maxTimestamp) maxTimestamp = ts;
    size += recordSize(ts - baseTimestamp, r.offsetDelta, r.end - r.tailPos);
  }
  if (timestampType(h.attributes) === TimestampType.LogAppendTime) maxTimestamp = h.maxTimestamp;
  const records = Buffer.allocUnsafe(size);
  let p = 0;
  for (const r of kept) {
    const ts = h.baseTimestamp + r.timestampDelta;
    const tail = r.end - r.tailPos;
    p = writeRecordPrefix(records, p, r.attributes, ts - baseTimestamp, r.offsetDelta, tail);
    p += body.copy(records, p, r.tailPos, r.end);
  }
  if (p !== size) throw new Error(`re-encoded records take ${p} bytes, expected ${size}`);
  return { records, baseTimestamp, maxTimestamp };
}

/**
 * The rewritten batch: the original header (from `batch`) with a new records section (already compressed with
 * the batch's codec when it has one), record count, timestamps, delete-horizon bit, batchLength and CRC.
 */
export function assembleBatch(
  batch: Buffer,
  recordsSection: Buffer,
  recordCount: number,
  retained: RetainedRecords,
  deleteHorizonMs: number,
): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + recordsSection.length);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  recordsSection.copy(out, BATCH_HEADER_BYTES);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  let attributes = out.readInt16BE(ATTRIBUTES_OFFSET);
  if (deleteHorizonMs >= 0) attributes |= DELETE_HORIZON_FLAG_MASK;
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, retained.baseTimestamp);
  writeInt64(out, MAX_TIMESTAMP_OFFSET, retained.maxTimestamp);
  out.writeInt32BE(recordCount, RECORD_COUNT_OFFSET);
  rewriteCrc(out, 0, out.length - LOG_OVERHEAD);
  return out;
}

/**
 * An uncompressed batch (a transaction marker) with every record kept and a delete horizon set (KIP-534: the
 * horizon becomes baseTimestamp, record timestamps stay).
 */
export function withDeleteHorizon(h: BatchHeader, batch: Buffer, deleteHorizonMs: number): Buffer {
  const body = batch.subarray(BATCH_HEADER_BYTES, LOG_OVERHEAD + h.batchLength);
  const kept: KeptRecord[] = [];
  const c = new RecordCursor(body, 0, body.length, h.recordCount);
  while (c.next()) {
    kept.push({
      end: c.end,
      tailPos: c.tailPos,
      attributes: c.attributes,
      timestampDelta: c.timestampDelta,
      offsetDelta: c.offsetDelta,
    });
  }
  const retained = encodeKept(h, body, kept, deleteHorizonMs);
  return assembleBatch(batch, retained.records, kept.length, retained, deleteHorizonMs);
}

/**
 * A batch with no records that keeps the original's offsets and producer fields (Kafka's writeEmptyHeader): left
 * in place of a producer's last batch so its sequence survives a reload of producer state from the log.
 */
export function emptyBatch(h: BatchHeader, batch: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  out.writeInt32BE(BATCH_HEADER_BYTES - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  const keep = TIMESTAMP_TYPE_MASK | TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK;
  out.writeInt16BE(h.attributes & keep, ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, h.maxTimestamp);
  writeInt64(out, MAX_TIMESTAMP_OFFSET, h.maxTimestamp);
  out.writeInt32BE(0, RECORD_COUNT_OFFSET);
  rewriteCrc(out, 0, BATCH_HEADER_BYTES - LOG_OVERHEAD);
  return out;
}
