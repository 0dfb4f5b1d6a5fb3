// Record batch v2 (magic 2): helpers that work on raw batch bytes, plus a small codec for tools and tests.
//
// Layout of one batch (all integers big-endian; offsets below are from the start of the batch):
//
//    0 baseOffset            int64
//    8 batchLength           int32   bytes after this field (so the whole batch is batchLength + 12)
//   12 partitionLeaderEpoch  int32   not covered by the CRC: the broker sets it without recomputing
//   16 magic                 int8    2
//   17 crc                   uint32  CRC32C (Castagnoli) of bytes 21..end of batch
//   21 attributes            int16   bits 0-2 compression (0 none 1 gzip 2 snappy 3 lz4 4 zstd),
//                                    bit 3 timestampType (1 = LogAppendTime), bit 4 isTransactional,
//                                    bit 5 isControl, bit 6 hasDeleteHorizonMs
//   23 lastOffsetDelta       int32
//   27 baseTimestamp         int64
//   35 maxTimestamp          int64
//   43 producerId            int64
//   51 producerEpoch         int16
//   53 baseSequence          int32
//   57 recordCount           int32
//   61 records               (compressed as a whole when compression != 0)
//
// Each record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
// keyLength varint + key, valueLength varint + value, headerCount varint,
// headers [keyLength varint + key (utf8), valueLength varint + value]; lengths of -1 mean null.
//
// The helpers on the broker's path (readBatchHeader, batchCrcValid, the setters, iterateBatches) never
// decode records. decodeRecords / encodeRecordBatch are for clients, tools and tests.

import { crc32c } from '@node-rs/crc32';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Size of the batch header up to the first record. */
export const BATCH_HEADER_BYTES = 61;
/** baseOffset int64 + batchLength int32: the bytes not counted in batchLength. */
export const LOG_OVERHEAD = 12;
/** The smallest legal batchLength (a header with no records). */
export const BATCH_LENGTH_MIN = BATCH_HEADER_BYTES - LOG_OVERHEAD;
export const MAGIC_V2 = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export const CompressionCodec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof CompressionCodec;
export const TimestampType = { CreateTime: 0, LogAppendTime: 1 } as const;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** int64 as a JS number (exact below 2^53, which offsets, timestamps and producer ids stay under). */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / 4294967296);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 4294967296, pos + 4);
}

/** Reads the 61-byte header at pos. The caller guarantees pos + BATCH_HEADER_BYTES <= buf.length. */
export function readBatchHeader(buf: Buffer, pos: number): BatchHeader {
  return {
    baseOffset: readInt64(buf, pos),
    batchLength: buf.readInt32BE(pos + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORD_COUNT_OFFSET),
  };
}

/** Total bytes of the batch at pos (batchLength + 12). */
export function batchSizeAt(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
}

/** The CRC32C of the batch at pos as it should be: over attributes .. end of batch. */
export function computeBatchCrc(buf: Buffer, pos: number, batchLength: number): number {
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + LOG_OVERHEAD + batchLength)) >>> 0;
}

/** True when the stored CRC matches the bytes. The caller guarantees the whole batch is in buf. */
export function batchCrcValid(buf: Buffer, pos: number, batchLength: number): boolean {
  return buf.readUInt32BE(pos + CRC_OFFSET) === computeBatchCrc(buf, pos, batchLength);
}

/** Recomputes and stores the CRC (after changing any byte from attributes on). */
export function rewriteCrc(buf: Buffer, pos: number, batchLength: number): void {
  buf.writeUInt32BE(computeBatchCrc(buf, pos, batchLength), pos + CRC_OFFSET);
}

/** baseOffset is outside the CRC: no CRC change needed. */
export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, offset);
}

/** partitionLeaderEpoch is outside the CRC: no CRC change needed. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * For topics with message.timestamp.type=LogAppendTime: maxTimestamp = timestamp, timestampType bit set,
 * CRC recomputed (both fields are covered by it). Consumers then read every record's timestamp as maxTimestamp.
 */
export function setMaxTimestampAndLogAppend(buf: Buffer, pos: number, timestamp: number): void {
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, timestamp);
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET);
  rewriteCrc(buf, pos, buf.readInt32BE(pos + BATCH_LENGTH_OFFSET));
}

export function compressionOf(attributes: number): number {
  return attributes & COMPRESSION_CODEC_MASK;
}

/** 0 = CreateTime, 1 = LogAppendTime. */
export function timestampType(attributes: number): number {
  return (attributes & TIMESTAMP_TYPE_MASK) === 0 ? TimestampType.CreateTime : TimestampType.LogAppendTime;
}

export function isTransactional(attributes: number): boolean {
  return (attributes & TRANSACTIONAL_FLAG_MASK) !== 0;
}

export function isControl(attributes: number): boolean {
  return (attributes & CONTROL_FLAG_MASK) !== 0;
}

export function hasDeleteHorizon(attributes: number): boolean {
  return (attributes & DELETE_HORIZON_FLAG_MASK) !== 0;
}

/** Sequence number of the batch's last record (sequences wrap from 2^31-1 to 0, as in Kafka). */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence < 0) return NO_SEQUENCE;
  const maxInt = 2147483647;
  return baseSequence > maxInt - lastOffsetDelta
    ? lastOffsetDelta - (maxInt - baseSequence) - 1
    : baseSequence + lastOffsetDelta;
}

/**
 * Yields each complete batch in buf, stopping (without throwing) at the first batch that is cut short or whose
 * batchLength is below the minimum header size. Magic and CRC are not checked here.
 */
export function* iterateBatches(buf: Buffer, start = 0): Generator<{ pos: number; header: BatchHeader }> {
  let pos = start;
  while (pos + BATCH_HEADER_BYTES <= buf.length) {
    const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (batchLength < BATCH_LENGTH_MIN || pos + LOG_OVERHEAD + batchLength > buf.length) return;
    yield { pos, header: readBatchHeader(buf, pos) };
    pos += LOG_OVERHEAD + batchLength;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Record codec (not on the broker's hot path).

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  attributes: number;
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export class RecordDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordDecodeError';
  }
}

class VarReader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new RecordDecodeError(`record needs ${n} bytes at ${this.pos}, batch ends at ${this.end}`);
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  /** Zig-zag varint up to 64 bits, returned as a number (exact within 2^53). */
  varlong(): number {
    let raw = 0n;
    let shift = 0n;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      raw |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new RecordDecodeError('varlong longer than 10 bytes');
    }
    return Number((raw >> 1n) ^ -(raw & 1n));
  }

  varint(): number {
    let raw = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      raw |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new RecordDecodeError('varint longer than 5 bytes');
    }
    return (raw >>> 1) ^ -(raw & 1);
  }

  nullableBytes(): Buffer | null {
    const len = this.varint();
    if (len < 0) return null;
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

/**
 * Decodes the records of one uncompressed batch (batch = exactly the batch's bytes, or a buffer starting with
 * it). Keys, values and header values are views into batch. Throws RecordDecodeError on malformed input and
 * on compressed batches (decompression lives elsewhere).
 */
export function decodeRecords(batch: Buffer): { header: BatchHeader; records: DecodedRecord[] } {
  if (batch.length < BATCH_HEADER_BYTES) throw new RecordDecodeError('batch shorter than its header');
  const header = readBatchHeader(batch, 0);
  if (header.magic !== MAGIC_V2) throw new RecordDecodeError(`unsupported magic ${header.magic}`);
  const end = LOG_OVERHEAD + header.batchLength;
  if (header.batchLength < BATCH_LENGTH_MIN || end > batch.length) {
    throw new RecordDecodeError(`batchLength ${header.batchLength} does not fit in ${batch.length} bytes`);
  }
  if (compressionOf(header.attributes) !== 0) {
    throw new RecordDecodeError(`compressed batch (codec ${compressionOf(header.attributes)})`);
  }
  return { header, records: decodeRecordsBody(batch, RECORDS_OFFSET, end, header.recordCount) };
}

/** Decodes recordCount records from buf[pos, end) (also used on decompressed bodies). */
export function decodeRecordsBody(
  buf: Buffer,
  pos: number,
  end: number,
  recordCount: number,
): DecodedRecord[] {
  if (recordCount < 0 || recordCount > end - pos)
    throw new RecordDecodeError(`bad record count ${recordCount}`);
  const r = new VarReader(buf, pos, end);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < recordCount; i++) {
    const length = r.varint();
    r.need(length);
    const recordEnd = r.pos + length;
    const rr = new VarReader(buf, r.pos, recordEnd);
    const attributes = rr.int8();
    const timestampDelta = rr.varlong();
    const offsetDelta = rr.varint();
    const key = rr.nullableBytes();
    const value = rr.nullableBytes();
    const headerCount = rr.varint();
    if (headerCount < 0 || headerCount > recordEnd - rr.pos)
      throw new RecordDecodeError(`bad header count ${headerCount}`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const hk = rr.nullableBytes();
      if (hk === null) throw new RecordDecodeError('null header key');
      headers.push({ key: hk.toString('utf8'), value: rr.nullableBytes() });
    }
    if (rr.pos !== recordEnd)
      throw new RecordDecodeError(`record ${i} has ${recordEnd - rr.pos} trailing bytes`);
    r.pos = recordEnd;
    records.push({ attributes, offsetDelta, timestampDelta, key, value, headers });
  }
  if (r.pos !== end) throw new RecordDecodeError(`${end - r.pos} bytes after the last record`);
  return records;
}

export interface RecordInput {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Array<{ key: string; value: Buffer | string | null }>;
  /** Absolute timestamp; defaults to the batch's timestamp. */
  timestamp?: number;
}

export interface EncodeBatchInput {
  baseOffset?: number;
  records: RecordInput[];
  /** Timestamp for records without their own (default Date.now()). */
  timestamp?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  timestampType?: 0 | 1;
  /** Only 'none' is implemented here; compression lives in its own module. */
  compression?: 'none';
}

function zigzag64(v: number): bigint {
  const b = BigInt(v);
  return (b << 1n) ^ (b >> 63n);
}

function varlongBytes(v: number): number[] {
  let z = BigInt.asUintN(64, zigzag64(v));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

function toBuf(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function pushBytes(parts: Buffer[], v: Buffer | null): void {
  if (v === null) {
    parts.push(Buffer.from(varlongBytes(-1)));
  } else {
    parts.push(Buffer.from(varlongBytes(v.length)), v);
  }
}

/** Builds one uncompressed v2 batch with a correct CRC. */
export function encodeRecordBatch(input: EncodeBatchInput): Buffer {
  if ((input.compression ?? 'none') !== 'none')
    throw new Error('encodeRecordBatch only writes uncompressed batches');
  if (input.records.length === 0) throw new Error('a record batch needs at least one record');
  const defaultTs = input.timestamp ?? Date.now();
  const timestamps = input.records.map((r) => r.timestamp ?? defaultTs);
  const baseTimestamp = Math.min(...timestamps);
  const maxTimestamp = Math.max(...timestamps);
  const body: Buffer[] = [];
  input.records.forEach((rec, i) => {
    const parts: Buffer[] = [Buffer.from([0]), Buffer.from(varlongBytes(timestamps[i]! - baseTimestamp))];
    parts.push(Buffer.from(varlongBytes(i)));
    pushBytes(parts, toBuf(rec.key));
    pushBytes(parts, toBuf(rec.value));
    const headers = rec.headers ?? [];
    parts.push(Buffer.from(varlongBytes(headers.length)));
    for (const h of headers) {
      pushBytes(parts, Buffer.from(h.key, 'utf8'));
      pushBytes(parts, toBuf(h.value));
    }
    const recordBytes = Buffer.concat(parts);
    body.push(Buffer.from(varlongBytes(recordBytes.length)), recordBytes);
  });
  const records = Buffer.concat(body);
  const buf = Buffer.alloc(BATCH_HEADER_BYTES + records.length);
  writeInt64(buf, BASE_OFFSET_OFFSET, input.baseOffset ?? 0);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(MAGIC_V2, MAGIC_OFFSET);
  let attributes = 0;
  if (input.timestampType === 1) attributes |= TIMESTAMP_TYPE_MASK;
  if (input.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (input.isControl) attributes |= CONTROL_FLAG_MASK;
  buf.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(input.records.length - 1, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  writeInt64(buf, PRODUCER_ID_OFFSET, input.producerId ?? NO_PRODUCER_ID);
  buf.writeInt16BE(input.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(input.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(input.records.length, RECORD_COUNT_OFFSET);
  records.copy(buf, RECORDS_OFFSET);
  rewriteCrc(buf, 0, buf.length - LOG_OVERHEAD);
  return buf;
}
