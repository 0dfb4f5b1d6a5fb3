// The versions Kafka 4.4 added to APIs Samsa serves (issue 12), each asked at its new version over a real
// socket to a Samsa broker process: Metadata v13, ListOffsets v11, OffsetCommit/OffsetFetch v10 (topic ids),
// DescribeGroups v6, DeleteGroups v3, DescribeCluster v2, DescribeLogDirs v5, ApiVersions v5,
// ListTransactions v2, ListConfigResources v0-1, AlterPartitionReassignments v1; and our own client
// committing and fetching offsets at v10.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { commitOffsets, fetchCommitted } from '../../src/client/group-offsets.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { AlterPartitionReassignmentsResponse } from '../../src/protocol/generated/alter-partition-reassignments-response.js';
import type { ApiVersionsResponse } from '../../src/protocol/generated/api-versions-response.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { DeleteGroupsResponse } from '../../src/protocol/generated/delete-groups-response.js';
import type { DescribeClusterResponse } from '../../src/protocol/generated/describe-cluster-response.js';
import type { DescribeGroupsResponse } from '../../src/protocol/generated/describe-groups-response.js';
import type { DescribeLogDirsResponse } from '../../src/protocol/generated/describe-log-dirs-response.js';
import type { IncrementalAlterConfigsResponse } from '../../src/protocol/generated/incremental-alter-configs-response.js';
import type { InitProducerIdResponse } from '../../src/protocol/generated/init-producer-id-response.js';
import type { ListConfigResourcesResponse } from '../../src/protocol/generated/list-config-resources-response.js';
import type { ListOffsetsResponse } from '../../src/protocol/generated/list-offsets-response.js';
import type { ListTransactionsResponse } from '../../src/protocol/generated/list-transactions-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { OffsetCommitResponse } from '../../src/protocol/generated/offset-commit-response.js';
import type { OffsetFetchResponse } from '../../src/protocol/generated/offset-fetch-response.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';

const TOPIC = 'v44';
const UNKNOWN_ID = '0123456789abcdef0123456789abcdef';

/** Retries a request while the coordinator is loading or not yet there (its internal topic is being created). */
async function whileLoading<T>(send: () => Promise<T>, code: (r: T) => number): Promise<T> {
  const retriable: number[] = [
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_COORDINATOR,
  ];
  for (let i = 0; ; i++) {
    const r = await send();
    if (!retriable.includes(code(r)) || i === 100) return r;
    await sleep(100);
  }
}

describe("Kafka 4.4's new versions", { timeout: 120_000 }, () => {
  let broker: BrokerHandle;
  let conn: KafkaConnection;
  let topicId: string;
  let clusterId: string;
  let nodeId: number;

  before(async () => {
    broker = await startBroker({ overrides: { 'auto.create.topics.enable': 'false' } });
    conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    const created = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]?.errorCode, ErrorCode.NONE);
    const md = await conn.send(ApiKey.Metadata, 13, {
      topics: [{ name: TOPIC, topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const m = md as MetadataResponse;
    topicId = m.topics[0]?.topicId ?? '';
    clusterId = m.clusterId ?? '';
    nodeId = m.brokers[0]?.nodeId ?? -1;
  });
  after(async () => {
    conn?.close();
    await broker?.destroy();
  });

  it('Metadata v13 answers the top-level error code NONE with the topic', async () => {
    const md = (await conn.send(ApiKey.Metadata, 13, {
      topics: [{ name: TOPIC, topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: false,
    })) as MetadataResponse;
    assert.equal(md.errorCode, ErrorCode.NONE);
    assert.equal(md.topics[0]?.errorCode, ErrorCode.NONE);
    assert.notEqual(topicId, '0'.repeat(32));
    assert.equal(md.topics[0]?.partitions.length, 2);
  });

  it('ListOffsets v11: -6 and -5 answer offset -1 with leader epoch -1 (no tiered storage), -4 and -2 the log start', async () => {
    await Producer.connect({ bootstrap: broker.bootstrap }).then(async (p) => {
      await p.send(TOPIC, [{ key: null, value: Buffer.from('x'), partition: 0 }]);
      await p.close();
    });
    const res = (await conn.send(ApiKey.ListOffsets, 11, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: TOPIC,
          partitions: [-6, -5, -4, -2, -1].map((timestamp) => ({
            partitionIndex: 0,
            currentLeaderEpoch: -1,
            timestamp,
          })),
        },
      ],
    })) as ListOffsetsResponse;
    const got = res.topics[0]?.partitions.map((p) => [p.errorCode, p.offset, p.timestamp, p.leaderEpoch]);
    assert.deepEqual(got, [
      [0, -1, -1, -1],
      [0, -1, -1, -1],
      [0, 0, -1, 0],
      [0, 0, -1, 0],
      [0, 1, -1, 0],
    ]);
  });

  it('OffsetCommit/OffsetFetch v10 name topics by id; unknown ids answer UNKNOWN_TOPIC_ID; v9 sees the same offsets', async () => {
    const group = 'g-ids';
    const commit = await whileLoading(
      () =>
        conn.send(ApiKey.OffsetCommit, 10, {
          groupId: group,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [
            { topicId, partitions: [{ partitionIndex: 1, committedOffset: 42, committedMetadata: 'm' }] },
            {
              topicId: UNKNOWN_ID,
              partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: '' }],
            },
          ],
        }) as Promise<OffsetCommitResponse>,
      (r) => r.topics[0]?.partitions[0]?.errorCode ?? -1,
    );
    assert.deepEqual(
      commit.topics.map((t) => [t.topicId, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
      [
        [topicId, [[1, ErrorCode.NONE]]],
        [UNKNOWN_ID, [[0, ErrorCode.UNKNOWN_TOPIC_ID]]],
      ],
    );
    const byId = (await conn.send(ApiKey.OffsetFetch, 10, {
      groups: [
        {
          groupId: group,
          memberId: null,
          memberEpoch: -1,
          topics: [
            { topicId, partitionIndexes: [1] },
            { topicId: UNKNOWN_ID, partitionIndexes: [3] },
          ],
        },
      ],
      requireStable: false,
    })) as OffsetFetchResponse;
    const g = byId.groups[0];
    assert.equal(g?.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      g?.topics.map((t) => [
        t.topicId,
        t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode]),
      ]),
      [
        [topicId, [[1, 42, ErrorCode.NONE]]],
        [UNKNOWN_ID, [[3, -1, ErrorCode.UNKNOWN_TOPIC_ID]]],
      ],
    );
    const all = (await conn.send(ApiKey.OffsetFetch, 10, {
      groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics: null }],
      requireStable: false,
    })) as OffsetFetchResponse;
    assert.deepEqual(
      all.groups[0]?.topics.map((t) => [
        t.topicId,
        t.partitions.map((p) => [p.partitionIndex, p.committedOffset]),
      ]),
      [[topicId, [[1, 42]]]],
    );
    const byName = (await conn.send(ApiKey.OffsetFetch, 9, {
      groups: [
        { groupId: group, memberId: null, memberEpoch: -1, topics: [{ name: TOPIC, partitionIndexes: [1] }] },
      ],
      requireStable: false,
    })) as OffsetFetchResponse;
    assert.equal(byName.groups[0]?.topics[0]?.partitions[0]?.committedOffset, 42);
  });

  it('our client commits and fetches offsets at v10 by topic name', async () => {
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    try {
      await cluster.metadata([TOPIC]);
      const c = await cluster.connection(nodeId);
      assert.equal(c.version(ApiKey.OffsetCommit), 10);
      assert.equal(c.version(ApiKey.OffsetFetch), 10);
      const errors = await commitOffsets(cluster, c, {
        groupId: 'g-client',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 7 }] }],
      });
      assert.deepEqual(errors, [{ topic: TOPIC, partition: 0, errorCode: ErrorCode.NONE }]);
      const fetched = await fetchCommitted(cluster, c, 'g-client', null);
      assert.equal(fetched.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        fetched.offsets.map((o) => [o.topic, o.partition, o.offset]),
        [[TOPIC, 0, 7]],
      );
    } finally {
      cluster.close();
    }
  });

  it('DescribeGroups v6 answers an unknown group GROUP_ID_NOT_FOUND; v5 still says Dead with no error', async () => {
    const v6 = await whileLoading(
      () => conn.send(ApiKey.DescribeGroups, 6, { groups: ['nobody'] }) as Promise<DescribeGroupsResponse>,
      (r) => r.groups[0]?.errorCode ?? -1,
    );
    assert.deepEqual(
      v6.groups.map((g) => [g.errorCode, g.errorMessage, g.groupState]),
      [[ErrorCode.GROUP_ID_NOT_FOUND, 'Group nobody not found.', 'Dead']],
    );
    const v5 = (await conn.send(ApiKey.DescribeGroups, 5, { groups: ['nobody'] })) as DescribeGroupsResponse;
    assert.deepEqual(
      v5.groups.map((g) => [g.errorCode, g.groupState]),
      [[ErrorCode.NONE, 'Dead']],
    );
  });

  it('DeleteGroups v3 says why a group was not deleted', async () => {
    const res = await whileLoading(
      () => conn.send(ApiKey.DeleteGroups, 3, { groupsNames: ['nobody'] }) as Promise<DeleteGroupsResponse>,
      (r) => r.results[0]?.errorCode ?? -1,
    );
    assert.deepEqual(
      res.results.map((r) => [r.errorCode, r.errorMessage]),
      [[ErrorCode.GROUP_ID_NOT_FOUND, 'Group nobody not found.']],
    );
  });

  it('DescribeCluster v2 lists brokers as not fenced', async () => {
    const res = (await conn.send(ApiKey.DescribeCluster, 2, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
      includeFencedBrokers: true,
    })) as DescribeClusterResponse;
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      res.brokers.map((b) => [b.brokerId, b.isFenced]),
      [[nodeId, false]],
    );
  });

  it('DescribeLogDirs v5 says no log dir is cordoned', async () => {
    const res = (await conn.send(ApiKey.DescribeLogDirs, 5, { topics: null })) as DescribeLogDirsResponse;
    assert.ok(res.results.length > 0);
    for (const r of res.results) assert.equal(r.isCordoned, false);
  });

  it('ApiVersions v5 checks ClusterId and NodeId (KIP-1242)', async () => {
    const ask = (cid: string | null, nid: number) =>
      conn.send(ApiKey.ApiVersions, 5, {
        clientSoftwareName: 'test',
        clientSoftwareVersion: '1',
        clusterId: cid,
        nodeId: nid,
      }) as Promise<ApiVersionsResponse>;
    const right = await ask(clusterId, nodeId);
    assert.equal(right.errorCode, ErrorCode.NONE);
    assert.equal(right.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions)?.maxVersion, 5);
    assert.equal((await ask(null, -1)).errorCode, ErrorCode.NONE);
    for (const [cid, nid] of [
      ['another-cluster', nodeId],
      [clusterId, nodeId + 1],
    ] as const) {
      const wrong = await ask(cid, nid);
      assert.equal(wrong.errorCode, ErrorCode.REBOOTSTRAP_REQUIRED);
      assert.deepEqual(wrong.apiKeys, []);
    }
    // A version newer than the broker's: UNSUPPORTED_VERSION in a v0 body with the ApiVersions range (KIP-511),
    // which our client decodes as v0 to retry at the highest common version.
    const newer = (await conn.send(ApiKey.ApiVersions, 6, {
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    })) as ApiVersionsResponse;
    assert.equal(newer.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    const range = newer.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
    assert.deepEqual([range?.minVersion, range?.maxVersion], [0, 5]);
    // Our client sends what it expects, and refuses a broker that is not that node.
    await assert.rejects(
      KafkaConnection.connect({
        host: '127.0.0.1',
        port: broker.port,
        expect: { clusterId, nodeId: nodeId + 1 },
      }),
      /REBOOTSTRAP_REQUIRED/,
    );
    const ok = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: broker.port,
      expect: { clusterId, nodeId },
    });
    ok.close();
  });

  it('ListTransactions v2 filters by a whole-id regular expression; a bad one is INVALID_REGULAR_EXPRESSION', async () => {
    for (const id of ['orders-1', 'orders-2', 'payments-1']) {
      const r = await whileLoading(
        () =>
          conn.send(ApiKey.InitProducerId, 4, {
            transactionalId: id,
            transactionTimeoutMs: 60_000,
            producerId: -1,
            producerEpoch: -1,
          }) as Promise<InitProducerIdResponse>,
        (x) => x.errorCode,
      );
      assert.equal(r.errorCode, ErrorCode.NONE);
    }
    const list = (pattern: string | null) =>
      conn.send(ApiKey.ListTransactions, 2, {
        stateFilters: [],
        producerIdFilters: [],
        durationFilter: -1,
        transactionalIdPattern: pattern,
      }) as Promise<ListTransactionsResponse>;
    const ids = async (pattern: string | null) =>
      (await list(pattern)).transactionStates.map((t) => t.transactionalId).sort();
    assert.deepEqual(await ids('orders-.*'), ['orders-1', 'orders-2']);
    assert.deepEqual(await ids('orders'), []); // the whole id must match
    assert.deepEqual(await ids(null), ['orders-1', 'orders-2', 'payments-1']);
    assert.deepEqual(await ids(''), ['orders-1', 'orders-2', 'payments-1']);
    for (const bad of ['orders-(', '(a+)+x', '(?=o)orders.*']) {
      const r = await list(bad);
      assert.equal(r.errorCode, ErrorCode.INVALID_REGULAR_EXPRESSION, bad);
      assert.deepEqual(r.transactionStates, []);
    }
  });

  it('ListConfigResources lists groups with configs, brokers, broker loggers and topics by type', async () => {
    const alter = (await conn.request(ApiKey.IncrementalAlterConfigs, {
      resources: [
        {
          resourceType: 32,
          resourceName: 'g-configured',
          configs: [{ name: 'consumer.session.timeout.ms', configOperation: 0, value: '50000' }],
        },
      ],
      validateOnly: false,
    })) as IncrementalAlterConfigsResponse;
    assert.equal(alter.responses[0]?.errorCode, ErrorCode.NONE, alter.responses[0]?.errorMessage ?? '');
    const list = (v: number, resourceTypes: number[]) =>
      conn.send(ApiKey.ListConfigResources, v, { resourceTypes }) as Promise<ListConfigResourcesResponse>;
    const all = await list(1, []);
    assert.equal(all.errorCode, ErrorCode.NONE);
    const pairs = all.configResources.map((r) => `${r.resourceType}:${r.resourceName}`);
    assert.deepEqual(pairs.slice(0, 3), ['32:g-configured', `8:${nodeId}`, `4:${nodeId}`]);
    assert.ok(pairs.includes(`2:${TOPIC}`), pairs.join(' '));
    const topics = await list(1, [2]);
    assert.ok(topics.configResources.every((r) => r.resourceType === 2));
    assert.ok(topics.configResources.some((r) => r.resourceName === TOPIC));
    assert.deepEqual((await list(1, [4])).configResources, [
      { resourceName: String(nodeId), resourceType: 4 },
    ]);
    assert.deepEqual((await list(1, [16])).configResources, []); // no client metrics subscriptions
    const unknown = await list(1, [2, 99]);
    assert.equal(unknown.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(unknown.configResources, []);
    // v0 (ListClientMetricsResources) lists client metrics only: none.
    const v0 = await list(0, []);
    assert.equal(v0.errorCode, ErrorCode.NONE);
    assert.deepEqual(v0.configResources, []);
  });

  it('AlterPartitionReassignments v1 refuses a replication factor change unless allowed', async () => {
    const move = (allow: boolean) =>
      conn.send(ApiKey.AlterPartitionReassignments, 1, {
        timeoutMs: 10_000,
        allowReplicationFactorChange: allow,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, replicas: [nodeId, nodeId + 1] }] }],
      }) as Promise<AlterPartitionReassignmentsResponse>;
    const refused = await move(false);
    assert.equal(refused.allowReplicationFactorChange, false);
    const p = refused.responses[0]?.partitions[0];
    assert.deepEqual(
      [p?.errorCode, p?.errorMessage],
      [ErrorCode.INVALID_REPLICATION_FACTOR, 'The replication factor is changed from 1 to 2'],
    );
    const allowed = await move(true);
    assert.equal(allowed.allowReplicationFactorChange, true);
    // Allowed to change it, but a single node cannot place a second replica.
    assert.equal(allowed.responses[0]?.partitions[0]?.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  });
});
