import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BrokerConfig,
  ConfigError,
  consumerMigrationPolicy,
  parseOverride,
  parseProperties,
} from '../../src/config/broker-config.js';
import { resolveTopicConfigs, validateTopicConfig } from '../../src/config/topic-config.js';
import { migrationAllowed } from '../../src/coordinator/group/config.js';

describe('server.properties parsing', () => {
  it('reads Java properties syntax: comments, separators, continuations', () => {
    const p = parseProperties(
      '# comment\n! also comment\nlisteners=PLAINTEXT://127.0.0.1:9093\nlog.dirs : /tmp/a,\\\n  /tmp/b\nnum.partitions 3\n',
    );
    assert.equal(p.get('listeners'), 'PLAINTEXT://127.0.0.1:9093');
    assert.equal(p.get('log.dirs'), '/tmp/a,/tmp/b');
    assert.equal(p.get('num.partitions'), '3');
    assert.equal(p.size, 3);
  });

  it('applies defaults, file values and overrides in that order', () => {
    const { config } = BrokerConfig.from(
      new Map([
        ['num.partitions', '3'],
        ['log.retention.hours', '1'],
      ]),
      new Map([parseOverride('num.partitions=5')]),
    );
    assert.equal(config.int('num.partitions'), 5);
    assert.equal(config.retentionMs(), 3_600_000);
    assert.equal(config.logDirs()[0], './data');
    assert.deepEqual(config.listeners()[0], { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 });
    assert.ok(config.explicit.has('num.partitions'));
    assert.ok(!config.explicit.has('log.segment.bytes'));
  });

  it('log.retention.ms wins over minutes and hours', () => {
    const { config } = BrokerConfig.from(
      new Map([
        ['log.retention.hours', '1'],
        ['log.retention.minutes', '2'],
        ['log.retention.ms', '1234'],
      ]),
    );
    assert.equal(config.retentionMs(), 1234);
  });

  it('refuses an unknown key, naming it', () => {
    assert.throws(
      () => BrokerConfig.from(new Map([['log.segmnet.bytes', '100']])),
      (e: unknown) => e instanceof ConfigError && e.key === 'log.segmnet.bytes' && /unknown/.test(e.message),
    );
  });

  it('refuses invalid values with the key and the fix', () => {
    assert.throws(
      () => BrokerConfig.from(new Map([['log.segment.bytes', '0']])),
      /log.segment.bytes: must be >= 14; got 0/,
    );
    assert.throws(
      () => BrokerConfig.from(new Map([['num.partitions', 'three']])),
      /num.partitions: expected an integer/,
    );
    assert.throws(
      () => BrokerConfig.from(new Map([['auto.create.topics.enable', 'yes']])),
      /auto.create.topics.enable/,
    );
    assert.throws(
      () => BrokerConfig.from(new Map([['listeners', 'localhost:9092']])),
      /listeners: expected NAME:\/\/host:port/,
    );
    assert.throws(
      () => BrokerConfig.from(new Map([['log.message.timestamp.type', 'Wallclock']])),
      /log.message.timestamp.type: must be one of CreateTime, LogAppendTime/,
    );
  });

  it('accepts Kafka-only keys with a warning', () => {
    const { warnings } = BrokerConfig.from(new Map([['num.network.threads', '3']]));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /num.network.threads/);
  });
});

describe('topic configs', () => {
  it('validates keys and values like Kafka', () => {
    assert.equal(validateTopicConfig('retention.ms', '1000'), null);
    assert.match(validateTopicConfig('retention.ms', 'abc') ?? '', /Invalid value abc/);
    assert.match(validateTopicConfig('no.such.config', '1') ?? '', /Unknown topic config/);
    assert.equal(validateTopicConfig('cleanup.policy', 'compact,delete'), null);
    assert.match(validateTopicConfig('cleanup.policy', 'shred') ?? '', /Invalid value/);
  });

  it('resolves overrides, broker synonyms and defaults with their sources', () => {
    const { config } = BrokerConfig.from(new Map([['log.retention.ms', '5000']]));
    const resolved = resolveTopicConfigs(config, { 'segment.bytes': '1048576' });
    const seg = resolved.find((c) => c.name === 'segment.bytes');
    const ret = resolved.find((c) => c.name === 'retention.ms');
    const pol = resolved.find((c) => c.name === 'cleanup.policy');
    assert.deepEqual([seg?.value, seg?.source], ['1048576', 'TOPIC_CONFIG']);
    assert.deepEqual([ret?.value, ret?.source], ['5000', 'STATIC_BROKER_CONFIG']);
    assert.deepEqual([pol?.value, pol?.source], ['delete', 'DEFAULT_CONFIG']);
    assert.equal(ret?.synonyms[0]?.name, 'log.retention.ms');
  });

  it('checks the KIP-848 keys as Kafka: timeouts within their bounds, known assignors (short or class names)', () => {
    const from = (kv: Record<string, string>) => BrokerConfig.from(new Map(Object.entries(kv))).config;
    assert.throws(
      () => from({ 'group.consumer.session.timeout.ms': '1000' }),
      /must be greater than or equal to group\.consumer\.min\.session\.timeout\.ms/,
    );
    assert.throws(
      () =>
        from({
          'group.consumer.min.heartbeat.interval.ms': '100',
          'group.consumer.heartbeat.interval.ms': '50000',
          'group.consumer.max.heartbeat.interval.ms': '60000',
        }),
      /must be less than group\.consumer\.session\.timeout\.ms/,
    );
    assert.throws(() => from({ 'group.consumer.assignors': 'uniform,sticky' }), /unknown assignor "sticky"/);
    const c = from({
      'group.consumer.assignors': 'org.apache.kafka.coordinator.group.assignor.RangeAssignor,uniform',
    });
    assert.deepEqual(c.list('group.consumer.assignors').length, 2);
  });

  it("group.consumer.migration.policy: bidirectional by default, Kafka's four values in any case, others refused", () => {
    const from = (kv: Record<string, string>) => BrokerConfig.from(new Map(Object.entries(kv))).config;
    assert.equal(consumerMigrationPolicy(from({})), 'bidirectional');
    assert.equal(consumerMigrationPolicy(from({ 'group.consumer.migration.policy': 'UPGRADE' })), 'upgrade');
    assert.equal(
      consumerMigrationPolicy(from({ 'group.consumer.migration.policy': 'Disabled' })),
      'disabled',
    );
    assert.throws(
      () => from({ 'group.consumer.migration.policy': 'sideways' }),
      /group\.consumer\.migration\.policy.*must be one of disabled, upgrade, downgrade, bidirectional; got "sideways"/,
    );
    assert.equal(migrationAllowed('bidirectional', 'upgrade'), true);
    assert.equal(migrationAllowed('upgrade', 'downgrade'), false);
    assert.equal(migrationAllowed('downgrade', 'downgrade'), true);
    assert.equal(migrationAllowed('disabled', 'upgrade'), false);
  });
});
