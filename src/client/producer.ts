// A small producer for the CLI, the perf tools and tests.
//
// API
//   const producer = await Producer.connect({ bootstrap: '127.0.0.1:9092', acks: -1, compression: 'lz4' });
//   const meta = await producer.send('orders', [
//     { key: 'user-1', value: '{"id":1}', headers: [{ key: 'source', value: 'cli' }] },
//     { value: 'no key: all unkeyed records of one send() go to one partition (sticky)' },
//     { value: 'explicit', partition: 2, timestamp: Date.now() },
//   ]);                       // -> [{ topic, partition, offset, timestamp }] in the order given
//   await producer.sendBatch('orders', 0, batchBytes);   // a pre-built v2 batch (perf tools)
//   await producer.close();
//
//   buildRecordBatch(...) (protocol/batch-compression.ts) builds batches for sendBatch;
//   murmur2(bytes) and partitionForKey(key, n) are Kafka's default partitioner for keyed records.
//
// Behaviour
// - Partitioning: an explicit partition wins; a keyed record goes to toPositive(murmur2(key)) % partitions,
//   exactly as the Java client's default partitioner, so keys land where Kafka clients put them; unkeyed
//   records of one send() call all go to one partition, rotating between calls (sticky, KIP-480 style).
// - One Produce request per leader per send(): one batch per partition, compressed with `compression`.
// - Concurrent send() and sendBatch() calls are pipelined on the leader's connection and reach it in call
//   order (each call waits for its turn only to write its request, not for the previous response), so records
//   of successive calls keep their order in a partition even when compression finishes out of order.
// - acks=0 returns offsets of -1 (the broker sends no response).
// - A partition error becomes a KafkaError (code and Kafka's error name); retriable errors are not retried
//   here (NOT_LEADER..., a metadata refresh and one retry happen for UNKNOWN_TOPIC_OR_PARTITION and
//   NOT_LEADER_OR_FOLLOWER only).
// - Not idempotent: no producer id, no sequence numbers.

import { buildRecordBatch } from '../protocol/batch-compression.js';
import { codecFromName } from '../protocol/compression.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { ProduceResponse } from '../protocol/generated/produce-response.js';
import type { RecordInput } from '../protocol/records.js';
import { Cluster, type ClusterOptions, KafkaError } from './cluster.js';
import type { KafkaConnection } from './connection.js';

/** Kafka's murmur2 (Utils.murmur2): 32-bit signed result, as the Java client computes it. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // The tail bytes mix in from the highest down (Java's fall-through switch).
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The Java client's partition for a keyed record. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return (murmur2(key) & 0x7fffffff) % numPartitions;
}

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProducerOptions extends ClusterOptions {
  /** -1 (all in-sync replicas, default), 1 (leader) or 0 (no response). */
  acks?: -1 | 0 | 1;
  compression?: CompressionName;
  /** Produce request timeout the broker is given (ms). */
  timeoutMs?: number;
  /** Create unknown topics through Metadata (when the broker allows auto-creation). Default false. */
  allowAutoTopicCreation?: boolean;
}

export interface ProducerRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: { key: string; value: Buffer | string | null }[];
  partition?: number;
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0. */
  offset: number;
  /** The log-append time for LogAppendTime topics, else the record's own timestamp. */
  timestamp: number;
}

interface PartitionResult {
  baseOffset: number;
  logAppendTime: number;
}

interface Turn {
  wait: Promise<void>;
  release: () => void;
}

export class Producer {
  private sticky = 0;
  /** Resolves when the previous call has written its requests (see send order above). */
  private lastTurn: Promise<void> = Promise.resolve();
  private readonly codec: number;
  private readonly acks: -1 | 0 | 1;
  private readonly timeoutMs: number;
  private readonly autoCreate: boolean;

  private constructor(
    readonly cluster: Cluster,
    opts: ProducerOptions,
  ) {
    this.codec = codecFromName(opts.compression ?? 'none');
    this.acks = opts.acks ?? -1;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.autoCreate = opts.allowAutoTopicCreation ?? false;
  }

  static async connect(opts: ProducerOptions): Promise<Producer> {
    return new Producer(await Cluster.connect(opts), opts);
  }

  /** Builds a producer on an existing cluster connection (closing the producer closes it). */
  static on(cluster: Cluster, opts: Omit<ProducerOptions, 'bootstrap'> = {}): Producer {
    return new Producer(cluster, { ...opts, bootstrap: [] });
  }

  private takeTurn(): Turn {
    const wait = this.lastTurn;
    let release: () => void = () => {};
    this.lastTurn = new Promise<void>((r) => {
      release = r;
    });
    return { wait, release };
  }

  /** Sends records to a topic; resolves with each record's partition and offset, in the order given. */
  async send(topic: string, records: ProducerRecord[]): Promise<RecordMetadata[]> {
    if (records.length === 0) return [];
    try {
      return await this.sendOnce(topic, records);
    } catch (e) {
      if (
        e instanceof KafkaError &&
        (e.code === ErrorCode.NOT_LEADER_OR_FOLLOWER || e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
      ) {
        await this.cluster.topic(topic, true, this.autoCreate);
        return this.sendOnce(topic, records);
      }
      throw e;
    }
  }

  private async sendOnce(topic: string, records: ProducerRecord[]): Promise<RecordMetadata[]> {
    const turn = this.takeTurn();
    try {
      return await this.sendInTurn(topic, records, turn);
    } finally {
      turn.release();
    }
  }

  private async sendInTurn(topic: string, records: ProducerRecord[], turn: Turn): Promise<RecordMetadata[]> {
    const info = await this.cluster.topic(topic, false, this.autoCreate);
    const n = info.partitions.length;
    if (n === 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `topic ${topic} has no partitions`);
    const stickyPartition = this.sticky++ % n;
    const now = Date.now();
    const byPartition = new Map<number, { inputs: RecordInput[]; indexes: number[] }>();
    records.forEach((r, i) => {
      let p: number;
      if (r.partition !== undefined) {
        if (r.partition < 0 || r.partition >= n) {
          throw new KafkaError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `${topic} has no partition ${r.partition}`,
          );
        }
        p = r.partition;
      } else if (r.key !== undefined && r.key !== null) {
        p = partitionForKey(typeof r.key === 'string' ? Buffer.from(r.key) : r.key, n);
      } else {
        p = stickyPartition;
      }
      let group = byPartition.get(p);
      if (group === undefined) {
        group = { inputs: [], indexes: [] };
        byPartition.set(p, group);
      }
      group.inputs.push({
        key: r.key ?? null,
        value: r.value,
        headers: r.headers ?? [],
        timestamp: r.timestamp ?? now,
      });
      group.indexes.push(i);
    });
    // One request per leader.
    const byLeader = new Map<number, { partition: number; batch: Promise<Buffer> }[]>();
    for (const [p, g] of byPartition) {
      const leader = info.partitions[p]?.leader ?? -1;
      const list = byLeader.get(leader) ?? [];
      list.push({ partition: p, batch: buildRecordBatch({ records: g.inputs, timestamp: now }, this.codec) });
      byLeader.set(leader, list);
    }
    const out: RecordMetadata[] = new Array(records.length);
    const ready = await Promise.all(
      [...byLeader].map(async ([leader, parts]) => {
        const batches = await Promise.all(parts.map((x) => x.batch));
        const conn = await this.cluster.connection(leader);
        return {
          conn,
          parts: parts.map((x, i) => ({ partition: x.partition, batch: batches[i] as Buffer })),
        };
      }),
    );
    await turn.wait;
    const sent = ready.map((r) => this.produce(r.conn, topic, info.topicId, r.parts));
    turn.release();
    await Promise.all(
      sent.map(async (pending) => {
        const results = await pending;
        for (const [p, res] of results) {
          const g = byPartition.get(p);
          if (g === undefined) continue;
          g.indexes.forEach((recordIndex, j) => {
            out[recordIndex] = {
              topic,
              partition: p,
              offset: res.baseOffset < 0 ? -1 : res.baseOffset + j,
              timestamp: res.logAppendTime >= 0 ? res.logAppendTime : (g.inputs[j]?.timestamp ?? now),
            };
          });
        }
      }),
    );
    return out;
  }

  /** Sends one pre-built batch to a partition; resolves with its base offset (-1 with acks=0). */
  async sendBatch(topic: string, partition: number, batch: Buffer): Promise<PartitionResult> {
    const turn = this.takeTurn();
    let pending: Promise<Map<number, PartitionResult>>;
    try {
      const info = await this.cluster.topic(topic, false, this.autoCreate);
      const leader = info.partitions[partition]?.leader;
      if (leader === undefined)
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition}`);
      const conn = await this.cluster.connection(leader);
      await turn.wait;
      pending = this.produce(conn, topic, info.topicId, [{ partition, batch }]);
    } finally {
      turn.release();
    }
    const res = await pending;
    return res.get(partition) ?? { baseOffset: -1, logAppendTime: -1 };
  }

  /** Writes the Produce request at once (in the caller's turn); resolves when the broker answers. */
  private async produce(
    conn: KafkaConnection,
    topic: string,
    topicId: string,
    parts: { partition: number; batch: Buffer }[],
  ): Promise<Map<number, PartitionResult>> {
    const body = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.timeoutMs,
      topicData: [
        // v13+ (Kafka 4.1) names the topic by id only.
        { name: topic, topicId, partitionData: parts.map((p) => ({ index: p.partition, records: p.batch })) },
      ],
    };
    const out = new Map<number, PartitionResult>();
    if (this.acks === 0) {
      conn.sendNoResponse(ApiKey.Produce, body);
      for (const p of parts) out.set(p.partition, { baseOffset: -1, logAppendTime: -1 });
      return out;
    }
    const res = await conn.request<ProduceResponse>(ApiKey.Produce, body);
    for (const t of res.responses) {
      for (const p of t.partitionResponses) {
        if (p.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(p.errorCode, p.errorMessage ?? `producing to ${topic}-${p.index}`);
        }
        out.set(p.index, { baseOffset: p.baseOffset, logAppendTime: p.logAppendTimeMs });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.cluster.close();
  }
}
