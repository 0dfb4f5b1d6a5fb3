// The log of one partition: an ordered list of segments (only the last, the active one, takes appends), the
// offsets that bound it, producer state for idempotence and the leader epoch cache.
//
// Directory <topic>-<partition>/:
//   <20-digit offset>.log / .index / .timeindex   segments (segment.ts, indexes.ts)
//   <20-digit offset>.txnindex                    aborted transactions (txn-index.ts; transactions.ts)
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
//
// I/O errors (log-health.ts): a full disk fails appends with KAFKA_STORAGE_ERROR until space is freed (each
// append checks the segment's tail and retries); any other I/O error takes the log dir offline until restart.
//
// Durability: the recovery point (offsets below it are fsynced) moves when flush() fsyncs (flush.messages,
// flush.ms, close) and when the background flush after a roll has fsynced the segments below the new one. The
// LogManager writes it to recovery-point-offset-checkpoint every log.flush.offset.checkpoint.interval.ms.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  type AppendResult,
  appendError,
  type PlannedBatches,
  planAppend,
  planFollowerAppend,
} from './append-plan.js';
import { readOffsetCheckpoint, writeCheckpoint } from './checkpoint.js';
import { lowerCleanerCheckpoint } from './cleaner-checkpoint.js';
import type { LogConfig } from './config.js';
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache } from './leader-epoch-cache.js';
import { LogDurability } from './log-durability.js';
import { LogHealth } from './log-health.js';
import { LOG_START_OFFSET_CHECKPOINT, loadSegments, RECOVERY_POINT_CHECKPOINT } from './log-loader.js';
import { LogSegments } from './log-segments.js';
import { type AppendOrigin, ProducerStateManager, SNAPSHOT_SUFFIX } from './producer-state.js';
import { defaultReadBufferPool, type ReadBufferPool, releaseReadBuffers } from './read-buffers.js';
import { segmentsBreakingRetention } from './retention.js';
import type { LogSegment } from './segment.js';
import { maxTimestampOffset, offsetForTimestamp, type TimestampAndOffset } from './timestamp-lookup.js';
import {
  type AbortedTxnRef,
  abortedTransactions,
  indexAborted,
  lastStableOffset,
  replayProducerState,
} from './transactions.js';
import { buildTxnMarkerBatch, type TxnMarkerInput } from './txn-markers.js';

export type { AppendResult } from './append-plan.js';
export { LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT } from './log-loader.js';

export interface ReadResult {
  errorCode: number;
  /** Whole batches, in offset order. */
  chunks: Buffer[];
  bytes: number;
}

export interface AppendOptions {
  /** 'coordinator': a coordinator's own batches, no duplicate or sequence checks (Kafka's AppendOrigin). */
  origin?: AppendOrigin;
}

export interface OpenOptions {
  /** True when the log dir's clean-shutdown marker was present: skip recovery. Default false (recover). */
  cleanShutdown?: boolean;
  /** Wall clock for segment creation times (tests). */
  now?: number;
  /**
   * Called once when an I/O error other than a full disk took this log offline (the LogManager then takes the
   * rest of the log dir offline too).
   */
  onDirFailure?: (cause: Error) => void;
}

export class PartitionLog {
  readonly name: string;
  private readonly segments: LogSegments;
  private _logStartOffset: number;
  private _logEndOffset: number;
  private _highWatermark: number;
  /** The recovery point and what moves it (log-durability.ts). */
  private readonly durability: LogDurability;
  private closed = false;
  /** Offline after an I/O error, or out of space (log-health.ts). */
  readonly health: LogHealth;
  /** The log start offset moved but its checkpoint could not be written: the next checkpoint() writes it. */
  private logStartCheckpointPending = false;
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
    this.segments = new LogSegments(dir, segments);
    this._logStartOffset = logStartOffset;
    this._logEndOffset = this.active.nextOffset;
    this._highWatermark = this._logEndOffset;
    this.producerState = new ProducerStateManager(dir, logger);
    this.leaderEpochCache = new LeaderEpochCache(path.join(dir, LEADER_EPOCH_CHECKPOINT), logger);
    this.health = new LogHealth(this.name, logger, () => {
      this.segments.epoch++;
    });
    this.durability = new LogDurability({
      dir,
      name: this.name,
      segments: this.segments,
      health: this.health,
      logger,
      recoveryPoint,
      now,
      logEndOffset: () => this._logEndOffset,
      live: () => !this.closed && !this.health.isOffline,
    });
  }

  /**
   * Opens (or creates) the log in dir. Synchronous. After an unclean stop, segments from the recovery point on
   * are validated and cut at the first bad batch (log-loader.ts, recovery.ts); then producer state and the epoch
   * cache load.
   */
  static open(dir: string, config: LogConfig, logger: Logger, options: OpenOptions = {}): PartitionLog {
    const now = options.now ?? Date.now();
    const clean = options.cleanShutdown ?? false;
    const loaded = loadSegments(dir, config, logger, clean, now);
    const { segments, logStartOffset, logEndOffset } = loaded;
    // After a clean shutdown everything was flushed; after a crash only what the last checkpoint says was.
    const saved = clean ? null : readOffsetCheckpoint(path.join(dir, RECOVERY_POINT_CHECKPOINT));
    const recoveryPoint = clean ? logEndOffset : Math.min(Math.max(saved ?? 0, logStartOffset), logEndOffset);
    const log = new PartitionLog(dir, config, logger, segments, logStartOffset, recoveryPoint, now);
    try {
      log.health.onDirFailure = options.onDirFailure ?? null;
      log.leaderEpochCache.load();
      log.leaderEpochCache.truncateFromEnd(logEndOffset);
      log.leaderEpochCache.truncateFromStart(logStartOffset);
      log.loadProducerState(loaded.recoveredFrom);
    } catch (e) {
      for (const s of log.segments.list) s.release();
      throw e;
    }
    logger.info('log loaded', {
      partition: log.name,
      segments: segments.length,
      logStartOffset,
      logEndOffset,
      recovered: !clean,
      recoveryPoint,
      producers: log.producerState.producerCount,
    });
    return log;
  }

  /** Producer state from the newest snapshot plus a replay; rebuilds the .txnindex of recovered segments. */
  private loadProducerState(rebuildTxnIndexFrom: number | null = null): void {
    replayProducerState(
      this.segments.list,
      this.producerState,
      this._logStartOffset,
      this._logEndOffset,
      rebuildTxnIndexFrom,
      (o) => this.segments.indexFor(o),
      this.logger,
    );
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
    this.producerState.onHighWatermark(this._highWatermark);
  }

  /** min(first offset of the oldest open transaction, high watermark): where read_committed consumers stop. */
  get lastStableOffset(): number {
    return lastStableOffset(this.producerState, this._highWatermark, this._logStartOffset);
  }

  /** Aborted transactions with data in [fetchOffset, upperBound) (read_committed); null on a storage error. */
  abortedTransactions(fetchOffset: number, upperBound: number): AbortedTxnRef[] | null {
    return abortedTransactions(
      this.segments.list,
      this.segments.indexFor(fetchOffset),
      fetchOffset,
      upperBound,
      this.health,
    );
  }

  get sizeBytes(): number {
    return this.segments.sizeBytes;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Changes whenever segments are deleted, truncated or closed (retention, DeleteRecords, truncation, close);
   * appends and rolls leave it. A cleaning pass that saw another value must start over.
   */
  get segmentsEpoch(): number {
    return this.segments.epoch;
  }

  /** The segments, oldest first; the last is the active one (the cleaner reads the inactive ones). */
  segmentList(): readonly LogSegment[] {
    return this.segments.list;
  }

  /**
   * The cleaner's in-memory swap (segment-swap.ts does the files): the consecutive segments `old` leave the list
   * and `cleaned` takes their place, in one step. False when `old` is not (any more) a run of inactive segments.
   */
  replaceSegments(old: readonly LogSegment[], cleaned: LogSegment): boolean {
    return this.segments.replace(old, cleaned);
  }

  /** Base offsets of the segments, oldest first (tests, tools). */
  segmentBaseOffsets(): number[] {
    return this.segments.baseOffsets();
  }

  private get active(): LogSegment {
    return this.segments.active;
  }

  // ---- append --------------------------------------------------------------------------------------------

  /**
   * Appends one or more v2 batches (already validated by the broker: CRC, magic, sizes). Assigns offsets from
   * the log end, stamps partitionLeaderEpoch (and maxTimestamp for LogAppendTime, recomputing the CRC), checks
   * producer sequences first (a duplicate returns the original offsets and writes nothing), rolls the segment
   * when needed, writes the bytes as received and fsyncs when flush.messages is reached. The buffer is
   * modified in place.
   */
  append(records: Buffer, leaderEpoch: number, now: number, opts: AppendOptions = {}): AppendResult {
    const refused = this.refuseAppend();
    if (refused !== null) return refused;
    const plan = planAppend(records, {
      logStartOffset: this._logStartOffset,
      logEndOffset: this._logEndOffset,
      producerState: this.producerState,
      leaderEpoch,
      logAppendTime: this.config.messageTimestampType === 'LogAppendTime',
      now,
      origin: opts.origin ?? 'client',
    });
    if (!('appended' in plan)) return plan;
    return this.write(
      records,
      plan,
      now,
      plan.logAppendTime,
      () => {
        if (leaderEpoch >= 0 && leaderEpoch > this.leaderEpochCache.latestEpoch()) {
          this.leaderEpochCache.assign(leaderEpoch, plan.firstOffset);
        }
      },
      () =>
        indexAborted(
          this.producerState.applyAppended(plan.headers, plan.markers),
          this.producerState,
          this.active,
          this.health,
        ),
    );
  }

  /**
   * Writes a transaction marker (Kafka's appendEndTxnMarker, origin coordinator): the producer's open
   * transaction ends; an abort gets its .txnindex entry. INVALID_PRODUCER_EPOCH for an epoch older than the
   * producer's, TRANSACTION_COORDINATOR_FENCED for a coordinator epoch older than the last marker's.
   */
  appendTxnMarker(m: TxnMarkerInput, leaderEpoch: number, now: number): AppendResult {
    return this.append(buildTxnMarkerBatch(m, now), leaderEpoch, now, { origin: 'coordinator' });
  }

  /** KAFKA_STORAGE_ERROR while the log dir is offline; throws when the log is closed (a programming error). */
  private refuseAppend(): AppendResult | null {
    if (this.closed) throw new Error(`log ${this.name} is closed`);
    const offline = this.health.offlineCause;
    if (offline === null) return null;
    return appendError(
      ErrorCode.KAFKA_STORAGE_ERROR,
      `the log dir is offline after ${offline.message}`,
      this._logStartOffset,
    );
  }

  /**
   * The write shared by leader and follower appends: roll if needed, record new leader epochs (before the
   * data they describe), write; then commit the new state (log end, producer state) and fsync when
   * flush.messages is reached. A failure changes nothing in memory (at most an empty new segment was started).
   */
  private write(
    data: Buffer,
    plan: PlannedBatches,
    now: number,
    logAppendTime: number,
    assignEpochs: () => void,
    commitProducers: () => void,
  ): AppendResult {
    try {
      if (this.health.outOfSpace) this.health.checkTail(this.active);
      if (this.active.shouldRoll(data.length, plan.maxTimestamp, plan.lastOffset, now))
        this.rollAt(plan.firstOffset, now);
      assignEpochs();
      this.active.append(data, plan.appended);
    } catch (e) {
      const err = this.health.classify('append', e);
      return appendError(ErrorCode.KAFKA_STORAGE_ERROR, err.message, this._logStartOffset);
    }
    this.health.appended();
    this._logEndOffset = plan.nextOffset;
    commitProducers();
    if (this.durability.appended(plan.messages, this.config.flushIntervalMessages)) {
      try {
        this.flush(now);
      } catch (e) {
        // The records are in the log but not known to be on disk: not acknowledged (a retry may duplicate them).
        const err = this.health.classify('flush', e);
        return appendError(ErrorCode.KAFKA_STORAGE_ERROR, err.message, this._logStartOffset);
      }
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      baseOffset: plan.firstOffset,
      lastOffset: plan.lastOffset,
      logAppendTime,
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
    if (this.health.isOffline) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, chunks: [], bytes: 0 };
    if (fetchOffset < this._logStartOffset || fetchOffset > this._logEndOffset) {
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, chunks: [], bytes: 0 };
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    const limit = Math.min(maxOffsetExclusive, this._logEndOffset);
    try {
      bytes = this.segments.read(fetchOffset, maxBytes, limit, minOneBatch, pool, chunks);
    } catch (e) {
      this.health.classify('read', e);
      releaseReadBuffers(chunks);
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, chunks: [], bytes: 0 };
    }
    return { errorCode: ErrorCode.NONE, chunks, bytes };
  }

  // ---- follower appends ----------------------------------------------------------------------------------

  /**
   * Appends batches fetched from the leader as they are: offsets, leader epochs and timestamps kept, bytes
   * unchanged (Kafka's appendAsFollower). The first batch must start at or after the log end (a compacted
   * leader may have gaps). The leader-epoch cache learns each new epoch from the batches; producer state is
   * rebuilt from them without sequence checks (the leader checked). Batches that do not follow on get
   * CORRUPT_MESSAGE (the fetcher then truncates by epoch and refetches); a trailing partial batch is dropped.
   * I/O errors are handled as for a leader append.
   */
  appendAsFollower(records: Buffer, now = Date.now()): AppendResult {
    const refused = this.refuseAppend();
    if (refused !== null) return refused;
    const plan = planFollowerAppend(records, this._logStartOffset, this._logEndOffset);
    if (!('appended' in plan)) return plan;
    return this.write(
      plan.data,
      plan,
      now,
      -1,
      () => {
        for (const h of plan.headers) {
          if (h.partitionLeaderEpoch >= 0 && h.partitionLeaderEpoch > this.leaderEpochCache.latestEpoch()) {
            this.leaderEpochCache.assign(h.partitionLeaderEpoch, h.baseOffset);
          }
        }
      },
      () => {
        const psm = this.producerState;
        const done = plan.headers.map((h, i) => psm.replay(h, plan.markers[i] ?? null));
        indexAborted(done, psm, this.active, this.health);
      },
    );
  }

  // ---- timestamps ----------------------------------------------------------------------------------------

  /**
   * ListOffsets by timestamp: the first record with timestamp >= ts at or after logStartOffset (decodes one
   * batch; see timestamp-lookup.ts for compressed and LogAppendTime batches). Null when none.
   */
  offsetForTimestamp(ts: number): TimestampAndOffset | null {
    return this.health.guard('offset lookup', () =>
      offsetForTimestamp(this.segments.list, this._logStartOffset, ts, this.logger),
    );
  }

  /** ListOffsets MAX_TIMESTAMP (-3): the first record carrying the largest timestamp; null for an empty log. */
  maxTimestampOffset(): TimestampAndOffset | null {
    return this.health.guard('offset lookup', () =>
      maxTimestampOffset(this.segments.list, this._logStartOffset, this.logger),
    );
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
    let n = 0;
    this.health.guard('delete records', () => {
      this.setLogStartOffset(offset);
      if (offset >= this._logEndOffset && this.active.size > 0) this.rollAt(this._logEndOffset, Date.now());
      while (this.segments.length > 1 && this.segments.list[1]!.baseOffset <= offset) {
        this.deleteOldestSegment('log start offset moved past it');
        n++;
      }
    });
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
    if (this.health.isOffline) return 0;
    return this.health.guard('retention', () => {
      const reasons = segmentsBreakingRetention(this.segments.list, this.config, this._highWatermark, now);
      for (const reason of reasons) this.deleteOldestSegment(reason);
      return reasons.length;
    });
  }

  private deleteOldestSegment(reason: string): void {
    const nextBase = this.segments.list[1]!.baseOffset;
    const seg = this.segments.removeOldest(this.config.fileDeleteDelayMs);
    this.logger.info('segment deleted', {
      partition: this.name,
      file: path.basename(seg.logFile),
      bytes: seg.size,
      reason,
    });
    if (nextBase > this._logStartOffset) this.setLogStartOffset(nextBase);
  }

  /**
   * Moves the log start in memory, then writes its checkpoint. A failed write throws after memory is consistent
   * (the segments below may already be gone); the checkpoint is then written by the next checkpoint().
   */
  private setLogStartOffset(offset: number): void {
    this._logStartOffset = offset;
    if (this._highWatermark < offset) this._highWatermark = offset;
    if (this.durability.recoveryPoint < offset) this.durability.recoveryPoint = offset;
    this.producerState.onLogStartOffsetIncremented(offset);
    this.logStartCheckpointPending = true;
    this.writeLogStartCheckpoint();
  }

  private writeLogStartCheckpoint(): void {
    writeCheckpoint(path.join(this.dir, LOG_START_OFFSET_CHECKPOINT), [[this._logStartOffset]]);
    this.leaderEpochCache.truncateFromStart(this._logStartOffset);
    this.logStartCheckpointPending = false;
  }

  /**
   * Removes every batch with baseOffset >= offset (a follower diverged from its leader). Segments starting at or
   * above offset go; the one holding it is cut at a batch boundary. Producer state is rebuilt.
   */
  truncateTo(offset: number): void {
    if (offset >= this._logEndOffset) return;
    if (offset < this._logStartOffset)
      throw new Error(`truncateTo(${offset}) below the log start ${this._logStartOffset}`);
    this.health.guard('truncation', () => this.truncateNow(offset));
  }

  private truncateNow(offset: number): void {
    const now = Date.now();
    this.segments.epoch++;
    lowerCleanerCheckpoint(this.dir, offset);
    this.segments.truncateTo(offset, this.config, now);
    const removedTo = this._logEndOffset;
    this._logEndOffset = this.active.nextOffset;
    this._highWatermark = Math.min(this._highWatermark, this._logEndOffset);
    this.durability.recoveryPoint = Math.min(this.durability.recoveryPoint, this._logEndOffset);
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
    this.segments.epoch++;
    lowerCleanerCheckpoint(this.dir, 0);
    this.segments.restartAt(offset, this.config, now);
    const from = this._logEndOffset;
    this._logEndOffset = offset;
    this._highWatermark = offset;
    this.durability.recoveryPoint = offset;
    this.setLogStartOffset(offset);
    this.leaderEpochCache.truncateFromEnd(0);
    this.producerState.clear();
    this.producerState.deleteSnapshotsAbove(-1);
    this.logger.info('log truncated fully', { partition: this.name, from, startAt: offset });
  }

  /** Starts a new active segment at the log end (no-op when the active segment is empty). */
  roll(now = Date.now()): void {
    if (this.active.size === 0) return;
    this.health.guard('roll', () => this.rollAt(this._logEndOffset, now));
  }

  /**
   * What can fail comes first and the segment list changes last, so a roll that failed (a full disk) leaves the
   * log as it was; the next append rolls again (LogSegment.create replaces a file the failed attempt left).
   */
  private rollAt(baseOffset: number, now: number): void {
    const old = this.active;
    if (old.size === 0 && old.baseOffset === baseOffset) return;
    this.producerState.takeSnapshot(baseOffset);
    this.segments.roll(baseOffset, this.config, now);
    this.logger.info('segment rolled', { partition: this.name, baseOffset, previousBytes: old.size });
    if (old.size > 0) this.durability.rolled(baseOffset);
  }

  // ---- durability, lifecycle -----------------------------------------------------------------------------

  /**
   * fsyncs segments from the recovery point to the end (and the directory when one of them is new since the
   * last flush, as Kafka's LocalLog.flush does); the recovery point becomes the log end. Throws
   * KafkaStorageError on failure.
   */
  flush(now = Date.now()): void {
    this.durability.flush(this._logEndOffset, now);
  }

  /** For the LogManager's flush.ms timer. */
  flushIfDue(now: number): boolean {
    if (this.health.isOffline) return false;
    if (!this.durability.isDue(now, this.config.flushIntervalMs)) return false;
    this.flush(now);
    return true;
  }

  /** Offsets below this are fsynced (tests, tools). */
  get recoveryPointOffset(): number {
    return this.durability.recoveryPoint;
  }

  /**
   * Persists the recovery point when it moved since the last write, and a log start offset whose checkpoint
   * failed earlier (the LogManager calls this every log.flush.offset.checkpoint.interval.ms and at close).
   */
  checkpointRecoveryPoint(): void {
    if (this.health.isOffline || this.closed) return;
    this.health.guard('checkpoint', () => {
      if (this.logStartCheckpointPending) this.writeLogStartCheckpoint();
      this.durability.checkpoint();
    });
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
    for (const s of this.segments.list) s.updateConfig(config);
  }

  get logConfig(): LogConfig {
    return this.config;
  }

  /**
   * flush + indexes + producer-state snapshot + recovery point; the log is unusable afterwards. A log whose dir
   * is offline only has its files closed.
   */
  close(): void {
    if (this.closed) return;
    if (this.health.isOffline) {
      this.closeForDelete();
      return;
    }
    this.flush();
    this.health.guard('close', () => this.producerState.takeSnapshot(this._logEndOffset));
    this.checkpointRecoveryPoint();
    this.closed = true;
    this.segments.epoch++;
    for (const s of this.segments.list) s.close();
  }

  /** Closes without flushing or snapshots (deleting the partition). */
  closeForDelete(): void {
    if (this.closed) return;
    this.closed = true;
    this.segments.epoch++;
    for (const s of this.segments.list) {
      try {
        s.close();
      } catch {}
    }
  }

  // ---- I/O errors ----------------------------------------------------------------------------------------

  /** Offline (an I/O error in its dir) or not; see health. */
  get isOffline(): boolean {
    return this.health.isOffline;
  }

  /** Names of the snapshot files (tests). */
  snapshotOffsets(): number[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(SNAPSHOT_SUFFIX))
      .map((f) => Number(f.slice(0, 20)));
  }
}
