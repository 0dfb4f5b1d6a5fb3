// `samsa sink`: topics into a data lake, as LinkedIn's Camus/Gobblin loaded Kafka into Hadoop. Files and their
// crash safety: sink-files.ts; formats and columns: sink-format.ts; Avro values: sink-avro.ts; docs/sink.md.
//
// API
//   const sink = new Sink({ bootstrap, topics: /^orders/, groupId: 'lake', dir: '/lake', format: 'parquet',
//     partitionBy: 'hour', flushRecords: 100_000, flushIntervalMs: 10_000 });
//   await sink.run(signal);   // until the signal aborts: then what is buffered is flushed and committed
//   sink.stats();             // counters for the progress line
//
// How it runs
// - Topics: every non-internal topic whose whole name matches the regex, looked up again every
//   topicRefreshMs; when the set changes, the sink flushes, leaves the group and joins again with the new set.
// - The group: the internal classic-protocol consumer (src/client/group.ts), range assignor, starting from the
//   committed offsets (none: earliest). Offsets are marked and committed only after the files holding the
//   records are visible (sink-files.ts); the consumer's own periodic commit only ever commits those marks.
// - When the assignment changes (a new generation), records buffered but not written are dropped (they are
//   fetched again from the committed offsets) and the newly assigned partitions are recovered: interrupted file
//   sets rolled forward or deleted, and every record at or below the highest lastOffset found in the files is
//   skipped, so a record is never written twice even when the commit after a rename did not happen.
// - Buffers: one per partition, split by the hour (or day) folder of each record. A partition is flushed when it
//   holds --flush-records records, when its oldest buffered record has waited --flush-interval, when it holds
//   sinkPartitionBufferBytesMax bytes, or when all partitions together hold sinkBufferBytesMax.

import { Cluster, KafkaError } from '../client/cluster.js';
import type { ClientSecurity } from '../client/connection.js';
import { Consumer, LATEST_TIMESTAMP } from '../client/consumer.js';
import { GroupConsumer } from '../client/group.js';
import {
  sinkBufferBytesMax,
  sinkFetchPartitionBytesMax,
  sinkPartitionBufferBytesMax,
  sinkRetryBackoffMsMax,
  sinkRetryBackoffMsMin,
} from '../limits.js';
import { createLogger, type Logger } from '../logger.js';
import type { AvroDecoder } from './sink-avro.js';
import {
  bucketOf,
  fileName,
  type PartitionBy,
  type PendingFile,
  recoverTopic,
  type SinkFormat,
  writeFileSet,
} from './sink-files.js';
import { encodeJsonl, encodeParquet, type ParquetCompression, type SinkRow } from './sink-format.js';
import type { SinkMetrics } from './sink-metrics.js';

export interface SinkOptions {
  bootstrap: string;
  /** TLS and SASL towards the cluster (undefined: PLAINTEXT). */
  security?: ClientSecurity;
  /** Topics whose whole name matches. */
  topics: RegExp;
  groupId: string;
  dir: string;
  format: SinkFormat;
  /** Parquet page compression (default snappy). */
  compression?: ParquetCompression;
  partitionBy: PartitionBy;
  flushRecords: number;
  flushIntervalMs: number;
  topicRefreshMs?: number;
  /** Decodes Confluent-framed Avro values into columns (--registry). */
  avro?: AvroDecoder;
  metrics?: SinkMetrics;
  logger?: Logger;
}

export interface SinkStats {
  recordsWritten: number;
  filesWritten: number;
  bytesWritten: number;
  buffered: number;
  /** Records in the log not yet in a file, over the assigned partitions (null before the first look). */
  lag: number | null;
  assigned: number;
  commitFailures: number;
}

interface PartitionBuffer {
  topic: string;
  partition: number;
  /** Rows by folder (relative to DIR/<topic>). */
  buckets: Map<string, SinkRow[]>;
  count: number;
  bytes: number;
  firstOffset: number;
  lastOffset: number;
  openedAt: number;
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

function rowBytes(r: SinkRow): number {
  let n = 64 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += h.key.length + (h.value?.length ?? 0) + 16;
  return n;
}

export class Sink {
  private readonly log: Logger;
  private readonly buffers = new Map<string, PartitionBuffer>();
  private bufferedBytes = 0;
  /** Highest offset in a visible file, per partition of the current assignment. */
  private readonly written = new Map<string, number>();
  /** First offset fetched per partition in this generation (the committed position), for the lag. */
  private readonly firstSeen = new Map<string, number>();
  private assigned: { topic: string; partition: number }[] = [];
  private readonly s: SinkStats = {
    recordsWritten: 0,
    filesWritten: 0,
    bytesWritten: 0,
    buffered: 0,
    lag: null,
    assigned: 0,
    commitFailures: 0,
  };
  /** When the lag lookup in flight began (0: none); one that hangs (a dead connection) is given up after 10 s. */
  private lagSince = 0;

  constructor(private readonly o: SinkOptions) {
    this.log = o.logger ?? createLogger('sink');
  }

  stats(): SinkStats {
    return { ...this.s, buffered: this.bufferedCount(), assigned: this.assigned.length };
  }

  private bufferedCount(): number {
    let n = 0;
    for (const b of this.buffers.values()) n += b.count;
    return n;
  }

  private connect(): Promise<Cluster> {
    const security = this.o.security;
    return Cluster.connect({
      bootstrap: this.o.bootstrap,
      clientId: 'samsa-sink',
      ...(security === undefined ? {} : { security }),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    // The first connection failing is an error for the operator (wrong address); later ones are retried.
    let cluster: Cluster | null = await this.connect();
    let backoffMs = sinkRetryBackoffMsMin;
    try {
      let waiting = false;
      while (!signal.aborted) {
        try {
          cluster ??= await this.connect();
          const topics = await this.matchingTopics(cluster);
          if (topics.length === 0) {
            if (!waiting) this.log.info('no topic matches yet', { topics: this.o.topics.source });
            waiting = true;
            await sleep(this.o.topicRefreshMs ?? 30_000, signal);
            continue;
          }
          waiting = false;
          await this.consume(cluster, topics, signal);
          backoffMs = sinkRetryBackoffMsMin;
        } catch (e) {
          // A file-system error (ENOSPC, EACCES, EIO) stops the sink: retrying would only repeat it. Broker and
          // network errors are retried with a new connection; what was buffered is fetched again.
          if (isFileSystemError(e) || signal.aborted) throw e;
          this.log.warn('consuming failed; joining again', { error: String(e), retryInMs: backoffMs });
          this.buffers.clear();
          this.bufferedBytes = 0;
          cluster?.close();
          cluster = null;
          await sleep(backoffMs, signal);
          backoffMs = Math.min(backoffMs * 2, sinkRetryBackoffMsMax);
        }
      }
    } finally {
      cluster?.close();
    }
  }

  private async matchingTopics(cluster: Cluster): Promise<string[]> {
    const all = await cluster.metadata(null);
    return all
      .filter((t) => !t.isInternal && this.o.topics.test(t.name))
      .map((t) => t.name)
      .sort();
  }

  /** One group membership over a fixed topic set; returns when the signal aborts or the topic set changed. */
  private async consume(cluster: Cluster, topics: string[], signal: AbortSignal): Promise<void> {
    this.log.info('joining group', { groupId: this.o.groupId, topics });
    const g = await GroupConsumer.join(cluster, {
      groupId: this.o.groupId,
      topics,
      autoOffsetReset: 'earliest',
      maxWaitMs: Math.max(10, Math.min(500, this.o.flushIntervalMs)),
      partitionMaxBytes: sinkFetchPartitionBytesMax,
    });
    const offsets = Consumer.on(cluster, {});
    let generation = Number.NaN;
    let nextTopicCheck = Date.now() + (this.o.topicRefreshMs ?? 30_000);
    let nextLag = 0;
    try {
      while (!signal.aborted) {
        const records = await g.poll();
        if (g.member.generationId !== generation) {
          generation = g.member.generationId;
          await this.onAssigned(g);
        }
        await this.add(records);
        await this.flushDue(g, false);
        const now = Date.now();
        if (now >= nextLag) {
          nextLag = now + 2_000;
          this.updateLag(offsets);
        }
        if (now >= nextTopicCheck) {
          nextTopicCheck = now + (this.o.topicRefreshMs ?? 30_000);
          const current = await this.matchingTopics(cluster);
          if (current.join('\u0000') !== topics.join('\u0000')) {
            this.log.info('topics changed: joining again', { before: topics, after: current });
            break;
          }
        }
      }
      await this.flushDue(g, true);
    } finally {
      await g.close().catch((e: unknown) => this.log.warn('leaving the group failed', { error: String(e) }));
    }
  }

  /** A new generation: drop what is buffered, recover the assigned partitions' files. */
  private async onAssigned(g: GroupConsumer): Promise<void> {
    this.buffers.clear();
    this.bufferedBytes = 0;
    this.written.clear();
    this.firstSeen.clear();
    this.assigned = g.assignment();
    const byTopic = new Map<string, Set<number>>();
    for (const a of this.assigned) byTopic.set(a.topic, (byTopic.get(a.topic) ?? new Set()).add(a.partition));
    for (const [topic, partitions] of byTopic) {
      const r = await recoverTopic(this.o.dir, topic, partitions);
      for (const [p, last] of r.lastOffsets) {
        this.written.set(tpKey(topic, p), last);
        // The files are there: commit past them (a no-op when the commit after their rename happened).
        g.markConsumed({ topic, partition: p, offset: last });
      }
      if (r.rolledForward.length > 0 || r.deleted.length > 0) {
        this.log.info('recovered files of an interrupted flush', {
          topic,
          rolledForward: r.rolledForward,
          deletedTemporary: r.deleted,
        });
      }
    }
    this.log.info('assigned', {
      partitions: this.assigned.map((a) => `${a.topic}-${a.partition}`),
      resumeAfter: Object.fromEntries([...this.written].map(([k, v]) => [k.replace('\u0000', '-'), v])),
    });
    await this.commit(g);
  }

  private async add(records: SinkRow[]): Promise<void> {
    if (records.length === 0) return;
    const fresh: SinkRow[] = [];
    for (const r of records) {
      const k = tpKey(r.topic, r.partition);
      if (!this.firstSeen.has(k)) this.firstSeen.set(k, r.offset);
      const w = this.written.get(k);
      if (w === undefined || r.offset > w) fresh.push(r);
    }
    if (this.o.avro !== undefined) await this.o.avro.decodeRows(fresh);
    const now = Date.now();
    for (const r of fresh) {
      const k = tpKey(r.topic, r.partition);
      let b = this.buffers.get(k);
      if (b === undefined) {
        b = {
          topic: r.topic,
          partition: r.partition,
          buckets: new Map(),
          count: 0,
          bytes: 0,
          firstOffset: r.offset,
          lastOffset: r.offset,
          openedAt: now,
        };
        this.buffers.set(k, b);
      }
      // The consumer hands records in offset order per partition; a record at or below the last one buffered
      // would be a refetch, and is in the buffer already.
      if (b.count > 0 && r.offset <= b.lastOffset) continue;
      const bucket = bucketOf(r.timestamp, this.o.partitionBy);
      let rows = b.buckets.get(bucket);
      if (rows === undefined) {
        rows = [];
        b.buckets.set(bucket, rows);
      }
      rows.push(r);
      if (b.count === 0) b.firstOffset = r.offset;
      b.count++;
      b.lastOffset = r.offset;
      const size = rowBytes(r);
      b.bytes += size;
      this.bufferedBytes += size;
    }
    this.o.metrics?.buffered.set(this.bufferedCount());
  }

  private async flushDue(g: GroupConsumer, all: boolean): Promise<void> {
    const now = Date.now();
    const everything = all || this.bufferedBytes >= sinkBufferBytesMax;
    let flushed = 0;
    for (const [k, b] of [...this.buffers]) {
      const due =
        everything ||
        b.count >= this.o.flushRecords ||
        b.bytes >= sinkPartitionBufferBytesMax ||
        now - b.openedAt >= this.o.flushIntervalMs;
      if (!due || b.count === 0) continue;
      await this.flushPartition(b);
      this.buffers.delete(k);
      this.bufferedBytes -= b.bytes;
      this.written.set(k, b.lastOffset);
      g.markConsumed({ topic: b.topic, partition: b.partition, offset: b.lastOffset });
      flushed++;
    }
    if (flushed > 0) {
      this.o.metrics?.buffered.set(this.bufferedCount());
      await this.commit(g);
    }
  }

  private async commit(g: GroupConsumer): Promise<void> {
    try {
      await g.commit();
    } catch (e) {
      // The files are visible: a restart (or the next commit) resumes after them.
      this.s.commitFailures++;
      this.o.metrics?.commitFailures.inc();
      this.log.warn('offset commit failed; the next one retries', {
        error: e instanceof KafkaError ? e.message : String(e),
      });
    }
  }

  /** Encodes and writes the files of one partition's buffer as one file set (sink-files.ts). */
  private async flushPartition(b: PartitionBuffer): Promise<void> {
    const started = process.hrtime.bigint();
    const name = fileName(b.topic, b.partition, b.firstOffset, b.lastOffset, this.o.format);
    const files: PendingFile[] = [];
    for (const [bucket, rows] of b.buckets) {
      const chunks =
        this.o.format === 'parquet'
          ? [encodeParquet(rows, this.o.avro?.columns(rows) ?? [], this.o.compression)]
          : encodeJsonl(rows);
      files.push({ dir: `${this.o.dir}/${b.topic}${bucket === '' ? '' : `/${bucket}`}`, name, chunks });
    }
    const encoded = process.hrtime.bigint();
    const bytes = await writeFileSet(files);
    this.s.recordsWritten += b.count;
    this.s.filesWritten += files.length;
    this.s.bytesWritten += bytes;
    const m = this.o.metrics;
    if (m !== undefined) {
      m.records.inc({ topic: b.topic }, b.count);
      m.files.inc({ topic: b.topic }, files.length);
      m.bytes.inc({ topic: b.topic }, bytes);
      m.flushSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    this.log.debug('flushed', {
      topic: b.topic,
      partition: b.partition,
      firstOffset: b.firstOffset,
      lastOffset: b.lastOffset,
      files: files.length,
      bytes,
      encodeMs: Number(encoded - started) / 1e6,
      writeMs: Number(process.hrtime.bigint() - encoded) / 1e6,
    });
  }

  /** Lag from the log end offsets (ListOffsets), in the background: the loop does not wait for it. */
  private updateLag(offsets: Consumer): void {
    if (Date.now() - this.lagSince < 10_000 || this.assigned.length === 0) return;
    const since = Date.now();
    this.lagSince = since;
    const byTopic = new Map<string, number[]>();
    for (const a of this.assigned) byTopic.set(a.topic, [...(byTopic.get(a.topic) ?? []), a.partition]);
    Promise.all(
      [...byTopic].map(async ([topic, ps]) => {
        const ends = await offsets.listOffsets(topic, ps, LATEST_TIMESTAMP);
        let lag = 0;
        for (const [p, end] of ends) {
          const k = tpKey(topic, p);
          const w = this.written.get(k);
          const next = w !== undefined ? w + 1 : (this.firstSeen.get(k) ?? end);
          const l = Math.max(0, end - next);
          lag += l;
          this.o.metrics?.lag.set({ topic, partition: String(p) }, l);
        }
        return lag;
      }),
    )
      .then((lags) => {
        this.s.lag = lags.reduce((a, b) => a + b, 0);
      })
      .catch((e: unknown) => this.log.debug('lag lookup failed', { error: String(e) }))
      .finally(() => {
        if (this.lagSince === since) this.lagSince = 0;
      });
  }
}

/** Errors of the folder being written (not of the network): retrying would repeat them. */
const FILE_SYSTEM_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EPERM',
  'EROFS',
  'EIO',
  'ENOTDIR',
  'EISDIR',
  'EMFILE',
]);

function isFileSystemError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && FILE_SYSTEM_CODES.has(code);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
