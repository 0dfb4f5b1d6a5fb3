// The log cleaner (Kafka's LogCleaner): compaction of logs whose cleanup.policy includes 'compact'. Below the
// cleaning point only the latest record of each key is kept; tombstones (null values) are kept for
// delete.retention.ms after their batch was first cleaned, then dropped; records keep their offsets.
//
// One cleaner per LogManager cleans one log at a time, in slices on the event loop: the work between two awaits is
// bounded by cleanerSliceBytesMax / cleanerSliceMsMax (src/limits.ts), then the pass yields (setImmediate), and
// after every await it checks that the log is still the one it started on before it touches anything.
//
// States:
//   idle      waiting log.cleaner.backoff.ms. Then each compacted log's cleanable range is measured
//             (cleanableRange) and the filthiest log that is due is picked; none due -> idle again.
//   mapping   reading the dirty section [firstDirtyOffset, firstUncleanableOffset) batch by batch, recording each
//             key's latest offset in the OffsetMap (offset-map.ts), until the section ends or the map would
//             overflow. endOffset = the offset after the last mapped batch.
//   cleaning  rewriting the inactive segments that start below endOffset, grouped up to segment.bytes, each group
//             into one <base>.log.cleaned (batch-filter.ts decides per record). A group whose only segment came
//             out unchanged is dropped instead of swapped.
//   swapping  per group, one synchronous step: the cleaned segment replaces the group in the log's segment list
//             and on disk (segment-swap.ts), so a reader sees either the old segments or the new one.
//   done      the cleaner checkpoint (cleaner-checkpoint.ts) moves to endOffset; one log line with the pass's
//             numbers; back to picking the next log (idle when none is due).
//   aborted   the log changed under the pass (its segmentsEpoch moved: retention, DeleteRecords, truncation,
//             close or deletion), its policy stopped compacting, or the cleaner stopped. The group being written
//             is deleted; groups already swapped stay (each is a complete replacement); the checkpoint stays. The
//             next pass starts over from the checkpoint.
//
// When a log is due (Kafka's LogCleanerManager): its dirty bytes / (clean + dirty bytes) exceed
// min.cleanable.dirty.ratio, or its oldest dirty batch is older than max.compaction.lag.ms, or a cleaned tombstone's
// delete horizon passed. The cleanable range ends at the first of: the active segment, the high watermark, the
// first segment with a record newer than min.compaction.lag.ms.
//
// Batches kept as they are: control and transactional batches (no transactions yet) and batches at or above
// endOffset. An emptied batch that is the last batch of a producer still in producer state is kept with no
// records (Kafka's RETAIN_EMPTY); other emptied batches go.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  cleanerBatchBytesMax,
  cleanerDedupeKeysMax,
  cleanerSliceBytesMax,
  cleanerSliceMsMax,
} from '../limits.js';
import type { Logger } from '../logger.js';
import { compress, decompress } from '../protocol/compression.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  type BatchHeader,
  compressionOf,
  hasDeleteHorizon,
  isControl,
  isTransactional,
  LOG_OVERHEAD,
  readBatchHeader,
} from '../protocol/records.js';
import { assembleBatch, emptyBatch, encodeKept, mapKeys, selectRecords } from './batch-filter.js';
import {
  type CleanerCheckpoint,
  readCleanerCheckpoint,
  writeCleanerCheckpoint,
} from './cleaner-checkpoint.js';
import type { LogConfig } from './config.js';
import { OffsetMap } from './offset-map.js';
import type { PartitionLog } from './partition-log.js';
import { type AppendedBatch, CLEANED_SUFFIX, LogSegment, type LogWindow } from './segment.js';
import { type SwapStepHook, swapInCleaned, writeSwapMarker } from './segment-swap.js';

export type CleanerState = 'idle' | 'mapping' | 'cleaning' | 'stopped';

export interface CleanerOptions {
  /** log.cleaner.backoff.ms: the pause when no log is due (default 15000). */
  backoffMs?: number;
  /** Distinct keys per pass (default cleanerDedupeKeysMax). */
  dedupeKeysMax?: number;
  sliceBytesMax?: number;
  sliceMsMax?: number;
  /** The clock (tests move it to expire tombstones). */
  now?: () => number;
  /** Test hook: called at each step of a swap. */
  swapHook?: SwapStepHook;
}

export function compacts(config: LogConfig): boolean {
  return config.cleanupPolicy !== 'delete';
}

export interface CleanableRange {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  cleanBytes: number;
  dirtyBytes: number;
  dirtyRatio: number;
  /** The oldest dirty batch is older than max.compaction.lag.ms. */
  lagForced: boolean;
  /** A cleaned tombstone's delete horizon has passed. */
  horizonDue: boolean;
  /** Worth a pass now. */
  due: boolean;
}

/** How much of the log is cleanable and whether a pass is due (Kafka's LogCleanerManager.cleanableOffsets). */
export function cleanableRange(log: PartitionLog, now: number, cp: CleanerCheckpoint | null): CleanableRange {
  const segs = log.segmentList();
  const config = log.logConfig;
  const active = segs[segs.length - 1]!;
  let uncleanable = Math.min(active.baseOffset, log.highWatermark);
  let firstDirty = cp?.firstDirtyOffset ?? log.logStartOffset;
  if (firstDirty < log.logStartOffset || firstDirty > log.logEndOffset) firstDirty = log.logStartOffset;
  if (config.minCompactionLagMs > 0) {
    for (let i = 0; i < segs.length - 1; i++) {
      const seg = segs[i]!;
      if (segs[i + 1]!.baseOffset <= firstDirty) continue;
      if (seg.baseOffset >= uncleanable) break;
      if (seg.maxTimestamp > now - config.minCompactionLagMs) {
        uncleanable = Math.max(seg.baseOffset, log.logStartOffset);
        break;
      }
    }
  }
  firstDirty = Math.min(firstDirty, uncleanable);
  let cleanBytes = 0;
  let dirtyBytes = 0;
  let oldestDirty = Number.POSITIVE_INFINITY;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    if (segs[i + 1]!.baseOffset <= firstDirty) {
      cleanBytes += seg.size;
    } else if (seg.baseOffset < uncleanable) {
      dirtyBytes += seg.size;
      if (config.maxCompactionLagMs < Number.MAX_SAFE_INTEGER) {
        const ts = seg.firstBatchTimestamp();
        if (ts > 0 && ts < oldestDirty) oldestDirty = ts;
      }
    }
  }
  const dirtyRatio = dirtyBytes === 0 ? 0 : dirtyBytes / (cleanBytes + dirtyBytes);
  const lagForced = dirtyBytes > 0 && now - oldestDirty > config.maxCompactionLagMs;
  const horizonDue =
    cp !== null && cp.deleteHorizonMs >= 0 && cp.deleteHorizonMs <= now && cleanBytes + dirtyBytes > 0;
  return {
    firstDirtyOffset: firstDirty,
    firstUncleanableOffset: uncleanable,
    cleanBytes,
    dirtyBytes,
    dirtyRatio,
    lagForced,
    horizonDue,
    due: (dirtyBytes > 0 && (dirtyRatio > config.minCleanableDirtyRatio || lagForced)) || horizonDue,
  };
}

export interface CleanerStats {
  partition: string;
  firstDirtyOffset: number;
  /** Keys were mapped up to (not including) this offset; the next pass starts here. */
  endOffset: number;
  mapKeys: number;
  bytesRead: number;
  bytesWritten: number;
  batchesRead: number;
  batchesRewritten: number;
  recordsRead: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  segmentsBefore: number;
  segmentsAfter: number;
  groupsSwapped: number;
  slices: number;
  durationMs: number;
  /** Earliest delete horizon of the tombstones still in the cleaned part, -1 when none. */
  deleteHorizonMs: number;
}

/** The log changed under a pass (or the cleaner stopped): the pass ends without moving the checkpoint. */
export class CleaningAborted extends Error {}

/** Output of a group waiting to be written to its cleaned segment. */
interface PendingOutput {
  buffers: Buffer[];
  batches: AppendedBatch[];
  bytes: number;
}

const WRITE_CHUNK_BYTES = 1024 * 1024;

export class LogCleaner {
  private _state: CleanerState = 'idle';
  private stopped = false;
  private running = false;
  private wake: (() => void) | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private map: OffsetMap | null = null;
  /** The segment a pass is writing, deleted when the cleaner stops. */
  private current: LogSegment | null = null;
  /** Logs that failed or made no progress: not picked again before this time. */
  private readonly retryAt = new WeakMap<PartitionLog, number>();
  private readonly readBuf = Buffer.allocUnsafe(1024 * 1024);
  private readonly backoffMs: number;
  private readonly dedupeKeysMax: number;
  private readonly sliceBytesMax: number;
  private readonly sliceMsMax: number;
  private readonly now: () => number;

  constructor(
    private readonly logger: Logger,
    private readonly options: CleanerOptions = {},
  ) {
    this.backoffMs = options.backoffMs ?? 15_000;
    this.dedupeKeysMax = options.dedupeKeysMax ?? cleanerDedupeKeysMax;
    this.sliceBytesMax = options.sliceBytesMax ?? cleanerSliceBytesMax;
    this.sliceMsMax = options.sliceMsMax ?? cleanerSliceMsMax;
    this.now = options.now ?? Date.now;
  }

  get state(): CleanerState {
    return this._state;
  }

  /** Starts the background loop over the logs `logs()` returns each round. */
  start(logs: () => Iterable<{ log: PartitionLog }>): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.loop(logs);
  }

  /** Stops the loop; a pass in progress is aborted (its unfinished segment deleted now). */
  stop(): void {
    this.stopped = true;
    this._state = 'stopped';
    if (this.sleepTimer !== null) clearTimeout(this.sleepTimer);
    this.wake?.();
    if (this.current !== null) {
      this.current.delete(0);
      this.current = null;
    }
  }

  private async loop(logs: () => Iterable<{ log: PartitionLog }>): Promise<void> {
    while (!this.stopped) {
      let cleaned = false;
      try {
        const log = this.pickLog(logs());
        if (log !== null) {
          cleaned = true;
          const stats = await this.clean(log);
          if (stats === null || (stats.groupsSwapped === 0 && stats.endOffset === stats.firstDirtyOffset)) {
            this.retryAt.set(log, this.now() + this.backoffMs);
          }
        }
      } catch (e) {
        this.logger.error('log cleaner round failed', { error: e });
      }
      if (this.stopped) break;
      if (cleaned) await yieldToEventLoop();
      else await this.sleep(this.backoffMs);
    }
    this.running = false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        this.sleepTimer = null;
        resolve();
      };
      this.sleepTimer = setTimeout(() => this.wake?.(), ms);
      this.sleepTimer.unref();
    });
  }

  /** The due log with the highest dirty ratio (logs whose lag or tombstones force a pass first). */
  private pickLog(logs: Iterable<{ log: PartitionLog }>): PartitionLog | null {
    const now = this.now();
    let best: PartitionLog | null = null;
    let bestScore = -1;
    for (const { log } of logs) {
      if (!compacts(log.logConfig) || (this.retryAt.get(log) ?? 0) > now) continue;
      let range: CleanableRange;
      try {
        range = cleanableRange(log, now, readCleanerCheckpoint(log.dir, this.logger));
      } catch (e) {
        this.logger.warn('could not measure a log for cleaning', { partition: log.name, error: e });
        continue;
      }
      if (!range.due) continue;
      const score = range.lagForced || range.horizonDue ? 2 + range.dirtyRatio : range.dirtyRatio;
      if (score > bestScore) {
        best = log;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * One cleaning pass over `log` when it is due (always when force). Resolves with the pass's numbers, or null
   * when nothing was due or the pass was aborted. Rejects on I/O errors (the unfinished segment is removed).
   */
  async clean(log: PartitionLog, options: { force?: boolean } = {}): Promise<CleanerStats | null> {
    if (this.stopped || !compacts(log.logConfig)) return null;
    const now = this.now();
    const cp = readCleanerCheckpoint(log.dir, this.logger);
    const range = cleanableRange(log, now, cp);
    if (!range.due && !options.force) return null;
    this.map ??= new OffsetMap(this.dedupeKeysMax);
    const pass = new CleaningPass(
      log,
      range,
      this.map,
      now,
      this.readBuf,
      this,
      this.logger,
      this.options.swapHook,
    );
    try {
      const stats = await pass.run();
      this.logger.info('log cleaned', { ...stats });
      return stats;
    } catch (e) {
      this.current?.delete(0);
      this.current = null;
      if (e instanceof CleaningAborted || this.stopped) {
        this.logger.info('log cleaning aborted', {
          partition: log.name,
          reason: (e as Error).message,
          groupsSwapped: pass.stats.groupsSwapped,
        });
        return null;
      }
      this.logger.error('log cleaning failed', { partition: log.name, error: e });
      throw e;
    } finally {
      if (!this.stopped) this._state = 'idle';
    }
  }

  /** For the pass: state changes and the segment being written (deleted by stop()). */
  setState(state: 'mapping' | 'cleaning'): void {
    if (!this.stopped) this._state = state;
  }

  setCurrent(seg: LogSegment | null): void {
    this.current = seg;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get sliceLimits(): { bytes: number; ms: number } {
    return { bytes: this.sliceBytesMax, ms: this.sliceMsMax };
  }
}

/** One pass over one log: mapping, then cleaning and swapping group by group. */
class CleaningPass {
  readonly stats: CleanerStats;
  private readonly epoch: number;
  /** The inactive segments when the pass started (rolls add more; those wait for the next pass). */
  private readonly segments: readonly LogSegment[];
  /** Base offsets of all segments when the pass started, the active one last: segment i ends at bases[i + 1]. */
  private readonly bases: readonly number[];
  private readonly producerLastOffsets: Map<number, number>;
  private endOffset: number;
  private deleteHorizonMs = Number.POSITIVE_INFINITY;
  private readonly started = performance.now();
  private sliceStart = performance.now();
  private sliceBytes = 0;

  constructor(
    private readonly log: PartitionLog,
    private readonly range: CleanableRange,
    private readonly map: OffsetMap,
    private readonly now: number,
    private readonly readBuf: Buffer,
    private readonly cleaner: LogCleaner,
    private readonly logger: Logger,
    private readonly swapHook: SwapStepHook | undefined,
  ) {
    this.epoch = log.segmentsEpoch;
    this.segments = log.segmentList().slice(0, -1);
    this.bases = log.segmentList().map((s) => s.baseOffset);
    this.producerLastOffsets = log.producerState.lastBatchOffsets();
    this.endOffset = range.firstDirtyOffset;
    this.stats = {
      partition: log.name,
      firstDirtyOffset: range.firstDirtyOffset,
      endOffset: range.firstDirtyOffset,
      mapKeys: 0,
      bytesRead: 0,
      bytesWritten: 0,
      batchesRead: 0,
      batchesRewritten: 0,
      recordsRead: 0,
      recordsRemoved: 0,
      tombstonesRemoved: 0,
      segmentsBefore: log.segmentCount,
      segmentsAfter: log.segmentCount,
      groupsSwapped: 0,
      slices: 1,
      durationMs: 0,
      deleteHorizonMs: -1,
    };
  }

  async run(): Promise<CleanerStats> {
    this.map.clear();
    this.cleaner.setState('mapping');
    await this.buildMap();
    this.stats.endOffset = this.endOffset;
    this.stats.mapKeys = this.map.size;
    this.cleaner.setState('cleaning');
    for (const group of this.groups()) await this.cleanGroup(group);
    this.checkUnchanged();
    const horizon = Number.isFinite(this.deleteHorizonMs) ? this.deleteHorizonMs : -1;
    writeCleanerCheckpoint(this.log.dir, { firstDirtyOffset: this.endOffset, deleteHorizonMs: horizon });
    this.stats.deleteHorizonMs = horizon;
    this.stats.segmentsAfter = this.log.segmentCount;
    this.stats.durationMs = Math.round(performance.now() - this.started);
    return this.stats;
  }

  /** Throws CleaningAborted when the log is no longer the one the pass started on. */
  private checkUnchanged(): void {
    if (this.cleaner.isStopped) throw new CleaningAborted('the cleaner stopped');
    if (this.log.segmentsEpoch !== this.epoch)
      throw new CleaningAborted(
        'segments were deleted or truncated (retention, DeleteRecords, truncation, close)',
      );
    if (!compacts(this.log.logConfig)) throw new CleaningAborted('cleanup.policy no longer includes compact');
  }

  /** Ends the slice when it used its budget: yields to the event loop, then re-checks the log. */
  private async maybeYield(bytes: number): Promise<void> {
    this.sliceBytes += bytes;
    const limits = this.cleaner.sliceLimits;
    if (this.sliceBytes < limits.bytes && performance.now() - this.sliceStart < limits.ms) return;
    await yieldToEventLoop();
    this.checkUnchanged();
    this.stats.slices++;
    this.sliceBytes = 0;
    this.sliceStart = performance.now();
  }

  /** Every whole batch of an inactive segment from position `from`: header and a view of its bytes. */
  private *batches(seg: LogSegment, from: number): Generator<{ h: BatchHeader; view: () => Buffer }> {
    const win: LogWindow = seg.window(this.readBuf);
    let pos = from;
    while (pos < seg.size) {
      const hv = win.view(pos, BATCH_HEADER_BYTES);
      if (hv === null) throw new Error(`${seg.logFile}: incomplete batch header at ${pos}`);
      const h = readBatchHeader(hv, 0);
      const size = LOG_OVERHEAD + h.batchLength;
      if (h.batchLength < BATCH_LENGTH_MIN || pos + size > seg.size)
        throw new Error(`${seg.logFile}: bad batch length ${h.batchLength} at ${pos}`);
      const at = pos;
      yield {
        h,
        view: () => {
          const v = win.view(at, size);
          if (v === null) throw new Error(`${seg.logFile}: batch at ${at} unreadable`);
          return v;
        },
      };
      pos += size;
    }
  }

  /** The records section of a batch, decompressed (awaited) when needed; null when it cannot be decoded. */
  private async body(h: BatchHeader, batch: Buffer, file: string): Promise<Buffer | null> {
    const codec = compressionOf(h.attributes);
    const raw = batch.subarray(BATCH_HEADER_BYTES);
    if (codec === 0) return raw;
    try {
      const out = await decompress(codec, Buffer.from(raw), cleanerBatchBytesMax);
      this.checkUnchanged();
      return out;
    } catch (e) {
      if (e instanceof CleaningAborted) throw e;
      this.checkUnchanged();
      this.logger.warn('cleaner keeps a batch it cannot decompress', {
        file,
        baseOffset: h.baseOffset,
        error: (e as Error).message,
      });
      return null;
    }
  }

  // ---- mapping -------------------------------------------------------------------------------------------

  private async buildMap(): Promise<void> {
    const { firstDirtyOffset, firstUncleanableOffset } = this.range;
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (this.bases[i + 1]! <= firstDirtyOffset) continue;
      if (seg.baseOffset >= firstUncleanableOffset) return;
      const from =
        seg.baseOffset >= firstDirtyOffset ? 0 : (seg.locate(firstDirtyOffset)?.position ?? seg.size);
      for (const { h, view } of this.batches(seg, from)) {
        const last = h.baseOffset + h.lastOffsetDelta;
        if (last < firstDirtyOffset) continue;
        if (last >= firstUncleanableOffset) return;
        if (!isControl(h.attributes) && !isTransactional(h.attributes)) {
          if (this.map.wouldOverflow(h.recordCount)) return;
          const body = await this.body(h, view(), seg.logFile);
          if (body !== null) {
            try {
              mapKeys(h, body, this.map);
            } catch (e) {
              this.logger.warn('cleaner keeps a batch it cannot decode', {
                file: seg.logFile,
                baseOffset: h.baseOffset,
                error: (e as Error).message,
              });
            }
          }
        }
        this.endOffset = last + 1;
        this.stats.bytesRead += LOG_OVERHEAD + h.batchLength;
        await this.maybeYield(LOG_OVERHEAD + h.batchLength);
      }
    }
  }

  // ---- cleaning ------------------------------------------------------------------------------------------

  /**
   * The inactive segments starting below endOffset, in groups of consecutive segments whose sizes add up to at
   * most segment.bytes and whose offsets stay within int32 of the group's base (Kafka's groupSegmentsBySize).
   */
  private groups(): LogSegment[][] {
    const config = this.log.logConfig;
    const segs = this.segments.filter((s) => s.baseOffset < this.endOffset);
    const nextBase = (s: LogSegment): number => this.bases[this.segments.indexOf(s) + 1]!;
    const out: LogSegment[][] = [];
    let i = 0;
    while (i < segs.length) {
      const group = [segs[i]!];
      let bytes = segs[i]!.size;
      i++;
      while (
        i < segs.length &&
        bytes + segs[i]!.size <= config.segmentBytes &&
        nextBase(segs[i]!) - 1 - group[0]!.baseOffset <= 0x7fffffff
      ) {
        bytes += segs[i]!.size;
        group.push(segs[i]!);
        i++;
      }
      out.push(group);
    }
    return out;
  }

  private async cleanGroup(group: LogSegment[]): Promise<void> {
    this.checkUnchanged();
    const log = this.log;
    const base = group[0]!.baseOffset;
    const cleaned = LogSegment.create(log.dir, base, log.logConfig, this.now, CLEANED_SUFFIX);
    this.cleaner.setCurrent(cleaned);
    let changed = group.length > 1;
    const out: PendingOutput = { buffers: [], batches: [], bytes: 0 };
    let written = 0;
    const flush = (): void => {
      if (out.bytes === 0) return;
      cleaned.append(
        out.buffers.length === 1 ? out.buffers[0]! : Buffer.concat(out.buffers, out.bytes),
        out.batches,
      );
      written += out.bytes;
      out.buffers = [];
      out.batches = [];
      out.bytes = 0;
    };
    for (const seg of group) {
      for (const { h, view } of this.batches(seg, 0)) {
        const size = LOG_OVERHEAD + h.batchLength;
        const result = await this.filterBatch(h, view(), seg.logFile);
        if (result !== 'same') changed = true;
        const batch = result === 'same' ? Buffer.from(view()) : result;
        if (batch !== null) {
          const hb = readBatchHeader(batch, 0);
          out.batches.push({
            bufferPos: out.bytes,
            size: batch.length,
            lastOffset: hb.baseOffset + hb.lastOffsetDelta,
            maxTimestamp: hb.maxTimestamp,
          });
          out.buffers.push(batch);
          out.bytes += batch.length;
          if (out.bytes >= WRITE_CHUNK_BYTES) flush();
        }
        this.stats.batchesRead++;
        this.stats.bytesRead += size;
        await this.maybeYield(size);
      }
    }
    flush();
    if (!changed) {
      cleaned.delete(0);
      this.cleaner.setCurrent(null);
      return;
    }
    cleaned.sealCleaned();
    cleaned.setLastModified(group[group.length - 1]!.lastModified());
    await cleaned.fsyncLog();
    this.checkUnchanged();
    const groupEnd = this.bases[this.segments.indexOf(group[group.length - 1]!) + 1]!;
    writeSwapMarker(log.dir, base, groupEnd);
    this.checkUnchanged();
    swapInCleaned(
      log.dir,
      group,
      cleaned,
      () => {
        if (!log.replaceSegments(group, cleaned))
          throw new Error(`${log.name}: segments to replace at ${base} are not in the log`);
        // From here on the cleaned segment is the log's: an error must not delete it.
        this.cleaner.setCurrent(null);
      },
      log.logConfig.fileDeleteDelayMs,
      this.swapHook,
    );
    this.stats.bytesWritten += written;
    this.stats.groupsSwapped++;
  }

  /**
   * The batch as it goes into the cleaned segment: 'same' (copied as is), a rewritten batch, or null (dropped).
   */
  private async filterBatch(h: BatchHeader, batch: Buffer, file: string): Promise<Buffer | 'same' | null> {
    if (isControl(h.attributes) || isTransactional(h.attributes) || h.baseOffset >= this.endOffset)
      return 'same';
    const body = await this.body(h, batch, file);
    if (body === null) return 'same';
    let sel: ReturnType<typeof selectRecords>;
    try {
      sel = selectRecords(h, body, this.map, this.now);
    } catch (e) {
      this.logger.warn('cleaner keeps a batch it cannot decode', {
        file,
        baseOffset: h.baseOffset,
        error: (e as Error).message,
      });
      return 'same';
    }
    this.stats.recordsRead += sel.recordCount;
    const removed = sel.recordCount - sel.kept.length;
    this.stats.recordsRemoved += removed;
    this.stats.tombstonesRemoved += sel.tombstonesRemoved;
    const hasHorizon = hasDeleteHorizon(h.attributes);
    const needsHorizon = sel.tombstonesKept > 0 && !hasHorizon;
    if (sel.kept.length === 0) {
      const last = h.baseOffset + h.lastOffsetDelta;
      if (h.producerId >= 0 && this.producerLastOffsets.get(h.producerId) === last)
        return h.recordCount === 0 ? 'same' : emptyBatch(h, batch);
      return null;
    }
    if (removed === 0 && !needsHorizon) {
      if (sel.tombstonesKept > 0) this.noteHorizon(h.baseTimestamp);
      return 'same';
    }
    const horizon = hasHorizon
      ? h.baseTimestamp
      : sel.tombstonesKept > 0
        ? this.now + this.log.logConfig.deleteRetentionMs
        : -1;
    if (sel.tombstonesKept > 0) this.noteHorizon(horizon);
    const retained = encodeKept(h, body, sel.kept, horizon);
    const codec = compressionOf(h.attributes);
    // The header is copied before any await: the view it comes from may be reused meanwhile.
    const header = Buffer.from(batch.subarray(0, BATCH_HEADER_BYTES));
    let section = retained.records;
    if (codec !== 0) {
      section = await compress(codec, retained.records);
      this.checkUnchanged();
    }
    this.stats.batchesRewritten++;
    return assembleBatch(header, section, sel.kept.length, retained, horizon);
  }

  private noteHorizon(ms: number): void {
    if (ms < this.deleteHorizonMs) this.deleteHorizonMs = ms;
  }
}
