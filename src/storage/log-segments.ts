// The segments of one partition log, oldest first (Kafka's LogSegments); the last, the active one, takes the
// appends. Finds the segment holding an offset, reads whole batches across segments, and changes the list:
// rolls, swaps in a cleaned segment, removes the oldest, cuts the newest, starts over at an offset.
//
// Removing the oldest segment and swapping in a cleaned one replace the list rather than change it, so a list
// handed out (segmentList(), the cleaner) stays as it was; a roll and a truncation change it in place.
// `epoch` counts the changes that remove or cut segments (not appends, not rolls): a cleaning pass that saw
// another value must start over. The partition log bumps it itself where it does more than change the list.

import { BATCH_HEADER_BYTES } from '../protocol/records.js';
import { fsyncDir } from './checkpoint.js';
import type { LogConfig } from './config.js';
import type { ReadBufferPool } from './read-buffers.js';
import { LogSegment } from './segment.js';

export class LogSegments {
  /** Oldest first; never empty. */
  list: LogSegment[];
  /** Bumped whenever segments are removed or cut (see above). */
  epoch = 0;

  constructor(
    private readonly dir: string,
    list: LogSegment[],
  ) {
    this.list = list;
  }

  get active(): LogSegment {
    return this.list[this.list.length - 1]!;
  }

  get length(): number {
    return this.list.length;
  }

  get sizeBytes(): number {
    let n = 0;
    for (const s of this.list) n += s.size;
    return n;
  }

  /** Base offsets of the segments, oldest first. */
  baseOffsets(): number[] {
    return this.list.map((s) => s.baseOffset);
  }

  /** Index of the segment holding offset (the last with baseOffset <= offset; 0 when below all). */
  indexFor(offset: number): number {
    let lo = 0;
    let hi = this.list.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Whole batches from the one holding fetchOffset into `chunks`, at most maxBytes in total (but the first batch
   * whole when minOneBatch), none with an offset >= limit; may span segments. Returns the bytes read. Throws on
   * an I/O error (`chunks` then holds what was read before it).
   */
  read(
    fetchOffset: number,
    maxBytes: number,
    limit: number,
    minOneBatch: boolean,
    pool: ReadBufferPool,
    chunks: Buffer[],
  ): number {
    let bytes = 0;
    let offset = fetchOffset;
    for (let i = this.indexFor(offset); i < this.list.length && offset < limit; i++) {
      const seg = this.list[i]!;
      const remaining = maxBytes - bytes;
      const first = chunks.length === 0;
      if (!first && remaining < BATCH_HEADER_BYTES) break;
      const r = seg.read(offset, Math.max(remaining, 0), limit, first && minOneBatch, pool);
      if (r === null) continue;
      if (r.data.length === 0) break;
      chunks.push(r.data);
      bytes += r.data.length;
      offset = r.nextOffset;
      if (r.nextOffset < (this.list[i + 1]?.baseOffset ?? Number.POSITIVE_INFINITY)) {
        // Stopped inside this segment: the byte or offset limit was reached.
        break;
      }
    }
    return bytes;
  }

  /** The files of the segments from the one holding `from` whose base offset is below `upTo` (to fsync). */
  filesBelow(from: number, upTo: number): string[] {
    const files: string[] = [];
    for (let i = this.indexFor(from); i < this.list.length; i++) {
      const s = this.list[i]!;
      if (s.baseOffset >= upTo) break;
      files.push(s.logFile, s.indexFile, s.timeIndexFile);
    }
    return files;
  }

  /**
   * fsyncs the segments from the one holding `recoveryPoint` to the end, and the directory when one of them
   * starts at or above it (new since the last flush, as Kafka's LocalLog.flush does).
   */
  flushFrom(recoveryPoint: number): void {
    let newSegment = false;
    for (let i = this.indexFor(recoveryPoint); i < this.list.length; i++) {
      const seg = this.list[i]!;
      seg.flush(true);
      if (seg.baseOffset >= recoveryPoint) newSegment = true;
    }
    if (newSegment) fsyncDir(this.dir);
  }

  /**
   * The cleaner's in-memory swap (segment-swap.ts does the files): the consecutive segments `old` leave the list
   * and `cleaned` takes their place, in one step. False when `old` is not (any more) a run of inactive segments.
   */
  replace(old: readonly LogSegment[], cleaned: LogSegment): boolean {
    const i = this.list.indexOf(old[0]!);
    if (i < 0 || i + old.length >= this.list.length) return false;
    for (let j = 0; j < old.length; j++) if (this.list[i + j] !== old[j]) return false;
    this.list = [...this.list.slice(0, i), cleaned, ...this.list.slice(i + old.length)];
    return true;
  }

  /**
   * A new active segment at baseOffset: the old one gets its final index entries, or goes when it is empty. What
   * can fail comes first and the list changes last (LogSegment.create replaces a file a failed attempt left).
   */
  roll(baseOffset: number, config: LogConfig, now: number): void {
    const old = this.active;
    if (old.size > 0) old.onBecomeInactive();
    const seg = LogSegment.create(this.dir, baseOffset, config, now);
    if (old.size === 0) {
      this.list.pop();
      old.delete(0);
    }
    this.list.push(seg);
  }

  /** Removes the oldest segment (there must be another) and deletes its files after delayMs; returns it. */
  removeOldest(delayMs: number): LogSegment {
    const seg = this.list[0]!;
    this.list = this.list.slice(1);
    this.epoch++;
    seg.delete(delayMs);
    return seg;
  }

  /**
   * Removes every batch with baseOffset >= offset: segments starting at or above it go (an empty one at offset
   * replaces the last), the one holding it is cut at a batch boundary.
   */
  truncateTo(offset: number, config: LogConfig, now: number): void {
    while (this.list.length > 1 && this.active.baseOffset >= offset) {
      const seg = this.list.pop()!;
      seg.delete(0);
    }
    if (this.active.baseOffset >= offset) {
      const old = this.list.pop()!;
      old.delete(0);
      this.list.push(LogSegment.create(this.dir, offset, config, now));
    } else {
      this.active.truncateTo(offset);
    }
  }

  /** Deletes every segment; one empty segment at `offset` is the log. */
  restartAt(offset: number, config: LogConfig, now: number): void {
    while (this.list.length > 0) this.list.pop()!.delete(0);
    this.list.push(LogSegment.create(this.dir, offset, config, now));
  }
}
