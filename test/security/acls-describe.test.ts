/**
 * ACLs on the describing APIs, on one real broker (SASL_PLAINTEXT, PLAIN users admin and alice, the authorizer on,
 * super.users=User:admin): DescribeTopicPartitions, OffsetFetch, OffsetDelete, DescribeGroups and
 * ConsumerGroupDescribe, ConsumerGroupHeartbeat and ListConfigResources answer as Kafka's KafkaApis does.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { samsa } from '../cli/cli-helpers.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

type User = 'admin' | 'alice';

const DESCRIBE_BIT = 1 << 8;
const READ_BIT = 1 << 3;

describe('ACLs on the describing APIs', () => {
  let dir: string;
  let broker: BrokerHandle;
  let port = 0;
  let adminProps = '';

  async function as<T>(user: User, fn: (c: KafkaConnection) => Promise<T>): Promise<T> {
    const conn = await KafkaConnection.connect({
      host: '127.0.0.1',
      port,
      security: {
        protocol: 'SASL_PLAINTEXT',
        sasl: { mechanism: 'PLAIN', username: user, password: `${user}-secret` },
      },
    });
    try {
      return await fn(conn);
    } finally {
      conn.close();
    }
  }

  const acls = (...args: string[]) =>
    samsa(['acls', '--bootstrap-server', `127.0.0.1:${port}`, '--command-config', adminProps, ...args]);

  async function allow(...args: string[]): Promise<void> {
    const r = await acls('--add', '--allow-principal', 'User:alice', ...args);
    assert.equal(r.code, 0, r.stderr);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-acls-describe-'));
    port = await freePort();
    broker = await startBroker({
      overrides: {
        listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`,
        'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${port}`,
        'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer',
        'super.users': 'User:admin',
        'connection.failed.authentication.delay.ms': '0',
        'group.coordinator.rebalance.protocols': 'classic,consumer',
      },
      port,
    });
    adminProps = join(dir, 'admin.properties');
    writeFileSync(
      adminProps,
      `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";\n`,
    );
    await as('admin', async (c) => {
      await c.request(ApiKey.CreateTopics, {
        topics: ['seen', 'hidden'].map((name) => ({
          name,
          numPartitions: 2,
          replicationFactor: 1,
          assignments: [],
          configs: [],
        })),
        timeoutMs: 10_000,
        validateOnly: false,
      });
      // Offsets of group g on both topics, committed by the super user (an empty group takes a simple commit).
      const committed = (await c.request(
        ApiKey.OffsetCommit,
        {
          groupId: 'g',
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          retentionTimeMs: -1,
          topics: ['seen', 'hidden'].map((name) => ({
            name,
            partitions: [0, 1].map((partitionIndex) => ({
              partitionIndex,
              committedOffset: 5,
              committedLeaderEpoch: -1,
              committedMetadata: '',
            })),
          })),
        },
        9,
      )) as { topics: { partitions: { errorCode: number }[] }[] };
      for (const t of committed.topics) for (const p of t.partitions) assert.equal(p.errorCode, 0);
    });
  });

  after(async () => {
    await broker?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  type DtpTopic = {
    name: string;
    errorCode: number;
    partitions: unknown[];
    topicAuthorizedOperations: number;
  };
  const describeTopics = (user: User, names: string[]) =>
    as(user, (c) =>
      c.request(ApiKey.DescribeTopicPartitions, {
        topics: names.map((name) => ({ name })),
        responsePartitionLimit: 2000,
        cursor: null,
      }),
    ) as Promise<{ topics: DtpTopic[] }>;

  it('DescribeTopicPartitions: all topics lists only the describable ones; a named one not describable answers 29', async () => {
    assert.deepEqual((await describeTopics('alice', [])).topics, []);
    await allow('--operation', 'Describe', '--topic', 'seen');
    const all = await describeTopics('alice', []);
    assert.deepEqual(
      all.topics.map((t) => t.name),
      ['seen'],
    );
    assert.equal(all.topics[0]?.partitions.length, 2);
    // Authorized operations from the ACLs: DESCRIBE only.
    assert.equal(all.topics[0]?.topicAuthorizedOperations, DESCRIBE_BIT);
    const named = await describeTopics('alice', ['hidden', 'seen', 'no-such-topic']);
    const byName = new Map(named.topics.map((t) => [t.name, t]));
    assert.equal(byName.get('seen')?.errorCode, 0);
    assert.equal(byName.get('hidden')?.errorCode, 29);
    assert.equal(byName.get('hidden')?.partitions.length, 0);
    assert.equal(byName.get('no-such-topic')?.errorCode, 29, 'no hint that the topic does not exist');
    const admin = await describeTopics('admin', []);
    assert.deepEqual(
      admin.topics
        .map((t) => t.name)
        .filter((n) => !n.startsWith('__'))
        .sort(),
      ['hidden', 'seen'],
    );
  });

  type Fetched = {
    name: string;
    partitions: { partitionIndex: number; committedOffset: number; errorCode: number }[];
  };
  const fetchGroups = (user: User, topics: string[] | null) =>
    as(user, (c) =>
      c.request(
        ApiKey.OffsetFetch,
        {
          groupId: '',
          topics: null,
          requireStable: false,
          groups: [
            {
              groupId: 'g',
              memberId: null,
              memberEpoch: -1,
              topics: topics === null ? null : topics.map((name) => ({ name, partitionIndexes: [0, 1] })),
            },
          ],
        },
        9,
      ),
    ) as Promise<{ groups: { errorCode: number; topics: Fetched[] }[] }>;
  const fetchV7 = (user: User, topics: string[] | null) =>
    as(user, (c) =>
      c.request(
        ApiKey.OffsetFetch,
        {
          groupId: 'g',
          topics: topics === null ? null : topics.map((name) => ({ name, partitionIndexes: [0, 1] })),
          requireStable: false,
          groups: [],
        },
        7,
      ),
    ) as Promise<{ errorCode: number; topics: Fetched[] }>;

  it('OffsetFetch: DESCRIBE on the group; named topics not describable answer 29; fetching all leaves them out', async () => {
    assert.equal((await fetchGroups('alice', null)).groups[0]?.errorCode, 30);
    assert.equal((await fetchV7('alice', ['seen'])).errorCode, 30);
    await allow('--operation', 'Describe', '--group', 'g');
    for (const res of [
      (await fetchGroups('alice', ['seen', 'hidden'])).groups[0],
      await fetchV7('alice', ['seen', 'hidden']),
    ]) {
      assert.equal(res?.errorCode, 0);
      const byName = new Map(res?.topics.map((t) => [t.name, t]));
      assert.deepEqual(
        byName.get('seen')?.partitions.map((p) => [p.committedOffset, p.errorCode]),
        [
          [5, 0],
          [5, 0],
        ],
      );
      assert.deepEqual(
        byName.get('hidden')?.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode]),
        [
          [0, -1, 29],
          [1, -1, 29],
        ],
      );
    }
    for (const res of [(await fetchGroups('alice', null)).groups[0], await fetchV7('alice', null)]) {
      assert.equal(res?.errorCode, 0);
      assert.deepEqual(
        res?.topics.map((t) => t.name),
        ['seen'],
      );
    }
    const admin = (await fetchGroups('admin', null)).groups[0];
    assert.deepEqual(admin?.topics.map((t) => t.name).sort(), ['hidden', 'seen']);
  });

  it('DescribeGroups and ConsumerGroupDescribe: DESCRIBE on the group, authorized operations from the ACLs', async () => {
    const dg = (await as('alice', (c) =>
      c.request(ApiKey.DescribeGroups, { groups: ['g', 'other-group'], includeAuthorizedOperations: true }),
    )) as { groups: { groupId: string; errorCode: number; authorizedOperations: number }[] };
    assert.equal(dg.groups[0]?.errorCode, 0);
    assert.equal(dg.groups[0]?.authorizedOperations, DESCRIBE_BIT);
    assert.equal(dg.groups[1]?.errorCode, 30);
    const cgd = (await as('alice', (c) =>
      c.request(ApiKey.ConsumerGroupDescribe, {
        groupIds: ['other-group'],
        includeAuthorizedOperations: true,
      }),
    )) as { groups: { errorCode: number }[] };
    assert.equal(cgd.groups[0]?.errorCode, 30);
    const superUser = (await as('admin', (c) =>
      c.request(ApiKey.DescribeGroups, { groups: ['g'], includeAuthorizedOperations: true }),
    )) as { groups: { authorizedOperations: number }[] };
    assert.equal(superUser.groups[0]?.authorizedOperations, READ_BIT | (1 << 6) | DESCRIBE_BIT);
  });

  it('ConsumerGroupHeartbeat: READ on the group, DESCRIBE on each subscribed topic', async () => {
    const heartbeat = (group: string, topics: string[]) =>
      as('alice', (c) =>
        c.request(ApiKey.ConsumerGroupHeartbeat, {
          groupId: group,
          memberId: 'm-alice-0000000000000',
          memberEpoch: 0,
          instanceId: null,
          rackId: null,
          rebalanceTimeoutMs: 10_000,
          subscribedTopicNames: topics,
          subscribedTopicRegex: null,
          serverAssignor: null,
          topicPartitions: [],
        }),
      ) as Promise<{ errorCode: number }>;
    assert.equal((await heartbeat('cg', ['seen'])).errorCode, 30);
    await allow('--operation', 'Read', '--group', 'cg');
    assert.equal((await heartbeat('cg', ['seen', 'hidden'])).errorCode, 29);
    assert.equal((await heartbeat('cg', ['seen'])).errorCode, 0);
  });

  it('OffsetDelete: DELETE on the group, READ on each topic', async () => {
    await allow('--operation', 'Delete', '--group', 'g');
    await allow('--operation', 'Read', '--topic', 'seen');
    const res = (await as('alice', (c) =>
      c.request(ApiKey.OffsetDelete, {
        groupId: 'g',
        topics: ['seen', 'hidden'].map((name) => ({ name, partitions: [{ partitionIndex: 0 }] })),
      }),
    )) as { errorCode: number; topics: { name: string; partitions: { errorCode: number }[] }[] };
    assert.equal(res.errorCode, 0);
    const byName = new Map(res.topics.map((t) => [t.name, t.partitions[0]?.errorCode]));
    assert.equal(byName.get('seen'), 0);
    assert.equal(byName.get('hidden'), 29);
    const left = (await fetchGroups('admin', ['seen', 'hidden'])).groups[0];
    const offsets = new Map(left?.topics.map((t) => [t.name, t.partitions[0]?.committedOffset]));
    assert.equal(offsets.get('seen'), -1, 'deleted');
    assert.equal(offsets.get('hidden'), 5, 'kept');
  });

  it('ListConfigResources needs DESCRIBE_CONFIGS on the cluster', async () => {
    const list = (user: User) =>
      as(user, (c) => c.request(ApiKey.ListConfigResources, { resourceTypes: [] })) as Promise<{
        errorCode: number;
      }>;
    assert.equal((await list('alice')).errorCode, 31);
    assert.equal((await list('admin')).errorCode, 0);
  });

  it("AddPartitionsToTxn v4+ (the brokers' form) needs CLUSTER_ACTION on the cluster", async () => {
    const verify = (user: User) =>
      as(user, (c) =>
        c.request(
          ApiKey.AddPartitionsToTxn,
          {
            transactions: [
              {
                transactionalId: 'tx',
                producerId: 1,
                producerEpoch: 0,
                verifyOnly: true,
                topics: [{ name: 'seen', partitions: [0] }],
              },
            ],
            v3AndBelowTransactionalId: '',
            v3AndBelowProducerId: 0,
            v3AndBelowProducerEpoch: 0,
            v3AndBelowTopics: [],
          },
          5,
        ),
      ) as Promise<{ errorCode: number; resultsByTransaction: unknown[] }>;
    const denied = await verify('alice');
    assert.equal(denied.errorCode, 31, 'CLUSTER_AUTHORIZATION_FAILED');
    assert.deepEqual(denied.resultsByTransaction, []);
    const served = await verify('admin');
    assert.equal(served.errorCode, 0);
    assert.equal(served.resultsByTransaction.length, 1);
  });
});
