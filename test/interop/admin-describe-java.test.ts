// The reference Java Admin client (kafka-clients 4.x, test/interop/java/.../AdminDescribe.java) describing topics
// and the cluster: describeTopics goes through DescribeTopicPartitions, paged by the client's
// partitionSizeLimitPerResponse and by the broker's max.request.partition.size.limit, and returns every partition
// in order; includeAuthorizedOperations gets every operation (no authorizer), for topics and for the cluster.
// SAMSA_INTEROP_TARGET=kafka runs the same against Apache Kafka.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { type BrokerHandle, freePort, startTarget } from '../helpers/broker.js';
import { repoRoot, run } from '../helpers/run.js';
import {
  javaClientJar,
  jsonLines,
  requireAll,
  skipUnless,
  targetName,
  tool,
  withBrokerLogs,
} from './harness.js';

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('javac', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

const TOPIC_OPS = [
  'READ',
  'WRITE',
  'CREATE',
  'DELETE',
  'ALTER',
  'DESCRIBE',
  'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS',
];
const CLUSTER_OPS = [
  'CREATE',
  'ALTER',
  'DESCRIBE',
  'CLUSTER_ACTION',
  'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS',
  'IDEMPOTENT_WRITE',
];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe(`interop: Java Admin describeTopics / describeCluster against ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;
  let classpath = '';
  let classes = '';
  let metricsPort = -1;
  const run36 = Date.now().toString(36);
  const many = `describe-many-${run36}`;
  const few = `describe-few-${run36}`;

  before(async () => {
    requireAll(requirements);
    const lib = join(await javaClientJar(), '..', 'lib', '*');
    classes = await mkdtemp(join(tmpdir(), 'samsa-admin-java-'));
    const source = join(repoRoot(), 'test/interop/java/src/main/java/samsa/interop/AdminDescribe.java');
    await run('javac', ['-nowarn', '-d', classes, '-cp', lib, source], { timeoutMs: 120_000 });
    classpath = `${lib}:${classes}`;
    metricsPort = await freePort();
    broker = await startTarget({
      overrides: {
        'max.request.partition.size.limit': '16',
        ...(targetName() === 'samsa' ? { 'metrics.http.port': String(metricsPort) } : {}),
      },
    });
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    try {
      await createTopic(cluster, many, { partitions: 45 });
      await createTopic(cluster, few, { partitions: 3 });
    } finally {
      cluster.close();
    }
  });

  after(async () => {
    await broker?.destroy();
    if (classes !== '') rmSync(classes, { recursive: true, force: true });
  });

  const admin = async (mode: string, args: string[]) => {
    const r = await run(
      'java',
      [
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        classpath,
        'samsa.interop.AdminDescribe',
        mode,
        '--bootstrap',
        broker!.bootstrap,
        ...args,
      ],
      { timeoutMs: 90_000 },
    );
    return jsonLines(r);
  };

  /** samsa_requests_total for DescribeTopicPartitions (samsa only; -1 elsewhere). */
  const dtpRequests = async (): Promise<number> => {
    if (targetName() !== 'samsa') return -1;
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const m = /^samsa_requests_total\{api="DescribeTopicPartitions",version="0"\} (\d+)$/m.exec(text);
    return m === null ? 0 : Number(m[1]);
  };

  test('a topic with many partitions, across pages of the client’s size', { timeout: 180_000 }, async () => {
    await withBrokerLogs(broker, async () => {
      const before = await dtpRequests();
      const out = await admin('topics', [
        '--topics',
        `${many},${few},missing-${run36}`,
        '--partition-limit',
        '10',
      ]);
      const byTopic = new Map(out.map((l) => [l.topic, l]));
      assert.deepEqual(byTopic.get(many)?.partitions, range(45));
      assert.deepEqual(byTopic.get(few)?.partitions, range(3));
      assert.ok(((byTopic.get(many)?.leaders ?? []) as number[]).every((l) => l >= 0));
      assert.equal(byTopic.get(many)?.internal, false);
      assert.equal(byTopic.get(many)?.authorizedOperations, null);
      assert.equal(byTopic.get(`missing-${run36}`)?.error, 'UnknownTopicOrPartitionException');
      if (before >= 0) {
        // 48 partitions, 10 per page at most: at least 5 DescribeTopicPartitions requests, not one Metadata.
        const used = (await dtpRequests()) - before;
        assert.ok(used >= 5, `${used} DescribeTopicPartitions requests`);
      }
    });
  });

  test('includeAuthorizedOperations, paged by the broker’s limit', { timeout: 180_000 }, async () => {
    await withBrokerLogs(broker, async () => {
      const before = await dtpRequests();
      // The client asks for 2000 per response; the broker answers 16 at most.
      const out = await admin('topics', ['--topics', many, '--authorized-ops', 'true']);
      assert.equal(out.length, 1);
      assert.deepEqual(out[0]!.partitions, range(45));
      assert.deepEqual(out[0]!.authorizedOperations, TOPIC_OPS);
      if (before >= 0) {
        const used = (await dtpRequests()) - before;
        assert.ok(used >= 3, `${used} DescribeTopicPartitions requests`);
      }
      const cluster = await admin('cluster', ['--authorized-ops', 'true']);
      assert.deepEqual(cluster[0]!.authorizedOperations, CLUSTER_OPS);
      const plain = await admin('cluster', []);
      assert.equal(plain[0]!.authorizedOperations, null);
    });
  });
});
