// A small consumer (manual assignment) for the CLI, the perf tools and tests.
//
// API
//   const consumer = await Consumer.connect({ bootstrap: '127.0.0.1:9092', maxWaitMs: 500 });
//   await consumer.assign('orders', 'all', 'earliest');      // or [0, 2]; 'latest' | { offset } | { timestamp }
//   const records = await consumer.poll();                   // one fetch round: ConsumerRecord[] (may be [])
//   for await (const r of consumer.stream({ signal })) ...   // poll forever, record by record
//   const raw = await consumer.pollBatches();                // undecoded: [{ topic, partition, records: Buffer }]
//   consumer.position('orders', 0); consumer.seek('orders', 0, 42); consumer.highWatermark('orders', 0);
//   await consumer.close();
//
// Behaviour
// - One Fetch request per partition leader per poll, every assigned partition in it (no fetch sessions).
// - Batches are decoded whole, compressed ones included (gzip, snappy, lz4, zstd); records below the fetch
//   position (a batch starting before it) are skipped; control batches (transaction markers) are skipped.
// - LogAppendTime batches give every record the batch's maxTimestamp, as the Java client does.
// - OFFSET_OUT_OF_RANGE resets the partition per autoOffsetReset ('earliest' | 'latest' | 'none' = throw).
// - pollBatches() does no per-record work: it advances positions from batch headers (perf tools).

import { decodeBatch } from '../protocol/batch-compression.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { FetchResponse } from '../protocol/generated/fetch-response.js';
import type { ListOffsetsResponse } from '../protocol/generated/list-offsets-response.js';
import { iterateBatches, TIMESTAMP_TYPE_MASK } from '../protocol/records.js';
import { AbortedTransactions } from './aborted-transactions.js';
import { Cluster, type ClusterOptions, KafkaError } from './cluster.js';

export type StartPosition = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

export interface ConsumerOptions extends ClusterOptions {
  /** Longest a fetch waits on the broker for minBytes (ms). Default 500. */
  maxWaitMs?: number;
  minBytes?: number;
  /** Per fetch response. Default 50 MiB. */
  maxBytes?: number;
  /** Per partition. Default 1 MiB (a larger first batch still comes whole). */
  partitionMaxBytes?: number;
  /** 0 read_uncommitted (default), 1 read_committed. */
  isolationLevel?: 0 | 1;
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  /** 0 CreateTime, 1 LogAppendTime. */
  timestampType: 0 | 1;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export interface RawPartitionData {
  topic: string;
  partition: number;
  /** Whole record batches as the broker sent them. */
  records: Buffer;
  highWatermark: number;
}

interface Assigned {
  topic: string;
  topicId: string;
  partition: number;
  position: number;
  highWatermark: number;
  /** read_committed: the aborted transactions of the partition's latest fetch answer. */
  aborted: AbortedTransactions;
}

/** ListOffsets timestamps: -2 earliest, -1 latest. */
export const EARLIEST_TIMESTAMP = -2;
export const LATEST_TIMESTAMP = -1;

export class Consumer {
  private readonly assigned = new Map<string, Assigned>();
  private readonly opts: Required<Omit<ConsumerOptions, keyof ClusterOptions>>;
  private closed = false;

  private constructor(
    readonly cluster: Cluster,
    opts: Omit<ConsumerOptions, keyof ClusterOptions>,
  ) {
    this.opts = {
      maxWaitMs: opts.maxWaitMs ?? 500,
      minBytes: opts.minBytes ?? 1,
      maxBytes: opts.maxBytes ?? 50 * 1024 * 1024,
      partitionMaxBytes: opts.partitionMaxBytes ?? 1024 * 1024,
      isolationLevel: opts.isolationLevel ?? 0,
      autoOffsetReset: opts.autoOffsetReset ?? 'latest',
    };
  }

  static async connect(opts: ConsumerOptions): Promise<Consumer> {
    return new Consumer(await Cluster.connect(opts), opts);
  }

  /** A consumer on an existing cluster connection (closing the consumer closes it). */
  static on(cluster: Cluster, opts: Omit<ConsumerOptions, keyof ClusterOptions> = {}): Consumer {
    return new Consumer(cluster, opts);
  }

  /** Adds partitions of a topic ('all' = every partition) starting at `start`. */
  async assign(topic: string, partitions: number[] | 'all', start: StartPosition): Promise<void> {
    const info = await this.cluster.topic(topic, true);
    const list = partitions === 'all' ? info.partitions.map((p) => p.partition) : partitions;
    for (const p of list) {
      if (info.partitions[p] === undefined) {
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic} has no partition ${p}`);
      }
    }
    let offsets: Map<number, number>;
    if (typeof start === 'object' && 'offset' in start) {
      offsets = new Map(list.map((p) => [p, start.offset]));
    } else {
      const ts =
        start === 'earliest' ? EARLIEST_TIMESTAMP : start === 'latest' ? LATEST_TIMESTAMP : start.timestamp;
      offsets = await this.listOffsets(topic, list, ts);
    }
    for (const p of list) {
      this.assigned.set(key(topic, p), {
        topic,
        topicId: info.topicId,
        partition: p,
        position: offsets.get(p) ?? 0,
        highWatermark: -1,
        aborted: new AbortedTransactions(),
      });
    }
  }

  /** Drops every assignment. */
  unassignAll(): void {
    this.assigned.clear();
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.assigned.values()].map((a) => ({ topic: a.topic, partition: a.partition }));
  }

  /**
   * ListOffsets for partitions of a topic: -2 earliest, -1 latest, else the first offset with a timestamp at or
   * after ts (the log end offset when there is none).
   */
  async listOffsets(topic: string, partitions: number[], timestamp: number): Promise<Map<number, number>> {
    const info = await this.cluster.topic(topic);
    const byLeader = new Map<number, number[]>();
    for (const p of partitions) {
      const leader = info.partitions[p]?.leader ?? -1;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    const out = new Map<number, number>();
    const needEnd: number[] = [];
    await Promise.all(
      [...byLeader].map(async ([leader, ps]) => {
        const conn = await this.cluster.connection(leader);
        const res = await conn.request<ListOffsetsResponse>(ApiKey.ListOffsets, {
          replicaId: -1,
          isolationLevel: this.opts.isolationLevel,
          topics: [
            {
              name: topic,
              partitions: ps.map((p) => ({
                partitionIndex: p,
                currentLeaderEpoch: -1,
                timestamp,
                maxNumOffsets: 1,
              })),
            },
          ],
        });
        for (const t of res.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE)
              throw new KafkaError(p.errorCode, `ListOffsets ${topic}-${p.partitionIndex}`);
            if (p.offset < 0) needEnd.push(p.partitionIndex);
            else out.set(p.partitionIndex, p.offset);
          }
        }
      }),
    );
    if (needEnd.length > 0 && timestamp !== LATEST_TIMESTAMP) {
      for (const [p, o] of await this.listOffsets(topic, needEnd, LATEST_TIMESTAMP)) out.set(p, o);
    }
    return out;
  }

  position(topic: string, partition: number): number {
    return this.get(topic, partition).position;
  }

  seek(topic: string, partition: number, offset: number): void {
    this.get(topic, partition).position = offset;
  }

  /** The high watermark seen in the last fetch (-1 before any). */
  highWatermark(topic: string, partition: number): number {
    return this.get(topic, partition).highWatermark;
  }

  private get(topic: string, partition: number): Assigned {
    const a = this.assigned.get(key(topic, partition));
    if (a === undefined) throw new Error(`${topic}-${partition} is not assigned`);
    return a;
  }

  /** One fetch round; returns whole batches without decoding and advances positions past them. */
  async pollBatches(): Promise<RawPartitionData[]> {
    const out: RawPartitionData[] = [];
    await this.fetchRound((a, records) => {
      let next = a.position;
      for (const { header } of iterateBatches(records)) next = header.baseOffset + header.lastOffsetDelta + 1;
      if (records.length > 0)
        out.push({ topic: a.topic, partition: a.partition, records, highWatermark: a.highWatermark });
      if (next > a.position) a.position = next;
      return Promise.resolve();
    });
    return out;
  }

  /** One fetch round, decoded into records (possibly none when the wait ran out). */
  async poll(): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = [];
    await this.fetchRound(async (a, records) => {
      for (const { pos, header } of iterateBatches(records)) {
        const next = header.baseOffset + header.lastOffsetDelta + 1;
        if (next <= a.position) continue;
        if (!a.aborted.skip(records, pos, header)) {
          const batch = records.subarray(pos, pos + 12 + header.batchLength);
          const { records: recs } = await decodeBatch(batch);
          const logAppend = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
          for (const r of recs) {
            const offset = header.baseOffset + r.offsetDelta;
            if (offset < a.position) continue;
            out.push({
              topic: a.topic,
              partition: a.partition,
              offset,
              timestamp: logAppend ? header.maxTimestamp : header.baseTimestamp + r.timestampDelta,
              timestampType: logAppend ? 1 : 0,
              key: r.key,
              value: r.value,
              headers: r.headers,
            });
          }
        }
        a.position = next;
      }
    });
    return out;
  }

  /** Polls until the signal aborts or the consumer closes, yielding records one by one. */
  async *stream(opts: { signal?: AbortSignal } = {}): AsyncGenerator<ConsumerRecord> {
    while (!this.closed && opts.signal?.aborted !== true) {
      for (const r of await this.poll()) yield r;
    }
  }

  private async fetchRound(onData: (a: Assigned, records: Buffer) => Promise<void>): Promise<void> {
    if (this.assigned.size === 0) throw new Error('no partitions assigned');
    const byLeader = new Map<number, Assigned[]>();
    for (const a of this.assigned.values()) {
      const info = await this.cluster.topic(a.topic);
      const leader = info.partitions[a.partition]?.leader ?? -1;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), a]);
    }
    await Promise.all([...byLeader].map(([leader, parts]) => this.fetchFrom(leader, parts, onData)));
  }

  private async fetchFrom(
    leader: number,
    parts: Assigned[],
    onData: (a: Assigned, records: Buffer) => Promise<void>,
  ): Promise<void> {
    const conn = await this.cluster.connection(leader);
    const topics = new Map<string, Assigned[]>();
    for (const a of parts) topics.set(a.topic, [...(topics.get(a.topic) ?? []), a]);
    const res = await conn.request<FetchResponse>(ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs: this.opts.maxWaitMs,
      minBytes: this.opts.minBytes,
      maxBytes: this.opts.maxBytes,
      isolationLevel: this.opts.isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics].map(([topic, as]) => ({
        topic,
        topicId: as[0]?.topicId ?? '0'.repeat(32),
        partitions: as.map((a) => ({
          partition: a.partition,
          currentLeaderEpoch: -1,
          fetchOffset: a.position,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: this.opts.partitionMaxBytes,
        })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    });
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, 'fetch');
    for (const t of res.responses) {
      const name = t.topic !== '' ? t.topic : (this.cluster.topicNameById(t.topicId) ?? '');
      for (const p of t.partitions) {
        const a = this.assigned.get(key(name, p.partitionIndex));
        if (a === undefined) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          await this.reset(a);
          continue;
        }
        if (p.errorCode !== ErrorCode.NONE)
          throw new KafkaError(p.errorCode, `fetch ${name}-${p.partitionIndex}`);
        a.highWatermark = p.highWatermark;
        a.aborted.note(p.abortedTransactions);
        if (p.records !== null && p.records.length > 0) await onData(a, p.records);
      }
    }
  }

  private async reset(a: Assigned): Promise<void> {
    if (this.opts.autoOffsetReset === 'none') {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `${a.topic}-${a.partition} offset ${a.position}`);
    }
    const ts = this.opts.autoOffsetReset === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
    const offsets = await this.listOffsets(a.topic, [a.partition], ts);
    a.position = offsets.get(a.partition) ?? a.position;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cluster.close();
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
