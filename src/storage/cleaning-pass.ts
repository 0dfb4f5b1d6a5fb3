// One cleaning pass over one log (the states are described in cleaner.ts): mapping the dirty section's keys,
// then cleaning the segments below the mapped end group by group, each group swapped in as one synchronous step.
// Every await is followed by checkUnchanged(): the pass never touches a log that changed under it.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { cleanerBatchBytesMax } from '../limits.js';
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
import {
  assembleBatch,
  emptyBatch,
  encodeKept,
  mapKeys,
  selectRecords,
  withDeleteHorizon,
} from './batch-filter.js';
import type { CleanableRange } from './cleaner.js';
import { writeCleanerCheckpoint } from './cleaner-checkpoint.js';
import { CleanerTransactions } from './cleaner-txns.js';
import { compacts } from './config.js';
import type { OffsetMap } from './offset-map.js';
import type { PartitionLog } from './partition-log.js';
import { type AppendedBatch, CLEANED_SUFFIX, LogSegment, type LogWindow } from './segment.js';
import { type SwapStepHook, swapInCleaned, writeSwapMarker } from './segment-swap.js';
import { collectAbortedTransactions } from './transactions.js';
import { parseTxnMarker } from './txn-markers.js';

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
  /** Batches of aborted transactions removed (or emptied). */
  abortedBatchesRemoved: number;
  /** Transaction markers removed (their transaction's data gone, their delete horizon passed). */
  markersRemoved: number;
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

/** What a pass needs from the cleaner running it. */
export interface PassOwner {
  readonly isStopped: boolean;
  readonly sliceLimits: { bytes: number; ms: number };
  setState(state: 'mapping' | 'cleaning'): void;
  /** The segment being written (the cleaner deletes it if it stops); null once swapped in or dropped. */
  setCurrent(seg: LogSegment | null): void;
}

export interface PassInput {
  log: PartitionLog;
  range: CleanableRange;
  map: OffsetMap;
  /** The pass's clock reading: delete horizons are set and checked against it. */
  now: number;
  /** Read buffer reused from pass to pass. */
  readBuf: Buffer;
  owner: PassOwner;
  logger: Logger;
  swapHook?: SwapStepHook;
}

/** One pass over one log: mapping, then cleaning and swapping group by group. */
export class CleaningPass {
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

  private readonly log: PartitionLog;
  private readonly range: CleanableRange;
  private readonly map: OffsetMap;
  private readonly now: number;
  private readonly readBuf: Buffer;
  private readonly cleaner: PassOwner;
  private readonly logger: Logger;
  private readonly swapHook: SwapStepHook | undefined;

  constructor(input: PassInput) {
    const log = input.log;
    this.log = log;
    this.range = input.range;
    this.map = input.map;
    this.now = input.now;
    this.readBuf = input.readBuf;
    this.cleaner = input.owner;
    this.logger = input.logger;
    this.swapHook = input.swapHook;
    this.epoch = log.segmentsEpoch;
    this.segments = log.segmentList().slice(0, -1);
    this.bases = log.segmentList().map((s) => s.baseOffset);
    this.producerLastOffsets = log.producerState.lastBatchOffsets();
    this.endOffset = input.range.firstDirtyOffset;
    this.stats = {
      partition: log.name,
      firstDirtyOffset: input.range.firstDirtyOffset,
      endOffset: input.range.firstDirtyOffset,
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
      abortedBatchesRemoved: 0,
      markersRemoved: 0,
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

  /** True when the log changed under the pass (an I/O error then is the change's doing, not a failure). */
  logChanged(): boolean {
    return this.log.segmentsEpoch !== this.epoch;
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

  /** The transactions aborted with data in [from, to), from the .txnindex files of the segments from `from`. */
  private transactions(from: number, to: number): CleanerTransactions {
    const segs = this.log.segmentList();
    let i = 0;
    while (i + 1 < segs.length && segs[i + 1]!.baseOffset <= from) i++;
    return new CleanerTransactions(
      collectAbortedTransactions(segs, i, from, to),
      from <= segs[0]!.baseOffset,
    );
  }

  private async buildMap(): Promise<void> {
    const { firstDirtyOffset, firstUncleanableOffset } = this.range;
    const txns = this.transactions(firstDirtyOffset, firstUncleanableOffset);
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
        if (isControl(h.attributes)) {
          txns.onMarker(
            h.producerId,
            last,
            h.producerId < 0 ? null : (parseTxnMarker(view(), 0)?.commit ?? null),
          );
        } else if (!txns.isAborted(h.producerId, isTransactional(h.attributes), last)) {
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
    const groupEnd = this.bases[this.segments.indexOf(group[group.length - 1]!) + 1]!;
    const txns = this.transactions(base, groupEnd);
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
        const result = await this.filterBatch(h, view(), seg.logFile, txns);
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
    await this.maybeYield(this.cleaner.sliceLimits.bytes);
    cleaned.txnIndex.replaceAll(txns.cleanedIndex);
    cleaned.sealCleaned();
    cleaned.setLastModified(group[group.length - 1]!.lastModified());
    await cleaned.fsyncCleaned();
    this.checkUnchanged();
    // The marker means nothing until a .swap file exists; the swap step right after it stays short.
    await writeSwapMarker(log.dir, base, groupEnd);
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
  private async filterBatch(
    h: BatchHeader,
    batch: Buffer,
    file: string,
    txns: CleanerTransactions,
  ): Promise<Buffer | 'same' | null> {
    const lastOffset = h.baseOffset + h.lastOffsetDelta;
    if (isControl(h.attributes)) {
      const marker = h.producerId < 0 ? null : parseTxnMarker(batch, 0);
      const empty = txns.onMarker(h.producerId, lastOffset, marker === null ? null : marker.commit);
      if (!empty || h.baseOffset >= this.endOffset || compressionOf(h.attributes) !== 0) return 'same';
      if (!hasDeleteHorizon(h.attributes)) {
        const horizon = this.now + this.log.logConfig.deleteRetentionMs;
        this.noteHorizon(horizon);
        return withDeleteHorizon(h, batch, horizon);
      }
      if (h.baseTimestamp > this.now) {
        this.noteHorizon(h.baseTimestamp);
        return 'same';
      }
      this.stats.markersRemoved++;
      return null;
    }
    const aborted = txns.isAborted(h.producerId, isTransactional(h.attributes), lastOffset);
    if (h.baseOffset >= this.endOffset) return 'same';
    if (aborted) {
      this.stats.recordsRead += h.recordCount;
      this.stats.recordsRemoved += h.recordCount;
      this.stats.abortedBatchesRemoved++;
      if (h.producerId >= 0 && this.producerLastOffsets.get(h.producerId) === lastOffset)
        return h.recordCount === 0 ? 'same' : emptyBatch(h, batch);
      return null;
    }
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
