// Joining consecutive uncompressed batches of one partition into one, so the mirror sends fewer, larger
// batches (Kafka's Produce takes one batch per partition per request: a source written in small batches would
// otherwise cost one request per small batch).
//
// Every record keeps its bytes from keyLength to its end (key, value, headers) and its attributes byte; only
// its length, timestampDelta and offsetDelta are written again against the joined batch: base timestamp = the
// smallest of the batches' base timestamps (so no delta is negative), offsets dense from 0, max timestamp =
// the largest of theirs. Compressed batches, control batches and LogAppendTime batches are never joined
// (the fetch path rebuilds the latter two kinds before they get here, or drops them).

import { RecordCursor, recordSize, writeRecordPrefix } from '../protocol/record-scan.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_COUNT_OFFSET,
  readInt64,
  TIMESTAMP_TYPE_MASK,
  writeInt64,
} from '../protocol/records.js';
import type { CopyBatch, MirrorPartition } from './mirror-fetch.js';

/** Whether a batch may be joined with its neighbours (uncompressed, CreateTime). */
export function joinable(batch: Buffer): boolean {
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  return (attributes & (COMPRESSION_CODEC_MASK | TIMESTAMP_TYPE_MASK)) === 0;
}

/** One batch holding the records of `batches` (each joinable, dense offsets) in order. */
export function joinBatches(batches: Buffer[]): Buffer {
  const first = batches[0];
  if (first === undefined) throw new Error('joinBatches needs a batch');
  if (batches.length === 1) return first;
  let baseTimestamp = Number.MAX_SAFE_INTEGER;
  let maxTimestamp = -1;
  for (const b of batches) {
    baseTimestamp = Math.min(baseTimestamp, readInt64(b, BASE_TIMESTAMP_OFFSET));
    maxTimestamp = Math.max(maxTimestamp, readInt64(b, MAX_TIMESTAMP_OFFSET));
  }
  // Pass 1: sizes. Pass 2: write.
  let size = BATCH_HEADER_BYTES;
  let count = 0;
  for (const b of batches) {
    const shift = readInt64(b, BASE_TIMESTAMP_OFFSET) - baseTimestamp;
    const c = cursor(b);
    while (c.next()) {
      size += recordSize(c.timestampDelta + shift, count, c.end - c.tailPos);
      count++;
    }
  }
  const out = Buffer.allocUnsafe(size);
  first.copy(out, 0, 0, BATCH_HEADER_BYTES);
  let pos = BATCH_HEADER_BYTES;
  let offsetDelta = 0;
  for (const b of batches) {
    const shift = readInt64(b, BASE_TIMESTAMP_OFFSET) - baseTimestamp;
    const c = cursor(b);
    while (c.next()) {
      const tail = c.end - c.tailPos;
      pos = writeRecordPrefix(out, pos, c.attributes, c.timestampDelta + shift, offsetDelta++, tail);
      b.copy(out, pos, c.tailPos, c.end);
      pos += tail;
    }
  }
  out.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt32BE(count - 1, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(out, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  out.writeInt32BE(count, RECORD_COUNT_OFFSET);
  // The CRC is written when the batch is stamped for sending (BatchProducer).
  return out;
}

function cursor(b: Buffer): RecordCursor {
  const end = LOG_OVERHEAD + b.readInt32BE(BATCH_LENGTH_OFFSET);
  return new RecordCursor(b, BATCH_HEADER_BYTES, end, b.readInt32BE(RECORD_COUNT_OFFSET));
}

/**
 * The round's batches with each partition's runs of joinable batches joined, a joined batch staying under
 * maxBytes; partitions of topics in `keep` are left as they are. Order within a partition is kept.
 */
export function coalesce(batches: CopyBatch[], maxBytes: number, keep: ReadonlySet<string>): CopyBatch[] {
  const out: CopyBatch[] = [];
  const runs = new Map<MirrorPartition, { batches: Buffer[]; bytes: number; records: number }>();
  const flush = (part: MirrorPartition): void => {
    const run = runs.get(part);
    if (run === undefined || run.batches.length === 0) return;
    out.push({ part, batch: joinBatches(run.batches), records: run.records });
    runs.delete(part);
  };
  for (const b of batches) {
    if (keep.has(b.part.topic) || !joinable(b.batch)) {
      flush(b.part);
      out.push(b);
      continue;
    }
    let run = runs.get(b.part);
    if (run !== undefined && run.bytes + b.batch.length > maxBytes) {
      flush(b.part);
      run = undefined;
    }
    if (run === undefined) {
      run = { batches: [], bytes: 0, records: 0 };
      runs.set(b.part, run);
    }
    run.batches.push(b.batch);
    run.bytes += b.batch.length;
    run.records += b.records;
  }
  for (const part of [...runs.keys()]) flush(part);
  return out;
}
