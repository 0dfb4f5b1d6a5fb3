// An idempotent, optionally transactional producer of pre-built record batches (samsa mirror, tools).
//
// API
//   const p = await BatchProducer.init(cluster, { transactionalId: 'mirror' });   // or null: idempotent only
//   p.beginTransaction();
//   await p.addPartitions([{ topic: 'orders', partition: 0 }]);       // AddPartitionsToTxn (once per partition)
//   await p.send([{ topic: 'orders', partition: 0, batch }, ...]);      // stamped, pipelined, in order
//   await p.sendOffsetsToTransaction('group', [{ topic, partition, offset, metadata }]);
//   await p.commitTransaction();  // or abortTransaction()
//
// Behaviour
// - InitProducerId gives the producer id and epoch; with a transactional id it goes to the transaction
//   coordinator, which fences an older instance with the same id and aborts its open transaction (answered
//   CONCURRENT_TRANSACTIONS / COORDINATOR_LOAD_IN_PROGRESS meanwhile: asked again, Kafka's client does the same).
// - send() rewrites each batch's header in place: base offset 0, partition leader epoch -1, this producer's id,
//   epoch and the partition's next sequence, the transactional bit as the producer is, then the CRC. Records
//   (keys, values, headers, timestamps, compression) are left as they are.
// - Kafka's Produce takes one batch per partition per request, so a send() with k batches for one partition is
//   k requests, one "layer" of batches each, written to each leader's connection back to back (pipelined).
//   Sequence numbers make the broker refuse a batch after a gap (OUT_OF_ORDER_SEQUENCE_NUMBER), so a failed
//   request cannot let a later one of the same partition through out of order.
// - Any partition error throws KafkaError; the producer is then unusable for that partition's sequence (the
//   caller starts again with a new producer, as the mirror does with a new session).
// - Versions are held at those with topic names and without implicit partition adds (Produce <= 11,
//   AddPartitionsToTxn 3, EndTxn <= 4, TxnOffsetCommit <= 5): the explicit protocol of transaction.version 1.

import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../protocol/errors.js';
import type { AddOffsetsToTxnResponse } from '../protocol/generated/add-offsets-to-txn-response.js';
import type { AddPartitionsToTxnResponse } from '../protocol/generated/add-partitions-to-txn-response.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { EndTxnResponse } from '../protocol/generated/end-txn-response.js';
import type { InitProducerIdResponse } from '../protocol/generated/init-producer-id-response.js';
import type { ProduceResponse } from '../protocol/generated/produce-response.js';
import type { TxnOffsetCommitResponse } from '../protocol/generated/txn-offset-commit-response.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  rewriteCrc,
  setBaseOffset,
  setPartitionLeaderEpoch,
  TRANSACTIONAL_FLAG_MASK,
  writeInt64,
} from '../protocol/records.js';
import { CoordinatorType, findCoordinator } from './admin.js';
import { type Cluster, check, KafkaError } from './cluster.js';
import type { KafkaConnection } from './connection.js';

export interface BatchProducerOptions {
  /** null: idempotent only (no transactions). */
  transactionalId: string | null;
  /** transaction.timeout.ms given to InitProducerId (default 60000, Kafka's producer default). */
  transactionTimeoutMs?: number;
  /** Produce timeout the broker is given (ms). */
  timeoutMs?: number;
  /** How long init and transaction requests keep retrying retriable coordinator errors (ms). */
  retryTimeoutMs?: number;
}

export interface OutgoingBatch {
  topic: string;
  partition: number;
  /** One whole v2 batch; its header is rewritten in place by send(). */
  batch: Buffer;
}

export interface TxnOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string;
}

/** Coordinator errors after which Kafka's producer asks again (after finding the coordinator again). */
const RETRIABLE = new Set<number>([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.CONCURRENT_TRANSACTIONS,
]);

const INT32_MAX = 2147483647;

export class BatchProducer {
  producerId = -1;
  producerEpoch = -1;
  private readonly sequences = new Map<string, number>();
  private readonly inTxn = new Set<string>();
  private offsetsAdded = new Set<string>();
  private txnCoordinator: KafkaConnection | null = null;
  private readonly timeoutMs: number;
  private readonly retryTimeoutMs: number;

  private constructor(
    readonly cluster: Cluster,
    private readonly opts: BatchProducerOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retryTimeoutMs = opts.retryTimeoutMs ?? 30_000;
  }

  /** InitProducerId (through the transaction coordinator when transactional). */
  static async init(cluster: Cluster, opts: BatchProducerOptions): Promise<BatchProducer> {
    const p = new BatchProducer(cluster, opts);
    const res = await p.retrying('InitProducerId', async () => {
      const conn = opts.transactionalId === null ? cluster.bootstrap : await p.coordinator();
      return conn.request<InitProducerIdResponse>(ApiKey.InitProducerId, {
        transactionalId: opts.transactionalId,
        transactionTimeoutMs: opts.transactionTimeoutMs ?? 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
    });
    p.producerId = res.producerId;
    p.producerEpoch = res.producerEpoch;
    return p;
  }

  get transactional(): boolean {
    return this.opts.transactionalId !== null;
  }

  private async coordinator(): Promise<KafkaConnection> {
    if (this.txnCoordinator === null) {
      const id = this.opts.transactionalId;
      if (id === null) throw new Error('not a transactional producer');
      const node = await findCoordinator(this.cluster, CoordinatorType.TRANSACTION, id);
      this.txnCoordinator = await this.cluster.connection(node);
    }
    return this.txnCoordinator;
  }

  /** Runs fn until it answers without a retriable coordinator error (then checks that error). */
  private async retrying<T extends { errorCode: number }>(what: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryTimeoutMs;
    for (let pause = 20; ; pause = Math.min(500, pause * 2)) {
      const res = await fn();
      if (!RETRIABLE.has(res.errorCode) || Date.now() + pause > deadline) {
        check(res.errorCode, `${what} (${this.opts.transactionalId ?? 'idempotent'})`);
        return res;
      }
      if (
        res.errorCode === ErrorCode.NOT_COORDINATOR ||
        res.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE
      )
        this.txnCoordinator = null;
      await sleep(pause);
    }
  }

  beginTransaction(): void {
    this.inTxn.clear();
    this.offsetsAdded = new Set();
  }

  /** AddPartitionsToTxn for the partitions not yet in the open transaction. */
  async addPartitions(parts: { topic: string; partition: number }[]): Promise<void> {
    const todo = new Map<string, { topic: string; partition: number }>();
    for (const p of parts) {
      const k = key(p.topic, p.partition);
      if (!this.inTxn.has(k)) todo.set(k, p);
    }
    if (todo.size === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const p of todo.values()) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const body = {
      v3AndBelowTransactionalId: this.opts.transactionalId,
      v3AndBelowProducerId: this.producerId,
      v3AndBelowProducerEpoch: this.producerEpoch,
      v3AndBelowTopics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    };
    await this.retrying('AddPartitionsToTxn', async () => {
      const conn = await this.coordinator();
      const res = await conn.request<AddPartitionsToTxnResponse>(
        ApiKey.AddPartitionsToTxn,
        body,
        Math.min(3, conn.version(ApiKey.AddPartitionsToTxn)),
      );
      let errorCode: number = res.errorCode;
      for (const t of res.resultsByTopicV3AndBelow) {
        for (const r of t.resultsByPartition) {
          if (r.partitionErrorCode !== ErrorCode.NONE && errorCode === ErrorCode.NONE)
            errorCode = r.partitionErrorCode;
        }
      }
      return { errorCode };
    });
    for (const k of todo.keys()) this.inTxn.add(k);
  }

  /** Stamps and produces the batches; resolves when every one was acknowledged (acks=all). */
  async send(batches: OutgoingBatch[]): Promise<void> {
    if (batches.length === 0) return;
    // Layer j holds the j-th batch of each partition: one batch per partition per request.
    const layers: Map<string, OutgoingBatch>[] = [];
    const depth = new Map<string, number>();
    for (const b of batches) {
      const k = key(b.topic, b.partition);
      const j = depth.get(k) ?? 0;
      depth.set(k, j + 1);
      if (layers[j] === undefined) layers[j] = new Map();
      layers[j]?.set(k, b);
      this.stamp(b);
    }
    const leaders = new Map<string, number>();
    for (const b of batches) {
      const k = key(b.topic, b.partition);
      if (leaders.has(k)) continue;
      const info = await this.cluster.topic(b.topic);
      const leader = info.partitions[b.partition]?.leader ?? -1;
      if (leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${b.topic}-${b.partition}`);
      leaders.set(k, leader);
    }
    const conns = new Map<number, KafkaConnection>();
    for (const id of new Set(leaders.values())) conns.set(id, await this.cluster.connection(id));
    const pending: Promise<void>[] = [];
    for (const layer of layers) {
      const byLeader = new Map<number, OutgoingBatch[]>();
      for (const [k, b] of layer) {
        const id = leaders.get(k) as number;
        byLeader.set(id, [...(byLeader.get(id) ?? []), b]);
      }
      for (const [id, list] of byLeader) pending.push(this.produce(conns.get(id) as KafkaConnection, list));
    }
    const results = await Promise.allSettled(pending);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  private stamp(b: OutgoingBatch): void {
    const buf = b.batch;
    const k = key(b.topic, b.partition);
    const seq = this.sequences.get(k) ?? 0;
    // The broker takes the batch's last sequence as baseSequence + lastOffsetDelta.
    const lastOffsetDelta = buf.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
    this.sequences.set(k, (seq + lastOffsetDelta + 1) % (INT32_MAX + 1));
    setBaseOffset(buf, 0, 0);
    setPartitionLeaderEpoch(buf, 0, -1);
    const attributes = buf.readInt16BE(ATTRIBUTES_OFFSET) & ~TRANSACTIONAL_FLAG_MASK;
    buf.writeInt16BE(
      this.transactional ? attributes | TRANSACTIONAL_FLAG_MASK : attributes,
      ATTRIBUTES_OFFSET,
    );
    writeInt64(buf, PRODUCER_ID_OFFSET, this.producerId);
    buf.writeInt16BE(this.producerEpoch, PRODUCER_EPOCH_OFFSET);
    buf.writeInt32BE(seq, BASE_SEQUENCE_OFFSET);
    rewriteCrc(buf, 0, buf.length - LOG_OVERHEAD);
  }

  private async produce(conn: KafkaConnection, list: OutgoingBatch[]): Promise<void> {
    const byTopic = new Map<string, OutgoingBatch[]>();
    for (const b of list) byTopic.set(b.topic, [...(byTopic.get(b.topic) ?? []), b]);
    const res = await conn.request<ProduceResponse>(
      ApiKey.Produce,
      {
        transactionalId: this.opts.transactionalId,
        acks: -1,
        timeoutMs: this.timeoutMs,
        topicData: [...byTopic].map(([name, bs]) => ({
          name,
          partitionData: bs.map((b) => ({ index: b.partition, records: b.batch })),
        })),
      },
      Math.min(11, conn.version(ApiKey.Produce)),
    );
    for (const t of res.responses) {
      for (const p of t.partitionResponses) {
        // A duplicate is a batch the broker already has (an earlier attempt got through): not an error.
        if (p.errorCode !== ErrorCode.NONE && p.errorCode !== ErrorCode.DUPLICATE_SEQUENCE_NUMBER)
          throw new KafkaError(p.errorCode, p.errorMessage ?? `producing to ${t.name}-${p.index}`);
      }
    }
  }

  /** AddOffsetsToTxn, then TxnOffsetCommit to the group's coordinator (Java's sendOffsetsToTransaction). */
  async sendOffsetsToTransaction(groupId: string, offsets: TxnOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    if (!this.offsetsAdded.has(groupId)) {
      await this.retrying('AddOffsetsToTxn', async () =>
        (await this.coordinator()).request<AddOffsetsToTxnResponse>(ApiKey.AddOffsetsToTxn, {
          transactionalId: this.opts.transactionalId,
          producerId: this.producerId,
          producerEpoch: this.producerEpoch,
          groupId,
        }),
      );
      this.offsetsAdded.add(groupId);
    }
    const byTopic = new Map<string, TxnOffset[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    let groupCoordinator: KafkaConnection | null = null;
    await this.retrying('TxnOffsetCommit', async () => {
      if (groupCoordinator === null) {
        groupCoordinator = await this.cluster.connection(
          await findCoordinator(this.cluster, CoordinatorType.GROUP, groupId),
        );
      }
      const conn: KafkaConnection = groupCoordinator;
      const res = await conn.request<TxnOffsetCommitResponse>(
        ApiKey.TxnOffsetCommit,
        {
          transactionalId: this.opts.transactionalId,
          groupId,
          producerId: this.producerId,
          producerEpoch: this.producerEpoch,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [...byTopic].map(([name, os]) => ({
            name,
            partitions: os.map((o) => ({
              partitionIndex: o.partition,
              committedOffset: o.offset,
              committedLeaderEpoch: -1,
              committedMetadata: o.metadata ?? '',
            })),
          })),
        },
        Math.min(5, conn.version(ApiKey.TxnOffsetCommit)),
      );
      let errorCode: number = ErrorCode.NONE;
      for (const t of res.topics) {
        for (const p of t.partitions) if (p.errorCode !== ErrorCode.NONE) errorCode = p.errorCode;
      }
      if (errorCode === ErrorCode.NOT_COORDINATOR || errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE)
        groupCoordinator = null;
      return { errorCode };
    });
  }

  commitTransaction(): Promise<void> {
    return this.endTransaction(true);
  }

  abortTransaction(): Promise<void> {
    return this.endTransaction(false);
  }

  private async endTransaction(committed: boolean): Promise<void> {
    await this.retrying('EndTxn', async () => {
      const conn = await this.coordinator();
      return conn.request<EndTxnResponse>(
        ApiKey.EndTxn,
        {
          transactionalId: this.opts.transactionalId,
          producerId: this.producerId,
          producerEpoch: this.producerEpoch,
          committed,
        },
        Math.min(4, conn.version(ApiKey.EndTxn)),
      );
    });
    this.inTxn.clear();
    this.offsetsAdded = new Set();
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
