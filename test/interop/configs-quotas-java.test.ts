// Kafka 4.4's own tools against a Samsa broker process for client quotas (the kafka-tools 4.4.0 jar laid out by
// scripts/kafka-dist.sh):
//   - ConfigCommand (kafka-configs.sh) alters and describes quotas of a user + client id and of the users'
//     default through the Java Admin client (AlterClientQuotas / DescribeClientQuotas), --delete-config too;
//   - ProducerPerformance (kafka-producer-perf-test.sh) under producer_byte_rate: the Java producer gets
//     throttle_time_ms back (its produce-throttle-time-max metric is > 0) and 20 MB take it many seconds instead
//     of well under two.
//
// Skipped only when Java or Maven is missing (scripts/kafka-dist.sh exits 2 and says which); the first run
// downloads the jars from Maven Central into .cache/kafka/4.4.0 (later runs reuse them).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { describeClientQuotas } from '../../src/client/quotas.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { repoRoot, run, which } from '../helpers/run.js';

const KAFKA_VERSION = '4.4.0';
const QUOTA = 1048576;

async function kafkaLibs(): Promise<{ libs: string } | { skip: string }> {
  if (which('java') === undefined)
    return { skip: 'java is not installed (apt-get install openjdk-17-jdk-headless)' };
  if (which('mvn') === undefined) return { skip: 'mvn is not installed (apt-get install maven)' };
  const r = await run('bash', [join(repoRoot(), 'scripts', 'kafka-dist.sh'), KAFKA_VERSION], {
    timeoutMs: 600_000,
    allowFailure: true,
  });
  if (r.code === 2 && /not found on PATH|Java .* found/.test(r.stderr)) return { skip: r.stderr.trim() };
  assert.equal(r.code, 0, `scripts/kafka-dist.sh ${KAFKA_VERSION} failed:\n${r.stderr}`);
  return { libs: r.stdout.trim().split('\n').pop() ?? '' };
}

describe('interop: kafka-configs.sh and the Java producer with client quotas', { timeout: 300_000 }, () => {
  let broker: BrokerHandle | undefined;
  let libs = '';
  let skip = '';

  before(async () => {
    const found = await kafkaLibs();
    if ('skip' in found) {
      skip = found.skip;
      return;
    }
    libs = found.libs;
    broker = await startBroker();
  });

  after(async () => {
    await broker?.destroy();
  });

  const java = (main: string, args: string[]) =>
    run(
      'java',
      ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${libs}/*`, main, ...args],
      {
        timeoutMs: 120_000,
        allowFailure: true,
      },
    );

  const configs = async (args: string[]): Promise<string> => {
    const r = await java('org.apache.kafka.tools.ConfigCommand', [
      '--bootstrap-server',
      broker!.bootstrap,
      ...args,
    ]);
    assert.equal(r.code, 0, `kafka-configs ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  it('kafka-configs.sh alters and describes user, client id and default quotas', async (t) => {
    if (skip !== '') return t.skip(skip);
    const pair = [
      '--entity-type',
      'users',
      '--entity-name',
      'alice',
      '--entity-type',
      'clients',
      '--entity-name',
      'app',
    ];
    await configs([
      '--alter',
      ...pair,
      '--add-config',
      'producer_byte_rate=1048576,consumer_byte_rate=2097152',
    ]);
    await configs([
      '--alter',
      '--entity-type',
      'users',
      '--entity-default',
      '--add-config',
      'request_percentage=150',
    ]);
    const both = await configs(['--describe', ...pair]);
    assert.match(both, /user-principal 'alice', client-id 'app'/);
    assert.match(both, /producer_byte_rate=1048576\.0/);
    assert.match(both, /consumer_byte_rate=2097152\.0/);
    const dflt = await configs(['--describe', '--entity-type', 'users', '--entity-default']);
    assert.match(dflt, /the default user-principal/);
    assert.match(dflt, /request_percentage=150\.0/);

    await configs(['--alter', ...pair, '--delete-config', 'consumer_byte_rate']);
    const cluster = await Cluster.connect({ bootstrap: broker!.bootstrap });
    try {
      const described = await describeClientQuotas(
        cluster,
        [
          { entityType: 'user', match: 'alice' },
          { entityType: 'client-id', match: 'app' },
        ],
        true,
      );
      assert.deepEqual(described, [
        { entity: { user: 'alice', 'client-id': 'app' }, values: { producer_byte_rate: 1048576 } },
      ]);
    } finally {
      cluster.close();
    }
    await configs([
      '--alter',
      '--entity-type',
      'users',
      '--entity-default',
      '--delete-config',
      'request_percentage',
    ]);
  });

  it('the Java producer is throttled to producer_byte_rate', async (t) => {
    if (skip !== '') return t.skip(skip);
    const cluster = await Cluster.connect({ bootstrap: broker!.bootstrap });
    try {
      await createTopic(cluster, 'quota-perf', { partitions: 1 });
    } finally {
      cluster.close();
    }
    await configs([
      '--alter',
      '--entity-type',
      'clients',
      '--entity-name',
      'perf-quota',
      '--add-config',
      `producer_byte_rate=${QUOTA}`,
    ]);
    const records = 20_000;
    const r = await java('org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      'quota-perf',
      '--num-records',
      String(records),
      '--record-size',
      '1000',
      '--throughput',
      '-1',
      '--print-metrics',
      '--producer-props',
      `bootstrap.servers=${broker!.bootstrap}`,
      'client.id=perf-quota',
      'acks=1',
    ]);
    assert.equal(r.code, 0, `ProducerPerformance:\n${r.stdout}\n${r.stderr}`);
    const summary = /(\d+) records sent, ([\d.]+) records\/sec/.exec(
      r.stdout.split('\n').find((l) => /records sent.*avg latency/.test(l) && !/Infinity/.test(l)) ?? '',
    );
    assert.ok(summary !== null, r.stdout);
    const seconds = records / Number(summary[2]);
    const throttleMax =
      /producer-metrics:produce-throttle-time-max:\{client-id=perf-quota\}\s*:\s*([\d.]+)/.exec(r.stdout);
    assert.ok(throttleMax !== null, r.stdout);
    console.log(
      `ProducerPerformance: ${records} x 1000 B in ${seconds.toFixed(1)} s (${(records * 1000) / seconds / QUOTA} x quota over the whole run, the first 10 s allowance included); produce-throttle-time-max ${throttleMax[1]} ms`,
    );
    assert.ok(Number(throttleMax[1]) > 0, 'the Java producer saw throttle_time_ms > 0');
    // Without the quota 20 MB go in well under 2 s here; with it, everything past the window's allowance
    // (10 samples' worth) comes at ~1 MiB/s.
    assert.ok(seconds >= 7, `took ${seconds.toFixed(1)} s`);
  });
});
