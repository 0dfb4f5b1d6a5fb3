// Dynamic broker configs in a ZooKeeper cluster of three real broker processes: a cluster-wide default set
// through one broker (with Kafka's own kafka-configs tool, kafka.admin.ConfigCommand, when a Kafka
// distribution is laid out in .cache/kafka by scripts/kafka-dist.sh; with `samsa configs` otherwise) reaches
// every broker through /config/brokers/<default> and its change notification, and takes effect there (a
// record over the new message.max.bytes is refused by every leader); a per-broker config stays on its
// broker; a restarted broker reads both back from ZooKeeper.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTopic, describeConfigs, ResourceType } from '../../src/client/admin.js';
import { Cluster, KafkaError } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { samsa } from '../cli/cli-helpers.js';
import { startCluster, type TestCluster, waitFor, withClusterLogs } from '../helpers/cluster.js';
import { repoRoot, run, which } from '../helpers/run.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';

/** The jars of a laid-out Kafka distribution, or null (this test never downloads one). */
function kafkaLibs(): string | null {
  const cache = process.env.SAMSA_CACHE_DIR ?? join(repoRoot(), '.cache');
  const libs = join(cache, 'kafka', process.env.KAFKA_VERSION ?? '4.1.1', 'libs');
  return existsSync(join(libs, '.complete')) && which('java') !== undefined ? libs : null;
}

describe('dynamic broker configs in a ZooKeeper cluster', { skip: zooKeeperSkip(), timeout: 240_000 }, () => {
  let c: TestCluster;

  before(async () => {
    c = await startCluster({ brokers: 3 });
  });
  after(async () => {
    await c?.destroy();
  });

  /** kafka-configs.sh (Kafka's ConfigCommand) when available, else `samsa configs`, against broker `id`. */
  async function kafkaConfigs(id: number, args: string[]): Promise<{ code: number | null; out: string }> {
    const libs = kafkaLibs();
    if (libs === null) {
      const r = await samsa(['configs', ...args, '--bootstrap-server', c.bootstrapOf(id)]);
      return { code: r.code, out: r.stdout + r.stderr };
    }
    const r = await run(
      'java',
      ['-cp', `${libs}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', c.bootstrapOf(id), ...args],
      { allowFailure: true, timeoutMs: 60_000 },
    );
    return { code: r.code, out: r.stdout + r.stderr };
  }

  async function brokerEntry(id: number, key: string) {
    const cl = await Cluster.connect({ bootstrap: c.bootstrapOf(id) });
    try {
      return (await describeConfigs(cl, ResourceType.BROKER, String(id), [key]))[0];
    } finally {
      cl.close();
    }
  }

  /** Waits until every broker in `ids` describes `key` with `value` from `source`. */
  function waitForEntry(
    ids: readonly number[],
    key: string,
    value: string,
    source: string,
  ): Promise<boolean> {
    return waitFor(`${key}=${value} (${source}) on brokers ${ids.join(',')}`, async () => {
      for (const id of ids) {
        const e = await brokerEntry(id, key);
        if (e?.value !== value || e.source !== source) return undefined;
      }
      return true;
    });
  }

  test('a cluster-wide default set through one broker reaches every broker and applies there', () =>
    withClusterLogs(c, async () => {
      const r = await kafkaConfigs(1, [
        '--alter',
        '--entity-type',
        'brokers',
        '--entity-default',
        '--add-config',
        'log.retention.ms=5400000,message.max.bytes=4000',
      ]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /Completed updating default config for brokers in the cluster\./);
      await waitForEntry(c.ids, 'log.retention.ms', '5400000', 'DYNAMIC_DEFAULT_BROKER_CONFIG');
      await waitForEntry(c.ids, 'message.max.bytes', '4000', 'DYNAMIC_DEFAULT_BROKER_CONFIG');

      // A partition led by each broker: every leader refuses a record over the new limit.
      const cl = await Cluster.connect({ bootstrap: c.bootstrap() });
      await createTopic(cl, 'dyn', { partitions: 3, replicationFactor: 3 });
      const leaders = new Set<number>();
      for (let p = 0; p < 3; p++) leaders.add(await c.leaderOf('dyn', p));
      assert.equal(leaders.size, 3, 'one partition led by each broker');
      const producer = Producer.on(cl);
      for (let p = 0; p < 3; p++) {
        await assert.rejects(
          producer.send('dyn', [{ value: 'z'.repeat(6000), partition: p }]),
          (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.MESSAGE_TOO_LARGE,
          `partition ${p}`,
        );
        await producer.send('dyn', [{ value: 'z'.repeat(1000), partition: p }]);
      }
      for (const id of c.ids) {
        const topic = await Cluster.connect({ bootstrap: c.bootstrapOf(id) });
        const ret = (await describeConfigs(topic, ResourceType.TOPIC, 'dyn', ['retention.ms']))[0];
        topic.close();
        assert.equal(ret?.value, '5400000', `broker ${id}`);
        assert.equal(ret?.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG', `broker ${id}`);
      }
      await producer.close();
      cl.close();
    }));

  test('a per-broker config stays on its broker; static keys are refused', () =>
    withClusterLogs(c, async () => {
      // Through broker 1's address: the tool sends a broker's own configs to that broker.
      const r = await kafkaConfigs(1, [
        '--alter',
        '--entity-type',
        'brokers',
        '--entity-name',
        '2',
        '--add-config',
        'log.retention.ms=1800000',
      ]);
      assert.equal(r.code, 0, r.out);
      await waitForEntry([2], 'log.retention.ms', '1800000', 'DYNAMIC_BROKER_CONFIG');
      await waitForEntry([1, 3], 'log.retention.ms', '5400000', 'DYNAMIC_DEFAULT_BROKER_CONFIG');
      const e = await brokerEntry(2, 'log.retention.ms');
      assert.deepEqual(
        e?.synonyms.map((s) => `${s.source}:${s.name}=${s.value}`),
        [
          'DYNAMIC_BROKER_CONFIG:log.retention.ms=1800000',
          'DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=5400000',
          'DEFAULT_CONFIG:log.retention.hours=168',
        ],
      );
      const bad = await kafkaConfigs(3, [
        '--alter',
        '--entity-type',
        'brokers',
        '--entity-default',
        '--add-config',
        'zookeeper.connect=elsewhere:2181',
      ]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.out, /Cannot update these configs dynamically: Set\(zookeeper\.connect\)/);
    }));

  test('a restarted broker reads its dynamic configs back from ZooKeeper', () =>
    withClusterLogs(c, async () => {
      await c.restart(2);
      await waitForEntry([2], 'log.retention.ms', '1800000', 'DYNAMIC_BROKER_CONFIG');
      await waitForEntry([2], 'message.max.bytes', '4000', 'DYNAMIC_DEFAULT_BROKER_CONFIG');
      const r = await kafkaConfigs(3, [
        '--alter',
        '--entity-type',
        'brokers',
        '--entity-default',
        '--delete-config',
        'message.max.bytes',
      ]);
      assert.equal(r.code, 0, r.out);
      await waitForEntry(c.ids, 'message.max.bytes', '1048588', 'DEFAULT_CONFIG');
    }));
});
