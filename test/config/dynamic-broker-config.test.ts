// Dynamic broker configs: Kafka's accepted keys and messages, the layers' precedence and sources, and the
// topic defaults that follow them (pure functions over BrokerConfig; the end-to-end tests are
// test/cli/configs-dynamic.test.ts and test/cluster/dynamic-configs.test.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerConfig } from '../../src/config/broker-config.js';
import {
  brokerConfigSynonyms,
  isDynamicBrokerKey,
  loadDynamicBrokerConfigs,
  validateDynamicBrokerConfigs,
} from '../../src/config/dynamic-broker-config.js';
import { validateGroupConfigs } from '../../src/config/group-config.js';
import { resolveTopicConfigs } from '../../src/config/topic-config.js';
import { ErrorCode } from '../../src/protocol/errors.js';

const staticConfig = () =>
  BrokerConfig.from(
    new Map([
      ['log.retention.hours', '100'],
      ['log.dirs', '/tmp/x'],
    ]),
  ).config;

describe('dynamic broker configs', () => {
  it('accepts Kafka-dynamic keys Samsa applies or ignores; refuses the rest with Kafka messages', () => {
    assert.deepEqual(
      validateDynamicBrokerConfigs(1, { 'log.retention.ms': ' 1000 ', 'num.io.threads': '8' }),
      { configs: { 'log.retention.ms': '1000', 'num.io.threads': '8' } },
    );
    const cases: [number | null, Record<string, string>, RegExp][] = [
      [
        null,
        { 'log.retention.hours': '1' },
        /name=''\): Cannot update these configs dynamically: Set\(log\.retention\.hours\)$/,
      ],
      [
        2,
        { 'log.dirs': '/x', 'broker.id': '3' },
        /name='2'\): Cannot update these configs dynamically: Set\(broker\.id, log\.dirs\)$/,
      ],
      [null, { listeners: 'PLAINTEXT://:1' }, /broker id must be specified: Set\(listeners\)$/],
      [
        1,
        { 'log.retention.ms': 'x' },
        /Invalid value x for configuration log\.retention\.ms: expected an integer/,
      ],
      [1, { 'log.segment.bytes': '13' }, /must be >= 14/],
      [1, { 'num.io.threads': '0' }, /Value must be at least 1/],
      [1, { 'no.such.key': '1' }, /Cannot update these configs dynamically: Set\(no\.such\.key\)/],
    ];
    for (const [id, configs, re] of cases) {
      const r = validateDynamicBrokerConfigs(id, configs);
      assert.ok('problem' in r, JSON.stringify(configs));
      assert.equal(r.problem.errorCode, ErrorCode.INVALID_REQUEST);
      assert.match(r.problem.errorMessage, re);
    }
    const loaded = loadDynamicBrokerConfigs(null, { 'log.retention.ms': '5', 'log.retention.hours': '1' });
    assert.deepEqual(loaded.configs, { 'log.retention.ms': '5' });
    assert.equal(loaded.dropped.length, 1);
  });

  it('per broker over the cluster-wide default over static over defaults, with sources', () => {
    const c = staticConfig();
    assert.equal(c.retentionMs(), 100 * 3_600_000);
    let changed = c.setDynamic({}, { 'log.retention.ms': '60000', 'message.max.bytes': '5000' });
    assert.deepEqual(changed, ['log.retention.ms', 'message.max.bytes']);
    assert.equal(c.retentionMs(), 60000);
    assert.equal(c.sourceOf('log.retention.ms'), 'DYNAMIC_DEFAULT_BROKER_CONFIG');
    changed = c.setDynamic({ 'log.retention.ms': '1000' }, { 'log.retention.ms': '60000' });
    assert.deepEqual(changed, ['log.retention.ms', 'message.max.bytes']);
    assert.equal(c.retentionMs(), 1000);
    assert.equal(c.int('message.max.bytes'), 1048588);
    assert.equal(c.sourceOf('log.retention.ms'), 'DYNAMIC_BROKER_CONFIG');
    assert.equal(c.sourceOf('log.retention.hours'), 'STATIC_BROKER_CONFIG');
    assert.equal(c.withoutDynamic().retentionMs(), 100 * 3_600_000);
    const ret = resolveTopicConfigs(c, {}).find((r) => r.name === 'retention.ms');
    assert.equal(ret?.value, '1000');
    assert.equal(ret?.source, 'DYNAMIC_BROKER_CONFIG');
    assert.deepEqual(
      ret?.synonyms.map((s) => `${s.source}:${s.name}=${s.value}`),
      [
        'DYNAMIC_BROKER_CONFIG:log.retention.ms=1000',
        'DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=60000',
        'STATIC_BROKER_CONFIG:log.retention.ms=360000000',
        'DEFAULT_CONFIG:log.retention.ms=604800000',
      ],
    );
    c.setDynamic({}, {});
    assert.equal(c.retentionMs(), 100 * 3_600_000);
    assert.equal(c.sourceOf('log.retention.ms'), 'DEFAULT_CONFIG');
  });

  it("Kafka's synonyms and read-only flags", () => {
    assert.deepEqual(brokerConfigSynonyms('log.retention.hours'), [
      'log.retention.ms',
      'log.retention.minutes',
      'log.retention.hours',
    ]);
    assert.equal(isDynamicBrokerKey('log.retention.hours'), true);
    assert.equal(isDynamicBrokerKey('log.dirs'), false);
    assert.equal(isDynamicBrokerKey('max.connections'), true);
  });

  it('group configs: known keys, within the broker bounds, heartbeat below the session timeout', () => {
    const c = staticConfig();
    assert.deepEqual(validateGroupConfigs(c, { 'consumer.session.timeout.ms': '50000' }), {
      configs: { 'consumer.session.timeout.ms': '50000' },
    });
    for (const [configs, re] of [
      [
        { 'consumer.session.timeout.ms': '70000' },
        /less than or equal to group\.consumer\.max\.session\.timeout\.ms/,
      ],
      [{ 'consumer.heartbeat.interval.ms': '1' }, /greater than or equal to group\.consumer\.min\.heartbeat/],
      [{ 'session.timeout.ms': '1' }, /Unknown group config name: session\.timeout\.ms/],
      [{ 'consumer.heartbeat.interval.ms': 'x' }, /Not a number of type INT/],
    ] as const) {
      const r = validateGroupConfigs(c, configs);
      assert.ok('problem' in r);
      assert.equal(r.problem.errorCode, ErrorCode.INVALID_CONFIG);
      assert.match(r.problem.errorMessage, re);
    }
  });
});
