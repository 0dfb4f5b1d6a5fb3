const TWO_32 = 4294967296;
const INT64_MAX_HI = 0x7fffffff;
const CHUNK_BYTES_MAX = 1024 * 1024;
const ASCII_FAST_PATH_MAX = 64;

/**
 * An append-only encoder of Kafka's primitive types into a list of chunks.
 *
 * Small writes go into a growable scratch buffer; when it fills, what was written is sealed as a
 * chunk and a fresh buffer is started, so nothing written is ever copied again. `external(buf)`
 * seals the current chunk and appends the caller's buffer by reference: a fetch response can carry
 * record batches straight from the log without copying them. The result is `toChunks()` for
 * `socket.writev`-style output or `toBuffer()` when one contiguous buffer is needed.
 *
 * Positions (`length`, `reserveInt32()`) are absolute offsets in the final output.
 */
export class Writer {
  private readonly chunks: Buffer[] = [];
  /** Absolute output position at which each sealed chunk starts (parallel to `chunks`). */
  private readonly chunkStarts: number[] = [];
  private sealedBytes = 0;
  private buf: Buffer;
  /** Start of the unsealed region of `buf`. */
  private start = 0;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  get length(): number {
    return this.sealedBytes + this.pos - this.start;
  }

  private seal(): void {
    if (this.pos > this.start) {
      this.chunkStarts.push(this.sealedBytes);
      this.chunks.push(this.buf.subarray(this.start, this.pos));
      this.sealedBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  /** Makes room for n contiguous bytes; returns the position to write them at and advances. */
  private room(n: number): number {
    const p = this.pos;
    if (p + n <= this.buf.length) {
      this.pos = p + n;
      return p;
    }
    this.seal();
    const size = Math.max(n, Math.min(this.buf.length * 2, CHUNK_BYTES_MAX));
    this.buf = Buffer.allocUnsafe(size);
    this.start = 0;
    this.pos = n;
    return 0;
  }

  int8(v: number): this {
    const p = this.room(1);
    this.buf.writeInt8(v, p);
    return this;
  }

  int16(v: number): this {
    const p = this.room(2);
    this.buf.writeInt16BE(v, p);
    return this;
  }

  int32(v: number): this {
    const p = this.room(4);
    this.buf.writeInt32BE(v, p);
    return this;
  }

  uint16(v: number): this {
    const p = this.room(2);
    this.buf.writeUInt16BE(v, p);
    return this;
  }

  uint32(v: number): this {
    const p = this.room(4);
    this.buf.writeUInt32BE(v, p);
    return this;
  }

  /** int64 from a number without BigInt; values beyond the int64 range saturate. */
  int64(v: number): this {
    const p = this.room(8);
    let hi = Math.floor(v / TWO_32);
    let lo = v - hi * TWO_32;
    if (hi > INT64_MAX_HI) {
      hi = INT64_MAX_HI;
      lo = 0xffffffff;
    } else if (hi < -0x80000000) {
      hi = -0x80000000;
      lo = 0;
    }
    this.buf.writeInt32BE(hi, p);
    this.buf.writeUInt32BE(lo, p + 4);
    return this;
  }

  float64(v: number): this {
    const p = this.room(8);
    this.buf.writeDoubleBE(v, p);
    return this;
  }

  bool(v: boolean): this {
    const p = this.room(1);
    this.buf[p] = v ? 1 : 0;
    return this;
  }

  /** Unsigned 32-bit varint. */
  uvarint(v: number): this {
    let u = v >>> 0;
    if (u < 0x80) {
      const p = this.room(1);
      this.buf[p] = u;
      return this;
    }
    const p = this.room(uvarintSize(u));
    let i = p;
    while (u >= 0x80) {
      this.buf[i++] = (u & 0x7f) | 0x80;
      u >>>= 7;
    }
    this.buf[i] = u;
    return this;
  }

  /** Zigzag-encoded signed 32-bit varint. */
  varint(v: number): this {
    return this.uvarint((v << 1) ^ (v >> 31));
  }

  /** Zigzag-encoded signed 64-bit varint, exact for |v| <= 2^53 (arithmetic, no 32-bit bit-ops). */
  varlong(v: number): this {
    const negative = v < 0;
    let half = negative ? -v - 1 : v; // floor(zigzag(v) / 2)
    let b = ((half % 64) * 2) | (negative ? 1 : 0);
    half = Math.floor(half / 64);
    while (half > 0) {
      const p = this.room(1);
      this.buf[p] = b | 0x80;
      b = half % 128;
      half = Math.floor(half / 128);
    }
    const p = this.room(1);
    this.buf[p] = b;
    return this;
  }

  /** 32 hex characters as 16 bytes. */
  uuid(v: string): this {
    const p = this.room(16);
    if (v.length !== 32 || this.buf.write(v, p, 16, 'hex') !== 16) {
      throw new TypeError(`uuid must be 32 hex characters, got '${v}'`);
    }
    return this;
  }

  /** Writes v's UTF-8 bytes (byteLength of them); short ASCII strings skip Buffer.write's overhead. */
  private utf8(v: string, byteLength: number): void {
    const p = this.room(byteLength);
    if (byteLength === v.length && byteLength <= ASCII_FAST_PATH_MAX) {
      const buf = this.buf;
      for (let i = 0; i < byteLength; i++) buf[p + i] = v.charCodeAt(i);
    } else {
      this.buf.write(v, p, byteLength, 'utf8');
    }
  }

  string(v: string): this {
    const length = utf8Length(v);
    if (length > 0x7fff) throw new RangeError(`string of ${length} bytes does not fit an int16 length`);
    this.int16(length);
    this.utf8(v, length);
    return this;
  }

  nullableString(v: string | null): this {
    return v === null ? this.int16(-1) : this.string(v);
  }

  compactString(v: string): this {
    const length = utf8Length(v);
    this.uvarint(length + 1);
    this.utf8(v, length);
    return this;
  }

  compactNullableString(v: string | null): this {
    return v === null ? this.uvarint(0) : this.compactString(v);
  }

  bytes(v: Buffer): this {
    this.int32(v.length);
    return this.raw(v);
  }

  nullableBytes(v: Buffer | null): this {
    return v === null ? this.int32(-1) : this.bytes(v);
  }

  compactBytes(v: Buffer): this {
    this.uvarint(v.length + 1);
    return this.raw(v);
  }

  compactNullableBytes(v: Buffer | null): this {
    return v === null ? this.uvarint(0) : this.compactBytes(v);
  }

  /** Nullable bytes whose content is appended by reference (record batches): see external(). */
  records(v: Buffer | null, compact: boolean): this {
    if (v === null) return compact ? this.uvarint(0) : this.int32(-1);
    if (compact) this.uvarint(v.length + 1);
    else this.int32(v.length);
    return this.external(v);
  }

  /** An array's element count; -1 writes null. */
  arrayLength(count: number, compact: boolean): this {
    return compact ? this.uvarint(count + 1) : this.int32(count);
  }

  /** An empty tagged-field section. */
  emptyTaggedFields(): this {
    const p = this.room(1);
    this.buf[p] = 0;
    return this;
  }

  /** Copies buf into the output. */
  raw(v: Buffer): this {
    if (v.length > 0) {
      const p = this.room(v.length);
      v.copy(this.buf, p);
    }
    return this;
  }

  /** Appends buf by reference as its own chunk: no copy, so the caller must not modify it afterwards. */
  external(v: Buffer): this {
    if (v.length === 0) return this;
    this.seal();
    this.chunkStarts.push(this.sealedBytes);
    this.chunks.push(v);
    this.sealedBytes += v.length;
    return this;
  }

  /** Reserves 4 bytes (e.g. a length prefix) and returns their absolute position for patchInt32. */
  reserveInt32(): number {
    const at = this.length;
    this.room(4);
    return at;
  }

  patchInt32(at: number, v: number): void {
    if (at >= this.sealedBytes) {
      this.buf.writeInt32BE(v, this.start + at - this.sealedBytes);
      return;
    }
    // Reserved bytes are never split across chunks (room() is contiguous), so one chunk holds them.
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const chunkStart = this.chunkStarts[i]!;
      if (at >= chunkStart) {
        this.chunks[i]!.writeInt32BE(v, at - chunkStart);
        return;
      }
    }
    throw new RangeError(`patch position ${at} is outside the output`);
  }

  /** The output as a list of buffers (sealed scratch chunks and external buffers, in order). */
  toChunks(): Buffer[] {
    this.seal();
    return this.chunks.slice();
  }

  /** The output as one buffer (copies only when there is more than one chunk). */
  toBuffer(): Buffer {
    this.seal();
    if (this.chunks.length === 1) return this.chunks[0]!;
    return Buffer.concat(this.chunks, this.sealedBytes);
  }
}

/** UTF-8 byte length; short strings are scanned inline (ASCII length equals string length). */
function utf8Length(v: string): number {
  if (v.length > ASCII_FAST_PATH_MAX) return Buffer.byteLength(v, 'utf8');
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) >= 0x80) return Buffer.byteLength(v, 'utf8');
  return v.length;
}

export function uvarintSize(v: number): number {
  const u = v >>> 0;
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

/** Thrown by generated encoders when a field that is not nullable in the version being written is null. */
export function nullField(field: string): never {
  throw new TypeError(`field ${field} is not nullable in this version but is null`);
}
