// Walking the records of an uncompressed batch body in place, without allocating per record: where each record
// and each of its fields starts. For the log cleaner (which keeps some records of a batch and copies their bytes)
// and the produce path's per-record checks (src/broker/record-errors.ts). The record layout is described in records.ts:
//
//   length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//   keyLength varint + key, valueLength varint + value, headerCount varint, headers
//
// Everything from keyLength to the record's end (the "tail") does not depend on the batch header, so a record moved
// to a rewritten batch of the same base offset only needs its length, attributes, timestampDelta and offsetDelta
// written again (writeRecordPrefix) followed by its tail as is.

import { RecordDecodeError } from './records.js';

/** A cursor over the records of buf[pos, end): call next() until it returns false. Throws RecordDecodeError. */
export class RecordCursor {
  /** Position of the record's length varint. */
  start = 0;
  /** Position after the record. */
  end = 0;
  attributes = 0;
  timestampDelta = 0;
  offsetDelta = 0;
  /** Position of the keyLength varint: the tail copied as is when the record is re-encoded. */
  tailPos = 0;
  /** Key bytes at keyPos, -1 for a null key. */
  keyPos = 0;
  keyLength = -1;
  /** -1 for a null value (a tombstone). */
  valueLength = -1;

  private pos: number;
  private left: number;

  constructor(
    private readonly buf: Buffer,
    pos: number,
    private readonly limit: number,
    recordCount: number,
  ) {
    if (recordCount < 0 || recordCount > limit - pos)
      throw new RecordDecodeError(`bad record count ${recordCount}`);
    this.pos = pos;
    this.left = recordCount;
  }

  /** Moves to the next record; false (after checking nothing trails the last record) when there is none. */
  next(): boolean {
    if (this.left === 0) {
      if (this.pos !== this.limit)
        throw new RecordDecodeError(`${this.limit - this.pos} bytes after the last record`);
      return false;
    }
    this.left--;
    const buf = this.buf;
    this.start = this.pos;
    const length = this.varint(this.limit);
    const end = this.pos + length;
    if (length < 0 || end > this.limit)
      throw new RecordDecodeError(`record length ${length} overruns the batch`);
    this.end = end;
    if (this.pos >= end) throw new RecordDecodeError('empty record');
    this.attributes = buf.readInt8(this.pos++);
    this.timestampDelta = this.varlong(end);
    this.offsetDelta = this.varint(end);
    this.tailPos = this.pos;
    this.keyLength = this.varint(end);
    this.keyPos = this.pos;
    this.skip(this.keyLength, end);
    this.valueLength = this.varint(end);
    this.skip(this.valueLength, end);
    const headers = this.varint(end);
    if (headers < 0 || headers > end - this.pos) throw new RecordDecodeError(`bad header count ${headers}`);
    for (let i = 0; i < headers; i++) {
      const k = this.varint(end);
      if (k < 0) throw new RecordDecodeError('null header key');
      this.skip(k, end);
      this.skip(this.varint(end), end);
    }
    if (this.pos !== end) throw new RecordDecodeError(`record has ${end - this.pos} trailing bytes`);
    return true;
  }

  /** The current record's key (a view), null when it has none. */
  key(): Buffer | null {
    return this.keyLength < 0 ? null : this.buf.subarray(this.keyPos, this.keyPos + this.keyLength);
  }

  private skip(n: number, end: number): void {
    if (n < 0) return;
    if (this.pos + n > end) throw new RecordDecodeError(`field of ${n} bytes overruns its record`);
    this.pos += n;
  }

  private varint(end: number): number {
    let raw = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= end) throw new RecordDecodeError('varint runs past its record');
      const b = this.buf[this.pos++]!;
      raw |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new RecordDecodeError('varint longer than 5 bytes');
    }
    return (raw >>> 1) ^ -(raw & 1);
  }

  /** Zig-zag varlong as a number (exact within 2^53, which timestamp deltas stay under). */
  private varlong(end: number): number {
    let raw = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (this.pos >= end) throw new RecordDecodeError('varlong runs past its record');
      if (i >= 10) throw new RecordDecodeError('varlong longer than 10 bytes');
      const b = this.buf[this.pos++]!;
      raw += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
    }
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }
}

/** Bytes of a zig-zag varlong (varints are varlongs of int32 values). */
export function varlongSize(value: number): number {
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

/** Writes a zig-zag varlong at pos; returns the position after it. */
export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  while (z >= 128) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}

/** Size of a record re-encoded with a new timestampDelta (tailBytes: keyLength to the record's end). */
export function recordSize(timestampDelta: number, offsetDelta: number, tailBytes: number): number {
  const body = 1 + varlongSize(timestampDelta) + varlongSize(offsetDelta) + tailBytes;
  return varlongSize(body) + body;
}

/**
 * Writes a record's length, attributes, timestampDelta and offsetDelta at pos, for a tail of tailBytes that the
 * caller copies right after; returns the position where the tail goes.
 */
export function writeRecordPrefix(
  buf: Buffer,
  pos: number,
  attributes: number,
  timestampDelta: number,
  offsetDelta: number,
  tailBytes: number,
): number {
  const body = 1 + varlongSize(timestampDelta) + varlongSize(offsetDelta) + tailBytes;
  let p = writeVarlong(buf, pos, body);
  buf.writeInt8(attributes, p++);
  p = writeVarlong(buf, p, timestampDelta);
  return writeVarlong(buf, p, offsetDelta);
}
