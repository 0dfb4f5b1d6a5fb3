// The two sparse indexes of a segment, kept in memory and persisted to Kafka's file formats.
//
// <baseOffset>.index (OffsetIndex), 8 bytes per entry, big-endian, no header:
//    0 relativeOffset int32   lastOffset of an indexed batch - segment baseOffset
//    4 position       int32   byte position of that batch in the .log
// <baseOffset>.timeindex (TimeIndex), 12 bytes per entry, big-endian, no header:
//    0 timestamp      int64   largest batch maxTimestamp seen in the segment up to this point
//    8 relativeOffset int32   lastOffset of the batch holding that timestamp - segment baseOffset
//
// Entries are strictly increasing in both fields. One entry of each is added when more than
// index.interval.bytes of batches have been appended since the last entry (Kafka's rule), so an index lookup
// lands at most ~index.interval.bytes (plus one batch) before the wanted batch.
//
// Nothing is checksummed. Entries are written to the file lazily (flush, roll, close); the in-memory copy is
// authoritative while the segment is open. No file descriptor is held between writes (each write opens, writes
// and closes the file): an idle partition then holds one descriptor, its active .log, as Kafka's mmapped indexes
// do, so 10,000 partitions fit in a common `ulimit -n`. After an unclean shutdown the recovered segments' indexes are
// rebuilt from the .log; after a clean one a file is loaded on first use and rebuilt when it fails the sanity
// check (size a multiple of the entry size, increasing entries, positions inside the .log). An entry can pass
// that check and still be wrong (a flipped bit in a position); segment.ts checks entries against the .log when
// it uses them and rebuilds both files from the .log when one does not match (every rebuild is logged).

import * as fs from 'node:fs';

export const OFFSET_INDEX_ENTRY_BYTES = 8;
export const TIME_INDEX_ENTRY_BYTES = 12;

/** A lookup answer: the entry's offset (absolute) and position, or the segment start. */
export interface OffsetPosition {
  offset: number;
  position: number;
}

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

abstract class IndexFile {
  protected count = 0;
  /** Entries [0, persisted) are in the file. */
  protected persisted = 0;
  /** Written since the last fsync. */
  private unsynced = false;

  constructor(
    /** Changes only when the cleaner renames a segment it wrote. */
    public file: string,
    readonly baseOffset: number,
    readonly maxEntries: number,
    private readonly entryBytes: number,
  ) {}

  get entries(): number {
    return this.count;
  }

  isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  protected abstract encodeEntry(i: number, out: Buffer, at: number): void;
  protected abstract grow(minCapacity: number): void;

  /** Writes entries not yet in the file; fsyncs when asked. */
  flush(sync: boolean): void {
    if (this.persisted === this.count && !(sync && this.unsynced)) return;
    this.withFile((fd) => {
      if (this.persisted < this.count) {
        const out = Buffer.allocUnsafe((this.count - this.persisted) * this.entryBytes);
        for (let i = this.persisted; i < this.count; i++)
          this.encodeEntry(i, out, (i - this.persisted) * this.entryBytes);
        writeFully(fd, out, this.persisted * this.entryBytes);
        this.persisted = this.count;
        this.unsynced = true;
      }
      if (sync) {
        fs.fsyncSync(fd);
        this.unsynced = false;
      }
    });
  }

  /** Replaces the whole file with the in-memory entries (after a rebuild or a truncation). */
  rewrite(): void {
    this.persisted = 0;
    this.withFile((fd) => fs.ftruncateSync(fd, 0));
    this.unsynced = true;
    this.flush(false);
  }

  protected truncateEntries(keep: number): void {
    if (keep >= this.count) return;
    this.count = keep;
    if (this.persisted > keep) {
      this.persisted = keep;
      this.withFile((fd) => fs.ftruncateSync(fd, keep * this.entryBytes));
      this.unsynced = true;
    }
  }

  reset(): void {
    this.count = 0;
    this.persisted = 0;
    this.withFile((fd) => fs.ftruncateSync(fd, 0));
    this.unsynced = true;
  }

  /** Opens the file (created when missing), runs fn, closes it. */
  private withFile(fn: (fd: number) => void): void {
    const fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    try {
      fn(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The file's bytes, or why they cannot be used (missing, size not a multiple of the entry size). */
  protected readFileEntries(): Buffer | string {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'file missing';
      throw e;
    }
    if (data.length % this.entryBytes !== 0) {
      return `size ${data.length} is not a multiple of the entry size ${this.entryBytes}`;
    }
    return data;
  }

  protected ensureCapacity(n: number): void {
    this.grow(n);
  }
}

export class OffsetIndex extends IndexFile {
  private rel = new Int32Array(16);
  private pos = new Int32Array(16);

  constructor(file: string, baseOffset: number, maxIndexBytes: number) {
    super(
      file,
      baseOffset,
      Math.max(1, Math.floor(maxIndexBytes / OFFSET_INDEX_ENTRY_BYTES)),
      OFFSET_INDEX_ENTRY_BYTES,
    );
  }

  protected grow(min: number): void {
    if (min <= this.rel.length) return;
    const cap = Math.max(min, this.rel.length * 2);
    const rel = new Int32Array(cap);
    rel.set(this.rel.subarray(0, this.count));
    const pos = new Int32Array(cap);
    pos.set(this.pos.subarray(0, this.count));
    this.rel = rel;
    this.pos = pos;
  }

  protected encodeEntry(i: number, out: Buffer, at: number): void {
    out.writeInt32BE(this.rel[i]!, at);
    out.writeInt32BE(this.pos[i]!, at + 4);
  }

  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.count > 0 && (rel <= this.rel[this.count - 1]! || position <= this.pos[this.count - 1]!)) {
      throw new Error(`offset index ${this.file}: entry (${offset}, ${position}) does not increase`);
    }
    this.ensureCapacity(this.count + 1);
    this.rel[this.count] = rel;
    this.pos[this.count] = position;
    this.count++;
  }

  last(): OffsetPosition {
    if (this.count === 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.rel[this.count - 1]!, position: this.pos[this.count - 1]! };
  }

  /** The entry with the largest offset <= target, or the segment start. */
  lookup(target: number): OffsetPosition {
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel[mid]! <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.rel[found]!, position: this.pos[found]! };
  }

  /** Drops entries for offsets >= offset. */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    let keep = this.count;
    while (keep > 0 && this.rel[keep - 1]! >= rel) keep--;
    this.truncateEntries(keep);
  }

  /** Loads and sanity-checks the file; null when usable, else why not (the index is then empty). */
  load(logSize: number): string | null {
    const data = this.readFileEntries();
    this.count = 0;
    this.persisted = 0;
    if (typeof data === 'string') return data;
    const n = data.length / OFFSET_INDEX_ENTRY_BYTES;
    this.ensureCapacity(n);
    for (let i = 0; i < n; i++) {
      const rel = data.readInt32BE(i * 8);
      const position = data.readInt32BE(i * 8 + 4);
      const prevRel = i > 0 ? this.rel[i - 1]! : -1;
      const prevPos = i > 0 ? this.pos[i - 1]! : -1;
      const problem =
        rel <= prevRel
          ? 'offsets do not increase'
          : position <= prevPos
            ? 'positions do not increase'
            : position >= logSize
              ? `position is beyond the .log's ${logSize} bytes`
              : null;
      if (problem !== null) {
        this.count = 0;
        return `entry ${i} (offset ${this.baseOffset + rel}, position ${position}): ${problem}`;
      }
      this.rel[i] = rel;
      this.pos[i] = position;
      this.count++;
    }
    this.persisted = n;
    return null;
  }
}

export class TimeIndex extends IndexFile {
  private ts = new Float64Array(16);
  private rel = new Int32Array(16);

  constructor(file: string, baseOffset: number, maxIndexBytes: number) {
    super(
      file,
      baseOffset,
      Math.max(1, Math.floor(maxIndexBytes / TIME_INDEX_ENTRY_BYTES)),
      TIME_INDEX_ENTRY_BYTES,
    );
  }

  protected grow(min: number): void {
    if (min <= this.ts.length) return;
    const cap = Math.max(min, this.ts.length * 2);
    const ts = new Float64Array(cap);
    ts.set(this.ts.subarray(0, this.count));
    const rel = new Int32Array(cap);
    rel.set(this.rel.subarray(0, this.count));
    this.ts = ts;
    this.rel = rel;
  }

  protected encodeEntry(i: number, out: Buffer, at: number): void {
    out.writeBigInt64BE(BigInt(this.ts[i]!), at);
    out.writeInt32BE(this.rel[i]!, at + 8);
  }

  /** Adds (timestamp, offset) when timestamp is larger than the last entry's (Kafka's maybeAppend). */
  maybeAppend(timestamp: number, offset: number): void {
    if (this.count > 0 && timestamp <= this.ts[this.count - 1]!) return;
    const rel = offset - this.baseOffset;
    if (this.count > 0 && rel <= this.rel[this.count - 1]!) return;
    this.ensureCapacity(this.count + 1);
    this.ts[this.count] = timestamp;
    this.rel[this.count] = rel;
    this.count++;
  }

  last(): TimestampOffset | null {
    if (this.count === 0) return null;
    return { timestamp: this.ts[this.count - 1]!, offset: this.baseOffset + this.rel[this.count - 1]! };
  }

  /** The entry with the largest timestamp <= target, or null when every entry is newer. */
  lookup(target: number): TimestampOffset | null {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return null;
    return { timestamp: this.ts[found]!, offset: this.baseOffset + this.rel[found]! };
  }

  /** Drops entries for offsets >= offset. */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    let keep = this.count;
    while (keep > 0 && this.rel[keep - 1]! >= rel) keep--;
    this.truncateEntries(keep);
  }

  /** Loads and sanity-checks the file; null when usable, else why not (the index is then empty). */
  load(maxRelativeOffset: number): string | null {
    const data = this.readFileEntries();
    this.count = 0;
    this.persisted = 0;
    if (typeof data === 'string') return data;
    const n = data.length / TIME_INDEX_ENTRY_BYTES;
    this.ensureCapacity(n);
    for (let i = 0; i < n; i++) {
      const ts = Number(data.readBigInt64BE(i * 12));
      const rel = data.readInt32BE(i * 12 + 8);
      const prevTs = i > 0 ? this.ts[i - 1]! : Number.NEGATIVE_INFINITY;
      const prevRel = i > 0 ? this.rel[i - 1]! : -1;
      const problem =
        ts <= prevTs
          ? 'timestamps do not increase'
          : rel <= prevRel
            ? 'offsets do not increase'
            : rel > maxRelativeOffset
              ? `offset is beyond ${this.baseOffset + maxRelativeOffset}`
              : null;
      if (problem !== null) {
        this.count = 0;
        return `entry ${i} (timestamp ${ts}, offset ${this.baseOffset + rel}): ${problem}`;
      }
      this.ts[i] = ts;
      this.rel[i] = rel;
      this.count++;
    }
    this.persisted = n;
    return null;
  }
}

/** pwrite until every byte is in the file. */
export function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
  }
}
