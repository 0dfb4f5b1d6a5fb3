// The log side of transactions on a real broker process, through the internal client over a real socket:
// transactional produce, WriteTxnMarkers (as a transaction coordinator sends them), read_committed Fetch (stops
// at the last stable offset, aborted_transactions), ListOffsets by isolation level, a read_committed long poll
// woken by a marker, DescribeProducers, and the same answers after a kill -9 with a transaction still open.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { DescribeProducersResponse } from '../../src/protocol/generated/describe-producers-response.js';
import type {
  FetchResponse,
  FetchResponsePartitionData,
} from '../../src/protocol/generated/fetch-response.js';
import type { InitProducerIdResponse } from '../../src/protocol/generated/init-producer-id-response.js';
import type { ListOffsetsResponse } from '../../src/protocol/generated/list-offsets-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import type { WriteTxnMarkersResponse } from '../../src/protocol/generated/write-txn-markers-response.js';
import { decodeRecords, encodeRecordBatch, iterateBatches } from '../../src/protocol/records.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';

const TOPIC = 'txn-log';
const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;

describe('transactional log on a broker process', () => {
  let broker: BrokerHandle;
  let conn: KafkaConnection;

  before(async () => {
    broker = await startBroker();
    conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(res.topics[0]!.errorCode, ErrorCode.NONE);
    metadataTopicId = res.topics[0]!.topicId;
  });

  after(async () => {
    conn?.close();
    await broker?.destroy();
  });

  async function reconnect(): Promise<void> {
    conn.close();
    conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
  }

  async function producerId(): Promise<number> {
    const res = await conn.request<InitProducerIdResponse>(ApiKey.InitProducerId, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.equal(res.errorCode, ErrorCode.NONE);
    return res.producerId;
  }

  async function produce(
    batch: Buffer,
    transactionalId: string | null,
  ): Promise<{ errorCode: number; baseOffset: number }> {
    const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }],
    });
    return res.responses[0]!.partitionResponses[0]!;
  }

  function txnBatch(pid: number, seq: number, values: string[]): Buffer {
    return encodeRecordBatch({
      records: values.map((value) => ({ value })),
      producerId: pid,
      producerEpoch: 0,
      baseSequence: seq,
      isTransactional: true,
    });
  }

  async function markers(
    list: {
      pid: number;
      commit: boolean;
      coordinatorEpoch?: number;
      partitions?: number[];
      topic?: string;
    }[],
  ): Promise<number[]> {
    const res = await conn.request<WriteTxnMarkersResponse>(ApiKey.WriteTxnMarkers, {
      markers: list.map((m) => ({
        producerId: m.pid,
        producerEpoch: 0,
        transactionResult: m.commit,
        coordinatorEpoch: m.coordinatorEpoch ?? 3,
        topics: [{ name: m.topic ?? TOPIC, partitionIndexes: m.partitions ?? [0] }],
      })),
    });
    return res.markers.flatMap((m) => m.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)));
  }

  async function fetch(
    offset: number,
    isolationLevel: number,
    maxWaitMs = 0,
  ): Promise<FetchResponsePartitionData> {
    const res = await conn.request<FetchResponse>(ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: TOPIC,
          topicId: metadataTopicId,
          partitions: [
            {
              partition: 0,
              fetchOffset: offset,
              partitionMaxBytes: 1 << 20,
              currentLeaderEpoch: -1,
              logStartOffset: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    return res.responses[0]!.partitions[0]!;
  }

  async function latest(isolationLevel: number): Promise<number> {
    const res = await conn.request<ListOffsetsResponse>(ApiKey.ListOffsets, {
      replicaId: -1,
      isolationLevel,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
    });
    const p = res.topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    return p.offset;
  }

  /** Offsets of the batches in a fetch: [baseOffset, lastOffset, isControl]. */
  function batchesOf(p: FetchResponsePartitionData): [number, number, boolean][] {
    const out: [number, number, boolean][] = [];
    for (const { header } of iterateBatches(p.records ?? Buffer.alloc(0))) {
      out.push([
        header.baseOffset,
        header.baseOffset + header.lastOffsetDelta,
        (header.attributes & 0x20) !== 0,
      ]);
    }
    return out;
  }

  let metadataTopicId = '';
  let pidA = -1;
  let pidB = -1;

  it('refuses control batches and transactional batches without a transactional id', async () => {
    const pid = await producerId();
    const control = encodeRecordBatch({
      records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }],
      producerId: pid,
      producerEpoch: 0,
      isTransactional: true,
      isControl: true,
    });
    assert.equal((await produce(control, 'tx')).errorCode, ErrorCode.INVALID_RECORD);
    assert.equal(
      (await produce(txnBatch(pid, 0, ['x']), null)).errorCode,
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
  });

  it('an open transaction holds read_committed consumers at its first offset', async () => {
    pidA = await producerId();
    pidB = await producerId();
    assert.equal((await produce(encodeRecordBatch({ records: [{ value: 'plain' }] }), null)).baseOffset, 0);
    assert.equal((await produce(txnBatch(pidA, 0, ['a0', 'a1']), 'tx-a')).baseOffset, 1);
    assert.equal((await produce(txnBatch(pidB, 0, ['b0', 'b1']), 'tx-b')).baseOffset, 3);
    assert.equal(await latest(READ_UNCOMMITTED), 5);
    assert.equal(await latest(READ_COMMITTED), 1);
    const committed = await fetch(0, READ_COMMITTED);
    assert.equal(committed.errorCode, ErrorCode.NONE);
    assert.equal(committed.highWatermark, 5);
    assert.equal(committed.lastStableOffset, 1);
    assert.deepEqual(batchesOf(committed), [[0, 0, false]]);
    assert.deepEqual(committed.abortedTransactions, []);
    const uncommitted = await fetch(0, READ_UNCOMMITTED);
    assert.equal(uncommitted.lastStableOffset, 1);
    assert.deepEqual(
      batchesOf(uncommitted).map((b) => b[0]),
      [0, 1, 3],
    );
  });

  it('DescribeProducers shows the open transactions', async () => {
    const res = await conn.request<DescribeProducersResponse>(ApiKey.DescribeProducers, {
      topics: [{ name: TOPIC, partitionIndexes: [0, 7] }],
    });
    const [p0, p7] = res.topics[0]!.partitions;
    assert.equal(p0!.errorCode, ErrorCode.NONE);
    assert.equal(p7!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const byId = new Map(p0!.activeProducers.map((a) => [a.producerId, a]));
    assert.equal(byId.get(pidA)?.currentTxnStartOffset, 1);
    assert.equal(byId.get(pidA)?.lastSequence, 1);
    assert.equal(byId.get(pidB)?.currentTxnStartOffset, 3);
    assert.equal(byId.get(pidB)?.coordinatorEpoch, -1);
  });

  it('markers: a long poll at the LSO wakes; abort is listed, commit is not', async () => {
    // read_committed at the LSO: nothing to return until a marker moves it.
    const parked = fetch(1, READ_COMMITTED, 20_000);
    const t0 = Date.now();
    assert.deepEqual(await markers([{ pid: pidA, commit: false }]), [ErrorCode.NONE]);
    const woken = await parked;
    assert.ok(Date.now() - t0 < 15_000, 'woken by the marker, not the deadline');
    // B still open (first offset 3): A's batch (1-2) is visible, and listed as aborted.
    assert.equal(woken.lastStableOffset, 3);
    assert.deepEqual(batchesOf(woken), [[1, 2, false]]);
    assert.deepEqual(woken.abortedTransactions, [{ producerId: pidA, firstOffset: 1 }]);

    assert.deepEqual(await markers([{ pid: pidB, commit: true }]), [ErrorCode.NONE]);
    assert.equal(await latest(READ_COMMITTED), 7);
    const all = await fetch(0, READ_COMMITTED);
    assert.equal(all.lastStableOffset, 7);
    assert.equal(all.highWatermark, 7);
    assert.deepEqual(batchesOf(all), [
      [0, 0, false],
      [1, 2, false],
      [3, 4, false],
      [5, 5, true],
      [6, 6, true],
    ]);
    assert.deepEqual(all.abortedTransactions, [{ producerId: pidA, firstOffset: 1 }]);
    // The markers as Kafka writes them: key (version 0, type), value (version 0, coordinator epoch).
    const abortMarker = decodeRecords(all.records!.subarray(batchOffset(all, 5)));
    assert.equal(abortMarker.header.producerId, pidA);
    assert.deepEqual([...abortMarker.records[0]!.key!], [0, 0, 0, 0]);
    assert.deepEqual([...abortMarker.records[0]!.value!], [0, 0, 0, 0, 0, 3]);
    // Past the abort: a fetch from 3 does not list A (its marker is below).
    assert.deepEqual((await fetch(6, READ_COMMITTED)).abortedTransactions, []);
  });

  it('WriteTxnMarkers errors: stale coordinator epoch, unknown partition', async () => {
    assert.deepEqual(await markers([{ pid: pidA, commit: true, coordinatorEpoch: 2 }]), [
      ErrorCode.TRANSACTION_COORDINATOR_FENCED,
    ]);
    assert.deepEqual(await markers([{ pid: pidA, commit: true, partitions: [9] }]), [
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
  });

  it('after kill -9 with a transaction open: same LSO, same aborted transactions', async () => {
    const pidC = await producerId();
    assert.equal((await produce(txnBatch(pidC, 0, ['c0']), 'tx-c')).baseOffset, 7);
    assert.equal((await produce(encodeRecordBatch({ records: [{ value: 'after' }] }), null)).baseOffset, 8);
    assert.equal(await latest(READ_COMMITTED), 7);
    await broker.kill9();
    await broker.restart();
    await reconnect();
    assert.equal(await latest(READ_UNCOMMITTED), 9);
    assert.equal(await latest(READ_COMMITTED), 7);
    const p = await fetch(0, READ_COMMITTED);
    assert.equal(p.lastStableOffset, 7);
    assert.deepEqual(p.abortedTransactions, [{ producerId: pidA, firstOffset: 1 }]);
    assert.deepEqual(await markers([{ pid: pidC, commit: false }]), [ErrorCode.NONE]);
    assert.equal(await latest(READ_COMMITTED), 10);
    const again = await fetch(7, READ_COMMITTED);
    assert.deepEqual(again.abortedTransactions, [{ producerId: pidC, firstOffset: 7 }]);
  });

  /** Byte position of the batch with baseOffset `offset` in a fetch's records. */
  function batchOffset(p: FetchResponsePartitionData, offset: number): number {
    for (const { pos, header } of iterateBatches(p.records!)) if (header.baseOffset === offset) return pos;
    throw new Error(`no batch at ${offset}`);
  }
});
