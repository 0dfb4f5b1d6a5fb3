// A ZooKeeper cluster of three real broker processes (test/helpers/cluster.ts), seen through the Kafka
// protocol: every broker lists all three, topics are spread over brokers and racks, the admin APIs act on
// the whole cluster whichever broker receives them, topic configs reach every broker, and producer ids come
// from one cluster-wide allocation. Brokers 1 and 2 are in rack "a", broker 3 in rack "b".

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  alterConfigs,
  createPartitions,
  createTopic,
  deleteTopic,
  describeConfigs,
  ResourceType,
} from '../../src/client/admin.js';
import { Cluster, KafkaError } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { InitProducerIdResponse } from '../../src/protocol/generated/init-producer-id-response.js';
import {
  type Metadata,
  startCluster,
  summarize,
  type TestCluster,
  waitFor,
  withClusterLogs,
  withConnection,
} from '../helpers/cluster.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';

const racks: Record<number, string> = { 1: 'a', 2: 'a', 3: 'b' };

describe('ZooKeeper cluster of three brokers', { skip: zooKeeperSkip(), timeout: 180_000 }, () => {
  let c: TestCluster;
  let n = 0;
  const name = (what: string): string => `${what}-${++n}`;

  before(async () => {
    c = await startCluster({
      brokers: 3,
      brokerOverrides: Object.fromEntries(
        Object.entries(racks).map(([id, rack]) => [Number(id), { 'broker.rack': rack }]),
      ),
    });
  });
  after(async () => {
    await c?.destroy();
  });

  /** Runs fn against a client bootstrapped from broker `id`; appends the brokers' logs to a failure. */
  async function via<T>(id: number, fn: (cl: Cluster) => Promise<T>): Promise<T> {
    const cl = await Cluster.connect({ bootstrap: c.bootstrapOf(id), clientId: 'cluster-test' });
    try {
      return await fn(cl);
    } finally {
      cl.close();
    }
  }

  /** Waits until every broker shows `topic` with `partitions` partitions, each led by a live ISR member and fully in sync. */
  function waitForTopic(topic: string, partitions: number): Promise<Map<number, Metadata>> {
    return c.waitForMetadata(
      `${topic}: ${partitions} partitions with leaders and full ISRs on every broker`,
      (m) => {
        const t = m.topics[0];
        return (
          t !== undefined &&
          t.errorCode === ErrorCode.NONE &&
          t.partitions.length === partitions &&
          t.partitions.every(
            (p) =>
              p.leaderId >= 0 &&
              p.isrNodes.includes(p.leaderId) &&
              p.isrNodes.length === p.replicaNodes.length,
          )
        );
      },
      { topics: [topic] },
    );
  }

  function partitionDirs(id: number, topic: string): string[] {
    const dir = c.broker(id).dataDir;
    return existsSync(dir) ? readdirSync(dir).filter((e) => e.startsWith(`${topic}-`)) : [];
  }

  test('every broker lists all three, with their endpoints and racks, one cluster id and one controller', () =>
    withClusterLogs(c, async () => {
      const seen = new Map<number, Metadata>();
      for (const id of c.ids) seen.set(id, await c.metadata(id));
      const clusterIds = new Set([...seen.values()].map((m) => m.clusterId));
      assert.equal(clusterIds.size, 1, `cluster ids: ${[...clusterIds].join(', ')}`);
      assert.ok([...clusterIds][0] !== null);
      const controllers = new Set([...seen.values()].map((m) => m.controllerId));
      assert.equal(controllers.size, 1, [...seen.values()].map(summarize).join('\n'));
      assert.ok(c.ids.includes([...controllers][0]!));
      for (const [id, m] of seen) {
        const brokers = [...m.brokers].sort((a, b) => a.nodeId - b.nodeId);
        assert.deepEqual(
          brokers.map((b) => ({ id: b.nodeId, at: `${b.host}:${b.port}`, rack: b.rack })),
          c.ids.map((b) => ({ id: b, at: c.bootstrapOf(b), rack: racks[b] })),
          `as broker ${id} sees them`,
        );
      }
    }));

  test('an RF 3 topic has its replicas on three distinct brokers and leaders spread over all three', () =>
    withClusterLogs(c, async () => {
      const topic = name('rf3');
      await via(1, (cl) => createTopic(cl, topic, { partitions: 6, replicationFactor: 3 }));
      const all = await waitForTopic(topic, 6);
      const leaders = new Map<number, number>();
      for (const p of all.get(1)!.topics[0]!.partitions) {
        assert.equal(new Set(p.replicaNodes).size, 3, `partition ${p.partitionIndex}: ${p.replicaNodes}`);
        assert.deepEqual([...p.replicaNodes].sort(), [1, 2, 3]);
        // A new topic's leader is its preferred replica, the first of the assignment.
        assert.equal(p.leaderId, p.replicaNodes[0]);
        leaders.set(p.leaderId, (leaders.get(p.leaderId) ?? 0) + 1);
      }
      assert.deepEqual(
        [...leaders.entries()].sort(),
        [
          [1, 2],
          [2, 2],
          [3, 2],
        ],
        'each broker leads two of the six partitions',
      );
      // Every broker answers with the same partition states.
      const states = (m: Metadata) =>
        m.topics[0]!.partitions.map((p) => [p.partitionIndex, p.leaderId, p.leaderEpoch, p.replicaNodes]);
      for (const id of [2, 3]) assert.deepEqual(states(all.get(id)!), states(all.get(1)!), `broker ${id}`);
    }));

  test('rack-aware assignment: the two replicas of every partition are on distinct racks', () =>
    withClusterLogs(c, async () => {
      const topic = name('racks');
      await via(2, (cl) => createTopic(cl, topic, { partitions: 6, replicationFactor: 2 }));
      const m = (await waitForTopic(topic, 6)).get(3)!;
      const rackOf = new Map(m.brokers.map((b) => [b.nodeId, b.rack]));
      for (const p of m.topics[0]!.partitions) {
        const onRacks = p.replicaNodes.map((r) => rackOf.get(r));
        assert.deepEqual([...onRacks].sort(), ['a', 'b'], `partition ${p.partitionIndex}: ${p.replicaNodes}`);
      }
    }));

  test('CreateTopics with a replication factor above the live brokers: INVALID_REPLICATION_FACTOR', () =>
    withClusterLogs(c, async () => {
      const topic = name('rf4');
      const res = await withConnection(c.bootstrapOf(2), (conn) =>
        conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
          topics: [{ name: topic, numPartitions: 1, replicationFactor: 4, assignments: [], configs: [] }],
          timeoutMs: 10_000,
          validateOnly: false,
        }),
      );
      assert.equal(
        res.topics[0]?.errorCode,
        ErrorCode.INVALID_REPLICATION_FACTOR,
        JSON.stringify(res.topics),
      );
      assert.match(res.topics[0]?.errorMessage ?? '', /3/, 'the message names the live broker count');
      const m = await c.metadata(1, [topic]);
      assert.equal(m.topics[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'nothing was created');
    }));

  test('explicit replica assignments are honoured, order (preferred leader) included', () =>
    withClusterLogs(c, async () => {
      const topic = name('assigned');
      const assignment = [
        [3, 1],
        [2, 3],
        [1, 2],
        [3, 2],
      ];
      const res = await withConnection(c.bootstrapOf(1), (conn) =>
        conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
          topics: [
            {
              name: topic,
              numPartitions: -1,
              replicationFactor: -1,
              assignments: assignment.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
              configs: [],
            },
          ],
          timeoutMs: 30_000,
          validateOnly: false,
        }),
      );
      assert.equal(res.topics[0]?.errorCode, ErrorCode.NONE, JSON.stringify(res.topics));
      const all = await waitForTopic(topic, assignment.length);
      for (const [id, m] of all) {
        assert.deepEqual(
          m.topics[0]!.partitions.map((p) => [p.replicaNodes, p.leaderId]),
          assignment.map((r) => [r, r[0]]),
          `as broker ${id} sees it`,
        );
      }
      // The data is where the assignment says, and nowhere else.
      for (const id of c.ids) {
        const expected = assignment
          .map((r, p) => (r.includes(id) ? `${topic}-${p}` : null))
          .filter((d) => d !== null)
          .sort();
        await waitFor(`broker ${id}'s partition dirs of ${topic}`, async () =>
          partitionDirs(id, topic).sort().join() === expected.join() ? true : undefined,
        );
      }
    }));

  test('DeleteTopics removes the data on every replica', () =>
    withClusterLogs(c, async () => {
      const topic = name('deleted');
      await via(1, (cl) => createTopic(cl, topic, { partitions: 3, replicationFactor: 3 }));
      await waitForTopic(topic, 3);
      const p = await Producer.connect({ bootstrap: c.bootstrapOf(1), acks: -1 });
      try {
        for (let part = 0; part < 3; part++) {
          await p.send(topic, [{ value: `record for partition ${part}`, partition: part }]);
        }
      } finally {
        await p.close();
      }
      for (const id of c.ids)
        assert.equal(partitionDirs(id, topic).length, 3, `broker ${id} holds all three`);
      await via(2, (cl) => deleteTopic(cl, topic));
      for (const id of c.ids) {
        await waitFor(`the partition dirs of ${topic} to disappear on broker ${id}`, async () =>
          partitionDirs(id, topic).length === 0 ? true : undefined,
        );
      }
      await c.waitForMetadata(
        `${topic} gone from every broker's metadata`,
        (m) => m.topics[0]?.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        { topics: [topic] },
      );
    }));

  test('CreatePartitions adds partitions every broker knows, led and replicated', () =>
    withClusterLogs(c, async () => {
      const topic = name('grown');
      await via(1, (cl) => createTopic(cl, topic, { partitions: 2, replicationFactor: 2 }));
      await waitForTopic(topic, 2);
      await via(3, (cl) => createPartitions(cl, topic, 5));
      const all = await waitForTopic(topic, 5);
      const parts = all.get(2)!.topics[0]!.partitions;
      assert.ok(parts.every((p) => p.replicaNodes.length === 2 && new Set(p.replicaNodes).size === 2));
      // A record in a new partition reaches its leader through any bootstrap broker.
      const p = await Producer.connect({ bootstrap: c.bootstrapOf(2), acks: -1 });
      try {
        const [md] = await p.send(topic, [{ value: 'into a new partition', partition: 4 }]);
        assert.equal(md?.offset, 0);
      } finally {
        await p.close();
      }
      await assert.rejects(
        via(1, (cl) => createPartitions(cl, topic, 3)),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_PARTITIONS,
      );
    }));

  test('a topic config altered on one broker reaches every broker and the leader enforces it', () =>
    withClusterLogs(c, async () => {
      const topic = name('configs');
      await via(1, (cl) => createTopic(cl, topic, { partitions: 1, replicationFactor: 3 }));
      await waitForTopic(topic, 1);
      const leader = await c.leaderOf(topic, 0);
      const other = c.ids.find((id) => id !== leader)!;
      const p = await Producer.connect({ bootstrap: c.bootstrapOf(other), acks: -1 });
      try {
        const big = Buffer.alloc(6000, 'x');
        await p.send(topic, [{ value: big, partition: 0 }]); // the default limit (1 MiB) allows it
        await via(other, (cl) =>
          alterConfigs(cl, ResourceType.TOPIC, topic, { set: { 'max.message.bytes': '2000' } }),
        );
        for (const id of c.ids) {
          await waitFor(`broker ${id} to describe max.message.bytes=2000 for ${topic}`, () =>
            via(id, async (cl) => {
              const [e] = await describeConfigs(cl, ResourceType.TOPIC, topic, ['max.message.bytes']);
              return e?.value === '2000' && e.source === 'DYNAMIC_TOPIC_CONFIG' ? true : undefined;
            }),
          );
        }
        await assert.rejects(
          p.send(topic, [{ value: big, partition: 0 }]),
          (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.MESSAGE_TOO_LARGE,
          `the leader (broker ${leader}) refuses a batch over max.message.bytes`,
        );
        const [ok] = await p.send(topic, [{ value: 'small', partition: 0 }]);
        assert.equal(ok?.offset, 1);
      } finally {
        await p.close();
      }
    }));

  test('producer ids are unique across brokers', () =>
    withClusterLogs(c, async () => {
      const ids: number[] = [];
      for (const id of c.ids) {
        for (let k = 0; k < 2; k++) {
          const res = await withConnection(c.bootstrapOf(id), (conn) =>
            conn.request<InitProducerIdResponse>(ApiKey.InitProducerId, {
              transactionalId: null,
              transactionTimeoutMs: 60_000,
              producerId: -1,
              producerEpoch: -1,
            }),
          );
          assert.equal(res.errorCode, ErrorCode.NONE, `InitProducerId on broker ${id}`);
          assert.ok(res.producerId >= 0);
          ids.push(res.producerId);
        }
      }
      assert.equal(new Set(ids).size, ids.length, `producer ids: ${ids.join(', ')}`);
      // Each broker takes its own block of ids from ZooKeeper (/latest_producer_id_block).
      const blocks = new Set(ids.map((id) => Math.floor(id / 1000)));
      assert.equal(blocks.size, 3, `blocks: ${[...blocks].join(', ')}`);
    }));
});
