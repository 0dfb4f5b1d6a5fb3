// Record batches for the perf tools, built fast: records of one fixed value (no key, no headers),
// written straight into one buffer with no per-record allocation, then compressed as a whole and
// checksummed. encodeRecordBatch (src/protocol/records.ts) builds the same bytes for arbitrary
// records but allocates per field; the load generator must not be the bottleneck.
//
// Record layout (records.ts): length varint, attributes int8 (0), timestampDelta varlong,
// offsetDelta varint, keyLength varint (-1 = null), valueLength varint, value, headerCount varint (0).

import { compress } from '../../protocol/compression.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  rewriteCrc,
  writeInt64,
} from '../../protocol/records.js';

/** Bytes a zig-zag varint of v takes (v within int32). */
export function varintSize(v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) {
    u >>>= 7;
    n++;
  }
  return n;
}

function putVarint(buf: Buffer, pos: number, v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Upper bound of one record's bytes (length prefix included) for a value of valueBytes. */
export function recordBytesMax(valueBytes: number): number {
  // attributes 1 + timestampDelta <= 5 (deltas stay within int32 here) + offsetDelta <= 5 + key 1 +
  // value length <= 5 + value + headers 1, plus the length varint <= 5.
  return 5 + 1 + 5 + 5 + 1 + 5 + valueBytes + 1;
}

/**
 * An open batch for one partition: append records until full, then close() into wire bytes.
 * Not reusable after close.
 */
export class BatchBuilder {
  private readonly buf: Buffer;
  private pos = RECORDS_OFFSET;
  private count = 0;
  private baseTimestamp = -1;
  private maxTimestamp = -1;
  /** performance.now() at which each record was appended (for per-record latency). */
  readonly createdAt: Float64Array;

  constructor(
    readonly partition: number,
    readonly capacityBytes: number,
    readonly recordsMax: number,
  ) {
    this.buf = Buffer.allocUnsafe(capacityBytes);
    this.createdAt = new Float64Array(recordsMax);
  }

  get recordCount(): number {
    return this.count;
  }

  /** Empties the builder for reuse (its previous batch must be acknowledged: close() may return a view). */
  reset(partition: number): this {
    (this as { partition: number }).partition = partition;
    this.pos = RECORDS_OFFSET;
    this.count = 0;
    this.baseTimestamp = -1;
    this.maxTimestamp = -1;
    return this;
  }

  /** Uncompressed bytes so far. */
  get sizeBytes(): number {
    return this.pos;
  }

  /** True when a record of valueBytes still fits the buffer and the record limit. */
  hasRoomFor(valueBytes: number): boolean {
    return this.count < this.recordsMax && this.pos + recordBytesMax(valueBytes) <= this.buf.length;
  }

  /**
   * Appends a record with a null key and value bytes src[srcStart, srcStart + length); timestampMs is its
   * CreateTime. With stamp, nowPerf is written over the value's first 8 bytes (e2e latency).
   */
  append(
    src: Buffer,
    srcStart: number,
    length: number,
    timestampMs: number,
    nowPerf: number,
    stamp = false,
  ): void {
    if (this.count === 0) {
      this.baseTimestamp = timestampMs;
      this.maxTimestamp = timestampMs;
    } else if (timestampMs > this.maxTimestamp) {
      this.maxTimestamp = timestampMs;
    }
    const tsDelta = timestampMs - this.baseTimestamp;
    const offsetDelta = this.count;
    const bodyBytes = 1 + varintSize(tsDelta) + varintSize(offsetDelta) + 1 + varintSize(length) + length + 1;
    const buf = this.buf;
    let p = putVarint(buf, this.pos, bodyBytes);
    buf[p++] = 0;
    p = putVarint(buf, p, tsDelta);
    p = putVarint(buf, p, offsetDelta);
    buf[p++] = 1; // key length -1 (zig-zag)
    p = putVarint(buf, p, length);
    src.copy(buf, p, srcStart, srcStart + length);
    if (stamp) buf.writeDoubleBE(nowPerf, p);
    p += length;
    buf[p++] = 0;
    this.pos = p;
    this.createdAt[this.count] = nowPerf;
    this.count++;
  }

  /** The finished batch: header filled in, records compressed with codec (0 = none), CRC32C set. */
  async close(codec: number): Promise<Buffer> {
    const records = this.buf.subarray(RECORDS_OFFSET, this.pos);
    let out: Buffer;
    if (codec === 0) {
      out = this.buf.subarray(0, this.pos);
    } else {
      const compressed = await compress(codec, records);
      out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length);
      compressed.copy(out, RECORDS_OFFSET);
    }
    writeInt64(out, 0, 0);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    out.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET);
    out.writeInt8(2, MAGIC_OFFSET);
    out.writeInt16BE(codec & 0x07, ATTRIBUTES_OFFSET);
    out.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET);
    writeInt64(out, BASE_TIMESTAMP_OFFSET, this.baseTimestamp);
    writeInt64(out, MAX_TIMESTAMP_OFFSET, this.maxTimestamp);
    writeInt64(out, PRODUCER_ID_OFFSET, -1);
    out.writeInt16BE(-1, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(-1, BASE_SEQUENCE_OFFSET);
    out.writeInt32BE(this.count, RECORD_COUNT_OFFSET);
    rewriteCrc(out, 0, out.length - LOG_OVERHEAD);
    return out;
  }
}

/**
 * Random uppercase letters to cut record values from. Kafka's ProducerPerformance fills every value with
 * fresh random letters (so compression sees ~4.7 bits of entropy per byte); taking each value at a random
 * offset of a pool this large gives compressors the same data at a fraction of the cost.
 */
export class PayloadPool {
  readonly pool: Buffer;
  private readonly span: number;

  constructor(
    readonly recordSize: number,
    poolBytes = 1024 * 1024,
  ) {
    const n = Math.max(poolBytes, recordSize * 2);
    this.pool = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) this.pool[i] = 65 + Math.floor(Math.random() * 26);
    this.span = n - recordSize;
  }

  /** Start of the next value in pool. */
  next(): number {
    return Math.floor(Math.random() * this.span);
  }
}
