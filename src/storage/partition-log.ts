// The log of one partition: an ordered list of segments (only the last, the active one, takes appends), the
// offsets that bound it, producer state for idempotence and the leader epoch cache.
//
// Directory <topic>-<partition>/:
//   <20-digit offset>.log / .index / .timeindex   segments (segment.ts, indexes.ts)
//   <20-digit offset>.snapshot                    producer state (producer-state.ts)
//   leader-epoch-checkpoint                       leader epoch cache (leader-epoch-cache.ts)
//   log-start-offset-checkpoint                   "0\n1\n<logStartOffset>\n", written when it moves
//   recovery-point-offset-checkpoint              "0\n1\n<recoveryPoint>\n", everything below is fsynced
//   cleaner-offset-checkpoint, *.cleaned, *.swap  compacted logs: the log cleaner (cleaner.ts, segment-swap.ts)
//
// One serial owner, no await: every method runs to completion and changes state only after its I/O succeeded
// (compute, then commit). Offsets: logStartOffset <= highWatermark <= logEndOffset; recoveryPoint <= LEO.
// The high watermark starts at the log end offset on open (a single replica owns all it has); the broker (or
// later replication) moves it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  type BatchHeader,
  LOG_OVERHEAD,
  MAGIC_V2,
  readBatchHeader,
  setBaseOffset,
  setMaxTimestampAndLogAppend,
  setPartitionLeaderEpoch,
} from '../protocol/records.js';
import { writeCheckpoint } from './checkpoint.js';
import { lowerCleanerCheckpoint } from './cleaner-checkpoint.js';
import type { LogConfig } from './config.js';
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache } from './leader-epoch-cache.js';
import { LOG_START_OFFSET_CHECKPOINT, loadSegments, RECOVERY_POINT_CHECKPOINT } from './log-loader.js';
import { type ProducerEntry, ProducerStateManager, SNAPSHOT_SUFFIX } from './producer-state.js';
import { defaultReadBufferPool, type ReadBufferPool } from './read-buffers.js';
import { type AppendedBatch, LogSegment } from './segment.js';
import { maxTimestampOffset, offsetForTimestamp, type TimestampAndOffset } from './timestamp-lookup.js';

export { LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT } from './log-loader.js';

export interface AppendResult {
  errorCode: number;
  /** Why the append was refused (for the broker's log line), null on success. */
  errorMessage: string | null;
  /** Offset of the first record written (or of the original batch, for a duplicate); -1 on error. */
  baseOffset: number;
  lastOffset: number;
  /** The broker's timestamp for LogAppendTime topics, -1 otherwise. */
  logAppendTime: number;
  logStartOffset: number;
  /** True when the batch was a retry of one already in the log: nothing was written. */
  duplicate: boolean;
}

export interface ReadResult {
  errorCode: number;
  /** Whole batches, in offset order. */
  chunks: Buffer[];
  bytes: number;
}

export interface OpenOptions {
  /** True when the log dir's clean-shutdown marker was present: skip recovery. Default false (recover). */
  cleanShutdown?: boolean;
  /** Wall clock for segment creation times (tests). */
  now?: number;
}

function appendError(errorCode: number, errorMessage: string, logStartOffset: number): AppendResult {
  return {
    errorCode,
    errorMessage,
    baseOffset: -1,
    lastOffset: -1,
    logAppendTime: -1,
    logStartOffset,
    duplicate: false,
  };
}

export class PartitionLog {
  readonly name: string;
  private segments: LogSegment[];
  private _logStartOffset: number;
  private _logEndOffset: number;
  private _highWatermark: number;
  /** Offsets below this are fsynced. */
  private recoveryPoint: number;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private closed = false;
  /** Set after an I/O error: the log refuses appends until reopened (Kafka takes the log dir offline). */
  private failed: Error | null = null;
  /** Bumped whenever segments are removed or cut (not by appends and rolls): the cleaner's abort signal. */
  private _segmentsEpoch = 0;
  readonly producerState: ProducerStateManager;
  readonly leaderEpochCache: LeaderEpochCache;

  private constructor(
    readonly dir: string,
    private config: LogConfig,
    private readonly logger: Logger,
    segments: LogSegment[],
    logStartOffset: number,
    recoveryPoint: number,
    now: number,
  ) {
    this.name = path.basename(dir);
    this.segments = segments;
    this._logStartOffset = logStartOffset;
    this._logEndOffset = this.active.nextOffset;
    this._highWatermark = this._logEndOffset;
    this.recoveryPoint = recoveryPoint;
    this.lastFlushMs = now;
    this.producerState = new ProducerStateManager(dir, logger);
    this.leaderEpochCache = new LeaderEpochCache(path.join(dir, LEADER_EPOCH_CHECKPOINT), logger);
  }

  /**
   * Opens (or creates) the log in dir. Synchronous. After an unclean stop, segments from the recovery point on
   * are validated and cut at the first bad batch (log-loader.ts, recovery.ts); then producer state and the epoch
   * cache load.
   */
  static open(dir: string, config: LogConfig, logger: Logger, options: OpenOptions = {}): PartitionLog {
    const now = options.now ?? Date.now();
    const clean = options.cleanShutdown ?? false;
    const { segments, logStartOffset, logEndOffset } = loadSegments(dir, config, logger, clean, now);
    const log = new PartitionLog(dir, config, logger, segments, logStartOffset, logEndOffset, now);
    log.leaderEpochCache.load();
    log.leaderEpochCache.truncateFromEnd(logEndOffset);
    log.leaderEpochCache.truncateFromStart(logStartOffset);
    log.loadProducerState();
    logger.info('log loaded', {
      partition: log.name,
      segments: segments.length,
      logStartOffset,
      logEndOffset,
      recovered: !clean,
      producers: log.producerState.producerCount,
    });
    return log;
  }

  private loadProducerState(): void {
    const psm = this.producerState;
    psm.deleteSnapshotsAbove(this._logEndOffset);
    let from = psm.loadLatestSnapshot(this._logEndOffset);
    if (from < 0) from = this._logStartOffset;
    const start = this.segmentIndexFor(from);
    for (let i = start; i < this.segments.length; i++) {
      this.segments[i]!.forEachBatchHeader(from, (h) => psm.replay(h));
    }
    psm.onLogStartOffsetIncremented(this._logStartOffset);
  }

  // ---- offsets -------------------------------------------------------------------------------------------

  get logStartOffset(): number {
    return this._logStartOffset;
  }

  get logEndOffset(): number {
    return this._logEndOffset;
  }

  get highWatermark(): number {
    return this._highWatermark;
  }

  /** Clamped to [logStartOffset, logEndOffset]. */
  set highWatermark(offset: number) {
    this._highWatermark = Math.min(Math.max(offset, this._logStartOffset), this._logEndOffset);
  }

  get sizeBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Changes whenever segments are deleted, truncated or closed (retention, DeleteRecords, truncation, close);
   * appends and rolls leave it. A cleaning pass that saw another value must start over.
   */
  get segmentsEpoch(): number {
    return this._segmentsEpoch;
  }

  /** The segments, oldest first; the last is the active one (the cleaner reads the inactive ones). */
  segmentList(): readonly LogSegment[] {
    return this.segments;
  }

  /**
   * The cleaner's in-memory swap (segment-swap.ts does the files): the consecutive segments `old` leave the list
   * and `cleaned` takes their place, in one step. False when `old` is not (any more) a run of inactive segments.
   */
  replaceSegments(old: readonly LogSegment[], cleaned: LogSegment): boolean {
    const i = this.segments.indexOf(old[0]!);
    if (i < 0 || i + old.length >= this.segments.length) return false;
    for (let j = 0; j < old.length; j++) if (this.segments[i + j] !== old[j]) return false;
    this.segments = [...this.segments.slice(0, i), cleaned, ...this.segments.slice(i + old.length)];
    return true;
  }

  /** Base offsets of the segments, oldest first (tests, tools). */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Index of the segment holding offset (the last with baseOffset <= offset; 0 when below all). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  // ---- append --------------------------------------------------------------------------------------------

  /**
   * Appends one or more v2 batches (already validated by the broker: CRC, magic, sizes). Assigns offsets from
   * the log end, stamps partitionLeaderEpoch (and maxTimestamp for LogAppendTime, recomputing the CRC), checks
   * producer sequences first (a duplicate returns the original offsets and writes nothing), rolls the segment
   * when needed, writes the bytes as received and fsyncs when flush.messages is reached. The buffer is
   * modified in place.
   */
  append(records: Buffer, leaderEpoch: number, now: number): AppendResult {
    if (this.closed) throw new Error(`log ${this.name} is closed`);
    if (this.failed !== null) {
      return appendError(
        ErrorCode.KAFKA_STORAGE_ERROR,
        `log is offline after ${this.failed.message}`,
        this._logStartOffset,
      );
    }
    // 1. Walk the batches, assign offsets (tentatively) and check producer state. Nothing is changed yet.
    const headers: BatchHeader[] = [];
    const positions: number[] = [];
    const pending = new Map<number, ProducerEntry>();
    let next = this._logEndOffset;
    let pos = 0;
    let messages = 0;
    let maxTimestamp = -1;
    while (pos < records.length) {
      if (pos + BATCH_HEADER_BYTES > records.length) {
        return appendError(
          ErrorCode.CORRUPT_MESSAGE,
          `${records.length - pos} trailing bytes after the last batch`,
          this._logStartOffset,
        );
      }
      const h = readBatchHeader(records, pos);
      if (
        h.magic !== MAGIC_V2 ||
        h.batchLength < BATCH_LENGTH_MIN ||
        pos + LOG_OVERHEAD + h.batchLength > records.length
      ) {
        return appendError(ErrorCode.CORRUPT_MESSAGE, `malformed batch at byte ${pos}`, this._logStartOffset);
      }
      if (h.lastOffsetDelta < 0) {
        return appendError(
          ErrorCode.CORRUPT_MESSAGE,
          `negative lastOffsetDelta at byte ${pos}`,
          this._logStartOffset,
        );
      }
      h.baseOffset = next;
      const check = this.producerState.check(h, pending);
      if (check.kind === 'duplicate') {
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          baseOffset: check.batch.firstOffset,
          lastOffset: check.batch.lastOffset,
          logAppendTime: this.config.messageTimestampType === 'LogAppendTime' ? check.batch.timestamp : -1,
          logStartOffset: this._logStartOffset,
          duplicate: true,
        };
      }
      if (check.kind === 'error') return appendError(check.errorCode, check.message, this._logStartOffset);
      headers.push(h);
      positions.push(pos);
      next += h.lastOffsetDelta + 1;
      messages += h.recordCount;
      maxTimestamp = Math.max(maxTimestamp, h.maxTimestamp);
      pos += LOG_OVERHEAD + h.batchLength;
    }
    if (headers.length === 0)
      return appendError(ErrorCode.CORRUPT_MESSAGE, 'no record batch', this._logStartOffset);

    // 2. Stamp offsets, leader epoch, log-append time.
    const logAppend = this.config.messageTimestampType === 'LogAppendTime';
    const appended: AppendedBatch[] = [];
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      const p = positions[i]!;
      setBaseOffset(records, p, h.baseOffset);
      setPartitionLeaderEpoch(records, p, leaderEpoch);
      h.partitionLeaderEpoch = leaderEpoch;
      if (logAppend) {
        setMaxTimestampAndLogAppend(records, p, now);
        h.maxTimestamp = now;
      }
      appended.push({
        bufferPos: p,
        size: LOG_OVERHEAD + h.batchLength,
        lastOffset: h.baseOffset + h.lastOffsetDelta,
        maxTimestamp: h.maxTimestamp,
      });
    }
    if (logAppend) maxTimestamp = now;
    const firstOffset = headers[0]!.baseOffset;
    const lastOffset = next - 1;

    // 3. Roll if needed, write, then commit the new state.
    try {
      if (this.active.shouldRoll(records.length, maxTimestamp, lastOffset, now))
        this.rollAt(firstOffset, now);
      this.active.append(records, appended);
    } catch (e) {
      this.failed = e as Error;
      this.logger.error('append failed, log taken offline', { partition: this.name, error: e });
      return appendError(ErrorCode.KAFKA_STORAGE_ERROR, (e as Error).message, this._logStartOffset);
    }
    this._logEndOffset = next;
    this.producerState.applyAppended(headers);
    if (leaderEpoch >= 0 && leaderEpoch > this.leaderEpochCache.latestEpoch()) {
      this.leaderEpochCache.assign(leaderEpoch, firstOffset);
    }
    this.unflushedMessages += messages;
    if (this.unflushedMessages >= this.config.flushIntervalMessages) this.flush(now);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      baseOffset: firstOffset,
      lastOffset,
      logAppendTime: logAppend ? now : -1,
      logStartOffset: this._logStartOffset,
      duplicate: false,
    };
  }

  // ---- read ----------------------------------------------------------------------------------------------

  /**
   * Whole batches from the one holding fetchOffset, at most maxBytes in total (but the first batch whole when
   * minOneBatch, KIP-74), none with an offset >= maxOffsetExclusive (the high watermark for consumers). May
   * span segments. OFFSET_OUT_OF_RANGE when fetchOffset is outside [logStartOffset, logEndOffset].
   * Chunks are page-aligned slices from `pool` (read-buffers.ts), valid until passed to releaseReadBuffers
   * (which a caller may do once it wrote them out, so the memory is recycled). No record is decoded.
   */
  read(
    fetchOffset: number,
    maxBytes: number,
    maxOffsetExclusive: number,
    minOneBatch: boolean,
    pool: ReadBufferPool = defaultReadBufferPool,
  ): ReadResult {
    if (fetchOffset < this._logStartOffset || fetchOffset > this._logEndOffset) {
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, chunks: [], bytes: 0 };
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    const limit = Math.min(maxOffsetExclusive, this._logEndOffset);
    let offset = fetchOffset;
    for (let i = this.segmentIndexFor(offset); i < this.segments.length && offset < limit; i++) {
      const seg = this.segments[i]!;
      const remaining = maxBytes - bytes;
      const first = chunks.length === 0;
      if (!first && remaining < BATCH_HEADER_BYTES) break;
      const r = seg.read(offset, Math.max(remaining, 0), limit, first && minOneBatch, pool);
      if (r === null) continue;
      if (r.data.length === 0) break;
      chunks.push(r.data);
      bytes += r.data.length;
      offset = r.nextOffset;
      if (r.nextOffset < (this.segments[i + 1]?.baseOffset ?? Number.POSITIVE_INFINITY)) {
        // Stopped inside this segment: the byte or offset limit was reached.
        break;
      }
    }
    return { errorCode: ErrorCode.NONE, chunks, bytes };
  }

  // ---- follower appends ----------------------------------------------------------------------------------

  /**
   * Appends batches fetched from the leader as they are: offsets, leader epochs and timestamps kept, bytes
   * unchanged (Kafka's appendAsFollower). The first batch must start at or after the log end (a compacted
   * leader may have gaps). The leader-epoch cache learns each new epoch from the batches; producer state is
   * rebuilt from them without sequence checks (the leader checked). Returns the new log end offset, or throws
   * for batches that do not follow on (the fetcher then truncates and refetches). I/O errors take the log
   * offline as for a leader append.
   */
  appendAsFollower(records: Buffer, now = Date.now()): AppendResult {
    if (this.closed) throw new Error(`log ${this.name} is closed`);
    if (this.failed !== null) {
      return appendError(
        ErrorCode.KAFKA_STORAGE_ERROR,
        `log is offline after ${this.failed.message}`,
        this._logStartOffset,
      );
    }
    const headers: BatchHeader[] = [];
    const appended: AppendedBatch[] = [];
    let pos = 0;
    let expected = this._logEndOffset;
    let maxTimestamp = -1;
    let messages = 0;
    while (pos + BATCH_HEADER_BYTES <= records.length) {
      const h = readBatchHeader(records, pos);
      const size = LOG_OVERHEAD + h.batchLength;
      if (h.magic !== MAGIC_V2 || h.batchLength < BATCH_LENGTH_MIN || pos + size > records.length) break;
      if (h.baseOffset < expected) {
        return appendError(
          ErrorCode.CORRUPT_MESSAGE,
          `batch at offset ${h.baseOffset} from the leader is below the log end ${expected}`,
          this._logStartOffset,
        );
      }
      headers.push(h);
      appended.push({
        bufferPos: pos,
        size,
        lastOffset: h.baseOffset + h.lastOffsetDelta,
        maxTimestamp: h.maxTimestamp,
      });
      expected = h.baseOffset + h.lastOffsetDelta + 1;
      maxTimestamp = Math.max(maxTimestamp, h.maxTimestamp);
      messages += h.recordCount;
      pos += size;
    }
    if (headers.length === 0) {
      return appendError(ErrorCode.CORRUPT_MESSAGE, 'no whole record batch', this._logStartOffset);
    }
    const first = headers[0]!;
    const lastOffset = expected - 1;
    const data = pos === records.length ? records : records.subarray(0, pos);
    try {
      if (this.active.shouldRoll(data.length, maxTimestamp, lastOffset, now))
        this.rollAt(first.baseOffset, now);
      this.active.append(data, appended);
    } catch (e) {
      this.failed = e as Error;
      this.logger.error('follower append failed, log taken offline', { partition: this.name, error: e });
      return appendError(ErrorCode.KAFKA_STORAGE_ERROR, (e as Error).message, this._logStartOffset);
    }
    this._logEndOffset = expected;
    for (const h of headers) {
      this.producerState.replay(h);
      if (h.partitionLeaderEpoch >= 0 && h.partitionLeaderEpoch > this.leaderEpochCache.latestEpoch()) {
        this.leaderEpochCache.assign(h.partitionLeaderEpoch, h.baseOffset);
      }
    }
    this.unflushedMessages += messages;
    if (this.unflushedMessages >= this.config.flushIntervalMessages) this.flush(now);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      baseOffset: first.baseOffset,
      lastOffset,
      logAppendTime: -1,
      logStartOffset: this._logStartOffset,
      duplicate: false,
    };
  }

  // ---- timestamps ----------------------------------------------------------------------------------------

  /**
   * ListOffsets by timestamp: the first record with timestamp >= ts at or after logStartOffset (decodes one
   * batch; see timestamp-lookup.ts for compressed and LogAppendTime batches). Null when none.
   */
  offsetForTimestamp(ts: number): TimestampAndOffset | null {
    return offsetForTimestamp(this.segments, this._logStartOffset, ts, this.logger);
  }

  /** ListOffsets MAX_TIMESTAMP (-3): the first record carrying the largest timestamp; null for an empty log. */
  maxTimestampOffset(): TimestampAndOffset | null {
    return maxTimestampOffset(this.segments, this._logStartOffset, this.logger);
  }

  /** OffsetForLeaderEpoch (Kafka's LeaderEpochFileCache.endOffsetFor). */
  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: number } {
    return this.leaderEpochCache.endOffsetFor(epoch, this._logEndOffset);
  }

  // ---- deletion, retention, truncation -------------------------------------------------------------------

  /** DeleteRecords: moves logStartOffset up to `offset` (<= highWatermark) and deletes segments wholly below. */
  deleteRecordsBefore(offset: number): void {
    if (offset <= this._logStartOffset) return;
    if (offset > this._highWatermark)
      throw new Error(`deleteRecordsBefore(${offset}) beyond the high watermark ${this._highWatermark}`);
    this.setLogStartOffset(offset);
    if (offset >= this._logEndOffset && this.active.size > 0) this.rollAt(this._logEndOffset, Date.now());
    let n = 0;
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= offset) {
      this.deleteOldestSegment('log start offset moved past it');
      n++;
    }
    this.logger.info('log start offset moved', {
      partition: this.name,
      logStartOffset: offset,
      segmentsDeleted: n,
    });
  }

  /**
   * Deletes the oldest segments that break retention.ms (newest timestamp older than now - retention.ms; the
   * file's mtime for segments without timestamps) or retention.bytes (total size above it). Never the active
   * segment, never one that is not wholly below the high watermark. Returns the number deleted.
   */
  enforceRetention(now: number): number {
    let deleted = 0;
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0) {
      while (this.segments.length > 1 && this.deletableByHighWatermark()) {
        const seg = this.segments[0]!;
        const newest = seg.maxTimestamp >= 0 ? seg.maxTimestamp : seg.lastModified();
        if (now - newest <= retentionMs) break;
        this.deleteOldestSegment(
          `retention.ms ${retentionMs} breached: newest timestamp ${newest} is ${now - newest} ms old`,
        );
        deleted++;
      }
    }
    if (retentionBytes >= 0) {
      let excess = this.sizeBytes - retentionBytes;
      while (
        this.segments.length > 1 &&
        this.deletableByHighWatermark() &&
        excess - this.segments[0]!.size >= 0
      ) {
        const size = this.sizeBytes;
        excess -= this.segments[0]!.size;
        this.deleteOldestSegment(`retention.bytes ${retentionBytes} breached: log is ${size} bytes`);
        deleted++;
      }
    }
    return deleted;
  }

  private deletableByHighWatermark(): boolean {
    return this.segments.length > 1 && this.segments[1]!.baseOffset <= this._highWatermark;
  }

  private deleteOldestSegment(reason: string): void {
    const seg = this.segments[0]!;
    const nextBase = this.segments[1]!.baseOffset;
    this.segments = this.segments.slice(1);
    this._segmentsEpoch++;
    seg.delete(this.config.fileDeleteDelayMs);
    this.logger.info('segment deleted', {
      partition: this.name,
      file: path.basename(seg.logFile),
      bytes: seg.size,
      reason,
    });
    if (nextBase > this._logStartOffset) this.setLogStartOffset(nextBase);
  }

  private setLogStartOffset(offset: number): void {
    this._logStartOffset = offset;
    if (this._highWatermark < offset) this._highWatermark = offset;
    if (this.recoveryPoint < offset) this.recoveryPoint = offset;
    writeCheckpoint(path.join(this.dir, LOG_START_OFFSET_CHECKPOINT), [[offset]]);
    this.leaderEpochCache.truncateFromStart(offset);
    this.producerState.onLogStartOffsetIncremented(offset);
  }

  /**
   * Removes every batch with baseOffset >= offset (a follower diverged from its leader). Segments starting at or
   * above offset go; the one holding it is cut at a batch boundary. Producer state is rebuilt.
   */
  truncateTo(offset: number): void {
    if (offset >= this._logEndOffset) return;
    if (offset < this._logStartOffset)
      throw new Error(`truncateTo(${offset}) below the log start ${this._logStartOffset}`);
    const now = Date.now();
    this._segmentsEpoch++;
    lowerCleanerCheckpoint(this.dir, offset);
    while (this.segments.length > 1 && this.active.baseOffset >= offset) {
      const seg = this.segments.pop()!;
      seg.delete(0);
    }
    if (this.active.baseOffset >= offset) {
      const old = this.segments.pop()!;
      old.delete(0);
      this.segments.push(LogSegment.create(this.dir, offset, this.config, now));
    } else {
      this.active.truncateTo(offset);
    }
    const removedTo = this._logEndOffset;
    this._logEndOffset = this.active.nextOffset;
    this._highWatermark = Math.min(this._highWatermark, this._logEndOffset);
    this.recoveryPoint = Math.min(this.recoveryPoint, this._logEndOffset);
    this.leaderEpochCache.truncateFromEnd(this._logEndOffset);
    this.loadProducerState();
    this.logger.info('log truncated', { partition: this.name, from: removedTo, to: this._logEndOffset });
  }

  /**
   * Empties the log and restarts it at `offset` (a follower that fell behind its leader's log start, Kafka's
   * truncateFullyAndStartAt): every segment goes, log start = log end = high watermark = offset.
   */
  truncateFullyAndStartAt(offset: number): void {
    const now = Date.now();
    this._segmentsEpoch++;
    lowerCleanerCheckpoint(this.dir, 0);
    while (this.segments.length > 0) this.segments.pop()!.delete(0);
    this.segments.push(LogSegment.create(this.dir, offset, this.config, now));
    const from = this._logEndOffset;
    this._logEndOffset = offset;
    this._highWatermark = offset;
    this.recoveryPoint = offset;
    this.setLogStartOffset(offset);
    this.leaderEpochCache.truncateFromEnd(0);
    this.producerState.clear();
    this.producerState.deleteSnapshotsAbove(-1);
    this.logger.info('log truncated fully', { partition: this.name, from, startAt: offset });
  }

  /** Starts a new active segment at the log end (no-op when the active segment is empty). */
  roll(now = Date.now()): void {
    if (this.active.size === 0) return;
    this.rollAt(this._logEndOffset, now);
  }

  private rollAt(baseOffset: number, now: number): void {
    const old = this.active;
    if (old.size === 0 && old.baseOffset === baseOffset) return;
    const seg = LogSegment.create(this.dir, baseOffset, this.config, now);
    if (old.size === 0) {
      this.segments.pop();
      old.delete(0);
    } else {
      old.onBecomeInactive();
    }
    this.segments.push(seg);
    this.producerState.takeSnapshot(baseOffset);
    this.logger.info('segment rolled', { partition: this.name, baseOffset, previousBytes: old.size });
    // Kafka flushes the rolled segment in the background; the recovery point follows once it is on disk.
    if (old.size > 0) {
      const fd = fs.openSync(old.logFile, 'r');
      fs.fsync(fd, (err) => {
        fs.close(fd, () => {});
        if (err === null && !this.closed && this.recoveryPoint < baseOffset) this.recoveryPoint = baseOffset;
      });
    }
  }

  // ---- durability, lifecycle -----------------------------------------------------------------------------

  /** fsyncs segments from the recovery point to the end; the recovery point becomes the log end. */
  flush(now = Date.now()): void {
    const from = this.segmentIndexFor(this.recoveryPoint);
    for (let i = from; i < this.segments.length; i++) this.segments[i]!.flush(true);
    this.recoveryPoint = this._logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushMs = now;
  }

  /** For the LogManager's flush.ms timer. */
  flushIfDue(now: number): boolean {
    if (this.unflushedMessages === 0 || now - this.lastFlushMs < this.config.flushIntervalMs) return false;
    this.flush(now);
    return true;
  }

  /** Persists the recovery point (the LogManager does this periodically and at close). */
  checkpointRecoveryPoint(): void {
    writeCheckpoint(path.join(this.dir, RECOVERY_POINT_CHECKPOINT), [[this.recoveryPoint]]);
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
    for (const s of this.segments) s.updateConfig(config);
  }

  get logConfig(): LogConfig {
    return this.config;
  }

  /** flush + indexes + producer-state snapshot + recovery point; the log is unusable afterwards. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.producerState.takeSnapshot(this._logEndOffset);
    this.checkpointRecoveryPoint();
    this.closed = true;
    this._segmentsEpoch++;
    for (const s of this.segments) s.close();
  }

  /** Closes without flushing or snapshots (deleting the partition). */
  closeForDelete(): void {
    if (this.closed) return;
    this.closed = true;
    this._segmentsEpoch++;
    for (const s of this.segments) {
      try {
        s.close();
      } catch {}
    }
  }

  /** Names of the snapshot files (tests). */
  snapshotOffsets(): number[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(SNAPSHOT_SUFFIX))
      .map((f) => Number(f.slice(0, 20)));
  }
}
