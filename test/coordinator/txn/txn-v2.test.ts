// Transactions version 2 (KIP-890) against a real broker process over real sockets: the transaction.version
// feature in ApiVersions; Produce v12 adding partitions implicitly and EndTxn v5 bumping the epoch (markers at the
// bumped epoch, a retried EndTxn answered with the same epoch, a late write of the ended transaction fenced); the
// partition leader's verification of a transaction version 1 write (a partition not added is refused, before
// any byte is appended); AddPartitionsToTxn v5 verifyOnly; Produce v13 by topic id (UNKNOWN_TOPIC_ID);
// InitProducerId v6 refusing two-phase commit.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../../src/client/connection.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { AddPartitionsToTxnResponse } from '../../../src/protocol/generated/add-partitions-to-txn-response.js';
import type { ApiVersionsResponse } from '../../../src/protocol/generated/api-versions-response.js';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import type { EndTxnResponse } from '../../../src/protocol/generated/end-txn-response.js';
import type { FindCoordinatorResponse } from '../../../src/protocol/generated/find-coordinator-response.js';
import type { InitProducerIdResponse } from '../../../src/protocol/generated/init-producer-id-response.js';
import type { ListOffsetsResponse } from '../../../src/protocol/generated/list-offsets-response.js';
import type { ProduceResponse } from '../../../src/protocol/generated/produce-response.js';
import type { TxnOffsetCommitResponse } from '../../../src/protocol/generated/txn-offset-commit-response.js';
import { encodeRecordBatch } from '../../../src/protocol/records.js';
import { type BrokerHandle, startBroker } from '../../helpers/broker.js';
import { metadataOf, waitFor } from '../../helpers/cluster.js';
import { createTopic } from '../group-client.js';
import {
  addOffsets,
  addPartitions,
  describeTxn,
  endTxn,
  initProducerId,
  type Producer,
} from './txn-client.js';

const overrides = {
  'transaction.state.log.num.partitions': '2',
  'offsets.topic.num.partitions': '2',
};

interface Sent {
  errorCode: number;
  baseOffset: number;
  topicId: string;
  name: string;
}

/** One transactional (or not) batch of `count` records to one partition. */
async function produce(
  c: KafkaConnection,
  version: number,
  target: { topic?: string; topicId?: string; partition: number },
  p: Producer | null,
  baseSequence: number,
  count = 2,
): Promise<Sent> {
  const records = encodeRecordBatch({
    records: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${baseSequence + i}` })),
    producerId: p?.producerId ?? -1,
    producerEpoch: p?.producerEpoch ?? -1,
    baseSequence: p === null ? -1 : baseSequence,
    isTransactional: p !== null,
  });
  const res = await c.request<ProduceResponse>(
    ApiKey.Produce,
    {
      transactionalId: p?.transactionalId ?? null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: target.topic ?? '',
          topicId: target.topicId ?? '0'.repeat(32),
          partitionData: [{ index: target.partition, records }],
        },
      ],
    },
    version,
  );
  const t = res.responses[0]!;
  const r = t.partitionResponses[0]!;
  return { errorCode: r.errorCode, baseOffset: r.baseOffset, topicId: t.topicId, name: t.name };
}

async function endV5(c: KafkaConnection, p: Producer, commit: boolean): Promise<EndTxnResponse> {
  return c.request<EndTxnResponse>(
    ApiKey.EndTxn,
    {
      transactionalId: p.transactionalId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      committed: commit,
    },
    5,
  );
}

async function logEnd(c: KafkaConnection, topic: string, partition: number): Promise<number> {
  const res = await c.request<ListOffsetsResponse>(
    ApiKey.ListOffsets,
    {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        { name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1 }] },
      ],
    },
    7,
  );
  return res.topics[0]!.partitions[0]!.offset;
}

/** TxnOffsetCommit of one offset per partition given; the error codes in response order. */
async function txnOffsetCommit(
  c: KafkaConnection,
  version: number,
  p: Producer,
  groupId: string,
  topics: { name?: string; topicId?: string; partition: number; offset: number }[],
): Promise<number[]> {
  const res = await c.request<TxnOffsetCommitResponse>(
    ApiKey.TxnOffsetCommit,
    {
      transactionalId: p.transactionalId,
      groupId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: topics.map((t) => ({
        name: t.name ?? '',
        topicId: t.topicId ?? '0'.repeat(32),
        partitions: [
          {
            partitionIndex: t.partition,
            committedOffset: t.offset,
            committedLeaderEpoch: -1,
            committedMetadata: null,
          },
        ],
      })),
    },
    version,
  );
  return res.topics.flatMap((t) => t.partitions.map((q) => q.errorCode));
}

function waitForState(c: KafkaConnection, id: string, state: string) {
  return waitFor(`${id} in state ${state}`, async () => {
    const d = await describeTxn(c, id);
    return d.transactionState === state ? d : undefined;
  });
}

describe('transactions version 2 (one broker process)', () => {
  let b: BrokerHandle;
  let c: KafkaConnection;

  before(async () => {
    b = await startBroker({ overrides });
    c = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port, clientId: 'txn-v2-test' });
    assert.equal(await createTopic(c, 'v2-a', 2), ErrorCode.NONE);
    assert.equal(await createTopic(c, 'v1-a', 2), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.destroy();
  });

  it('ApiVersions advertises transaction.version 0-2, finalized at 2, and the transaction APIs at Kafka 4.4', async () => {
    const res = await c.request<ApiVersionsResponse>(
      ApiKey.ApiVersions,
      { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1' },
      3,
    );
    const supported = res.supportedFeatures.find((f) => f.name === 'transaction.version');
    assert.deepEqual(supported && [supported.minVersion, supported.maxVersion], [0, 2]);
    const finalized = res.finalizedFeatures.find((f) => f.name === 'transaction.version');
    assert.equal(finalized?.maxVersionLevel, 2);
    assert.ok(res.finalizedFeaturesEpoch >= 0, 'a finalized epoch clients take (>= 0)');
    const max = (k: number) => res.apiKeys.find((a) => a.apiKey === k)?.maxVersion;
    assert.deepEqual(
      [
        ApiKey.Produce,
        ApiKey.InitProducerId,
        ApiKey.AddPartitionsToTxn,
        ApiKey.EndTxn,
        ApiKey.WriteTxnMarkers,
        ApiKey.TxnOffsetCommit,
      ].map(max),
      [13, 6, 5, 5, 2, 6],
    );
  });

  it('Produce v12 adds the partition; EndTxn v5 bumps the epoch; retries and late writes', async () => {
    const init = await initProducerId(c, 'tv2-flow', { version: 5 });
    assert.equal(init.errorCode, ErrorCode.NONE);
    const p: Producer = {
      transactionalId: 'tv2-flow',
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
    };
    // No AddPartitionsToTxn: the leader adds the partitions for Produce v12.
    assert.equal((await produce(c, 12, { topic: 'v2-a', partition: 0 }, p, 0)).errorCode, ErrorCode.NONE);
    assert.equal((await produce(c, 12, { topic: 'v2-a', partition: 1 }, p, 0)).errorCode, ErrorCode.NONE);
    const open = await describeTxn(c, 'tv2-flow');
    assert.equal(open.transactionState, 'Ongoing');
    assert.deepEqual(
      open.topics.map((t) => [t.topic, [...t.partitions].sort()]),
      [['v2-a', [0, 1]]],
    );

    const end = await endV5(c, p, true);
    assert.equal(end.errorCode, ErrorCode.NONE);
    assert.equal(end.producerId, p.producerId);
    assert.equal(end.producerEpoch, p.producerEpoch + 1, 'EndTxn v5 answers the bumped epoch');
    await waitForState(c, 'tv2-flow', 'CompleteCommit');
    // A retry of the same EndTxn (the old epoch) is answered with the same continuation.
    const retry = await endV5(c, p, true);
    assert.deepEqual([retry.errorCode, retry.producerEpoch], [ErrorCode.NONE, p.producerEpoch + 1]);
    // The wrong outcome for the retry is INVALID_TXN_STATE.
    assert.equal((await endV5(c, p, false)).errorCode, ErrorCode.INVALID_TXN_STATE);

    // A late write of the ended transaction (old epoch) is fenced at the partition by the bumped marker.
    const late = await produce(c, 12, { topic: 'v2-a', partition: 0 }, p, 2);
    assert.equal(late.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);

    // The next transaction at the bumped epoch, sequences from 0; aborted with EndTxn v5.
    const next: Producer = { ...p, producerEpoch: end.producerEpoch };
    assert.equal((await produce(c, 12, { topic: 'v2-a', partition: 0 }, next, 0)).errorCode, ErrorCode.NONE);
    const abort = await endV5(c, next, false);
    assert.deepEqual([abort.errorCode, abort.producerEpoch], [ErrorCode.NONE, next.producerEpoch + 1]);
    await waitForState(c, 'tv2-flow', 'CompleteAbort');

    // An abort of a transaction that added nothing (TV2): written, epoch bumped; a commit of one is refused.
    const idle: Producer = { ...p, producerEpoch: abort.producerEpoch };
    assert.equal((await endV5(c, idle, true)).errorCode, ErrorCode.INVALID_TXN_STATE);
    const emptyAbort = await endV5(c, idle, false);
    assert.deepEqual(
      [emptyAbort.errorCode, emptyAbort.producerEpoch],
      [ErrorCode.NONE, idle.producerEpoch + 1],
    );
    // An epoch that is neither the current one nor the one before the bump is fenced.
    assert.equal(
      (await endV5(c, { ...p, producerEpoch: p.producerEpoch }, false)).errorCode,
      ErrorCode.PRODUCER_FENCED,
    );
  });

  it('transaction version 1: a transactional write to a partition not added is refused before it is appended', async () => {
    const init = await initProducerId(c, 'tv1-verify', { version: 4 });
    const p: Producer = {
      transactionalId: 'tv1-verify',
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
    };
    assert.equal((await addPartitions(c, p, { 'v1-a': [0] })).get('v1-a:0'), ErrorCode.NONE);
    assert.equal((await produce(c, 10, { topic: 'v1-a', partition: 0 }, p, 0)).errorCode, ErrorCode.NONE);
    const before = await logEnd(c, 'v1-a', 1);
    // Partition 1 was never added: Kafka's leaders refuse it (INVALID_TXN_STATE before v11, TRANSACTION_ABORTABLE from v11).
    assert.equal(
      (await produce(c, 10, { topic: 'v1-a', partition: 1 }, p, 0)).errorCode,
      ErrorCode.INVALID_TXN_STATE,
    );
    assert.equal(
      (await produce(c, 11, { topic: 'v1-a', partition: 1 }, p, 0)).errorCode,
      ErrorCode.TRANSACTION_ABORTABLE,
    );
    assert.equal(await logEnd(c, 'v1-a', 1), before, 'nothing was appended');
    // A producer whose epoch moved on is fenced by the coordinator's answer.
    const stale = await produce(
      c,
      11,
      { topic: 'v1-a', partition: 1 },
      { ...p, producerEpoch: p.producerEpoch + 5 },
      0,
    );
    assert.equal(stale.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    // AddPartitionsToTxn v5 verifyOnly, as a partition leader sends it.
    const res = await c.request<AddPartitionsToTxnResponse>(
      ApiKey.AddPartitionsToTxn,
      {
        transactions: [
          {
            transactionalId: 'tv1-verify',
            producerId: p.producerId,
            producerEpoch: p.producerEpoch,
            verifyOnly: true,
            topics: [{ name: 'v1-a', partitions: [0, 1] }],
          },
        ],
      },
      5,
    );
    assert.equal(res.errorCode, ErrorCode.NONE);
    const codes = res.resultsByTransaction[0]!.topicResults[0]!.resultsByPartition.map((r) => [
      r.partitionIndex,
      r.partitionErrorCode,
    ]);
    assert.deepEqual(codes.sort(), [
      [0, ErrorCode.NONE],
      [1, ErrorCode.TRANSACTION_ABORTABLE],
    ]);
    // Once added, the write goes through; the transaction commits with EndTxn v3.
    assert.equal((await addPartitions(c, p, { 'v1-a': [1] })).get('v1-a:1'), ErrorCode.NONE);
    assert.equal((await produce(c, 11, { topic: 'v1-a', partition: 1 }, p, 0)).errorCode, ErrorCode.NONE);
    assert.equal(await endTxn(c, p, true), ErrorCode.NONE);
    await waitForState(c, 'tv1-verify', 'CompleteCommit');
  });

  it('Produce v13 names topics by id: a known id is written, an unknown one is UNKNOWN_TOPIC_ID', async () => {
    const md = await metadataOf(b.bootstrap, ['v2-a']);
    const topicId = md.topics[0]!.topicId;
    assert.notEqual(topicId, '0'.repeat(32));
    const endBefore = await logEnd(c, 'v2-a', 1);
    const ok = await produce(c, 13, { topicId, partition: 1 }, null, 0, 3);
    assert.deepEqual([ok.errorCode, ok.topicId], [ErrorCode.NONE, topicId]);
    assert.equal(ok.baseOffset, endBefore);
    assert.equal(await logEnd(c, 'v2-a', 1), endBefore + 3);
    const unknown = await produce(
      c,
      13,
      { topicId: '0123456789abcdef0123456789abcdef', partition: 0 },
      null,
      0,
    );
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    // A transactional v13 write joins the transaction as v12 does.
    const init = await initProducerId(c, 'tv2-by-id', { version: 5 });
    const p: Producer = {
      transactionalId: 'tv2-by-id',
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
    };
    assert.equal((await produce(c, 13, { topicId, partition: 0 }, p, 0)).errorCode, ErrorCode.NONE);
    assert.equal((await endV5(c, p, true)).errorCode, ErrorCode.NONE);
    await waitForState(c, 'tv2-by-id', 'CompleteCommit');
  });

  it('TxnOffsetCommit v5 adds the group to a TV2 transaction; v6 by topic id; v3/v4 verified', async () => {
    const fc = await c.request<FindCoordinatorResponse>(
      ApiKey.FindCoordinator,
      { keyType: 0, coordinatorKeys: ['g-tv2'] },
      4,
    );
    assert.equal(fc.coordinators[0]!.errorCode, ErrorCode.NONE);
    const topicId = (await metadataOf(b.bootstrap, ['v2-a'])).topics[0]!.topicId;
    const init = await initProducerId(c, 'tv2-offsets', { version: 5 });
    const p: Producer = {
      transactionalId: 'tv2-offsets',
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
    };
    // No AddOffsetsToTxn: v5 has the group coordinator add the __consumer_offsets partition.
    assert.deepEqual(await txnOffsetCommit(c, 5, p, 'g-tv2', [{ name: 'v2-a', partition: 0, offset: 7 }]), [
      ErrorCode.NONE,
    ]);
    const open = await describeTxn(c, 'tv2-offsets');
    assert.equal(open.transactionState, 'Ongoing');
    assert.deepEqual(
      open.topics.map((t) => t.topic),
      ['__consumer_offsets'],
    );
    const end = await endV5(c, p, true);
    assert.equal(end.errorCode, ErrorCode.NONE);
    await waitForState(c, 'tv2-offsets', 'CompleteCommit');
    // v6: topic ids; an unknown one is UNKNOWN_TOPIC_ID, the known one is committed.
    const next: Producer = { ...p, producerEpoch: end.producerEpoch };
    const v6 = await txnOffsetCommit(c, 6, next, 'g-tv2', [
      { topicId, partition: 1, offset: 9 },
      { topicId: 'fedcba9876543210fedcba9876543210', partition: 0, offset: 1 },
    ]);
    assert.deepEqual(v6, [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_ID]);
    assert.equal((await endV5(c, next, true)).errorCode, ErrorCode.NONE);
    await waitForState(c, 'tv2-offsets', 'CompleteCommit');

    // Transaction version 1: the group's partition must have been added with AddOffsetsToTxn.
    const init1 = await initProducerId(c, 'tv1-offsets', { version: 4 });
    const p1: Producer = {
      transactionalId: 'tv1-offsets',
      producerId: init1.producerId,
      producerEpoch: init1.producerEpoch,
    };
    assert.equal((await addPartitions(c, p1, { 'v1-a': [0] })).get('v1-a:0'), ErrorCode.NONE);
    const one = [{ name: 'v2-a', partition: 0, offset: 3 }];
    assert.deepEqual(await txnOffsetCommit(c, 3, p1, 'g-tv2', one), [ErrorCode.INVALID_TXN_STATE]);
    assert.deepEqual(await txnOffsetCommit(c, 4, p1, 'g-tv2', one), [ErrorCode.TRANSACTION_ABORTABLE]);
    assert.equal(await addOffsets(c, p1, 'g-tv2'), ErrorCode.NONE);
    assert.deepEqual(await txnOffsetCommit(c, 4, p1, 'g-tv2', one), [ErrorCode.NONE]);
    assert.equal(await endTxn(c, p1, false), ErrorCode.NONE);
  });

  it('InitProducerId v6 refuses two-phase commit (transaction.two.phase.commit.enable is off)', async () => {
    const res = await c.request<InitProducerIdResponse>(
      ApiKey.InitProducerId,
      {
        transactionalId: 'tv2-2pc',
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
        enable2Pc: true,
        keepPreparedTxn: false,
      },
      6,
    );
    assert.equal(res.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const plain = await c.request<InitProducerIdResponse>(
      ApiKey.InitProducerId,
      { transactionalId: 'tv2-2pc', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 },
      6,
    );
    assert.deepEqual(
      [plain.errorCode, plain.ongoingTxnProducerId, plain.ongoingTxnProducerEpoch],
      [ErrorCode.NONE, -1, -1],
    );
  });
});

describe('transaction.version 1 (the switch back to KIP-890 part 1)', () => {
  let b: BrokerHandle;
  let c: KafkaConnection;

  before(async () => {
    b = await startBroker({ overrides: { ...overrides, 'transaction.version': '1' } });
    c = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port, clientId: 'txn-v1-test' });
    assert.equal(await createTopic(c, 'tv1-only', 1), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.destroy();
  });

  it('finalizes transaction.version 1; Produce v12 is then verified, not added', async () => {
    const res = await c.request<ApiVersionsResponse>(
      ApiKey.ApiVersions,
      { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1' },
      3,
    );
    const finalized = res.finalizedFeatures.find((f) => f.name === 'transaction.version');
    assert.deepEqual([finalized?.minVersionLevel, finalized?.maxVersionLevel], [1, 1]);
    const init = await initProducerId(c, 'tv1-switch', { version: 5 });
    const p: Producer = {
      transactionalId: 'tv1-switch',
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
    };
    const refused = await produce(c, 12, { topic: 'tv1-only', partition: 0 }, p, 0);
    assert.equal(refused.errorCode, ErrorCode.TRANSACTION_ABORTABLE);
    assert.equal((await addPartitions(c, p, { 'tv1-only': [0] })).get('tv1-only:0'), ErrorCode.NONE);
    assert.equal((await produce(c, 12, { topic: 'tv1-only', partition: 0 }, p, 0)).errorCode, ErrorCode.NONE);
    assert.equal(await endTxn(c, p, true), ErrorCode.NONE);
    await waitForState(c, 'tv1-switch', 'CompleteCommit');
  });
});
