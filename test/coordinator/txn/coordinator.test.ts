// The transaction coordinator against a real broker process over real sockets: FindCoordinator for a
// transactional id, InitProducerId epoch bumps and fencing, AddPartitionsToTxn / EndTxn moving the state as
// DescribeTransactions and ListTransactions show it, the markers landing in the partitions (control batches),
// the state surviving a restart, and a transaction past its timeout aborted by the broker with its producer fenced.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../../src/client/connection.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import type { DeleteTopicsResponse } from '../../../src/protocol/generated/delete-topics-response.js';
import type { FetchResponse } from '../../../src/protocol/generated/fetch-response.js';
import { decodeRecords, isControl, iterateBatches, LOG_OVERHEAD } from '../../../src/protocol/records.js';
import { type BrokerHandle, startBroker } from '../../helpers/broker.js';
import { metadataOf, waitFor } from '../../helpers/cluster.js';
import { createTopic } from '../group-client.js';
import {
  addOffsets,
  addPartitions,
  describeTxn,
  endTxn,
  findTxnCoordinator,
  initProducerId,
  listTxns,
  type Producer,
} from './txn-client.js';

const overrides = {
  'transaction.state.log.num.partitions': '4',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
  'transaction.max.timeout.ms': '120000',
  'offsets.topic.num.partitions': '3',
};

async function connect(b: BrokerHandle): Promise<KafkaConnection> {
  return KafkaConnection.connect({ host: '127.0.0.1', port: b.port, clientId: 'txn-test' });
}

async function newProducer(c: KafkaConnection, id: string, timeoutMs = 60_000): Promise<Producer> {
  const res = await initProducerId(c, id, { timeoutMs });
  assert.equal(res.errorCode, ErrorCode.NONE, `InitProducerId ${id}`);
  return { transactionalId: id, producerId: res.producerId, producerEpoch: res.producerEpoch };
}

function waitForState(c: KafkaConnection, id: string, state: string, timeoutMs = 20_000) {
  return waitFor(
    `${id} in state ${state}`,
    async () => {
      const d = await describeTxn(c, id);
      return d.transactionState === state ? d : undefined;
    },
    timeoutMs,
    50,
  );
}

/** The control batches of a partition: [{ producerId, producerEpoch, commit }]. */
async function markersOf(c: KafkaConnection, topic: string, partition: number) {
  const res = await c.request<FetchResponse>(
    ApiKey.Fetch,
    {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          topicId: '0'.repeat(32),
          partitions: [{ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20, logStartOffset: -1 }],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    },
    11,
  );
  const p = res.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, ErrorCode.NONE);
  const out: { producerId: number; producerEpoch: number; commit: boolean }[] = [];
  if (p.records === null) return out;
  for (const { pos, header } of iterateBatches(p.records)) {
    if (!isControl(header.attributes)) continue;
    // EndTransactionMarker key: int16 version, int16 type (0 abort, 1 commit).
    const { records } = decodeRecords(p.records.subarray(pos, pos + LOG_OVERHEAD + header.batchLength));
    const type = records[0]?.key?.readInt16BE(2);
    out.push({ producerId: header.producerId, producerEpoch: header.producerEpoch, commit: type === 1 });
  }
  return out;
}

describe('transaction coordinator (one broker process)', () => {
  let b: BrokerHandle;
  let c: KafkaConnection;

  before(async () => {
    b = await startBroker({ overrides });
    c = await connect(b);
    assert.equal(await createTopic(c, 'tx-a', 3), ErrorCode.NONE);
    assert.equal(await createTopic(c, 'tx-b', 1), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.destroy();
  });

  it('FindCoordinator for a transactional id creates __transaction_state and names its leader', async () => {
    const r = await findTxnCoordinator(c, 'find-me');
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.port, b.port);
    const md = await metadataOf(b.bootstrap, ['__transaction_state']);
    const t = md.topics[0]!;
    assert.equal(t.errorCode, ErrorCode.NONE);
    assert.equal(t.isInternal, true);
    assert.equal(t.partitions.length, 4);
    assert.equal((await findTxnCoordinator(c, '')).errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('InitProducerId bumps the epoch of a transactional id and fences the previous producer', async () => {
    const first = await newProducer(c, 'bump');
    assert.equal(first.producerEpoch, 0);
    const second = await newProducer(c, 'bump');
    assert.equal(second.producerId, first.producerId);
    assert.equal(second.producerEpoch, 1);
    // The old producer: fenced (v3), INVALID_PRODUCER_EPOCH for an old request version (v1).
    assert.equal((await addPartitions(c, first, { 'tx-a': [0] })).get('tx-a:0'), ErrorCode.PRODUCER_FENCED);
    assert.equal(
      (await addPartitions(c, first, { 'tx-a': [0] }, 1)).get('tx-a:0'),
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    assert.equal(await endTxn(c, first, true), ErrorCode.PRODUCER_FENCED);
    // Another producer id for the same transactional id: no mapping.
    assert.equal(
      (await addPartitions(c, { ...second, producerId: second.producerId + 1 }, { 'tx-a': [0] })).get(
        'tx-a:0',
      ),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    assert.equal(
      (await addPartitions(c, { ...second, transactionalId: 'never-initialized' }, { 'tx-a': [0] })).get(
        'tx-a:0',
      ),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    // KIP-360: the current producer re-initializes with its id and epoch (bump); a retry of that is idempotent.
    const again = await initProducerId(c, 'bump', second);
    assert.equal(again.errorCode, ErrorCode.NONE);
    assert.equal(again.producerEpoch, 2);
    const retry = await initProducerId(c, 'bump', second);
    assert.equal(retry.producerEpoch, 2, 'a retried bump keeps the epoch');
    assert.equal((await initProducerId(c, 'bump', first)).errorCode, ErrorCode.PRODUCER_FENCED);
    assert.equal((await initProducerId(c, 'bump', first)).errorCode, ErrorCode.PRODUCER_FENCED);
    assert.equal(
      (await initProducerId(c, 'bump', { ...first, version: 3 })).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
  });

  it('refuses a timeout beyond transaction.max.timeout.ms and an empty id', async () => {
    assert.equal(
      (await initProducerId(c, 'slow', { timeoutMs: 120_001 })).errorCode,
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    );
    assert.equal(
      (await initProducerId(c, 'slow', { timeoutMs: 0 })).errorCode,
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    );
    assert.equal((await initProducerId(c, '')).errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('AddPartitionsToTxn opens a transaction; EndTxn commits it; the markers land in every partition', async () => {
    const p = await newProducer(c, 'commit-1');
    const d0 = await describeTxn(c, 'commit-1');
    assert.equal(d0.transactionState, 'Empty');
    assert.equal(d0.transactionStartTimeMs, -1);

    const unknown = await addPartitions(c, p, { 'tx-a': [0], 'no-such-topic': [0] });
    assert.equal(unknown.get('no-such-topic:0'), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(unknown.get('tx-a:0'), ErrorCode.OPERATION_NOT_ATTEMPTED);
    assert.equal((await describeTxn(c, 'commit-1')).transactionState, 'Empty');

    const before = Date.now();
    const added = await addPartitions(c, p, { 'tx-a': [0, 2] });
    assert.deepEqual([...added.values()], [ErrorCode.NONE, ErrorCode.NONE]);
    assert.equal((await addPartitions(c, p, { 'tx-b': [0] })).get('tx-b:0'), ErrorCode.NONE);
    assert.equal(await addOffsets(c, p, 'txn-group'), ErrorCode.NONE);
    const d1 = await describeTxn(c, 'commit-1');
    assert.equal(d1.transactionState, 'Ongoing');
    assert.equal(d1.producerId, p.producerId);
    assert.ok(d1.transactionStartTimeMs >= before - 1000 && d1.transactionStartTimeMs <= Date.now());
    const topics = new Map(d1.topics.map((t) => [t.topic, t.partitions]));
    assert.deepEqual(topics.get('tx-a'), [0, 2]);
    assert.deepEqual(topics.get('tx-b'), [0]);
    assert.equal(topics.get('__consumer_offsets')?.length, 1);

    const listed = await listTxns(c, { states: ['Ongoing', 'Bogus'] });
    assert.equal(listed.errorCode, ErrorCode.NONE);
    assert.deepEqual(listed.unknownStateFilters, ['Bogus']);
    assert.ok(
      listed.transactionStates.some((t) => t.transactionalId === 'commit-1' && t.producerId === p.producerId),
    );
    const byPid = await listTxns(c, { producerIds: [p.producerId] });
    assert.deepEqual(
      byPid.transactionStates.map((t) => t.transactionalId),
      ['commit-1'],
    );
    assert.equal(
      (await listTxns(c, { producerIds: [p.producerId], durationMs: 3_600_000 })).transactionStates.length,
      0,
    );

    // Not a valid outcome for an open transaction's neighbours: EndTxn of an Empty id.
    const idle = await newProducer(c, 'idle-1');
    assert.equal(await endTxn(c, idle, true), ErrorCode.INVALID_TXN_STATE);

    assert.equal(await endTxn(c, p, true), ErrorCode.NONE);
    const done = await waitForState(c, 'commit-1', 'CompleteCommit');
    assert.deepEqual(done.topics, []);
    for (const [topic, partition] of [
      ['tx-a', 0],
      ['tx-a', 2],
      ['tx-b', 0],
    ] as const) {
      assert.deepEqual(await markersOf(c, topic, partition), [
        { producerId: p.producerId, producerEpoch: p.producerEpoch, commit: true },
      ]);
    }
    assert.deepEqual(await markersOf(c, 'tx-a', 1), [], 'a partition outside the transaction has no marker');
    // AddOffsetsToTxn put the group's __consumer_offsets partition in the transaction: it has the marker too.
    const offsetsPartition = topics.get('__consumer_offsets')?.[0] ?? -1;
    assert.deepEqual(
      (await markersOf(c, '__consumer_offsets', offsetsPartition)).filter(
        (m) => m.producerId === p.producerId,
      ),
      [{ producerId: p.producerId, producerEpoch: p.producerEpoch, commit: true }],
    );
    // A retried EndTxn with the same outcome is fine; the other outcome is not.
    assert.equal(await endTxn(c, p, true), ErrorCode.NONE);
    assert.equal(await endTxn(c, p, false), ErrorCode.INVALID_TXN_STATE);

    // The next transaction aborts.
    assert.equal((await addPartitions(c, p, { 'tx-b': [0] })).get('tx-b:0'), ErrorCode.NONE);
    assert.equal(await endTxn(c, p, false), ErrorCode.NONE);
    await waitForState(c, 'commit-1', 'CompleteAbort');
    assert.deepEqual(
      (await markersOf(c, 'tx-b', 0)).map((m) => m.commit),
      [true, false],
    );
  });

  it('InitProducerId on an open transaction aborts it (epoch + 1) and answers CONCURRENT_TRANSACTIONS, then epoch + 2', async () => {
    const p = await newProducer(c, 'zombie');
    assert.equal((await addPartitions(c, p, { 'tx-a': [1] })).get('tx-a:1'), ErrorCode.NONE);
    const res = await initProducerId(c, 'zombie');
    assert.equal(res.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
    const aborted = await waitForState(c, 'zombie', 'CompleteAbort');
    assert.equal(aborted.producerEpoch, p.producerEpoch + 1);
    assert.deepEqual(await markersOf(c, 'tx-a', 1), [
      { producerId: p.producerId, producerEpoch: p.producerEpoch + 1, commit: false },
    ]);
    const next = await initProducerId(c, 'zombie');
    assert.equal(next.errorCode, ErrorCode.NONE);
    assert.equal(next.producerEpoch, p.producerEpoch + 2);
    assert.equal(await endTxn(c, p, true), ErrorCode.PRODUCER_FENCED);
  });

  it('aborts a transaction past its timeout, bumping the epoch so its producer is fenced', async () => {
    const p = await newProducer(c, 'too-slow', 1000);
    assert.equal((await addPartitions(c, p, { 'tx-b': [0] })).get('tx-b:0'), ErrorCode.NONE);
    const began = Date.now();
    const d = await waitForState(c, 'too-slow', 'CompleteAbort', 15_000);
    assert.ok(Date.now() - began >= 900, `aborted after ${Date.now() - began} ms`);
    assert.equal(d.producerEpoch, p.producerEpoch + 1);
    assert.equal(await endTxn(c, p, true), ErrorCode.PRODUCER_FENCED);
    assert.equal((await addPartitions(c, p, { 'tx-b': [0] })).get('tx-b:0'), ErrorCode.PRODUCER_FENCED);
    await b.waitForLog(/aborting a transaction past its timeout/);
  });

  it('a partition whose topic was deleted meanwhile is dropped from the markers; the commit completes', async () => {
    assert.equal(await createTopic(c, 'doomed', 1), ErrorCode.NONE);
    const p = await newProducer(c, 'loses-a-topic');
    assert.equal((await addPartitions(c, p, { doomed: [0], 'tx-b': [0] })).get('doomed:0'), ErrorCode.NONE);
    const del = await c.request<DeleteTopicsResponse>(
      ApiKey.DeleteTopics,
      { topicNames: ['doomed'], timeoutMs: 10_000 },
      5,
    );
    assert.equal(del.responses[0]?.errorCode, ErrorCode.NONE);
    assert.equal(await endTxn(c, p, true), ErrorCode.NONE);
    await waitForState(c, 'loses-a-topic', 'CompleteCommit');
    assert.deepEqual(
      (await markersOf(c, 'tx-b', 0)).filter((m) => m.producerId === p.producerId).map((m) => m.commit),
      [true],
    );
  });

  it('the state survives a restart: ids, epochs and open transactions are loaded again', async () => {
    const open = await newProducer(c, 'survivor-open');
    assert.equal((await addPartitions(c, open, { 'tx-a': [0, 1] })).get('tx-a:0'), ErrorCode.NONE);
    const closed = await newProducer(c, 'survivor-closed');
    assert.equal((await addPartitions(c, closed, { 'tx-b': [0] })).get('tx-b:0'), ErrorCode.NONE);
    assert.equal(await endTxn(c, closed, true), ErrorCode.NONE);
    await waitForState(c, 'survivor-closed', 'CompleteCommit');
    const beforeOpen = await describeTxn(c, 'survivor-open');

    c.close();
    await b.restart();
    c = await connect(b);

    const o = await waitFor('survivor-open loaded', async () => {
      const d = await describeTxn(c, 'survivor-open');
      return d.errorCode === ErrorCode.NONE ? d : undefined;
    });
    assert.equal(o.transactionState, 'Ongoing');
    assert.equal(o.producerId, open.producerId);
    assert.equal(o.producerEpoch, open.producerEpoch);
    assert.equal(o.transactionStartTimeMs, beforeOpen.transactionStartTimeMs);
    assert.deepEqual(o.topics, [{ topic: 'tx-a', partitions: [0, 1] }]);
    const k = await describeTxn(c, 'survivor-closed');
    assert.equal(k.transactionState, 'CompleteCommit');
    assert.equal(k.producerEpoch, closed.producerEpoch);
    // The open transaction goes on with the same producer after the restart.
    assert.equal(await endTxn(c, open, true), ErrorCode.NONE);
    await waitForState(c, 'survivor-open', 'CompleteCommit');
    assert.deepEqual(
      (await markersOf(c, 'tx-a', 1)).filter((m) => m.producerId === open.producerId).map((m) => m.commit),
      [true],
    );
    // And the ids are fenced as before: a new producer gets the next epoch.
    assert.equal((await initProducerId(c, 'survivor-closed')).producerEpoch, closed.producerEpoch + 1);
  });
});

describe('transactional id expiration', () => {
  let b: BrokerHandle;
  let c: KafkaConnection;

  before(async () => {
    b = await startBroker({
      overrides: {
        ...overrides,
        'transactional.id.expiration.ms': '1000',
        'transaction.remove.expired.transaction.cleanup.interval.ms': '200',
      },
    });
    c = await connect(b);
  });

  after(async () => {
    c?.close();
    await b?.destroy();
  });

  it('an idle transactional id is removed after transactional.id.expiration.ms, for good', async () => {
    const p = await newProducer(c, 'fleeting');
    assert.equal((await describeTxn(c, 'fleeting')).transactionState, 'Empty');
    await waitFor(
      'fleeting expired',
      async () =>
        (await describeTxn(c, 'fleeting')).errorCode === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND
          ? true
          : undefined,
      15_000,
    );
    assert.equal(await endTxn(c, p, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    c.close();
    await b.restart();
    c = await connect(b);
    const d = await waitFor('loaded after restart', async () => {
      const r = await describeTxn(c, 'fleeting');
      return r.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ? undefined : r;
    });
    assert.equal(d.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, 'the tombstone is loaded');
  });
});
