// The reader behind `samsa perf consume` and the consuming half of `samsa perf e2e`: assign-style
// consumption (ListOffsets, then a Fetch loop per leader), no consumer group.
//
// Like Kafka's consumer it keeps one fetch in flight per broker and sends the next as soon as a
// response arrives (the offsets to ask for are read from the batch headers), then processes the
// records it got: every batch's CRC32C is checked, compressed batches are decompressed and every
// record is walked, as the Java consumer does before handing records to the application.

import { performance } from 'node:perf_hooks';
import { decompress } from '../../protocol/compression.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { FetchResponse } from '../../protocol/generated/fetch-response.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  batchCrcValid,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  readInt64,
} from '../../protocol/records.js';
import { KafkaClientError, type KafkaConnection, type PooledResponse } from '../connection.js';
import type { TopicLayout } from './cluster.js';

export interface ConsumerOptions {
  /** Stop after this many records. */
  records: number;
  fetchMaxBytes: number;
  partitionMaxBytes: number;
  maxWaitMs: number;
  minBytes: number;
  /** Give up when no record arrived for this long. */
  idleTimeoutMs: number;
  /**
   * Called for each record with its value (the e2e tool reads its timestamp); keep it cheap, and keep nothing of
   * buf: the response's memory is reused once its records are walked.
   */
  onValue?: (value: Buffer, pos: number, length: number) => void;
  onInterval?: (records: number, bytes: number) => void;
  reportMs?: number;
  /** Resolves the consumer early (e2e: the producer finished and everything sent was read). */
  signal?: AbortSignal;
}

export const consumerDefaults = {
  fetchMaxBytes: 50 * 1024 * 1024,
  partitionMaxBytes: 1024 * 1024,
  maxWaitMs: 500,
  minBytes: 1,
  idleTimeoutMs: 10_000,
};

export interface ConsumeResult {
  records: number;
  /** Key + value bytes, as ConsumerPerformance counts them. */
  bytes: number;
  batches: number;
  fetches: number;
  elapsedSec: number;
  recordsPerSec: number;
  mbPerSec: number;
  timedOut: boolean;
}

/** Position after the varint at pos; its value lands in `varintValue` (no allocation per record). */
let varintValue = 0;
function readVarint(buf: Buffer, pos: number): number {
  let raw = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new KafkaClientError('record runs past its batch');
    raw |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new KafkaClientError('varint longer than 5 bytes');
  }
  varintValue = (raw >>> 1) ^ -(raw & 1);
  return pos;
}

function skipVarint(buf: Buffer, pos: number): number {
  while ((buf[pos++] as number) & 0x80);
  return pos;
}

export class PerfConsumer {
  private records = 0;
  private bytes = 0;
  private batches = 0;
  private fetches = 0;
  private lastProgress = 0;
  private readonly positions: Map<number, number>;
  private finished = false;
  private failure: Error | null = null;
  private resolveDone: (() => void) | null = null;

  constructor(
    private readonly layout: TopicLayout,
    private readonly conns: Map<number, KafkaConnection>,
    startOffsets: Map<number, number>,
    private readonly opts: ConsumerOptions,
  ) {
    this.positions = new Map(startOffsets);
  }

  get consumed(): number {
    return this.records;
  }

  async run(): Promise<ConsumeResult> {
    const start = performance.now();
    this.lastProgress = start;
    const done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    let reported = { records: 0, bytes: 0 };
    const reporter =
      this.opts.onInterval === undefined
        ? null
        : setInterval(() => {
            this.opts.onInterval?.(this.records - reported.records, this.bytes - reported.bytes);
            reported = { records: this.records, bytes: this.bytes };
          }, this.opts.reportMs ?? 2000);
    const idle = setInterval(() => {
      if (performance.now() - this.lastProgress > this.opts.idleTimeoutMs) this.finish();
    }, 200);
    const onAbort = (): void => this.finish();
    this.opts.signal?.addEventListener('abort', onAbort);
    const loops = [...this.conns].map(([node, conn]) => this.loop(node, conn));
    await done;
    clearInterval(idle);
    if (reporter !== null) clearInterval(reporter);
    this.opts.signal?.removeEventListener('abort', onAbort);
    void Promise.allSettled(loops);
    if (this.failure !== null) throw this.failure;
    const end = this.records >= this.opts.records ? performance.now() : this.lastProgress;
    const elapsedSec = Math.max((end - start) / 1000, 1e-9);
    return {
      records: this.records,
      bytes: this.bytes,
      batches: this.batches,
      fetches: this.fetches,
      elapsedSec,
      recordsPerSec: this.records / elapsedSec,
      mbPerSec: this.bytes / 1048576 / elapsedSec,
      timedOut: this.records < this.opts.records,
    };
  }

  private finish(): void {
    this.finished = true;
    const r = this.resolveDone;
    this.resolveDone = null;
    r?.();
  }

  private async loop(node: number, conn: KafkaConnection): Promise<void> {
    const parts = [...this.layout.leaders].filter(([, leader]) => leader === node).map(([p]) => p);
    // Pooled: a response's records are views of its frame, walked (or decompressed into fresh buffers) and counted,
    // never kept, so the frame is given back once they are; the next response is received into it meanwhile.
    const send = (): Promise<PooledResponse<FetchResponse>> => {
      this.fetches++;
      const p = conn.requestPooled<FetchResponse>(ApiKey.Fetch, {
        replicaId: -1,
        maxWaitMs: this.opts.maxWaitMs,
        minBytes: this.opts.minBytes,
        maxBytes: this.opts.fetchMaxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: this.layout.name,
            topicId: this.layout.topicId,
            partitions: parts.map((p) => ({
              partition: p,
              currentLeaderEpoch: -1,
              fetchOffset: this.positions.get(p) ?? 0,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: this.opts.partitionMaxBytes,
            })),
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      // The last fetch may still be in flight when the consumer stops and closes the connection.
      p.catch(() => {});
      return p;
    };
    try {
      let inFlight = send();
      while (!this.finished) {
        const pooled = await inFlight;
        const res = pooled.body;
        if (res.errorCode !== ErrorCode.NONE)
          throw new KafkaClientError(`fetch failed: error ${res.errorCode}`);
        const got: Buffer[] = [];
        for (const t of res.responses) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE) {
              throw new KafkaClientError(
                `fetch ${this.layout.name}-${p.partitionIndex}: error ${p.errorCode}`,
              );
            }
            const recs = p.records;
            if (recs === null || recs.length === 0) continue;
            const next = nextOffsetAfter(recs);
            if (next !== null) this.positions.set(p.partitionIndex, next);
            got.push(recs);
          }
        }
        if (this.finished) break;
        inFlight = send();
        for (const recs of got) {
          await this.process(recs);
          if (this.finished) break;
        }
        pooled.release();
      }
    } catch (e) {
      if (!this.finished) {
        this.failure = e instanceof Error ? e : new Error(String(e));
        this.finish();
      }
    }
  }

  /** Checks, decompresses and walks every record of the complete batches in recs. */
  private async process(recs: Buffer): Promise<void> {
    let pos = 0;
    while (pos + BATCH_HEADER_BYTES <= recs.length && !this.finished) {
      const batchLength = recs.readInt32BE(pos + BATCH_LENGTH_OFFSET);
      const end = pos + LOG_OVERHEAD + batchLength;
      if (end > recs.length) break; // a partial batch at the end of a response
      if (!batchCrcValid(recs, pos, batchLength)) {
        throw new KafkaClientError(`CRC mismatch in the batch at offset ${readInt64(recs, pos)}`);
      }
      const codec = recs.readInt16BE(pos + ATTRIBUTES_OFFSET) & 0x07;
      const count = recs.readInt32BE(pos + RECORD_COUNT_OFFSET);
      let body = recs;
      let bodyPos = pos + RECORDS_OFFSET;
      let bodyEnd = end;
      if (codec !== 0) {
        body = await decompress(codec, recs.subarray(pos + RECORDS_OFFSET, end));
        bodyPos = 0;
        bodyEnd = body.length;
      }
      this.walk(body, bodyPos, bodyEnd, count);
      this.batches++;
      pos = end;
    }
  }

  private walk(buf: Buffer, pos: number, end: number, count: number): void {
    const want = this.opts.records - this.records;
    const n = Math.min(count, want);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      pos = readVarint(buf, pos);
      const recEnd = pos + varintValue;
      if (recEnd > end) throw new KafkaClientError('record runs past its batch');
      let p = pos + 1; // attributes
      p = skipVarint(buf, p); // timestampDelta
      p = skipVarint(buf, p); // offsetDelta
      p = readVarint(buf, p);
      const keyLen = varintValue;
      if (keyLen > 0) {
        bytes += keyLen;
        p += keyLen;
      }
      p = readVarint(buf, p);
      const valueLen = varintValue;
      if (valueLen > 0) {
        bytes += valueLen;
        this.opts.onValue?.(buf, p, valueLen);
      }
      pos = recEnd;
    }
    this.records += n;
    this.bytes += bytes;
    this.lastProgress = performance.now();
    if (this.records >= this.opts.records) this.finish();
  }
}

/** The offset after the last complete batch in recs, or null when it holds none. */
export function nextOffsetAfter(recs: Buffer): number | null {
  let pos = 0;
  let next: number | null = null;
  while (pos + BATCH_HEADER_BYTES <= recs.length) {
    const batchLength = recs.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (pos + LOG_OVERHEAD + batchLength > recs.length) break;
    next = readInt64(recs, pos) + recs.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += LOG_OVERHEAD + batchLength;
  }
  return next;
}
