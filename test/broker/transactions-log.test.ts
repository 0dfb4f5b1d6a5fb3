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
import type { FetchResponsePartitionData } from '../../src/protocol/generated/fetch-response.js';
import { decodeRecords, encodeRecordBatch, iterateBatches } from '../../src/protocol/records.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import * as txn from '../helpers/txn-log-client.js';
import {
  batchesOf,
  fetchPartition,
  latestOffset,
  type MarkerSpec,
  READ_COMMITTED,
  READ_UNCOMMITTED,
  txnBatch,
  writeMarkers,
} from '../helpers/txn-log-client.js';

const TOPIC = 'txn-log';

describe('transactional log on a broker process', () => {
  let broker: BrokerHandle;
  let conn: KafkaConnection;

  before(async () => {
    broker = await startBroker({ overrides: txn.NO_TXN_VERIFICATION });
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

  const producerId = () => txn.producerId(conn);
  const produce = (batch: Buffer, transactionalId: string | null) =>
    txn.produce(conn, TOPIC, batch, transactionalId);
  const markers = (list: MarkerSpec[]) => writeMarkers(conn, TOPIC, list);
  const fetch = (offset: number, isolationLevel: number, maxWaitMs = 0) =>
    fetchPartition(conn, TOPIC, metadataTopicId, offset, isolationLevel, maxWaitMs);
  const latest = (isolationLevel: number) => latestOffset(conn, TOPIC, isolationLevel);

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
