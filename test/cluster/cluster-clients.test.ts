// Real clients against a ZooKeeper cluster of three broker processes: each client is given ONE bootstrap
// broker that does not lead the partition it writes, produces there with acks=all (idempotent where the
// client supports it), and reads back through another single bootstrap broker. The Java client
// (kafka-clients 4.x), librdkafka (confluent-kafka and kcat) and kafkajs. After each produce the three
// replicas' log files must be identical byte for byte. Consumer groups run through a bootstrap broker
// that is not their coordinator, and their committed offsets are read back from a third broker.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FindCoordinatorResponse } from '../../src/protocol/generated/find-coordinator-response.js';
import {
  createAssignedTopic,
  startCluster,
  type TestCluster,
  waitFor,
  withClusterLogs,
  withConnection,
} from '../helpers/cluster.js';
import { run } from '../helpers/run.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';
import { kafkaClient, kafkajsConsume, kafkajsProduce } from '../interop/clients/kafkajs.js';
import {
  assertSummaries,
  clientScript,
  javaClientJar,
  python,
  pythonModule,
  requireAll,
  skipUnless,
  tool,
} from '../interop/harness.js';
import { consumeFormat, kcatInput, parseKcatOutput } from '../interop/kcat-format.js';
import { kcatProfile, newRun, noNullHeadersProfile, verifyRecords } from '../interop/records.js';

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
  tool('kcat', 'apt-get install kcat'),
  pythonModule('confluent_kafka', 'python3-confluent-kafka'),
];
const skip = zooKeeperSkip() || skipUnless(requirements);

/** Records per client: enough for several batches, small enough for a 2-core machine. */
const count = 2000;

describe('real clients against a three-broker ZooKeeper cluster', { skip, timeout: 300_000 }, () => {
  let c: TestCluster;
  let jar = '';
  const { runId, base } = newRun();

  before(async () => {
    requireAll(requirements);
    jar = await javaClientJar();
    c = await startCluster({ brokers: 3 });
  });
  after(async () => {
    await c?.destroy();
  });

  /** Creates a one-partition RF 3 topic whose leader is `leader`, and waits until every broker knows it, fully in sync. */
  async function topicLedBy(client: string, leader: number): Promise<string> {
    const topic = `${client}-${runId}`;
    await createAssignedTopic(c, leader, topic, [[leader, ...c.ids.filter((id) => id !== leader)]]);
    return topic;
  }

  /** Waits until the three replicas of topic-0 hold identical log files (followers replicate byte for byte). */
  async function replicasIdentical(topic: string): Promise<void> {
    const logOf = (id: number): Buffer => {
      const dir = join(c.broker(id).dataDir, `${topic}-0`);
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.log'))
        .sort();
      return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    };
    await waitFor(`the replicas of ${topic}-0 to hold identical logs`, async () => {
      const [a, ...rest] = c.ids.map(logOf);
      if (a === undefined || a.length === 0) return undefined;
      return rest.every((b) => a.equals(b)) ? true : undefined;
    });
  }

  /** The broker coordinating `group`, as broker `via` answers FindCoordinator. */
  async function coordinatorOf(group: string, via: number): Promise<number> {
    return waitFor(`a coordinator for ${group}`, () =>
      withConnection(c.bootstrapOf(via), async (conn) => {
        const res = await conn.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, {
          key: group,
          keyType: 0,
          coordinatorKeys: [group],
        });
        const one = res.coordinators[0] ?? res;
        return one.errorCode === ErrorCode.NONE ? one.nodeId : undefined;
      }),
    );
  }

  /** A group id whose coordinator is not `bootstrap` (groups hash onto __consumer_offsets partitions). */
  async function groupAwayFrom(
    bootstrap: number,
    prefix: string,
  ): Promise<{ group: string; coordinator: number }> {
    for (let k = 0; k < 50; k++) {
      const group = `${prefix}-${runId}-${k}`;
      const coordinator = await coordinatorOf(group, bootstrap);
      if (coordinator !== bootstrap) return { group, coordinator };
    }
    throw new Error(`every group id tried is coordinated by broker ${bootstrap}`);
  }

  test('Java kafka-clients: produce through broker 1, consume through broker 3, partition led by broker 2', () =>
    withClusterLogs(c, async () => {
      const topic = await topicLedBy('java', 2);
      const common = ['--topic', topic, '--count', `${count}`, '--base-ts', `${base}`];
      const produced = await run(
        'java',
        ['-jar', jar, 'produce', '--bootstrap', c.bootstrapOf(1), ...common, '--compression', 'lz4'],
        { timeoutMs: 120_000 },
      );
      assertSummaries(produced, [topic], 'java produce');
      await replicasIdentical(topic);
      const consumed = await run(
        'java',
        ['-jar', jar, 'consume', '--bootstrap', c.bootstrapOf(3), ...common],
        {
          timeoutMs: 120_000,
        },
      );
      assertSummaries(consumed, [topic], 'java consume');
    }));

  test('confluent-kafka: produce through broker 1, consume through broker 2, partition led by broker 3', () =>
    withClusterLogs(c, async () => {
      const topic = await topicLedBy('confluent', 3);
      const script = clientScript('confluent_kafka_client.py');
      const common = ['--topic', topic, '--count', `${count}`, '--base-ts', `${base}`];
      const produced = await run(
        python,
        [script, 'produce', '--bootstrap', c.bootstrapOf(1), ...common, '--compression', 'zstd'],
        { timeoutMs: 120_000 },
      );
      assertSummaries(produced, [topic], 'confluent-kafka produce');
      await replicasIdentical(topic);
      const consumed = await run(python, [script, 'consume', '--bootstrap', c.bootstrapOf(2), ...common], {
        timeoutMs: 120_000,
      });
      assertSummaries(consumed, [topic], 'confluent-kafka consume');
    }));

  test('kcat: produce through broker 2, consume through broker 3, partition led by broker 1', () =>
    withClusterLogs(c, async () => {
      const topic = await topicLedBy('kcat', 1);
      await run(
        'kcat',
        ['-P', '-b', c.bootstrapOf(2), '-t', topic, '-K', '\\t', '-Z', '-H', 'src=kcat'].concat([
          '-X',
          'compression.codec=snappy',
          '-X',
          'enable.idempotence=true',
          '-X',
          'acks=all',
        ]),
        { input: kcatInput(count), timeoutMs: 120_000 },
      );
      await replicasIdentical(topic);
      const r = await run(
        'kcat',
        [
          '-C',
          '-b',
          c.bootstrapOf(3),
          '-t',
          topic,
          '-p',
          '0',
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          consumeFormat,
        ],
        { timeoutMs: 120_000 },
      );
      const summary = verifyRecords(parseKcatOutput(r.stdoutBytes), count, 0, kcatProfile);
      assert.ok(summary.ok, `${JSON.stringify(summary)}\n${r.stderr.slice(-2000)}`);
    }));

  test('kafkajs: produce through broker 3, consume (in a group) through broker 1, partition led by broker 2', () =>
    withClusterLogs(c, async () => {
      const topic = await topicLedBy('kafkajs', 2);
      const r = await kafkajsProduce({ bootstrap: c.bootstrapOf(3), topic, codec: 'gzip', count, base });
      assert.equal(r.failed, 0, r.firstError);
      await replicasIdentical(topic);
      const read = await kafkajsConsume(c.bootstrapOf(1), [topic]);
      const summary = verifyRecords(read.get(topic)!, count, base, noNullHeadersProfile);
      assert.ok(summary.ok, JSON.stringify(summary));
    }));

  test('kafkajs group coordinated by another broker: consumes, commits, offsets read back through a third', () =>
    withClusterLogs(c, async () => {
      const topic = `group-kafkajs-${runId}`;
      const kafka = kafkaClient(c.bootstrapOf(1));
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }] });
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        for (let p = 0; p < 3; p++) {
          await producer.send({
            topic,
            acks: -1,
            messages: Array.from({ length: 10 * (p + 1) }, (_, i) => ({ partition: p, value: `p${p}-${i}` })),
          });
        }
        await producer.disconnect();
        const { group, coordinator } = await groupAwayFrom(1, 'kafkajs');
        const consumer = kafka.consumer({ groupId: group });
        await consumer.connect();
        let seen = 0;
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        const done = new Promise<void>((resolve, reject) => {
          consumer
            .run({
              autoCommit: false,
              eachMessage: async ({ partition, message }) => {
                seen++;
                await consumer.commitOffsets([
                  { topic, partition, offset: String(Number(message.offset) + 1) },
                ]);
                if (seen === 60) resolve();
              },
            })
            .catch(reject);
        });
        await waitFor(
          `group ${group} (coordinator ${coordinator}) to consume 60 records`,
          async () => {
            if (seen >= 60) return true;
            throw new Error(`${seen} consumed so far`);
          },
          60_000,
        );
        await done;
        await consumer.disconnect();
        const third = c.ids.find((id) => id !== 1 && id !== coordinator)!;
        const otherAdmin = kafkaClient(c.bootstrapOf(third)).admin();
        await otherAdmin.connect();
        try {
          const offsets = await otherAdmin.fetchOffsets({ groupId: group, topics: [topic] });
          assert.deepEqual(
            offsets[0]?.partitions.map((p) => [p.partition, Number(p.offset)]).sort(),
            [
              [0, 10],
              [1, 20],
              [2, 30],
            ],
            `group ${group} (coordinator ${coordinator}), read through broker ${third}`,
          );
        } finally {
          await otherAdmin.disconnect();
        }
      } finally {
        await admin.disconnect();
      }
    }));

  test('librdkafka group coordinated by another broker: consumes, commits, offsets read back', () =>
    withClusterLogs(c, async () => {
      const topic = await topicLedBy('group-rdkafka', 3);
      const produced = await run(
        python,
        [
          clientScript('confluent_kafka_client.py'),
          'produce',
          '--bootstrap',
          c.bootstrapOf(3),
          '--topic',
          topic,
          '--count',
          '500',
          '--base-ts',
          `${base}`,
        ],
        { timeoutMs: 120_000 },
      );
      assertSummaries(produced, [topic], 'confluent-kafka produce');
      const { group, coordinator } = await groupAwayFrom(2, 'rdkafka');
      const r = await run(python, ['-c', groupMember, c.bootstrapOf(2), group, topic, '500'], {
        timeoutMs: 120_000,
      });
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
        consumed?: number;
        committed?: number;
      };
      assert.deepEqual(out, { consumed: 500, committed: 500 }, `coordinator ${coordinator}\n${r.stderr}`);
      // Read back by a fresh member through yet another broker: it starts where the group left off.
      const third = c.ids.find((id) => id !== 2 && id !== coordinator)!;
      const again = await run(python, ['-c', groupMember, c.bootstrapOf(third), group, topic, '0'], {
        timeoutMs: 120_000,
      });
      const out2 = JSON.parse(again.stdout.trim().split('\n').pop() ?? '{}') as { committed?: number };
      assert.equal(out2.committed, 500, again.stderr);
    }));
});

/**
 * A confluent-kafka group member: argv bootstrap group topic expected. Subscribes, reads `expected` records
 * (from the committed position), commits synchronously, and prints {"consumed": n, "committed": offset of partition 0}.
 */
const groupMember = `
import json, sys, time
from confluent_kafka import Consumer, TopicPartition
bootstrap, group, topic, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "session.timeout.ms": 6000})
assigned = []
c.subscribe([topic], on_assign=lambda _c, parts: assigned.extend(parts))
n = 0
deadline = time.time() + 60
while time.time() < deadline and (n < expected or not assigned):
    m = c.poll(0.2)
    if m is None:
        continue
    if m.error() is not None:
        print("error: %s" % m.error(), file=sys.stderr)
        continue
    n += 1
if n > 0:
    c.commit(asynchronous=False)
committed = c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
c.close()
print(json.dumps({"consumed": n, "committed": committed}))
`;
