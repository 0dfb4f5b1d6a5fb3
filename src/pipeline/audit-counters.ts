// The continuous audit's broker-side counters (samsa.audit.enable; design in docs/pipeline.md, "samsa audit"): how many
// records each partition led here took in per window of record timestamps, counted on append and written
// periodically to the compacted internal topic __samsa_audit, so the counts outlive the segments retention deletes.
// `samsa audit --use-counters` compares two clusters' counters instead of reading their logs.
//
// Counting (on the produce path, after a successful, non-duplicate leader append; never on a follower):
// - by batch: a batch whose first timestamp and maxTimestamp share a window adds its recordCount there; another
//   uncompressed batch is walked record by record (RecordCursor: offset/timestamp deltas only); another compressed
//   batch is decompressed off the append path and counted when that finishes (flush waits for it);
// - control batches are not counted; a transactional batch is held per (partition, producer id) until its marker:
//   a commit adds it, an abort drops it (what a read_committed reader sees).
//
// Format of __samsa_audit (JSON text, so any console consumer can read it), one record per counter:
//   key   {"v":0,"topic":T,"partition":P,"windowMs":W,"window":START,"writer":"NODE.START_MS.SEQ"}
//   value {"v":0,"count":N}
// A counter is the cumulative count of one writer (one in-memory counter of one broker process) for one window, so
// rewriting it is idempotent and compaction keeps its latest value; a window's count is the sum over its writers.
// A counter evicted from memory after it was written (idle for a while) starts a new writer when late records
// come for its window. Readers accept v >= 0 and ignore fields they do not know.
//
// Limits: counts appended since the last flush are lost if the broker dies (a clean stop flushes); records appended
// as a follower, or before samsa.audit.enable was set, are not counted; retention of __samsa_audit itself is
// compaction only.

import { auditCounterRecordsPerWriteMax } from '../limits.js';
import type { Logger } from '../logger.js';
import { batchBody } from '../protocol/batch-compression.js';
import { RecordCursor } from '../protocol/record-scan.js';
import {
  BATCH_HEADER_BYTES,
  type BatchHeader,
  COMPRESSION_CODEC_MASK,
  isControl,
  isTransactional,
  iterateBatches,
  LOG_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
} from '../protocol/records.js';
import { windowStart } from './audit-window.js';

export const AUDIT_TOPIC = '__samsa_audit';

export interface CounterKey {
  topic: string;
  partition: number;
  windowMs: number;
  window: number;
  writer: string;
}

export interface CounterRecord {
  key: string;
  value: string;
}

export function encodeCounter(k: CounterKey, count: number): CounterRecord {
  return {
    key: JSON.stringify({
      v: 0,
      topic: k.topic,
      partition: k.partition,
      windowMs: k.windowMs,
      window: k.window,
      writer: k.writer,
    }),
    value: JSON.stringify({ v: 0, count }),
  };
}

/** A counter record read back; null when it is not one (another version's layout, garbage, a tombstone). */
export function decodeCounter(
  key: Buffer | null,
  value: Buffer | null,
): (CounterKey & { count: number }) | null {
  if (key === null || value === null) return null;
  try {
    const k = JSON.parse(key.toString('utf8')) as Record<string, unknown>;
    const v = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    const ok =
      typeof k.v === 'number' &&
      k.v >= 0 &&
      typeof k.topic === 'string' &&
      Number.isInteger(k.partition) &&
      Number.isInteger(k.windowMs) &&
      Number.isInteger(k.window) &&
      typeof k.writer === 'string' &&
      Number.isInteger(v.count);
    if (!ok) return null;
    return {
      topic: k.topic as string,
      partition: k.partition as number,
      windowMs: k.windowMs as number,
      window: k.window as number,
      writer: k.writer as string,
      count: v.count as number,
    };
  } catch {
    return null;
  }
}

interface Counter {
  key: CounterKey;
  count: number;
  /** Count last written to __samsa_audit. */
  written: number;
  touchedMs: number;
}

export interface AuditCountersOptions {
  nodeId: number;
  windowMs: number;
  flushIntervalMs: number;
  /** Writes counter records to __samsa_audit (creating it if need be); rejects when they were not written. */
  write: (records: CounterRecord[]) => Promise<void>;
  logger: Logger;
  /** Counters kept in memory at most (idle written ones are dropped first, then the oldest windows are written). */
  countersMax: number;
  /** How long stop() waits for the last write. */
  stopTimeoutMs: number;
  /** Called by stop() after the last write (closes the writer's connection). */
  close?: () => void;
  now?: () => number;
}

export class AuditCounters {
  private readonly counters = new Map<string, Counter>();
  /** Transactional counts waiting for their marker: partition key + producer id -> window -> count. */
  private readonly pendingTxn = new Map<string, Map<number, number>>();
  /** Compressed batches being decompressed to be counted. */
  private readonly decompressing = new Set<Promise<void>>();
  private readonly startMs: number;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: AuditCountersOptions) {
    this.now = opts.now ?? Date.now;
    this.startMs = this.now();
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left (a clean shutdown loses nothing). */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.opts.stopTimeoutMs);
    });
    const late = await Promise.race([this.flush().then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.opts.logger.warn(
        'audit counters: the last write did not finish in time; counts since the last flush are lost',
        {
          timeoutMs: this.opts.stopTimeoutMs,
        },
      );
    }
    this.opts.close?.();
  }

  /** After a successful leader append of `records` (whole batches, offsets assigned) to topic-partition. */
  onAppend(topic: string, partition: number, records: Buffer): void {
    if (topic.startsWith('__')) return;
    for (const { pos, header } of iterateBatches(records)) {
      if (isControl(header.attributes)) continue;
      const txn = isTransactional(header.attributes) && header.producerId >= 0;
      const add = txn ? this.txnAdder(topic, partition, header.producerId) : this.adder(topic, partition);
      this.countBatch(records.subarray(pos, pos + LOG_OVERHEAD + header.batchLength), header, add);
    }
  }

  /** After a transaction marker was appended to topic-partition for producerId. */
  onMarker(topic: string, partition: number, producerId: number, commit: boolean): void {
    if (topic.startsWith('__')) return;
    // A compressed batch of this transaction may still be decompressing: the marker waits for it.
    if (this.decompressing.size > 0) {
      this.track(
        Promise.all([...this.decompressing]).then(() =>
          this.applyMarker(topic, partition, producerId, commit),
        ),
      );
      return;
    }
    this.applyMarker(topic, partition, producerId, commit);
  }

  private applyMarker(topic: string, partition: number, producerId: number, commit: boolean): void {
    const key = `${topic}\u0000${partition}\u0000${producerId}`;
    const pending = this.pendingTxn.get(key);
    if (pending === undefined) return;
    this.pendingTxn.delete(key);
    if (!commit) return;
    const add = this.adder(topic, partition);
    for (const [window, n] of pending) add(window, n);
  }

  /** Writes every counter changed since its last write; failures are logged and retried at the next flush. */
  flush(): Promise<void> {
    if (this.flushing === null) {
      this.flushing = this.doFlush().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  /** Counters in memory (tests, metrics). */
  get size(): number {
    return this.counters.size;
  }

  private async doFlush(): Promise<void> {
    while (this.decompressing.size > 0) await Promise.all([...this.decompressing]);
    const dirty = [...this.counters.values()].filter((c) => c.count !== c.written);
    // In slices, so one write stays far below message.max.bytes however many counters changed.
    for (let i = 0; i < dirty.length; i += auditCounterRecordsPerWriteMax) {
      const slice = dirty.slice(i, i + auditCounterRecordsPerWriteMax);
      const counts = slice.map((c) => c.count);
      try {
        await this.opts.write(slice.map((c) => encodeCounter(c.key, c.count)));
      } catch (e) {
        this.opts.logger.warn('audit counters not written; retrying at the next flush', {
          topic: AUDIT_TOPIC,
          counters: dirty.length - i,
          error: e,
        });
        return;
      }
      slice.forEach((c, j) => {
        c.written = counts[j] as number;
      });
    }
    // Written counters idle for two windows leave memory; late records for their window start a new writer.
    const idleBefore = this.now() - 2 * Math.max(this.opts.windowMs, this.opts.flushIntervalMs);
    for (const [k, c] of this.counters) {
      if (c.count === c.written && c.touchedMs < idleBefore) this.counters.delete(k);
    }
  }

  private adder(topic: string, partition: number): (window: number, n: number) => void {
    return (window, n) => {
      const id = `${topic}\u0000${partition}\u0000${window}`;
      let c = this.counters.get(id);
      if (c === undefined) {
        if (this.counters.size >= this.opts.countersMax) this.makeRoom();
        c = {
          key: {
            topic,
            partition,
            windowMs: this.opts.windowMs,
            window,
            writer: `${this.opts.nodeId}.${this.startMs}.${this.seq++}`,
          },
          count: 0,
          written: 0,
          touchedMs: 0,
        };
        this.counters.set(id, c);
      }
      c.count += n;
      c.touchedMs = this.now();
    };
  }

  private txnAdder(
    topic: string,
    partition: number,
    producerId: number,
  ): (window: number, n: number) => void {
    const key = `${topic}\u0000${partition}\u0000${producerId}`;
    return (window, n) => {
      let m = this.pendingTxn.get(key);
      if (m === undefined) {
        m = new Map();
        this.pendingTxn.set(key, m);
      }
      m.set(window, (m.get(window) ?? 0) + n);
    };
  }

  /** At the memory bound: drops written counters, least recently touched first, to make room for one. */
  private makeRoom(): void {
    const written = [...this.counters].filter(([, c]) => c.count === c.written);
    written.sort(([, a], [, b]) => a.touchedMs - b.touchedMs);
    for (const [k] of written.slice(0, Math.max(1, Math.floor(written.length / 4)))) this.counters.delete(k);
    if (this.counters.size >= this.opts.countersMax) void this.flush();
  }

  private countBatch(batch: Buffer, header: BatchHeader, add: (window: number, n: number) => void): void {
    const w = this.opts.windowMs;
    const logAppend = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
    const first = logAppend ? header.maxTimestamp : header.baseTimestamp;
    if (windowStart(first, w) === windowStart(header.maxTimestamp, w)) {
      add(windowStart(first, w), header.recordCount);
      return;
    }
    const walk = (body: Buffer): void => {
      const byWindow = new Map<number, number>();
      const cursor = new RecordCursor(body, 0, body.length, header.recordCount);
      while (cursor.next()) {
        const win = windowStart(header.baseTimestamp + cursor.timestampDelta, w);
        byWindow.set(win, (byWindow.get(win) ?? 0) + 1);
      }
      for (const [win, n] of byWindow) add(win, n);
    };
    const fallback = (e: unknown): void => {
      // The log accepted the batch, so this does not happen; count it whole rather than not at all.
      this.opts.logger.warn('audit counters: batch not walked; counted in its first window', { error: e });
      add(windowStart(first, w), header.recordCount);
    };
    if ((header.attributes & COMPRESSION_CODEC_MASK) === 0) {
      try {
        walk(batch.subarray(BATCH_HEADER_BYTES));
      } catch (e) {
        fallback(e);
      }
      return;
    }
    const copy = Buffer.from(batch); // the produce path's buffer may be recycled once the append returns
    this.track(batchBody(copy).then(walk).catch(fallback));
  }

  /** Asynchronous counting work that flush() waits for. */
  private track(work: Promise<void>): void {
    const done: Promise<void> = work
      .catch((e: unknown) => this.opts.logger.warn('audit counters: counting failed', { error: e }))
      .finally(() => this.decompressing.delete(done));
    this.decompressing.add(done);
  }
}
