// Producer state of one partition (Kafka's ProducerStateManager): for each idempotent/transactional producer id,
// its epoch and the sequence ranges and offsets of its last 5 batches, so that a retried batch is answered with
// its original offsets instead of being written twice, and a gap or a fenced epoch is refused.
//
// Sequence rules (Kafka's ProducerAppendInfo.checkSequence / checkProducerEpoch, origin = client):
//   - same epoch, (baseSequence, lastSequence) equal to one of the last 5 batches -> duplicate
//   - epoch older than the known one -> INVALID_PRODUCER_EPOCH (47)
//   - new (higher) epoch of a known producer must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER (45)
//   - same epoch: baseSequence must be lastSequence + 1 (2^31-1 wraps to 0), else 45
//   - unknown producer (never seen, or all its batches removed by retention/DeleteRecords): any sequence is
//     accepted, as Kafka does since 2.x (UNKNOWN_PRODUCER_ID is not returned any more)
//   - control batches (transaction markers) skip the sequence checks; a marker with an older coordinator epoch
//     than the producer's stored one -> TRANSACTION_COORDINATOR_FENCED (52)
//   - origin 'coordinator' (a coordinator's own writes, Kafka's AppendOrigin.COORDINATOR) skips the duplicate
//     and sequence checks; the epoch checks stay
//   - a non-transactional batch from a producer with an open transaction -> INVALID_TXN_STATE (48)
//
// Transactions: a transactional batch opens a transaction for its producer (currentTxnFirstOffset = its offset)
// unless one is open; a control batch (commit or abort marker) closes it. The open transactions, in the order of
// their first offsets, give the first unstable offset (the last stable offset is min(that, high watermark)).
//
// Snapshot file <offset as 20 digits>.snapshot: the state after every batch below <offset>. Big-endian:
//    0 version               int16   1
//    2 crc                   uint32  CRC32C of bytes 6..end
//    6 producerCount         int32
//   10 producers, each:
//        producerId            int64
//        producerEpoch         int16
//        coordinatorEpoch      int32
//        currentTxnFirstOffset int64   -1 when no transaction is open
//        lastTimestamp         int64
//        batchCount            int8    <= 5, oldest first
//        batches, each: firstSeq int32, lastSeq int32, firstOffset int64, lastOffset int64, timestamp int64
// Written atomically (tmp + rename) on clean close and when a segment rolls; a file whose CRC or length does not
// check out is reported and ignored. On open the newest usable snapshot at or below the log end is loaded and
// the batch headers after it are replayed (no record decoding); without a snapshot the whole log is replayed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { producerBatchesRememberedMax, producerIdsPerPartitionMax } from '../limits.js';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { type BatchHeader, isControl, isTransactional, lastSequenceOf } from '../protocol/records.js';
import { writeFileAtomic } from './checkpoint.js';
import { offsetFileStem } from './segment.js';

export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_VERSION = 1;
const SNAPSHOTS_KEPT = 3;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  currentTxnFirstOffset: number;
  lastTimestamp: number;
  /** Oldest first, at most producerBatchesRememberedMax. */
  batches: BatchMetadata[];
}

/** Who writes: a producer (sequence checks) or a coordinator writing its own batches (Kafka's AppendOrigin). */
export type AppendOrigin = 'client' | 'coordinator';

/** What a control batch carries (Kafka's EndTransactionMarker). */
export interface TxnMarker {
  commit: boolean;
  coordinatorEpoch: number;
}

/** A transaction closed by a marker (Kafka's CompletedTxn). */
export interface CompletedTxn {
  producerId: number;
  firstOffset: number;
  /** The marker's offset. */
  lastOffset: number;
  aborted: boolean;
}

export type SequenceCheck =
  | { kind: 'ok' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; errorCode: number; message: string };

const OK: SequenceCheck = { kind: 'ok' };
const NO_COMPLETED: readonly CompletedTxn[] = [];

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === 2147483647);
}

function cloneEntry(e: ProducerEntry): ProducerEntry {
  return { ...e, batches: e.batches.slice() };
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();
  /** Open transactions: producerId -> currentTxnFirstOffset, in first-offset order. */
  private readonly ongoing = new Map<number, number>();
  /**
   * Transactions whose marker is not below the high watermark yet, in marker order (Kafka's unreplicatedTxns):
   * they still hold the last stable offset, so a consumer never sees a transaction's data as stable before
   * its marker is committed.
   */
  private readonly unreplicated: CompletedTxn[] = [];

  constructor(
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  get producerCount(): number {
    return this.producers.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /**
   * Checks one incoming batch. `pending` holds entries already updated by earlier batches of the same append
   * (pass the same map for every batch of one append, then commit it with applyPending after the write).
   */
  check(
    h: BatchHeader,
    pending: Map<number, ProducerEntry>,
    origin: AppendOrigin = 'client',
    marker: TxnMarker | null = null,
  ): SequenceCheck {
    if (h.producerId < 0) return OK;
    const entry = pending.get(h.producerId) ?? this.producers.get(h.producerId);
    const control = isControl(h.attributes);
    const client = origin === 'client';
    if (
      client &&
      h.baseSequence >= 0 &&
      !control &&
      entry !== undefined &&
      entry.producerEpoch === h.producerEpoch
    ) {
      const lastSeq = lastSequenceOf(h.baseSequence, h.lastOffsetDelta);
      const dup = entry.batches.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === lastSeq);
      if (dup !== undefined) return { kind: 'duplicate', batch: dup };
    }
    if (entry !== undefined && h.producerEpoch < entry.producerEpoch) {
      return {
        kind: 'error',
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `producer ${h.producerId} epoch ${h.producerEpoch} is older than the current epoch ${entry.producerEpoch}`,
      };
    }
    if (
      control &&
      marker !== null &&
      entry !== undefined &&
      marker.coordinatorEpoch < entry.coordinatorEpoch
    ) {
      return {
        kind: 'error',
        errorCode: ErrorCode.TRANSACTION_COORDINATOR_FENCED,
        message: `producer ${h.producerId}: marker coordinator epoch ${marker.coordinatorEpoch} is older than ${entry.coordinatorEpoch}`,
      };
    }
    if (
      !control &&
      !isTransactional(h.attributes) &&
      entry !== undefined &&
      entry.currentTxnFirstOffset >= 0 &&
      entry.producerEpoch === h.producerEpoch
    ) {
      return {
        kind: 'error',
        errorCode: ErrorCode.INVALID_TXN_STATE,
        message: `Expected transactional write from producer ${h.producerId} (transaction open at offset ${entry.currentTxnFirstOffset})`,
      };
    }
    if (client && !control && h.baseSequence >= 0 && entry !== undefined) {
      if (h.producerEpoch !== entry.producerEpoch) {
        if (h.baseSequence !== 0) {
          return {
            kind: 'error',
            errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            message: `producer ${h.producerId}: new epoch ${h.producerEpoch} must start at sequence 0, got ${h.baseSequence}`,
          };
        }
      } else {
        const last = entry.batches[entry.batches.length - 1];
        const currentLastSeq = last === undefined ? -1 : last.lastSeq;
        if (!inSequence(currentLastSeq, h.baseSequence)) {
          return {
            kind: 'error',
            errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            message: `producer ${h.producerId} epoch ${h.producerEpoch}: expected sequence ${currentLastSeq + 1}, got ${h.baseSequence}`,
          };
        }
      }
    }
    this.record(h, pending, marker);
    return OK;
  }

  /**
   * Folds a batch (offsets assigned) into the entry in `into` (copy-on-write from the committed map). Returns the
   * transaction a control batch closed, if one was open.
   */
  private record(
    h: BatchHeader,
    into: Map<number, ProducerEntry>,
    marker: TxnMarker | null,
  ): CompletedTxn | null {
    if (h.producerId < 0) return null;
    let e = into.get(h.producerId);
    if (e === undefined) {
      const committed = this.producers.get(h.producerId);
      e =
        committed === undefined
          ? {
              producerId: h.producerId,
              producerEpoch: -1,
              coordinatorEpoch: -1,
              currentTxnFirstOffset: -1,
              lastTimestamp: -1,
              batches: [],
            }
          : cloneEntry(committed);
      into.set(h.producerId, e);
    }
    if (h.producerEpoch !== e.producerEpoch) {
      e.producerEpoch = h.producerEpoch;
      e.batches = [];
    }
    const lastOffset = h.baseOffset + h.lastOffsetDelta;
    let completed: CompletedTxn | null = null;
    if (isControl(h.attributes)) {
      if (e.currentTxnFirstOffset >= 0) {
        completed = {
          producerId: h.producerId,
          firstOffset: e.currentTxnFirstOffset,
          lastOffset,
          // A control batch that is no transaction marker (none are written to data logs) counts as a commit.
          aborted: marker !== null && !marker.commit,
        };
      }
      e.currentTxnFirstOffset = -1;
      if (marker !== null) e.coordinatorEpoch = marker.coordinatorEpoch;
    } else {
      if (h.baseSequence >= 0) {
        e.batches.push({
          firstSeq: h.baseSequence,
          lastSeq: lastSequenceOf(h.baseSequence, h.lastOffsetDelta),
          firstOffset: h.baseOffset,
          lastOffset,
          timestamp: h.maxTimestamp,
        });
        if (e.batches.length > producerBatchesRememberedMax) e.batches.shift();
      }
      if (isTransactional(h.attributes) && e.currentTxnFirstOffset < 0)
        e.currentTxnFirstOffset = h.baseOffset;
    }
    e.lastTimestamp = Math.max(e.lastTimestamp, h.maxTimestamp);
    return completed;
  }

  /**
   * Commits entries of a successful append. Offsets were assigned after check(): fix them up from the
   * headers as written (baseOffset is the one thing check() could not know).
   */
  applyAppended(
    headers: readonly BatchHeader[],
    markers: readonly (TxnMarker | null)[] = [],
  ): readonly CompletedTxn[] {
    const next = new Map<number, ProducerEntry>();
    let completed: readonly CompletedTxn[] = NO_COMPLETED;
    for (let i = 0; i < headers.length; i++) {
      const c = this.record(headers[i]!, next, markers[i] ?? null);
      if (c !== null) completed = completed === NO_COMPLETED ? [c] : [...completed, c];
    }
    this.commit(next);
    for (const c of completed) this.unreplicated.push(c);
    return completed;
  }

  /**
   * Replays one batch header read back from the log (open, truncation) or fetched from the leader; `marker` is
   * what a control batch says. Returns the transaction it closed.
   */
  replay(h: BatchHeader, marker: TxnMarker | null = null): CompletedTxn | null {
    if (h.producerId < 0) return null;
    const next = new Map<number, ProducerEntry>();
    const completed = this.record(h, next, marker);
    this.commit(next);
    if (completed !== null) this.unreplicated.push(completed);
    return completed;
  }

  private commit(entries: Map<number, ProducerEntry>): void {
    for (const [id, e] of entries) {
      // Re-insert so Map order is least recently written first, which makes eviction cheap.
      this.producers.delete(id);
      this.producers.set(id, e);
      // New transactions start at the log end, so insertion order is first-offset order.
      if (e.currentTxnFirstOffset < 0) this.ongoing.delete(id);
      else if (!this.ongoing.has(id)) this.ongoing.set(id, e.currentTxnFirstOffset);
    }
    if (this.producers.size > producerIdsPerPartitionMax) {
      // Producers with an open transaction stay: they hold the last stable offset.
      for (const id of this.producers.keys()) {
        if (this.producers.size <= producerIdsPerPartitionMax) break;
        if (!this.ongoing.has(id)) this.producers.delete(id);
      }
    }
  }

  /** The first offset of the oldest open transaction, or -1 when none is open. */
  firstOngoingOffset(): number {
    for (const first of this.ongoing.values()) return first;
    return -1;
  }

  /**
   * The first offset of the oldest transaction that is open or whose marker is at or above the high watermark
   * (Kafka's firstUnstableOffset), -1 when there is none. Forgets the completions below the high watermark.
   */
  firstUnstableOffset(highWatermark: number): number {
    this.onHighWatermark(highWatermark);
    let first = this.firstOngoingOffset();
    for (const c of this.unreplicated) if (first < 0 || c.firstOffset < first) first = c.firstOffset;
    return first;
  }

  /** Forgets the completed transactions whose marker is below the high watermark (committed). */
  onHighWatermark(highWatermark: number): void {
    let n = 0;
    while (n < this.unreplicated.length && this.unreplicated[n]!.lastOffset < highWatermark) n++;
    if (n > 0) this.unreplicated.splice(0, n);
  }

  /** Open transactions: producerId -> first offset, oldest first. */
  ongoingTransactions(): ReadonlyMap<number, number> {
    return this.ongoing;
  }

  /** Every producer entry (DescribeProducers). */
  entries(): IterableIterator<ProducerEntry> {
    return this.producers.values();
  }

  private rebuildOngoing(): void {
    this.ongoing.clear();
    const open = [...this.producers.values()].filter((e) => e.currentTxnFirstOffset >= 0);
    open.sort((a, b) => a.currentTxnFirstOffset - b.currentTxnFirstOffset);
    for (const e of open) this.ongoing.set(e.producerId, e.currentTxnFirstOffset);
  }

  /**
   * producerId -> lastOffset of its newest data batch. The cleaner keeps those batches (emptied of records if need
   * be, as Kafka's RETAIN_EMPTY) so the producer's last sequence survives a reload from the log.
   */
  lastBatchOffsets(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [id, e] of this.producers) {
      const last = e.batches[e.batches.length - 1];
      if (last !== undefined) out.set(id, last.lastOffset);
    }
    return out;
  }

  /** Forgets producers whose every batch is now below the log start (Kafka's truncateHead). */
  onLogStartOffsetIncremented(logStartOffset: number): void {
    for (const [id, e] of this.producers) {
      const last = e.batches[e.batches.length - 1];
      if (e.currentTxnFirstOffset < 0 && (last === undefined || last.lastOffset < logStartOffset)) {
        this.producers.delete(id);
      }
    }
  }

  clear(): void {
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated.length = 0;
  }

  // ---- snapshots -----------------------------------------------------------------------------------------

  snapshotFile(offset: number): string {
    return path.join(this.dir, offsetFileStem(offset) + SNAPSHOT_SUFFIX);
  }

  /** Snapshot offsets present in the directory, ascending. */
  listSnapshots(): number[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(SNAPSHOT_SUFFIX) && /^\d{20}$/.test(f.slice(0, -SNAPSHOT_SUFFIX.length)))
      .map((f) => Number(f.slice(0, -SNAPSHOT_SUFFIX.length)))
      .sort((a, b) => a - b);
  }

  /** Writes the state as <offset>.snapshot and keeps only the newest few. */
  takeSnapshot(offset: number): void {
    const entries = [...this.producers.values()];
    let size = 10;
    for (const e of entries) size += 31 + e.batches.length * 32;
    const buf = Buffer.alloc(size);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(entries.length, 6);
    let p = 10;
    for (const e of entries) {
      buf.writeBigInt64BE(BigInt(e.producerId), p);
      buf.writeInt16BE(e.producerEpoch, p + 8);
      buf.writeInt32BE(e.coordinatorEpoch, p + 10);
      buf.writeBigInt64BE(BigInt(e.currentTxnFirstOffset), p + 14);
      buf.writeBigInt64BE(BigInt(e.lastTimestamp), p + 22);
      buf.writeInt8(e.batches.length, p + 30);
      p += 31;
      for (const b of e.batches) {
        buf.writeInt32BE(b.firstSeq, p);
        buf.writeInt32BE(b.lastSeq, p + 4);
        buf.writeBigInt64BE(BigInt(b.firstOffset), p + 8);
        buf.writeBigInt64BE(BigInt(b.lastOffset), p + 16);
        buf.writeBigInt64BE(BigInt(b.timestamp), p + 24);
        p += 32;
      }
    }
    buf.writeUInt32BE(crc32c(buf.subarray(6)) >>> 0, 2);
    writeFileAtomic(this.snapshotFile(offset), buf);
    const all = this.listSnapshots();
    for (const old of all.slice(0, Math.max(0, all.length - SNAPSHOTS_KEPT))) this.deleteSnapshot(old);
  }

  deleteSnapshot(offset: number): void {
    fs.rmSync(this.snapshotFile(offset), { force: true });
  }

  /** Removes snapshots above an offset (they describe batches that were truncated away). */
  deleteSnapshotsAbove(offset: number): void {
    for (const o of this.listSnapshots()) if (o > offset) this.deleteSnapshot(o);
  }

  /**
   * Replaces the state with the newest readable snapshot at or below maxOffset. Returns its offset, or -1 when
   * there is none (the state is then empty). Unreadable snapshots are reported and deleted.
   */
  loadLatestSnapshot(maxOffset: number): number {
    this.clear();
    const offsets = this.listSnapshots().filter((o) => o <= maxOffset);
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i]!;
      const file = this.snapshotFile(offset);
      try {
        this.parseSnapshot(fs.readFileSync(file));
        this.rebuildOngoing();
        return offset;
      } catch (e) {
        this.logger.warn('producer state snapshot unreadable, deleting it', {
          file,
          error: (e as Error).message,
        });
        this.clear();
        this.deleteSnapshot(offset);
      }
    }
    return -1;
  }

  private parseSnapshot(buf: Buffer): void {
    if (buf.length < 10) throw new Error(`snapshot of ${buf.length} bytes is too short`);
    const version = buf.readInt16BE(0);
    if (version !== SNAPSHOT_VERSION) throw new Error(`unsupported snapshot version ${version}`);
    const crc = buf.readUInt32BE(2);
    const actual = crc32c(buf.subarray(6)) >>> 0;
    if (crc !== actual) throw new Error(`snapshot CRC32C mismatch (stored ${crc}, computed ${actual})`);
    const count = buf.readInt32BE(6);
    let p = 10;
    for (let i = 0; i < count; i++) {
      if (p + 31 > buf.length) throw new Error('snapshot ends inside a producer entry');
      const e: ProducerEntry = {
        producerId: Number(buf.readBigInt64BE(p)),
        producerEpoch: buf.readInt16BE(p + 8),
        coordinatorEpoch: buf.readInt32BE(p + 10),
        currentTxnFirstOffset: Number(buf.readBigInt64BE(p + 14)),
        lastTimestamp: Number(buf.readBigInt64BE(p + 22)),
        batches: [],
      };
      const n = buf.readInt8(p + 30);
      p += 31;
      if (n < 0 || n > producerBatchesRememberedMax || p + n * 32 > buf.length) {
        throw new Error(`snapshot producer ${e.producerId} has a bad batch count ${n}`);
      }
      for (let j = 0; j < n; j++) {
        e.batches.push({
          firstSeq: buf.readInt32BE(p),
          lastSeq: buf.readInt32BE(p + 4),
          firstOffset: Number(buf.readBigInt64BE(p + 8)),
          lastOffset: Number(buf.readBigInt64BE(p + 16)),
          timestamp: Number(buf.readBigInt64BE(p + 24)),
        });
        p += 32;
      }
      this.producers.set(e.producerId, e);
    }
    if (p !== buf.length) throw new Error(`${buf.length - p} bytes after the last producer entry`);
  }
}
