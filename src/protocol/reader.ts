import { ProtocolDecodeError } from './errors.js';

const TWO_32 = 4294967296;

/**
 * A bounds-checked cursor over a Buffer, reading Kafka's primitive types.
 *
 * Every read checks against `end` (not just the Buffer's length, so a reader confined to one frame
 * can never read into the next) and throws ProtocolDecodeError on violation. Strings are decoded;
 * bytes are returned as views into the underlying buffer (no copy), so they live as long as it does.
 */
export class Reader {
  offset: number;
  readonly end: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
    end: number = buf.length,
  ) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new ProtocolDecodeError(`reader range [${offset}, ${end}) outside buffer of ${buf.length} bytes`);
    }
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  /** Returns the offset of the n bytes about to be read and advances past them. */
  private take(n: number): number {
    const o = this.offset;
    if (o + n > this.end) this.truncated(n);
    this.offset = o + n;
    return o;
  }

  private truncated(n: number): never {
    throw new ProtocolDecodeError(
      `need ${n} bytes at offset ${this.offset}, only ${this.end - this.offset} remain`,
    );
  }

  skip(n: number): void {
    if (n < 0) throw new ProtocolDecodeError(`negative skip ${n}`);
    this.take(n);
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.take(2));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  /** int64 as a number: exact for |v| <= 2^53, rounded beyond (readBigInt64BE is much slower). */
  int64(): number {
    const o = this.take(8);
    return this.buf.readInt32BE(o) * TWO_32 + this.buf.readUInt32BE(o + 4);
  }

  float64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  bool(): boolean {
    return this.buf[this.take(1)] !== 0;
  }

  /** Unsigned 32-bit varint (at most 5 bytes), as Kafka's ByteUtils.readUnsignedVarint. */
  uvarint(): number {
    const buf = this.buf;
    let o = this.offset;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (o >= this.end) this.truncated(1);
      const b = buf[o++]!;
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        if (shift === 28 && b > 0x0f) break;
        this.offset = o;
        return value >>> 0;
      }
    }
    throw new ProtocolDecodeError(
      `varint at offset ${this.offset} is longer than 5 bytes or exceeds 32 bits`,
    );
  }

  /** Zigzag-encoded signed 32-bit varint. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /**
   * Zigzag-encoded signed 64-bit varint (at most 10 bytes). Computed with arithmetic, not bit
   * operations, so values up to 2^53 in magnitude are exact: we accumulate floor(u / 2) and apply the
   * sign bit (the low bit of the first byte) at the end.
   */
  varlong(): number {
    const buf = this.buf;
    let o = this.offset;
    if (o >= this.end) this.truncated(1);
    let b = buf[o++]!;
    const negative = b & 1;
    let half = (b & 0x7f) >>> 1;
    let scale = 64; // 2^6: weight of the next 7-bit group in floor(u / 2)
    let n = 1;
    while (b >= 0x80) {
      if (n === 10) throw new ProtocolDecodeError(`varlong at offset ${this.offset} is longer than 10 bytes`);
      if (o >= this.end) this.truncated(1);
      b = buf[o++]!;
      half += (b & 0x7f) * scale;
      scale *= 128;
      n++;
    }
    this.offset = o;
    return negative ? -half - 1 : half;
  }

  /** 16 bytes as 32 lowercase hex characters. */
  uuid(): string {
    const o = this.take(16);
    return this.buf.toString('hex', o, o + 16);
  }

  private utf8(length: number): string {
    const o = this.take(length);
    return this.buf.toString('utf8', o, o + length);
  }

  string(): string {
    const length = this.int16();
    if (length < 0) throw new ProtocolDecodeError(`non-nullable string has length ${length}`);
    return this.utf8(length);
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolDecodeError(`string has length ${length}`);
    return this.utf8(length);
  }

  compactString(): string {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolDecodeError('non-nullable compact string is null');
    return this.utf8(n - 1);
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.utf8(n - 1);
  }

  private view(length: number): Buffer {
    const o = this.take(length);
    return this.buf.subarray(o, o + length);
  }

  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) throw new ProtocolDecodeError(`non-nullable bytes have length ${length}`);
    return this.view(length);
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolDecodeError(`bytes have length ${length}`);
    return this.view(length);
  }

  compactBytes(): Buffer {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolDecodeError('non-nullable compact bytes are null');
    return this.view(n - 1);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    return n === 0 ? null : this.view(n - 1);
  }

  /**
   * An array's element count, -1 for null. Every element takes at least one byte, so a count larger
   * than the bytes remaining is a lie and is refused before the caller allocates anything.
   */
  arrayLength(compact: boolean): number {
    let count: number;
    if (compact) {
      count = this.uvarint() - 1;
    } else {
      count = this.int32();
      if (count < -1) throw new ProtocolDecodeError(`array has length ${count}`);
    }
    if (count > this.end - this.offset) {
      throw new ProtocolDecodeError(
        `array of ${count} elements but only ${this.end - this.offset} bytes remain at offset ${this.offset}`,
      );
    }
    return count;
  }

  /** Skips a flexible version's tagged-field section without interpreting it. */
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      this.take(this.uvarint());
    }
  }

  /** Bounds-checks a tagged field's declared size and returns the offset where it must end. */
  taggedFieldEnd(size: number): number {
    if (this.offset + size > this.end) this.truncated(size);
    return this.offset + size;
  }

  /** Throws unless a tagged field's decoder consumed exactly its declared size. */
  checkTaggedFieldEnd(tag: number, end: number): void {
    if (this.offset !== end) {
      throw new ProtocolDecodeError(`tagged field ${tag} ended at offset ${this.offset}, expected ${end}`);
    }
  }
}
