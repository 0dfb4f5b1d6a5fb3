/**
 * ACLs on one real broker: a SASL_PLAINTEXT listener (PLAIN users admin, alice, bob), the authorizer on and
 * super.users=User:admin. Requests go through Samsa's client and kcat; ACLs are managed with `samsa acls` and
 * the ACL APIs, and survive a restart.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { samsa } from '../cli/cli-helpers.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";';

type User = 'admin' | 'alice' | 'bob';

function kcat(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('kcat', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('ACL authorizer', () => {
  let dir: string;
  let broker: BrokerHandle;
  let port = 0;
  let adminProps = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-acls-'));
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
      },
      port,
    });
    adminProps = join(dir, 'admin.properties');
    writeFileSync(
      adminProps,
      `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";\n`,
    );
    await as('admin', (c) =>
      c.request(ApiKey.CreateTopics, {
        topics: [
          { name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
          { name: 'other', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        ],
        timeoutMs: 10_000,
        validateOnly: false,
      }),
    );
  });

  after(async () => {
    await broker?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

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

  async function produceCode(user: User, topic: string): Promise<number> {
    const res = (await as(user, (c) =>
      c.request(ApiKey.Produce, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          {
            name: topic,
            partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: 'v' }] }) }],
          },
        ],
      }),
    )) as { responses: { partitionResponses: { errorCode: number }[] }[] };
    return res.responses[0]?.partitionResponses[0]?.errorCode ?? -1;
  }

  async function fetchCode(user: User, topic: string): Promise<number> {
    const md = (await as('admin', (c) =>
      c.request(ApiKey.Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false }),
    )) as { topics: { topicId: string }[] };
    const topicId = md.topics[0]?.topicId;
    const res = (await as(user, (c) =>
      c.request(ApiKey.Fetch, {
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
            topicId,
            partitions: [
              {
                partition: 0,
                fetchOffset: 0,
                logStartOffset: -1,
                partitionMaxBytes: 1 << 20,
                currentLeaderEpoch: -1,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      }),
    )) as { responses: { partitions: { errorCode: number }[] }[] };
    return res.responses[0]?.partitions[0]?.errorCode ?? -1;
  }

  async function joinCode(user: User, group: string): Promise<number> {
    const res = (await as(user, (c) =>
      c.request(ApiKey.JoinGroup, {
        groupId: group,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
        reason: null,
      }),
    )) as { errorCode: number };
    return res.errorCode;
  }

  async function topicsSeen(user: User): Promise<string[]> {
    const md = (await as(user, (c) =>
      c.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false }),
    )) as { topics: { name: string }[] };
    return md.topics.map((t) => t.name).sort();
  }

  it('refuses everything without ACLs, except to the super user', async () => {
    assert.equal(await produceCode('alice', 't'), 29);
    assert.equal(await produceCode('admin', 't'), 0);
    assert.deepEqual(await topicsSeen('bob'), []);
    assert.deepEqual(await topicsSeen('admin'), ['other', 't']);
    const described = (await as('bob', (c) =>
      c.request(ApiKey.DescribeAcls, {
        resourceTypeFilter: 1,
        resourceNameFilter: null,
        patternTypeFilter: 1,
        principalFilter: null,
        hostFilter: null,
        operation: 1,
        permissionType: 1,
      }),
    )) as { errorCode: number };
    assert.equal(described.errorCode, 31);
  });

  it('samsa acls --add: alice may write t, bob may not; Metadata shows alice t only', async () => {
    const r = await acls('--add', '--allow-principal', 'User:alice', '--operation', 'Write', '--topic', 't');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /principal=User:alice, host=\*, operation=WRITE, permissionType=ALLOW/);
    assert.equal(await produceCode('alice', 't'), 0);
    assert.equal(await produceCode('bob', 't'), 29);
    assert.equal(await produceCode('alice', 'other'), 29);
    assert.deepEqual(await topicsSeen('alice'), ['t']);
    assert.deepEqual(await topicsSeen('bob'), []);
    await broker.waitForLog(
      /Principal is Denied operation.*User:bob|User:bob.*Principal is Denied operation/,
    );
  });

  it('kcat (librdkafka) as alice produces; as bob is refused', async () => {
    const sasl = (user: User) => [
      '-b',
      `127.0.0.1:${port}`,
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=PLAIN',
      '-X',
      `sasl.username=${user}`,
      '-X',
      `sasl.password=${user}-secret`,
    ];
    const ok = await kcat([...sasl('alice'), '-P', '-t', 't', '-p', '0'], 'a\nb\n');
    assert.equal(ok.code, 0, ok.stderr);
    const refused = await kcat([...sasl('bob'), '-P', '-t', 't', '-p', '0'], 'a\n');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /[Aa]uthoriz/);
  });

  it('a consumer needs READ on the topic (a PREFIXED ACL here) and on the group', async () => {
    assert.equal(await fetchCode('bob', 't'), 29);
    assert.equal(await joinCode('bob', 'g1'), 30);
    let r = await acls(
      '--add',
      '--allow-principal',
      'User:bob',
      '--consumer',
      '--topic',
      't',
      '--group',
      'g',
      '--resource-pattern-type',
      'prefixed',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fetchCode('bob', 't'), 0);
    assert.equal(await fetchCode('bob', 'other'), 29);
    // g1 starts with the prefix g: the join goes on (a new member is asked to rejoin with its id).
    assert.equal(await joinCode('bob', 'g1'), 79);
    assert.equal(await joinCode('bob', 'h'), 30);
    assert.deepEqual(await topicsSeen('bob'), ['t']);
    // Deny wins over allow.
    r = await acls('--add', '--deny-principal', 'User:bob', '--operation', 'Read', '--topic', 't');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fetchCode('bob', 't'), 29);
  });

  it('samsa acls --list and --remove; the ACLs survive a restart', async () => {
    let r = await acls('--list', '--topic', 't');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ResourcePattern\(resourceType=TOPIC, name=t, patternType=LITERAL\)/);
    assert.match(r.stdout, /User:alice.*WRITE.*ALLOW/);
    assert.match(r.stdout, /User:bob.*READ.*DENY/);
    r = await acls(
      '--remove',
      '--force',
      '--deny-principal',
      'User:bob',
      '--operation',
      'Read',
      '--topic',
      't',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await fetchCode('bob', 't'), 0);
    await broker.restart();
    assert.equal(await fetchCode('bob', 't'), 0);
    assert.equal(await produceCode('alice', 't'), 0);
    assert.equal(await produceCode('bob', 't'), 29);
    r = await acls('--list');
    assert.match(r.stdout, /name=t, patternType=PREFIXED/);
    assert.doesNotMatch(r.stdout, /DENY/);
    r = await acls('--remove', '--force', '--topic', 't');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await produceCode('alice', 't'), 29);
  });

  it('transactions need WRITE on the transactional id; idempotent producers IDEMPOTENT_WRITE or WRITE on a topic', async () => {
    const init = (user: User, transactionalId: string | null) =>
      as(user, (c) =>
        c.request(ApiKey.InitProducerId, {
          transactionalId,
          transactionTimeoutMs: 30_000,
          producerId: -1,
          producerEpoch: -1,
          enable2Pc: false,
          keepPreparedTxn: false,
        }),
      ) as Promise<{ errorCode: number; producerId: number; producerEpoch: number }>;
    assert.equal((await init('bob', 'tx-bob')).errorCode, 53);
    assert.equal((await init('bob', null)).errorCode, 31, 'bob may write no topic');
    let r = await acls(
      '--add',
      '--allow-principal',
      'User:bob',
      '--operation',
      'Write',
      '--transactional-id',
      'tx-bob',
    );
    assert.equal(r.code, 0, r.stderr);
    const ok = await init('bob', 'tx-bob');
    assert.equal(ok.errorCode, 0);
    const end = (await as('bob', (c) =>
      c.request(ApiKey.EndTxn, {
        transactionalId: 'tx-other',
        producerId: ok.producerId,
        producerEpoch: ok.producerEpoch,
        committed: true,
      }),
    )) as { errorCode: number };
    assert.equal(end.errorCode, 53);
    const add = (await as('bob', (c) =>
      c.request(
        ApiKey.AddPartitionsToTxn,
        {
          v3AndBelowTransactionalId: 'tx-bob',
          v3AndBelowProducerId: ok.producerId,
          v3AndBelowProducerEpoch: ok.producerEpoch,
          v3AndBelowTopics: [{ name: 'other', partitions: [0] }],
        },
        3,
      ),
    )) as { resultsByTopicV3AndBelow: { resultsByPartition: { partitionErrorCode: number }[] }[] };
    assert.equal(add.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode, 29);
    r = await acls('--remove', '--force', '--transactional-id', 'tx-bob');
    assert.equal(r.code, 0, r.stderr);
  });

  it('DescribeProducers needs READ on the topic, DescribeTransactions DESCRIBE on the id; ListTransactions is filtered', async () => {
    const producers = (await as('bob', (c) =>
      c.request(ApiKey.DescribeProducers, { topics: [{ name: 'other', partitionIndexes: [0] }] }),
    )) as { topics: { partitions: { errorCode: number }[] }[] };
    assert.equal(producers.topics[0]?.partitions[0]?.errorCode, 29);
    const described = (await as('bob', (c) =>
      c.request(ApiKey.DescribeTransactions, { transactionalIds: ['tx-secret'] }),
    )) as { transactionStates: { errorCode: number }[] };
    assert.equal(described.transactionStates[0]?.errorCode, 53);
    const listed = (await as('bob', (c) =>
      c.request(ApiKey.ListTransactions, {
        stateFilters: [],
        producerIdFilters: [],
        durationFilter: -1,
        transactionalIdPattern: null,
      }),
    )) as { errorCode: number; transactionStates: { transactionalId: string }[] };
    assert.equal(listed.errorCode, 0);
    const all = (await as('admin', (c) =>
      c.request(ApiKey.ListTransactions, {
        stateFilters: [],
        producerIdFilters: [],
        durationFilter: -1,
        transactionalIdPattern: null,
      }),
    )) as { transactionStates: { transactionalId: string }[] };
    assert.ok(all.transactionStates.length > 0, 'the earlier test left a transactional id');
    assert.deepEqual(listed.transactionStates, []);
  });

  it('client quotas: DescribeClientQuotas needs DESCRIBE_CONFIGS on the cluster, AlterClientQuotas ALTER_CONFIGS', async () => {
    const alter = (user: User) =>
      as(user, (c) =>
        c.request(ApiKey.AlterClientQuotas, {
          entries: [
            {
              entity: [{ entityType: 'user', entityName: 'bob' }],
              ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }],
            },
          ],
          validateOnly: false,
        }),
      ) as Promise<{ entries: { errorCode: number }[] }>;
    const describeQuotas = (user: User) =>
      as(user, (c) => c.request(ApiKey.DescribeClientQuotas, { components: [], strict: false })) as Promise<{
        errorCode: number;
        entries: unknown[] | null;
      }>;
    assert.equal((await describeQuotas('bob')).errorCode, 31);
    assert.equal((await alter('bob')).entries[0]?.errorCode, 31);
    assert.equal((await alter('admin')).entries[0]?.errorCode, 0);
    const r = await acls(
      '--add',
      '--allow-principal',
      'User:bob',
      '--operation',
      'DescribeConfigs',
      '--cluster',
    );
    assert.equal(r.code, 0, r.stderr);
    const seen = await describeQuotas('bob');
    assert.equal(seen.errorCode, 0);
    assert.equal(seen.entries?.length, 1);
    assert.equal((await alter('bob')).entries[0]?.errorCode, 31);
  });
});
