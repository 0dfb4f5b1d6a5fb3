// Dynamic broker configs and group configs end to end: `samsa configs` against a real single-node broker
// process (test/helpers/broker.ts; dist/ must be built). Altered cluster-wide and per broker, applied without a
// restart (old records go when log.retention.ms shrinks; a record over a smaller message.max.bytes is
// refused), described with Kafka's sources and synonyms, refused for keys Kafka cannot change at runtime,
// and kept across a restart (the local metadata store).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTopic, describeConfigs, ResourceType } from '../../src/client/admin.js';
import { Cluster, KafkaError } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { waitFor } from '../helpers/cluster.js';
import { oneLineFailure, samsa } from './cli-helpers.js';

describe('samsa configs: dynamic broker and group configs', { timeout: 120_000 }, () => {
  let b: BrokerHandle;
  let bs: string[];

  before(async () => {
    b = await startBroker({
      overrides: {
        'log.retention.hours': '100',
        'log.segment.bytes': '1024',
        'log.retention.check.interval.ms': '200',
      },
    });
    bs = ['--bootstrap-server', b.bootstrap];
    const cluster = await Cluster.connect({ bootstrap: b.bootstrap });
    await createTopic(cluster, 'plain', { partitions: 1 });
    await createTopic(cluster, 'own', { partitions: 1, configs: { 'retention.ms': '86400000' } });
    cluster.close();
  });
  after(async () => {
    await b?.destroy();
  });

  async function topicConfig(topic: string, key: string) {
    const cluster = await Cluster.connect({ bootstrap: b.bootstrap });
    try {
      return (await describeConfigs(cluster, ResourceType.TOPIC, topic, [key]))[0];
    } finally {
      cluster.close();
    }
  }

  async function earliest(topic: string): Promise<number> {
    const consumer = await Consumer.connect({ bootstrap: b.bootstrap });
    try {
      return (await consumer.listOffsets(topic, [0], -2)).get(0) ?? -1;
    } finally {
      await consumer.close();
    }
  }

  it('a cluster-wide log.retention.ms applies at once to topics without an override', async () => {
    // Records an hour old in several segments: kept under the static 100 hours.
    const producer = await Producer.connect({ bootstrap: b.bootstrap });
    const old = Date.now() - 3_600_000;
    for (let i = 0; i < 8; i++) {
      for (const t of ['plain', 'own']) {
        await producer.send(t, [{ value: 'x'.repeat(400), timestamp: old, partition: 0 }]);
      }
    }
    await producer.close();
    assert.equal(await earliest('plain'), 0);

    let r = await samsa([
      'configs',
      'alter',
      '--entity-type',
      'brokers',
      '--entity-default',
      '--add-config',
      'log.retention.ms=600000',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Completed updating default config for brokers in the cluster.\n');
    await waitFor('retention to delete the old segments of "plain"', async () =>
      (await earliest('plain')) > 0 ? true : undefined,
    );
    assert.equal(await earliest('own'), 0, 'a topic override wins over the dynamic default');

    r = await samsa(['configs', 'describe', '--entity-type', 'brokers', '--entity-default', ...bs]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'Default configs for brokers in the cluster are:\n' +
        '  log.retention.ms=600000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=600000, STATIC_BROKER_CONFIG:log.retention.hours=100, DEFAULT_CONFIG:log.retention.hours=168}\n',
    );
    const plain = await topicConfig('plain', 'retention.ms');
    assert.equal(plain?.value, '600000');
    assert.equal(plain?.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG');
    assert.deepEqual(
      plain?.synonyms.map((s) => `${s.source}:${s.name}=${s.value}`),
      [
        'DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=600000',
        'STATIC_BROKER_CONFIG:log.retention.ms=360000000',
        'DEFAULT_CONFIG:log.retention.ms=604800000',
      ],
    );
    assert.equal((await topicConfig('own', 'retention.ms'))?.source, 'DYNAMIC_TOPIC_CONFIG');
  });

  it('per broker: wins over the default, described with every layer; message.max.bytes applies at once', async () => {
    let r = await samsa([
      'configs',
      'alter',
      '--entity-type',
      'brokers',
      '--entity-name',
      '0',
      '--add-config',
      'log.retention.ms=900000,message.max.bytes=2000,num.io.threads=4',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Completed updating config for broker 0.\n');
    r = await samsa(['configs', 'describe', '--broker', '0', ...bs]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'Dynamic configs for broker 0 are:\n' +
        '  log.retention.ms=900000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=900000, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=600000, STATIC_BROKER_CONFIG:log.retention.hours=100, DEFAULT_CONFIG:log.retention.hours=168}\n' +
        '  message.max.bytes=2000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=2000, DEFAULT_CONFIG:message.max.bytes=1048588}\n' +
        '  num.io.threads=4 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:num.io.threads=4}\n',
    );
    const cluster = await Cluster.connect({ bootstrap: b.bootstrap });
    const all = await describeConfigs(cluster, ResourceType.BROKER, '0');
    const hours = all.find((c) => c.name === 'log.retention.hours');
    assert.equal(hours?.source, 'STATIC_BROKER_CONFIG');
    // Kafka: readOnly unless a synonym is dynamic (log.retention.ms is).
    assert.equal(hours?.readOnly, false);
    assert.equal(all.find((c) => c.name === 'log.dirs')?.readOnly, true);
    assert.equal(all.find((c) => c.name === 'log.retention.ms')?.readOnly, false);
    assert.equal(all.find((c) => c.name === 'message.max.bytes')?.source, 'DYNAMIC_BROKER_CONFIG');
    assert.equal(all.find((c) => c.name === 'log.segment.bytes')?.source, 'STATIC_BROKER_CONFIG');
    assert.equal(all.find((c) => c.name === 'delete.topic.enable')?.source, 'DEFAULT_CONFIG');
    cluster.close();
    assert.equal((await topicConfig('plain', 'retention.ms'))?.source, 'DYNAMIC_BROKER_CONFIG');

    const producer = await Producer.connect({ bootstrap: b.bootstrap });
    await assert.rejects(
      producer.send('plain', [{ value: 'y'.repeat(3000), partition: 0 }]),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.MESSAGE_TOO_LARGE,
    );
    await producer.send('plain', [{ value: 'y'.repeat(500), partition: 0 }]);
    await producer.close();
  });

  it('refuses keys Kafka cannot change at runtime, bad values and another broker id; nothing changes', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--entity-default', '--add-config', 'log.retention.hours=1'],
        /^samsa configs: INVALID_REQUEST: Invalid config value for resource ConfigResource\(type=BROKER, name=''\): Cannot update these configs dynamically: Set\(log\.retention\.hours\)/,
      ],
      [
        ['--entity-name', '0', '--add-config', 'broker.id=3,log.dirs=/tmp/x'],
        /INVALID_REQUEST: .*Cannot update these configs dynamically: Set\(broker\.id, log\.dirs\)/,
      ],
      [
        ['--entity-default', '--add-config', 'listeners=PLAINTEXT://:1'],
        /INVALID_REQUEST: .*Cannot update these configs at default cluster level, broker id must be specified: Set\(listeners\)/,
      ],
      [
        ['--entity-default', '--add-config', 'log.retention.ms=soon'],
        /INVALID_REQUEST: .*Invalid value soon for configuration log\.retention\.ms/,
      ],
      [['--entity-default', '--add-config', 'log.segment.bytes=1'], /INVALID_REQUEST: .*must be >= 14/],
      [['--entity-name', '5', '--add-config', 'log.retention.ms=1'], /samsa configs: /],
    ];
    for (const [args, re] of cases) {
      const r = await samsa(['configs', 'alter', '--entity-type', 'brokers', ...args, ...bs]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(oneLineFailure(r), re);
    }
    const r = await samsa(['configs', 'describe', '--entity-type', 'brokers', '--entity-default', ...bs]);
    assert.match(
      r.stdout,
      /^Default configs for brokers in the cluster are:\n {2}log\.retention\.ms=600000 /,
    );
    assert.equal(r.stdout.split('\n').length, 3, 'only log.retention.ms');
  });

  it('group configs: set, described with their source, range-checked', async () => {
    let r = await samsa([
      'configs',
      'alter',
      '--group',
      'g1',
      '--add-config',
      'consumer.session.timeout.ms=50000,consumer.heartbeat.interval.ms=6000',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    r = await samsa(['configs', 'describe', '--entity-type', 'groups', '--entity-name', 'g1', ...bs]);
    assert.equal(
      r.stdout,
      'Dynamic configs for group g1 are:\n' +
        '  consumer.heartbeat.interval.ms=6000 sensitive=false synonyms={GROUP_CONFIG:consumer.heartbeat.interval.ms=6000, DEFAULT_CONFIG:group.consumer.heartbeat.interval.ms=5000}\n' +
        '  consumer.session.timeout.ms=50000 sensitive=false synonyms={GROUP_CONFIG:consumer.session.timeout.ms=50000, DEFAULT_CONFIG:group.consumer.session.timeout.ms=45000}\n',
    );
    for (const [kv, re] of [
      [
        'consumer.session.timeout.ms=1000',
        /INVALID_CONFIG: consumer\.session\.timeout\.ms must be greater than or equal to group\.consumer\.min\.session\.timeout\.ms/,
      ],
      ['session.timeout.ms=1000', /INVALID_CONFIG: Unknown group config name: session\.timeout\.ms/],
    ] as const) {
      r = await samsa(['configs', 'alter', '--group', 'g1', '--add-config', kv, ...bs]);
      assert.equal(r.code, 1);
      assert.match(oneLineFailure(r), re);
    }
    r = await samsa(['configs', 'describe', '--group', 'other', '--all', ...bs]);
    assert.match(r.stdout, /consumer\.session\.timeout\.ms=45000 sensitive=false synonyms=\{DEFAULT_CONFIG:/);
  });

  it('a restart keeps the dynamic configs; deleting the per-broker one falls back to the default', async () => {
    await b.restart();
    let r = await samsa(['configs', 'describe', '--broker', '0', ...bs]);
    assert.match(
      r.stdout,
      /\n {2}log\.retention\.ms=900000 sensitive=false synonyms=\{DYNAMIC_BROKER_CONFIG:/,
    );
    assert.equal((await topicConfig('plain', 'retention.ms'))?.value, '900000');
    r = await samsa(['configs', 'describe', '--group', 'g1', ...bs]);
    assert.match(r.stdout, /consumer\.session\.timeout\.ms=50000/);
    const producer = await Producer.connect({ bootstrap: b.bootstrap });
    await assert.rejects(
      producer.send('plain', [{ value: 'y'.repeat(3000), partition: 0 }]),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.MESSAGE_TOO_LARGE,
      'message.max.bytes=2000 still applies after the restart',
    );
    r = await samsa([
      'configs',
      'alter',
      '--broker',
      '0',
      '--delete-config',
      'log.retention.ms,message.max.bytes',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const plain = await topicConfig('plain', 'retention.ms');
    assert.equal(plain?.value, '600000');
    assert.equal(plain?.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG');
    await producer.send('plain', [{ value: 'y'.repeat(3000), partition: 0 }]);
    await producer.close();
  });
});
