/**
 * ACLs in a three-broker ZooKeeper cluster: created through one broker (stored in /kafka-acl, announced in
 * /kafka-acl-changes), enforced by another. Clients use each broker's SASL_PLAINTEXT listener; the brokers talk
 * to each other on PLAINTEXT as User:ANONYMOUS, listed in super.users as docs/security.md tells operators.
 * The change notifications expire after 3 s here (samsa.acl.change.notification.expiration.ms; Kafka's 15 minutes
 * by default) and the brokers delete them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { purgeObsoleteChanges } from '../../src/cluster/zk/zk-acls.js';
import { ZkClient } from '../../src/cluster/zk/zk-client.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { freePort } from '../helpers/broker.js';
import { startCluster, type TestCluster, waitFor } from '../helpers/cluster.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';

const EXPIRATION_MS = 3000;

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

describe('ACLs in a ZooKeeper cluster', { skip: zooKeeperSkip() }, () => {
  let c: TestCluster;
  const plain = new Map<number, number>();
  const sasl = new Map<number, number>();

  before(async () => {
    for (const id of [1, 2, 3]) {
      plain.set(id, await freePort());
      sasl.set(id, await freePort());
    }
    const brokerOverrides: Record<number, Record<string, string>> = {};
    for (const id of [1, 2, 3]) {
      brokerOverrides[id] = {
        listeners: `PLAINTEXT://127.0.0.1:${plain.get(id)},SASL_PLAINTEXT://127.0.0.1:${sasl.get(id)}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${plain.get(id)},SASL_PLAINTEXT://127.0.0.1:${sasl.get(id)}`,
      };
    }
    c = await startCluster({
      brokers: 3,
      placement: (id) => ({ port: plain.get(id) as number }),
      brokerOverrides,
      overrides: {
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:admin;User:ANONYMOUS',
        'samsa.acl.change.notification.expiration.ms': String(EXPIRATION_MS),
      },
    });
  });

  after(async () => {
    await c?.destroy();
  });

  async function as<T>(id: number, user: string, fn: (k: KafkaConnection) => Promise<T>): Promise<T> {
    const conn = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: sasl.get(id) as number,
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

  it('an ACL created through one broker is enforced by another', async () => {
    await as(1, 'admin', (k) =>
      k.request(ApiKey.CreateTopics, {
        topics: [{ name: 'acl-t', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }],
        timeoutMs: 10_000,
        validateOnly: false,
      }),
    );
    const leader = await c.leaderOf('acl-t', 0);
    const other = c.ids.find((id) => id !== leader) as number;
    const produce = () =>
      as(leader, 'alice', (k) =>
        k.request(ApiKey.Produce, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 10_000,
          topicData: [
            {
              name: 'acl-t',
              partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: 'v' }] }) }],
            },
          ],
        }),
      ) as Promise<{ responses: { partitionResponses: { errorCode: number }[] }[] }>;
    assert.equal((await produce()).responses[0]?.partitionResponses[0]?.errorCode, 29);
    const created = (await as(other, 'admin', (k) =>
      k.request(ApiKey.CreateAcls, {
        creations: [
          {
            resourceType: 2,
            resourceName: 'acl-',
            resourcePatternType: 4,
            principal: 'User:alice',
            host: '*',
            operation: 4,
            permissionType: 3,
          },
        ],
      }),
    )) as { results: { errorCode: number }[] };
    assert.equal(created.results[0]?.errorCode, 0);
    // The leader follows the change notification; acks=-1 also needs the followers (ANONYMOUS, super users).
    await waitFor('the leader to allow alice', async () => {
      const code = (await produce()).responses[0]?.partitionResponses[0]?.errorCode;
      return code === 0 ? true : undefined;
    });
    const described = (await as(c.ids.find((id) => id !== leader && id !== other) as number, 'admin', (k) =>
      k.request(ApiKey.DescribeAcls, {
        resourceTypeFilter: 2,
        resourceNameFilter: 'acl-t',
        patternTypeFilter: 2,
        principalFilter: null,
        hostFilter: null,
        operation: 1,
        permissionType: 1,
      }),
    )) as { errorCode: number; resources: { resourceName: string; patternType: number }[] };
    assert.equal(described.errorCode, 0);
    assert.deepEqual(
      described.resources.map((r) => [r.resourceName, r.patternType]),
      [['acl-', 4]],
    );
  });

  it('the brokers delete change notifications older than the expiration', async () => {
    const zk = await ZkClient.connect(c.zkConnect);
    try {
      const count = async (root: string) => ((await zk.getChildren(root)) ?? []).length;
      const created = (await as(1, 'admin', (k) =>
        k.request(ApiKey.CreateAcls, {
          creations: [3, 4].map((resourcePatternType) => ({
            resourceType: 3,
            resourceName: 'purge-g',
            resourcePatternType,
            principal: 'User:alice',
            host: '*',
            operation: 3,
            permissionType: 3,
          })),
        }),
      )) as { results: { errorCode: number }[] };
      assert.deepEqual(
        created.results.map((r) => r.errorCode),
        [0, 0],
      );
      assert.ok((await count('/kafka-acl-changes')) > 0, 'a LITERAL notification');
      assert.ok((await count('/kafka-acl-extended-changes')) > 0, 'a PREFIXED notification');
      await waitFor(
        'the notifications to be deleted',
        async () =>
          (await count('/kafka-acl-changes')) === 0 && (await count('/kafka-acl-extended-changes')) === 0
            ? true
            : undefined,
        EXPIRATION_MS * 5,
      );
      // The ACLs themselves stay.
      assert.ok((await zk.get('/kafka-acl/Group/purge-g')) !== null);
      assert.ok((await zk.get('/kafka-acl-extended/prefixed/Group/purge-g')) !== null);
    } finally {
      await zk.close();
    }
  });

  it('purgeObsoleteChanges deletes only notifications older than the expiration, oldest first', async () => {
    const zk = await ZkClient.connect(c.zkConnect);
    try {
      const root = '/purge-test';
      await zk.createRecursive(root);
      for (let i = 0; i < 3; i++) {
        await zk.create(`${root}/acl_changes_`, Buffer.from('Topic:x'), { mode: 'persistentSequential' });
      }
      assert.equal(await purgeObsoleteChanges(zk, root, Date.now(), 60_000), 0, 'none old enough');
      assert.equal((await zk.getChildren(root))?.length, 3);
      assert.equal(await purgeObsoleteChanges(zk, root, Date.now() + 120_000, 60_000), 3);
      assert.deepEqual(await zk.getChildren(root), []);
    } finally {
      await zk.close();
    }
  });
});
