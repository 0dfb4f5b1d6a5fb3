// Start-up warnings of the broker configuration: Kafka keys Samsa has no use for, and keys accepted that
// have no effect yet (noEffectYet); each warns once, and only when it is set.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerConfig, ConfigError, definitions, noEffectYet } from '../../src/config/broker-config.js';

describe('configuration warnings', () => {
  it('the defaults warn about nothing', () => {
    assert.deepEqual(BrokerConfig.from(new Map()).warnings, []);
  });

  it('every key with no effect yet is a defined key, and warns once when set, with its reason', () => {
    for (const [key, reason] of noEffectYet) {
      const def = definitions[key];
      assert.ok(def !== undefined, `${key} is in noEffectYet but not defined`);
      const value =
        def.kind === 'string' || def.kind === 'list'
          ? 'x'
          : def.kind === 'boolean'
            ? 'true'
            : String(def.min ?? 1);
      // Given in the file and again on the command line: still one warning.
      const { warnings } = BrokerConfig.from(new Map([[key, value]]), new Map([[key, value]]));
      assert.equal(warnings.length, 1, `${key}: ${warnings.join('\n')}`);
      assert.equal(warnings[0], `${key}=${value} is accepted but has no effect yet (${reason})`);
    }
  });

  it('names producer id expiry among them; ZooKeeper and transaction keys work now', () => {
    assert.ok(noEffectYet.has('producer.id.expiration.ms'));
    for (const key of [
      'zookeeper.connect',
      'zookeeper.session.timeout.ms',
      'inter.broker.listener.name',
      'transaction.max.timeout.ms',
      'transaction.state.log.min.isr',
    ])
      assert.ok(!noEffectYet.has(key), key);
  });

  it('a key with no effect yet is still validated', () => {
    assert.throws(
      () => BrokerConfig.from(new Map([['producer.id.expiration.ms', 'soon']])),
      (e: unknown) => e instanceof ConfigError && e.key === 'producer.id.expiration.ms',
    );
  });

  it('an ignored Kafka key warns once, even when set in the file and overridden', () => {
    const { warnings } = BrokerConfig.from(
      new Map([['num.io.threads', '8']]),
      new Map([['num.io.threads', '16']]),
    );
    assert.deepEqual(warnings, ['num.io.threads is a Kafka setting Samsa does not use; ignored']);
  });

  it('log.level and log.format take only their values', () => {
    const { config } = BrokerConfig.from(
      new Map([
        ['log.level', 'debug'],
        ['log.format', 'text'],
      ]),
    );
    assert.equal(config.get('log.level'), 'debug');
    assert.equal(config.get('log.format'), 'text');
    assert.equal(BrokerConfig.from(new Map()).config.get('log.level'), null);
    assert.equal(BrokerConfig.from(new Map()).config.get('log.format'), 'auto');
    assert.throws(
      () => BrokerConfig.from(new Map([['log.level', 'verbose']])),
      /log.level: must be one of debug, info, warn, error; got "verbose"/,
    );
    assert.throws(
      () => BrokerConfig.from(new Map([['log.format', 'xml']])),
      /log.format: must be one of auto, json, text; got "xml"/,
    );
  });
});
