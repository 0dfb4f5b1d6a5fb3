// DescribeTopicPartitions (key 75) paging as Kafka's handler pages, and the authorized operations of Metadata,
// DescribeCluster and DescribeTopicPartitions (no authorizer: every operation of the resource type), against an
// in-process broker over a real socket.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  clusterOperations,
  operationsBitfield,
  topicOperations,
} from '../../src/broker/authorized-operations.js';
import type { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { DescribeClusterResponse } from '../../src/protocol/generated/describe-cluster-response.js';
import type { DescribeTopicPartitionsRequestInput } from '../../src/protocol/generated/describe-topic-partitions-request.js';
import type { DescribeTopicPartitionsResponse } from '../../src/protocol/generated/describe-topic-partitions-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

const OMITTED = -2147483648;
/** Kafka's answers with no authorizer: one bit per AclOperation code the resource type supports. */
// READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11
const TOPIC_ALL = 2 ** 3 + 2 ** 4 + 2 ** 5 + 2 ** 6 + 2 ** 7 + 2 ** 8 + 2 ** 10 + 2 ** 11;
// CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12
const CLUSTER_ALL = 2 ** 5 + 2 ** 7 + 2 ** 8 + 2 ** 9 + 2 ** 10 + 2 ** 11 + 2 ** 12;

describe('DescribeTopicPartitions and authorized operations', () => {
  let b: InProcessBroker;
  let conn: KafkaConnection;
  before(async () => {
    b = await startInProcess({
      'auto.create.topics.enable': 'false',
      'max.request.partition.size.limit': '7',
    });
    conn = await b.connect();
    const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [
        { name: 'b-five', numPartitions: 5, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'a-three', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'c-twelve', numPartitions: 12, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(
      res.topics.map((t) => t.errorCode),
      [0, 0, 0],
    );
  });
  after(async () => {
    conn.close();
    await b.stop(true);
  });

  const dtp = (body: DescribeTopicPartitionsRequestInput) =>
    conn.request<DescribeTopicPartitionsResponse>(ApiKey.DescribeTopicPartitions, body);
  const page = (r: DescribeTopicPartitionsResponse) =>
    r.topics.map((t) => `${t.name}:${t.errorCode}:${t.partitions.map((p) => p.partitionIndex).join(',')}`);

  it('the bitfields are Kafka’s', () => {
    assert.equal(operationsBitfield(topicOperations), TOPIC_ALL);
    assert.equal(operationsBitfield(clusterOperations), CLUSTER_ALL);
    assert.equal(TOPIC_ALL, 3576);
    assert.equal(CLUSTER_ALL, 8096);
  });

  it('is advertised by ApiVersions', () => {
    assert.equal(conn.supports(ApiKey.DescribeTopicPartitions), true);
  });

  it('pages through every partition, sorted, with the limit min(config, request)', async () => {
    // The broker's limit (7) is below the request's (2000).
    const first = await dtp({ topics: [{ name: 'c-twelve' }, { name: 'a-three' }, { name: 'b-five' }] });
    assert.deepEqual(page(first), ['a-three:0:0,1,2', 'b-five:0:0,1,2,3']);
    assert.deepEqual(first.nextCursor, { topicName: 'b-five', partitionIndex: 4 });
    const second = await dtp({
      topics: [{ name: 'c-twelve' }, { name: 'a-three' }, { name: 'b-five' }],
      cursor: first.nextCursor,
    });
    assert.deepEqual(page(second), ['b-five:0:4', 'c-twelve:0:0,1,2,3,4,5']);
    assert.deepEqual(second.nextCursor, { topicName: 'c-twelve', partitionIndex: 6 });
    const third = await dtp({
      topics: [{ name: 'c-twelve' }, { name: 'a-three' }, { name: 'b-five' }],
      cursor: second.nextCursor,
    });
    assert.deepEqual(page(third), ['c-twelve:0:6,7,8,9,10,11']);
    assert.equal(third.nextCursor, null);
    for (const t of [...first.topics, ...second.topics, ...third.topics]) {
      assert.equal(t.topicAuthorizedOperations, TOPIC_ALL);
      assert.equal(t.isInternal, false);
      assert.notEqual(t.topicId, '0'.repeat(32));
      for (const p of t.partitions) {
        assert.equal(p.errorCode, 0);
        assert.equal(p.leaderId, b.broker.nodeId);
        assert.deepEqual(p.replicaNodes, [b.broker.nodeId]);
        assert.deepEqual(p.eligibleLeaderReplicas, []);
      }
    }
  });

  it('a budget ending on a topic boundary points the cursor at the next topic, partition 0', async () => {
    const r = await dtp({ topics: [{ name: 'a-three' }, { name: 'b-five' }], responsePartitionLimit: 3 });
    assert.deepEqual(page(r), ['a-three:0:0,1,2']);
    assert.deepEqual(r.nextCursor, { topicName: 'b-five', partitionIndex: 0 });
  });

  it('answers at least one partition whatever the limit asked', async () => {
    const r = await dtp({ topics: [{ name: 'a-three' }], responsePartitionLimit: 0 });
    assert.deepEqual(page(r), ['a-three:0:0']);
    assert.deepEqual(r.nextCursor, { topicName: 'a-three', partitionIndex: 1 });
  });

  it('no topics named: every topic from the cursor on', async () => {
    const r = await dtp({
      topics: [],
      responsePartitionLimit: 100,
      cursor: { topicName: 'b-five', partitionIndex: 3 },
    });
    assert.deepEqual(page(r), ['b-five:0:3,4', 'c-twelve:0:0,1,2,3,4']);
    assert.deepEqual(r.nextCursor, { topicName: 'c-twelve', partitionIndex: 5 });
  });

  it('unknown and invalid names get their error and use none of the budget', async () => {
    const r = await dtp({
      topics: [{ name: 'zz-missing' }, { name: 'a-three' }, { name: 'bad/name' }, { name: 'a-three' }],
    });
    assert.deepEqual(page(r), [
      'a-three:0:0,1,2',
      `bad/name:${ErrorCode.INVALID_TOPIC_EXCEPTION}:`,
      `zz-missing:${ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}:`,
    ]);
    assert.equal(r.nextCursor, null);
  });

  it('a cursor outside the topic list, or negative, is INVALID_REQUEST', async () => {
    const r = await dtp({
      topics: [{ name: 'a-three' }],
      cursor: { topicName: 'b-five', partitionIndex: 0 },
    });
    assert.deepEqual(page(r), [`a-three:${ErrorCode.INVALID_REQUEST}:`]);
    const neg = await dtp({
      topics: [{ name: 'a-three' }],
      cursor: { topicName: 'a-three', partitionIndex: -1 },
    });
    assert.deepEqual(page(neg), [`a-three:${ErrorCode.INVALID_REQUEST}:`]);
  });

  it('Metadata answers the operations only when asked (topics v8+, cluster v8-10)', async () => {
    const body = (ops: boolean) => ({
      topics: [
        { name: 'a-three', topicId: '0'.repeat(32) },
        { name: 'nope', topicId: '0'.repeat(32) },
      ],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: ops,
      includeTopicAuthorizedOperations: ops,
    });
    const asked = (await conn.send(ApiKey.Metadata, 10, body(true))) as MetadataResponse;
    assert.equal(asked.clusterAuthorizedOperations, CLUSTER_ALL);
    assert.deepEqual(
      asked.topics.map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations]),
      [
        ['a-three', 0, TOPIC_ALL],
        ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, TOPIC_ALL],
      ],
    );
    const notAsked = (await conn.send(ApiKey.Metadata, 10, body(false))) as MetadataResponse;
    assert.equal(notAsked.clusterAuthorizedOperations, OMITTED);
    assert.deepEqual(
      notAsked.topics.map((t) => t.topicAuthorizedOperations),
      [OMITTED, OMITTED],
    );
    // v12 has no cluster field (DescribeCluster replaced it); topics still answer.
    const v12 = (await conn.send(ApiKey.Metadata, 12, body(true))) as MetadataResponse;
    assert.equal(v12.topics[0]!.topicAuthorizedOperations, TOPIC_ALL);
  });

  it('DescribeCluster answers the cluster’s operations only when asked', async () => {
    const asked = await conn.request<DescribeClusterResponse>(ApiKey.DescribeCluster, {
      includeClusterAuthorizedOperations: true,
      endpointType: 1,
    });
    assert.equal(asked.errorCode, 0);
    assert.equal(asked.clusterAuthorizedOperations, CLUSTER_ALL);
    const notAsked = await conn.request<DescribeClusterResponse>(ApiKey.DescribeCluster, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
    });
    assert.equal(notAsked.clusterAuthorizedOperations, OMITTED);
  });
});
