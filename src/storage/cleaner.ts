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
//   swapping  per group, one synchronous step (never seen from outside): the cleaned segment replaces the
//             group in the log's segment list and on disk (segment-swap.ts); a reader sees either the old
//             segments or the new one.
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
// Transactions (cleaner-txns.ts): the cleanable range ends at the last stable offset; committed transactional
// records are compacted like any others; aborted transactional batches are removed whole (their keys supersede
// nothing); a marker whose transaction left no data goes after delete.retention.ms; the .txnindex entries the
// cleaned segment still needs go with it.
// Batches kept as they are: control batches and batches at or above endOffset. An emptied batch that is the last
// batch of a producer still in producer state is kept with no records (Kafka's RETAIN_EMPTY); other emptied
// batches go.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { cleanerDedupeKeysMax, cleanerSliceBytesMax, cleanerSliceMsMax } from '../limits.js';
import type { Logger } from '../logger.js';
import { type CleanerCheckpoint, readCleanerCheckpoint } from './cleaner-checkpoint.js';
import { type CleanerStats, CleaningAborted, CleaningPass, type PassOwner } from './cleaning-pass.js';
import { compacts } from './config.js';
import { OffsetMap } from './offset-map.js';
import type { PartitionLog } from './partition-log.js';
import type { LogSegment } from './segment.js';
import type { SwapStepHook } from './segment-swap.js';

export { type CleanerStats, CleaningAborted } from './cleaning-pass.js';
export { compacts } from './config.js';

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
  // Kafka's firstUncleanableDirtyOffset: open transactions (the last stable offset) are not cleaned either.
  let uncleanable = Math.min(active.baseOffset, log.lastStableOffset);
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
export class LogCleaner implements PassOwner {
  private _state: CleanerState = 'idle';
  private stopped = false;
  private running = false;
  private wake: (() => void) | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private map: OffsetMap | null = null;
  /** The segment a pass is writing, deleted when the cleaner stops. */
  private current: LogSegment | null = null;
  /** The pass running (or resolved): the next one starts after it. */
  private passes: Promise<unknown> = Promise.resolve();
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
      let log: PartitionLog | null = null;
      try {
        log = this.pickLog(logs());
        if (log !== null) {
          const stats = await this.clean(log);
          // Aborted, or no progress (e.g. one batch holds more keys than the map): not again before a backoff.
          if (stats === null || (stats.groupsSwapped === 0 && stats.endOffset === stats.firstDirtyOffset)) {
            this.retryAt.set(log, this.now() + this.backoffMs);
          }
        }
      } catch (e) {
        // Already logged by the pass (I/O error, a batch that does not parse): the log waits a backoff too.
        if (log !== null) this.retryAt.set(log, this.now() + this.backoffMs);
        else this.logger.error('log cleaner round failed', { error: e });
      }
      const cleaned = log !== null;
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
   * Passes run one at a time (they share the offset map): a call made during a pass waits for it.
   */
  clean(log: PartitionLog, options: { force?: boolean } = {}): Promise<CleanerStats | null> {
    const run = this.passes.then(() => this.cleanNow(log, options));
    this.passes = run.catch(() => {});
    return run;
  }

  private async cleanNow(log: PartitionLog, options: { force?: boolean }): Promise<CleanerStats | null> {
    if (this.stopped || !compacts(log.logConfig)) return null;
    const now = this.now();
    const cp = readCleanerCheckpoint(log.dir, this.logger);
    const range = cleanableRange(log, now, cp);
    if (!range.due && !options.force) return null;
    this.map ??= new OffsetMap(this.dedupeKeysMax);
    const pass = new CleaningPass({
      log,
      range,
      map: this.map,
      now,
      readBuf: this.readBuf,
      owner: this,
      logger: this.logger,
      swapHook: this.options.swapHook,
    });
    try {
      const stats = await pass.run();
      this.logger.info('log cleaned', { ...stats });
      return stats;
    } catch (e) {
      this.current?.delete(0);
      this.current = null;
      if (e instanceof CleaningAborted || this.stopped || pass.logChanged()) {
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

  // ---- PassOwner: what the running pass reports ----------------------------------------------------------

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
