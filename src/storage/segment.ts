// One segment of a partition log: <baseOffset as 20 digits>.log plus its .index and .timeindex (Kafka's names),
// and a .txnindex once a transaction was aborted in it (txn-index.ts).
//
// <baseOffset>.log is a plain concatenation of record batches exactly as they travel on the wire (v2, see
// src/protocol/records.ts): baseOffset int64, batchLength int32, then batchLength bytes. No file header, no
// padding. The first batch's baseOffset is >= the file name's offset; offsets increase from batch to batch.
// Each batch carries its own CRC32C (attributes..end), which recovery checks; the broker never rewrites a batch
// once it is in the file. The index formats are described in indexes.ts.
//
// Appends are positional writes (fs.writeSync) at the end of the file: once append() returns the bytes are in
// the page cache, so a killed process loses nothing it acknowledged; only fsync (flush) protects against a
// machine crash. The in-memory state (size, nextOffset, index entries, max timestamp) changes only after the
// write succeeded.
//
// A segment opened after a clean shutdown loads its indexes lazily, on first use; the active segment is loaded
// at once to find its end (last index entry + a scan of the batches after it).
//
// Index entries are checked against the .log when used (Kafka trusts them): an offset-index entry must point at
// a batch header whose lastOffset is the entry's offset, the last time-index entry (and any entry a timestamp
// lookup starts from) at the batch holding its offset with its maxTimestamp. A damaged entry that passed the
// load-time sanity check would otherwise make a run of offsets unreachable (a fetch reads garbage as a header
// and returns nothing, forever). On a mismatch both index files are rebuilt from the .log at once (one header
// scan of the segment) and a warn line names the file and the entry; every other rebuild is logged too.
//
// The walks over batch headers and the fetch reads are in segment-read.ts; file names, renames, fsyncs and
// removals in segment-files.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createLogger, type Logger } from '../logger.js';
import { type BatchHeader, LOG_OVERHEAD } from '../protocol/records.js';
import type { LogConfig } from './config.js';
import { offsetEntryMismatch, timeEntryMismatch } from './index-check.js';
import { OffsetIndex, type OffsetPosition, TimeIndex, type TimestampOffset, writeFully } from './indexes.js';
import { LogWindow } from './log-window.js';
import type { ReadBufferPool } from './read-buffers.js';
import {
  deleteFiles,
  fsyncSegmentFiles,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  offsetFileStem,
  renameSuffix,
  TIME_INDEX_SUFFIX,
} from './segment-files.js';
import {
  findBatch,
  findBatchEndingAtOrAfter,
  firstBatchMaxTimestamp,
  type LocatedBatch,
  readBatchAt,
  readBatchesAt,
  walkBatches,
} from './segment-read.js';
import { TransactionIndex } from './txn-index.js';

export { LogWindow } from './log-window.js';
export {
  CLEANED_SUFFIX,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  offsetFileStem,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
} from './segment-files.js';

/** What an append tells the segment about each batch it wrote. */
export interface AppendedBatch {
  /** Position of the batch inside the appended buffer. */
  bufferPos: number;
  size: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface SegmentRead {
  /** Whole batches: a slice from the read pool (or an empty buffer). */
  data: Buffer;
  /** Offset after the last batch in data (== the start offset's batch base when data is empty). */
  nextOffset: number;
}

export type SegmentLoadStatus = 'ok' | 'rebuilt' | 'corrupt';

/** Shared scratch for header scans on the read path (all callers are synchronous, so no overlap). */
const scanScratch = Buffer.allocUnsafe(64 * 1024);
/** For segments created without a logger (fresh segments: their in-memory indexes are never rebuilt). */
const defaultLogger = createLogger('storage');

export class LogSegment {
  /** File names change only while the cleaner swaps a segment in (suffix .cleaned -> .swap -> none). */
  logFile: string;
  indexFile: string;
  timeIndexFile: string;
  /** Bytes in the .log. */
  size: number;
  /** Offset after the last batch (exact once the segment's end is known: active segments, after load). */
  nextOffset: number;
  /** Wall-clock creation (or load) time, for time-based rolls of segments without timestamps. */
  readonly created: number;

  private fd: number;
  private readonly offsetIndex: OffsetIndex;
  private readonly timeIndex: TimeIndex;
  /** Transactions aborted by markers in this segment (the file exists once there is one). */
  readonly txnIndex: TransactionIndex;
  private indexesLoaded: boolean;
  private bytesSinceLastIndexEntry = 0;
  private maxTs = -1;
  private offsetOfMaxTs = -1;
  /** maxTimestamp of the first batch, -1 when unknown/none; null when not read yet. */
  private rollingBaseTimestamp: number | null;
  /** The last read's end, so a consumer's next fetch skips the index lookup and header scan. */
  private readCache: { offset: number; position: number } | null = null;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private config: LogConfig,
    fd: number,
    size: number,
    created: number,
    fresh: boolean,
    private readonly logger: Logger,
    fileSuffix = '',
  ) {
    const stem = path.join(dir, offsetFileStem(baseOffset));
    this.logFile = stem + LOG_SUFFIX + fileSuffix;
    this.indexFile = stem + INDEX_SUFFIX + fileSuffix;
    this.timeIndexFile = stem + TIME_INDEX_SUFFIX + fileSuffix;
    this.fd = fd;
    this.size = size;
    this.nextOffset = baseOffset;
    this.created = created;
    this.offsetIndex = new OffsetIndex(this.indexFile, baseOffset, config.segmentIndexBytes);
    this.timeIndex = new TimeIndex(this.timeIndexFile, baseOffset, config.segmentIndexBytes);
    this.txnIndex = new TransactionIndex(
      TransactionIndex.fileFor(dir, offsetFileStem(baseOffset), fileSuffix),
      logger,
    );
    this.indexesLoaded = fresh;
    this.rollingBaseTimestamp = fresh ? -1 : null;
  }

  /**
   * A new, empty segment (replaces stale files of the same name, e.g. left by a truncation to this offset).
   * fileSuffix: appended to the three file names (the cleaner writes `<offset>.log.cleaned` etc.).
   */
  static create(
    dir: string,
    baseOffset: number,
    config: LogConfig,
    now: number,
    fileSuffix = '',
  ): LogSegment {
    const stem = path.join(dir, offsetFileStem(baseOffset));
    const fd = fs.openSync(stem + LOG_SUFFIX + fileSuffix, 'w+');
    const seg = new LogSegment(dir, baseOffset, config, fd, 0, now, true, defaultLogger, fileSuffix);
    try {
      seg.offsetIndex.reset();
      seg.timeIndex.reset();
      seg.txnIndex.reset();
    } catch (e) {
      seg.release();
      throw e;
    }
    return seg;
  }

  /** An existing segment; its indexes are loaded on first use (rebuilds are reported to logger). */
  static open(dir: string, baseOffset: number, config: LogConfig, now: number, logger: Logger): LogSegment {
    const fd = fs.openSync(path.join(dir, offsetFileStem(baseOffset) + LOG_SUFFIX), 'r+');
    const size = fs.fstatSync(fd).size;
    return new LogSegment(dir, baseOffset, config, fd, size, now, false, logger);
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  // ---- indexes -------------------------------------------------------------------------------------------

  /**
   * Loads the indexes and finds the segment's end: last index entry, then the batches after it. 'rebuilt' when
   * the index files failed the sanity check (or their last entries do not match the .log) and were rebuilt from
   * the .log (logged here), 'corrupt' when the .log does not parse to its end (the caller then runs recovery).
   */
  load(): SegmentLoadStatus {
    if (this.indexesLoaded) return 'ok';
    this.indexesLoaded = true;
    const offsetProblem = this.offsetIndex.load(this.size);
    const timeProblem = this.timeIndex.load(0x7fffffff);
    let problem =
      offsetProblem !== null
        ? `${path.basename(this.indexFile)}: ${offsetProblem}`
        : timeProblem !== null
          ? `${path.basename(this.timeIndexFile)}: ${timeProblem}`
          : null;
    if (problem === null) {
      const win = new LogWindow(this.fd, this.size, scanScratch);
      const last = this.offsetIndex.last();
      problem = this.offsetEntryProblem(win, last) ?? this.lastTimeEntryProblem();
      if (problem === null) {
        const lastTime = this.timeIndex.last();
        if (lastTime !== null) {
          this.maxTs = lastTime.timestamp;
          this.offsetOfMaxTs = lastTime.offset;
        }
        return this.scanFrom(last.position, false) ? 'ok' : 'corrupt';
      }
    }
    return this.rebuildIndexes(problem) ? 'rebuilt' : 'corrupt';
  }

  /**
   * Rebuilds both indexes (and the end offset, max timestamp) from the .log's batch headers and rewrites the
   * files; logs why. False when the .log does not parse to its end (the indexes then cover what does).
   */
  private rebuildIndexes(reason: string): boolean {
    const nextBefore = this.nextOffset;
    this.resetIndexes();
    const complete = this.scanFrom(0, true);
    this.rewriteIndexes();
    this.logger.warn('rebuilt the offset and time indexes of a segment from its .log', {
      file: this.logFile,
      reason,
      entries: this.offsetIndex.entries,
      timeEntries: this.timeIndex.entries,
      ...(complete
        ? {}
        : { problem: 'the .log does not parse to its end; indexed up to the first bad batch' }),
    });
    // A segment whose end was known keeps it when the .log does not parse to its end (recovery's business).
    if (!complete && nextBefore > this.nextOffset) this.nextOffset = nextBefore;
    return complete;
  }

  /**
   * Why an offset-index entry does not point at the header of the batch it names (a batch whose lastOffset is
   * the entry's offset), or null when it does. The segment start (no entry) needs no check.
   */
  private offsetEntryProblem(win: LogWindow, entry: OffsetPosition): string | null {
    if (entry.position === 0 && entry.offset === this.baseOffset) return null;
    const mismatch = offsetEntryMismatch(win, this.size, entry);
    if (mismatch === null) return null;
    return `${path.basename(this.indexFile)}: entry (offset ${entry.offset}, position ${entry.position}) ${mismatch}`;
  }

  /** Why the last time-index entry does not match the batch holding its offset, or null. */
  private lastTimeEntryProblem(): string | null {
    const entry = this.timeIndex.last();
    return entry === null ? null : this.timeEntryProblem(entry);
  }

  /** Why a time-index entry does not name a batch whose maxTimestamp is the entry's timestamp, or null. */
  private timeEntryProblem(entry: TimestampOffset): string | null {
    const win = new LogWindow(this.fd, this.size, scanScratch);
    const header = findBatchEndingAtOrAfter(win, this.size, this.seek(entry.offset), entry.offset)?.header;
    const mismatch = timeEntryMismatch(entry, header);
    if (mismatch === null) return null;
    return `${path.basename(this.timeIndexFile)}: entry (timestamp ${entry.timestamp}, offset ${entry.offset}) ${mismatch}`;
  }

  /**
   * Where to start scanning for `offset`: the offset index's entry, checked against the .log. A damaged entry
   * rebuilds the indexes (logged) and the lookup is repeated on the rebuilt ones; should even that not match (a
   * .log that does not parse), the scan starts at the segment start.
   */
  private seek(offset: number, win: LogWindow = new LogWindow(this.fd, this.size, scanScratch)): number {
    this.load();
    const entry = this.offsetIndex.lookup(offset);
    const problem = this.offsetEntryProblem(win, entry);
    if (problem === null) return entry.position;
    this.rebuildIndexes(problem);
    const again = this.offsetIndex.lookup(offset);
    return this.offsetEntryProblem(win, again) === null ? again.position : 0;
  }

  /** Walks batch headers from pos to the end, updating nextOffset / max timestamp (and indexes when asked). */
  private scanFrom(pos: number, index: boolean): boolean {
    const win = new LogWindow(this.fd, this.size);
    return walkBatches(win, this.size, pos, (position, size, lastOffset, maxTimestamp) => {
      if (index) {
        this.indexBatch(position, size, lastOffset, maxTimestamp);
      } else if (maxTimestamp > this.maxTs) {
        this.maxTs = maxTimestamp;
        this.offsetOfMaxTs = lastOffset;
      }
      if (this.rollingBaseTimestamp === null && position === 0) this.rollingBaseTimestamp = maxTimestamp;
      this.nextOffset = lastOffset + 1;
    });
  }

  /** Forgets all index entries (recovery then feeds every valid batch to indexBatch). */
  resetIndexes(): void {
    this.indexesLoaded = true;
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.bytesSinceLastIndexEntry = 0;
    this.maxTs = -1;
    this.offsetOfMaxTs = -1;
    this.rollingBaseTimestamp = -1;
    this.nextOffset = this.baseOffset;
    this.readCache = null;
  }

  /** Kafka's per-batch index rule: an entry once more than index.interval.bytes were appended since the last. */
  indexBatch(position: number, size: number, lastOffset: number, maxTimestamp: number): void {
    if (maxTimestamp > this.maxTs) {
      this.maxTs = maxTimestamp;
      this.offsetOfMaxTs = lastOffset;
    }
    if (position === 0) this.rollingBaseTimestamp = maxTimestamp;
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      if (this.maxTs >= 0) this.timeIndex.maybeAppend(this.maxTs, this.offsetOfMaxTs);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = lastOffset + 1;
  }

  /** Largest batch maxTimestamp in the segment (-1 when none). */
  get maxTimestamp(): number {
    this.load();
    return this.maxTs;
  }

  /** lastOffset of the first batch carrying maxTimestamp (-1 when none). */
  get offsetOfMaxTimestamp(): number {
    this.load();
    return this.offsetOfMaxTs;
  }

  /** File modification time, Kafka's stand-in for segments without timestamps. */
  lastModified(): number {
    return fs.fstatSync(this.fd).mtimeMs;
  }

  // ---- append --------------------------------------------------------------------------------------------

  /**
   * Kafka's LogSegment.shouldRoll: full by size, too old (first batch's timestamp vs the incoming batches'
   * max timestamp, or creation time without timestamps), index full, or offsets beyond int32 of the base.
   */
  shouldRoll(
    appendBytes: number,
    appendMaxTimestamp: number,
    appendLastOffset: number,
    now: number,
  ): boolean {
    if (this.size === 0) return false;
    if (this.size > this.config.segmentBytes - appendBytes) return true;
    this.load();
    if (this.rollingBaseTimestamp === null) this.readRollingBaseTimestamp();
    const base = this.rollingBaseTimestamp ?? -1;
    const waited = base >= 0 ? appendMaxTimestamp - base : now - this.created;
    if (waited > this.config.segmentMs) return true;
    if (this.offsetIndex.isFull() || this.timeIndex.isFull()) return true;
    return appendLastOffset - this.baseOffset > 0x7fffffff;
  }

  /** maxTimestamp of the first batch (Kafka's getFirstBatchTimestamp, for max.compaction.lag.ms); -1 if none. */
  firstBatchTimestamp(): number {
    if (this.rollingBaseTimestamp === null) this.readRollingBaseTimestamp();
    return this.rollingBaseTimestamp ?? -1;
  }

  private readRollingBaseTimestamp(): void {
    this.rollingBaseTimestamp = firstBatchMaxTimestamp(this.fd, this.size);
  }

  /** Writes data at the end of the .log and indexes its batches. Throws on I/O errors (nothing is recorded). */
  append(data: Buffer, batches: readonly AppendedBatch[]): void {
    this.load();
    const start = this.size;
    try {
      writeFully(this.fd, data, start);
    } catch (e) {
      // Leave no partial batch behind; if even that fails, recovery cuts it at the next start.
      try {
        fs.ftruncateSync(this.fd, start);
      } catch {}
      throw e;
    }
    this.size = start + data.length;
    for (const b of batches) this.indexBatch(start + b.bufferPos, b.size, b.lastOffset, b.maxTimestamp);
  }

  /** The .log's size on disk: larger than `size` only when a failed append could not cut its partial batch. */
  sizeOnDisk(): number {
    return fs.fstatSync(this.fd).size;
  }

  /** Cuts the .log back to `size` (the bytes a failed append left behind). */
  cutToSize(): void {
    fs.ftruncateSync(this.fd, this.size);
  }

  // ---- read ----------------------------------------------------------------------------------------------

  /**
   * Position and header of the batch holding `offset` (the first batch ending at or after it), or null when
   * the segment ends before it.
   */
  locate(offset: number): LocatedBatch | null {
    const win = new LogWindow(this.fd, this.size, scanScratch);
    return findBatchEndingAtOrAfter(win, this.size, this.seek(offset, win), offset);
  }

  /**
   * Whole batches from the one holding startOffset: at most maxBytes (but at least the first batch when
   * minOneBatch), none whose lastOffset >= maxOffsetExclusive. Null when the segment ends before startOffset.
   */
  read(
    startOffset: number,
    maxBytes: number,
    maxOffsetExclusive: number,
    minOneBatch: boolean,
    pool: ReadBufferPool,
  ): SegmentRead | null {
    let position: number;
    const cached = this.readCache;
    if (cached !== null && cached.offset === startOffset) {
      position = cached.position;
    } else {
      const loc = this.locate(startOffset);
      if (loc === null) return null;
      position = loc.position;
    }
    const got = readBatchesAt(this.fd, this.size, position, maxBytes, maxOffsetExclusive, minOneBatch, pool);
    if (got === null) return null;
    if (got.bytes > 0) this.readCache = { offset: got.nextOffset, position: position + got.bytes };
    return got;
  }

  /** One whole batch at a position (for decoding a single batch, e.g. offsetForTimestamp). */
  readBatchAt(position: number): Buffer | null {
    return readBatchAt(this.fd, this.size, position);
  }

  /**
   * The first batch at or after `fromOffset` whose maxTimestamp >= timestamp (Kafka: time index lookup, then
   * offset index, then a scan of batch headers). Null when no batch qualifies.
   */
  findBatchByTimestamp(timestamp: number, fromOffset: number): LocatedBatch | null {
    this.load();
    if (this.maxTs < timestamp) return null;
    let entry: TimestampOffset | null = this.timeIndex.lookup(timestamp);
    const problem = entry === null ? null : this.timeEntryProblem(entry);
    if (problem !== null) {
      this.rebuildIndexes(problem);
      entry = this.timeIndex.lookup(timestamp);
      if (entry !== null && this.timeEntryProblem(entry) !== null) entry = null;
    }
    const startOffset = Math.max(entry?.offset ?? this.baseOffset, fromOffset);
    const win = new LogWindow(this.fd, this.size, scanScratch);
    return findBatch(
      win,
      this.size,
      this.seek(startOffset, win),
      (h) => h.maxTimestamp >= timestamp && h.baseOffset + h.lastOffsetDelta >= fromOffset,
    );
  }

  /** Calls fn for every batch header from the position of `fromOffset` on (producer-state replay). */
  forEachBatchHeader(fromOffset: number, fn: (header: BatchHeader, position: number) => void): void {
    this.load();
    const win = new LogWindow(this.fd, this.size);
    const pos = fromOffset <= this.baseOffset ? 0 : this.seek(fromOffset, win);
    findBatch(win, this.size, pos, (header, position) => {
      if (header.baseOffset + header.lastOffsetDelta >= fromOffset) fn(header, position);
      return false;
    });
  }

  /** For recovery and the cleaner: a window over the whole .log (into buf when given). */
  window(buf: Buffer = Buffer.allocUnsafe(1024 * 1024)): LogWindow {
    return new LogWindow(this.fd, this.size, buf);
  }

  // ---- truncation, flush, lifecycle ----------------------------------------------------------------------

  /** Cuts the .log at a batch boundary (recovery: the first bad batch; the caller rebuilt indexes up to it). */
  truncateToPosition(position: number): number {
    const removed = this.size - position;
    if (removed <= 0) return 0;
    fs.ftruncateSync(this.fd, position);
    this.size = position;
    this.readCache = null;
    return removed;
  }

  /**
   * Drops every batch with baseOffset >= offset (replication truncation). The cut is at a batch boundary; a
   * batch straddling the offset stays whole, as in Kafka. Returns the bytes removed.
   */
  truncateTo(offset: number): number {
    this.load();
    const loc = this.locate(offset);
    if (loc === null) return 0;
    const cut =
      loc.header.baseOffset >= offset ? loc.position : loc.position + LOG_OVERHEAD + loc.header.batchLength;
    if (cut >= this.size) return 0;
    const removed = this.truncateToPosition(cut);
    // Rebuild the in-memory state of the remaining part: the indexes below the cut stay valid.
    this.offsetIndex.truncateTo(offset);
    this.timeIndex.truncateTo(offset);
    this.maxTs = -1;
    this.offsetOfMaxTs = -1;
    const lastTime = this.timeIndex.last();
    if (lastTime !== null) {
      this.maxTs = lastTime.timestamp;
      this.offsetOfMaxTs = lastTime.offset;
    }
    this.nextOffset = this.baseOffset;
    this.rollingBaseTimestamp = null;
    this.scanFrom(this.offsetIndex.last().position, false);
    this.bytesSinceLastIndexEntry = 0;
    this.txnIndex.truncateTo(offset);
    return removed;
  }

  /** Writes pending index entries; fsyncs all three files when sync. */
  flush(sync = true): void {
    if (this.indexesLoaded) {
      this.offsetIndex.flush(sync);
      this.timeIndex.flush(sync);
    }
    if (sync) {
      fs.fsyncSync(this.fd);
      this.txnIndex.flush();
    }
  }

  /** The segment stops being the active one: final time-index entry (as Kafka does), indexes to disk. */
  onBecomeInactive(): void {
    if (!this.indexesLoaded) return;
    if (this.maxTs >= 0) this.timeIndex.maybeAppend(this.maxTs, this.offsetOfMaxTs);
    this.offsetIndex.flush(false);
    this.timeIndex.flush(false);
  }

  /** Rewrites the index files from memory (after recovery rebuilt them). */
  rewriteIndexes(): void {
    this.offsetIndex.rewrite();
    this.timeIndex.rewrite();
  }

  // ---- the cleaner's segments -----------------------------------------------------------------------------

  /**
   * Finishes a segment the cleaner wrote: the final time-index entry, both index files written whole (created
   * even when empty). fsyncCleaned makes all three durable.
   */
  sealCleaned(): void {
    if (this.maxTs >= 0) this.timeIndex.maybeAppend(this.maxTs, this.offsetOfMaxTs);
    this.offsetIndex.rewrite();
    this.timeIndex.rewrite();
  }

  /** fsyncs the .log and both index files without blocking the event loop. */
  fsyncCleaned(): Promise<void> {
    const files = [this.indexFile, this.timeIndexFile, this.txnIndex.file];
    return fsyncSegmentFiles(this.fd, files, this.txnIndex.file);
  }

  /** Sets the .log's modification time (a cleaned segment keeps its newest input's, as in Kafka). */
  setLastModified(ms: number): void {
    fs.futimesSync(this.fd, ms / 1000, ms / 1000);
  }

  /**
   * Renames the three files from suffix `from` to suffix `to` (the .log last, so a renamed .log implies renamed
   * indexes). Open descriptors stay valid. Index files that do not exist are skipped.
   */
  renameFiles(from: string, to: string): void {
    const rename = (file: string): string => renameSuffix(file, from, to, file === this.logFile);
    this.indexFile = rename(this.indexFile);
    this.offsetIndex.file = this.indexFile;
    this.timeIndexFile = rename(this.timeIndexFile);
    this.timeIndex.file = this.timeIndexFile;
    this.txnIndex.file = rename(this.txnIndex.file);
    this.logFile = rename(this.logFile);
  }

  close(): void {
    try {
      this.onBecomeInactive();
    } finally {
      this.release();
    }
  }

  /** Closes the .log's descriptor without writing anything (a segment given up or deleted). */
  release(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {}
    this.fd = -1;
  }

  /** Closes the files and removes them now, or renames them to *.deleted and removes them after delayMs. */
  delete(delayMs: number): void {
    this.release();
    deleteFiles([this.logFile, this.indexFile, this.timeIndexFile, this.txnIndex.file], delayMs);
  }
}
