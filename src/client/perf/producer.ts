// The load generator behind `samsa perf produce` (and the producing half of `samsa perf e2e`).
//
// It behaves like Kafka's Java producer driven by ProducerPerformance, so its numbers mean the same
// thing: records go into per-partition batches of batch.size bytes (sticky partitioning: fill one
// partition's batch, then move to the next), a batch is sent when full or linger.ms old, each
// request carries at most one batch per partition and at most max.in.flight requests are
// outstanding per connection. Records wait for room when buffer.memory bytes are queued, and a
// record's latency runs from the moment it was generated to its acknowledgement, as in
// ProducerPerformance (so at saturation it includes the time spent queued in the buffer).
//
// With compression, batch.size bounds the compressed size: the batch accepts uncompressed bytes up
// to batch.size / estimated ratio, the estimate adapting per batch as Kafka's
// CompressionRatioEstimator does.

import { performance } from 'node:perf_hooks';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ProduceResponse } from '../../protocol/generated/produce-response.js';
import { BATCH_HEADER_BYTES, RECORDS_OFFSET } from '../../protocol/records.js';
import type { KafkaConnection } from '../connection.js';
import { BatchBuilder, PayloadPool, recordBytesMax } from './batch.js';
import type { TopicLayout } from './cluster.js';
import { Histogram, type LatencySummary } from './histogram.js';

export interface ProducerOptions {
  records: number;
  recordSize: number;
  /** -1 (all), 0 or 1. */
  acks: number;
  /** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  codec: number;
  batchSize: number;
  lingerMs: number;
  /** Records per second; <= 0 for as fast as possible. */
  throughput: number;
  /**
   * With throughput: the performance.now() time from which record j is due at paceStartMs + j / throughput s
   * (default: when run() starts). Several producers sharing one budget (producers.ts) start staggered.
   */
  paceStartMs?: number;
  bufferMemory: number;
  maxInFlight: number;
  maxRequestSize: number;
  requestTimeoutMs: number;
  /** Write performance.now() (float64) into the first 8 bytes of each value (e2e latency). */
  stampValues?: boolean;
  /** Called every reportMs with the interval's numbers. */
  onInterval?: (s: IntervalStats) => void;
  reportMs?: number;
}

export const producerDefaults = {
  acks: -1,
  codec: 0,
  batchSize: 16_384,
  lingerMs: 5,
  throughput: -1,
  bufferMemory: 32 * 1024 * 1024,
  maxInFlight: 5,
  maxRequestSize: 1024 * 1024,
  requestTimeoutMs: 30_000,
};

export interface IntervalStats {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  maxMs: number;
}

/** Latencies and interval counters; one may be shared by several producers in this process (producers.ts). */
export class ProduceStats {
  readonly hist = new Histogram();
  /** Since the last takeInterval(). */
  private w = { records: 0, sumUs: 0, maxUs: 0, bytes: 0 };
  private lastReport = performance.now();

  /** One acknowledged record of the given latency and value bytes. */
  record(us: number): void {
    this.hist.record(us);
    const w = this.w;
    w.sumUs += us;
    if (us > w.maxUs) w.maxUs = us;
  }

  acked(records: number, bytes: number): void {
    this.w.records += records;
    this.w.bytes += bytes;
  }

  /** The numbers since the last call (or since construction), and a new interval. */
  takeInterval(): IntervalStats {
    const now = performance.now();
    const secs = (now - this.lastReport) / 1000 || 1;
    this.lastReport = now;
    const w = this.w;
    this.w = { records: 0, sumUs: 0, maxUs: 0, bytes: 0 };
    return {
      records: w.records,
      recordsPerSec: w.records / secs,
      mbPerSec: w.bytes / 1048576 / secs,
      avgMs: w.records === 0 ? 0 : w.sumUs / w.records / 1000,
      maxMs: w.maxUs / 1000,
    };
  }
}

export interface ProduceResult {
  records: number;
  errors: number;
  firstError: string | null;
  elapsedSec: number;
  recordsPerSec: number;
  /** MiB/s of record values, as ProducerPerformance counts it. */
  mbPerSec: number;
  latency: LatencySummary;
  requests: number;
  batches: number;
}

interface QueuedBatch {
  builder: BatchBuilder;
  attempts: number;
  /** Uncompressed bytes held against buffer.memory. */
  reserved: number;
  data: Buffer | null;
  closing: Promise<void> | null;
}

interface NodeState {
  node: number;
  conn: KafkaConnection;
  partitions: number[];
  inFlight: number;
  pumping: boolean;
}

/** Errors after which the Java producer retries the batch. */
const RETRIABLE = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.KAFKA_STORAGE_ERROR,
]);
const RETRY_BACKOFF_MS = 100;
const RETRIES_MAX = 300;

const COMPRESSION_RATIO_IMPROVING_STEP = 0.005;
const COMPRESSION_RATIO_DETERIORATE_STEP = 0.05;
const COMPRESSION_RATE_ESTIMATION_FACTOR = 1.05;

export class PerfProducer {
  private readonly payload: PayloadPool;
  private readonly stats: ProduceStats;
  private readonly partitions: number[];
  private readonly open = new Map<number, BatchBuilder>();
  private readonly ready = new Map<number, QueuedBatch[]>();
  private readonly nodeOf = new Map<number, NodeState>();
  private readonly nodes: NodeState[] = [];
  private stickyIndex = 0;
  private generated = 0;
  private acked = 0;
  private errors = 0;
  private firstError: string | null = null;
  private bufferedBytes = 0;
  private memoryBlocked = false;
  private finishedGenerating = false;
  private ratioEstimate = 1.0;
  private requests = 0;
  private batches = 0;
  private startedAt = 0;
  private genScheduled = false;
  private stopped = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private paceStart = 0;
  /** Acknowledged builders, reused so that steady state allocates nothing per batch. */
  private readonly freeBuilders: BatchBuilder[] = [];
  private resolveDone: (() => void) | null = null;
  private failed: Error | null = null;

  constructor(
    private readonly layout: TopicLayout,
    conns: Map<number, KafkaConnection>,
    private readonly opts: ProducerOptions,
    /** What several producers in one process share (producers.ts): the latencies, the values' bytes. */
    shared: { stats?: ProduceStats; payload?: PayloadPool } = {},
  ) {
    if (opts.stampValues === true && opts.recordSize < 8) throw new Error('e2e needs --record-size >= 8');
    this.stats = shared.stats ?? new ProduceStats();
    this.payload = shared.payload ?? new PayloadPool(opts.recordSize);
    if (this.payload.recordSize !== opts.recordSize)
      throw new Error('the payload pool is for another record size');
    this.partitions = [...layout.leaders.keys()].sort((a, b) => a - b);
    for (const [node, conn] of conns) {
      const st: NodeState = { node, conn, partitions: [], inFlight: 0, pumping: false };
      this.nodes.push(st);
    }
    for (const p of this.partitions) {
      const st = this.nodes.find((n) => n.node === layout.leaders.get(p));
      if (st === undefined) throw new Error(`no connection to the leader of partition ${p}`);
      st.partitions.push(p);
      this.nodeOf.set(p, st);
      this.ready.set(p, []);
    }
    this.stickyIndex = Math.floor(Math.random() * this.partitions.length);
  }

  async run(): Promise<ProduceResult> {
    this.startedAt = performance.now();
    this.paceStart = this.opts.paceStartMs ?? this.startedAt;
    const done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    const onInterval = this.opts.onInterval;
    const reporter =
      onInterval === undefined
        ? null
        : setInterval(() => onInterval(this.stats.takeInterval()), this.opts.reportMs ?? 2000);
    this.generate();
    await done;
    this.stopped = true;
    if (reporter !== null) clearInterval(reporter);
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    if (this.failed !== null) throw this.failed;
    const elapsedSec = (performance.now() - this.startedAt) / 1000;
    return {
      records: this.acked,
      errors: this.errors,
      firstError: this.firstError,
      elapsedSec,
      recordsPerSec: this.acked / elapsedSec,
      mbPerSec: (this.acked * this.opts.recordSize) / 1048576 / elapsedSec,
      latency: this.stats.hist.summary(),
      requests: this.requests,
      batches: this.batches,
    };
  }

  // ---- generation ----------------------------------------------------------------------------------------

  private batchCapacity(): number {
    const est =
      this.opts.codec === 0 ? 1 : Math.max(this.ratioEstimate * COMPRESSION_RATE_ESTIMATION_FACTOR, 0.01);
    const body = Math.min(
      Math.ceil((this.opts.batchSize - BATCH_HEADER_BYTES) / est),
      this.opts.maxRequestSize,
    );
    return Math.max(RECORDS_OFFSET + body, RECORDS_OFFSET + recordBytesMax(this.opts.recordSize));
  }

  private scheduleGenerate(delayMs: number): void {
    if (this.genScheduled || this.stopped) return;
    this.genScheduled = true;
    const run = (): void => {
      this.genScheduled = false;
      if (!this.stopped) this.generate();
    };
    if (delayMs <= 0) setImmediate(run);
    else setTimeout(run, delayMs);
  }

  private generate(): void {
    const o = this.opts;
    const total = o.records;
    const throttled = o.throughput > 0;
    const sliceEnd = performance.now() + 1;
    let nowPerf = performance.now();
    let nowMs = Date.now();
    let sinceClock = 0;
    while (this.generated < total) {
      if (throttled) {
        nowPerf = performance.now();
        nowMs = Date.now();
        // Record j is due at paceStart + j / throughput s.
        const waitMs = (this.generated / o.throughput) * 1000 - (nowPerf - this.paceStart);
        if (waitMs > 0) {
          this.scheduleGenerate(Math.max(1, Math.ceil(waitMs)));
          break;
        }
      } else if (++sinceClock === 16) {
        sinceClock = 0;
        nowPerf = performance.now();
        nowMs = Date.now();
        if (nowPerf > sliceEnd) {
          this.scheduleGenerate(0);
          break;
        }
      }
      const p = this.partitions[this.stickyIndex] as number;
      let b = this.open.get(p);
      if (b !== undefined && !b.hasRoomFor(o.recordSize)) {
        this.enqueue(b);
        this.open.delete(p);
        this.stickyIndex = (this.stickyIndex + 1) % this.partitions.length;
        continue;
      }
      if (b === undefined) {
        const cap = this.batchCapacity();
        if (this.bufferedBytes + cap > o.bufferMemory && this.bufferedBytes > 0) {
          this.memoryBlocked = true; // resumed by an acknowledgement
          break;
        }
        b = this.takeBuilder(p, cap);
        this.bufferedBytes += cap;
        this.open.set(p, b);
        this.armLinger();
      }
      const stamp = o.stampValues === true;
      if (stamp && !throttled) nowPerf = performance.now();
      b.append(this.payload.pool, this.payload.next(), o.recordSize, nowMs, nowPerf, stamp);
      this.generated++;
    }
    if (this.generated >= total) this.finishedGenerating = true;
    this.pumpAll();
  }

  private takeBuilder(partition: number, cap: number): BatchBuilder {
    const free = this.freeBuilders.pop();
    if (free !== undefined && free.capacityBytes === cap) return free.reset(partition);
    return new BatchBuilder(partition, cap, Math.floor(cap / (this.opts.recordSize + 7)) + 1);
  }

  private enqueue(b: BatchBuilder): void {
    const q: QueuedBatch = {
      builder: b,
      reserved: b.capacityBytes,
      attempts: 0,
      data: null,
      closing: null,
    };
    const uncompressed = b.sizeBytes;
    q.closing = b.close(this.opts.codec).then((data) => {
      q.data = data;
      q.closing = null;
      if (this.opts.codec !== 0) this.updateRatio(data.length / uncompressed);
    });
    (this.ready.get(b.partition) as QueuedBatch[]).push(q);
  }

  private updateRatio(observed: number): void {
    const est = this.ratioEstimate;
    if (observed > est) this.ratioEstimate = Math.max(est + COMPRESSION_RATIO_DETERIORATE_STEP, observed);
    else if (observed < est) this.ratioEstimate = Math.max(est - COMPRESSION_RATIO_IMPROVING_STEP, observed);
  }

  private armLinger(delayMs = this.opts.lingerMs): void {
    const linger = this.opts.lingerMs;
    if (this.lingerTimer !== null || linger <= 0) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      this.pumpAll();
      if (this.open.size === 0) return;
      // Again when the oldest open batch is due, not a whole linger.ms later: a timer armed for an earlier batch,
      // or one that fired a little early by performance.now() (libuv's clock is in whole ms), would otherwise
      // hold a batch up to twice linger.ms.
      let oldest = Number.POSITIVE_INFINITY;
      for (const b of this.open.values()) {
        if (b.recordCount > 0) oldest = Math.min(oldest, b.createdAt[0] as number);
      }
      const due = oldest + linger - performance.now();
      this.armLinger(Number.isFinite(due) ? Math.max(1, Math.ceil(due)) : linger);
    }, delayMs);
  }

  // ---- sending -------------------------------------------------------------------------------------------

  private pumpAll(): void {
    for (const n of this.nodes) void this.pump(n);
    this.checkDone();
  }

  /** Moves open batches that are due (linger passed, memory exhausted, or the end) to the ready queues. */
  private closeDueBatches(st: NodeState): void {
    const now = performance.now();
    for (const p of st.partitions) {
      const b = this.open.get(p);
      if (b === undefined || b.recordCount === 0) continue;
      const due =
        this.finishedGenerating ||
        this.memoryBlocked ||
        this.opts.lingerMs <= 0 ||
        now - (b.createdAt[0] as number) >= this.opts.lingerMs;
      if (due) {
        this.enqueue(b);
        this.open.delete(p);
        if (this.partitions[this.stickyIndex] === p)
          this.stickyIndex = (this.stickyIndex + 1) % this.partitions.length;
      }
    }
  }

  private async pump(st: NodeState): Promise<void> {
    if (st.pumping) return;
    st.pumping = true;
    try {
      while (st.inFlight < this.opts.maxInFlight && this.failed === null) {
        this.closeDueBatches(st);
        const picked: QueuedBatch[] = [];
        let bytes = 0;
        for (const p of st.partitions) {
          const q = this.ready.get(p) as QueuedBatch[];
          const head = q[0];
          if (head === undefined) continue;
          const size = head.data?.length ?? head.builder.sizeBytes;
          if (picked.length > 0 && bytes + size > this.opts.maxRequestSize) break;
          picked.push(head);
          q.shift();
          bytes += size;
        }
        if (picked.length === 0) break;
        const closing = picked.filter((q) => q.closing !== null).map((q) => q.closing as Promise<void>);
        if (closing.length > 0) await Promise.all(closing);
        this.send(st, picked);
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      st.pumping = false;
    }
  }

  private send(st: NodeState, picked: QueuedBatch[]): void {
    const body = {
      transactionalId: null,
      acks: this.opts.acks,
      timeoutMs: this.opts.requestTimeoutMs,
      topicData: [
        {
          name: this.layout.name,
          topicId: this.layout.topicId,
          partitionData: picked.map((q) => ({ index: q.builder.partition, records: q.data })),
        },
      ],
    };
    this.requests++;
    this.batches += picked.length;
    if (this.opts.acks === 0) {
      st.conn.sendNoResponse(ApiKey.Produce, body);
      this.completed(picked, null);
      return;
    }
    st.inFlight++;
    st.conn.request<ProduceResponse>(ApiKey.Produce, body).then(
      (res) => {
        st.inFlight--;
        this.completed(picked, res);
      },
      (e: unknown) => {
        st.inFlight--;
        this.fail(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  private completed(picked: QueuedBatch[], res: ProduceResponse | null): void {
    const now = performance.now();
    const errors = new Map<number, number>();
    if (res !== null) {
      for (const t of res.responses) {
        for (const p of t.partitionResponses) {
          if (p.errorCode !== ErrorCode.NONE) errors.set(p.index, p.errorCode);
        }
      }
    }
    const stats = this.stats;
    for (const q of picked) {
      const b = q.builder;
      this.bufferedBytes -= q.reserved;
      const err = errors.get(b.partition);
      if (err !== undefined && RETRIABLE.has(err) && q.attempts < RETRIES_MAX) {
        // As the Java producer does (retries, retry.backoff.ms): e.g. a new topic's leader not ready yet.
        q.attempts++;
        this.bufferedBytes += q.reserved;
        setTimeout(() => {
          (this.ready.get(b.partition) as QueuedBatch[]).unshift(q);
          this.pumpAll();
        }, RETRY_BACKOFF_MS);
        continue;
      }
      if (err !== undefined) {
        this.errors += b.recordCount;
        this.firstError ??= `partition ${b.partition}: error code ${err}`;
        continue;
      }
      const n = b.recordCount;
      const t = b.createdAt;
      for (let i = 0; i < n; i++) stats.record((now - (t[i] as number)) * 1000);
      this.acked += n;
      if (res !== null && this.freeBuilders.length < 64) this.freeBuilders.push(b); // acks=0: maybe still queued
      stats.acked(n, n * this.opts.recordSize);
    }
    if (this.memoryBlocked && this.bufferedBytes < this.opts.bufferMemory) {
      this.memoryBlocked = false;
      this.scheduleGenerate(0);
    }
    this.pumpAll();
  }

  private checkDone(): void {
    if (this.resolveDone === null) return;
    if (this.failed !== null || (this.finishedGenerating && this.acked + this.errors >= this.opts.records)) {
      const r = this.resolveDone;
      this.resolveDone = null;
      r();
    }
  }

  private fail(e: Error): void {
    if (this.failed === null) this.failed = e;
    this.checkDone();
  }
}
