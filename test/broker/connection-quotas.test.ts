// The connection creation rates' arithmetic and configuration (src/broker/connection-quotas.ts): which rate applies
// to which listener and IP, Kafka's bounds; the broker-level behaviour is measured in connection-rate.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionQuotas, normalizeIp } from '../../src/broker/connection-quotas.js';
import { BrokerConfig } from '../../src/config/broker-config.js';
import { isDynamicBrokerKey, validateDynamicBrokerConfigs } from '../../src/config/dynamic-broker-config.js';
import { ClientQuotaCache } from '../../src/security/client-quotas.js';

const WINDOW = { numSamples: 2, windowSeconds: 1 };

/** Connections taken in a burst at `now` before the first throttle. */
function burstAllowance(record: () => number): number {
  for (let i = 0; i < 1000; i++) if (record() > 0) return i;
  return 1000;
}

describe('ConnectionQuotas', () => {
  it('the broker-wide rate holds every listener back but the inter-broker one', () => {
    const q = new ConnectionQuotas(WINDOW, 'REPLICATION');
    q.setRates(5, new Map());
    assert.equal(
      burstAllowance(() => q.recordAccept('CLIENT', 0)),
      5,
    );
    assert.equal(
      burstAllowance(() => q.recordAccept('REPLICATION', 0)),
      1000,
    );
    assert.ok(q.acceptThrottles >= 1);
  });

  it("a listener's own rate holds only that listener back, protected or not", () => {
    const q = new ConnectionQuotas(WINDOW, 'REPLICATION');
    q.setRates(2147483647, new Map([['REPLICATION', 3]]));
    assert.equal(
      burstAllowance(() => q.recordAccept('CLIENT', 0)),
      1000,
    );
    assert.equal(
      burstAllowance(() => q.recordAccept('REPLICATION', 0)),
      3,
    );
  });

  it('a throttle is at most one quota window (rate 0 too)', () => {
    const q = new ConnectionQuotas({ numSamples: 11, windowSeconds: 2 }, null);
    q.setRates(0, new Map());
    assert.equal(q.recordAccept('PLAINTEXT', 0), 2000);
  });

  it("an IP's quota: its own over the <default> IP's; a refused connection is not counted", () => {
    const cache = new ClientQuotaCache();
    const q = new ConnectionQuotas(WINDOW, null);
    assert.deepEqual(q.recordIp(cache, '10.0.0.1', 0), { throttleMs: 0, quota: 2147483647 });
    cache.setConfigs('ips/<default>', { connection_creation_rate: '2' });
    cache.setConfigs('ips/10.0.0.9', { connection_creation_rate: '4' });
    assert.equal(
      burstAllowance(() => q.recordIp(cache, '10.0.0.1', 0).throttleMs),
      2,
    );
    assert.equal(
      burstAllowance(() => q.recordIp(cache, '10.0.0.9', 0).throttleMs),
      4,
    );
    // The refused ones were unrecorded: after a window the IP gets a full allowance again.
    assert.equal(
      burstAllowance(() => q.recordIp(cache, '10.0.0.1', 2000).throttleMs),
      2,
    );
    const t = q.recordIp(cache, '10.0.0.1', 2000);
    assert.equal(t.quota, 2);
    assert.ok(t.throttleMs > 0 && t.throttleMs <= 1000);
    cache.setConfigs('ips/<default>', {});
    assert.equal(q.recordIp(cache, '10.0.0.1', 2000).throttleMs, 0);
  });

  it('IPv4-mapped addresses are looked up as IPv4', () => {
    assert.equal(normalizeIp('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(normalizeIp('::1'), '::1');
  });
});

describe('connection creation rate configs', () => {
  it('max.connection.creation.rate and its listener form are broker keys', () => {
    const { config } = BrokerConfig.from(
      new Map([
        ['max.connection.creation.rate', '10'],
        ['listener.name.plaintext.max.connection.creation.rate', '3'],
      ]),
    );
    assert.equal(config.int('max.connection.creation.rate'), 10);
    assert.equal(config.get('listener.name.plaintext.max.connection.creation.rate'), '3');
    assert.throws(() => BrokerConfig.from(new Map([['max.connection.creation.rate', '-1']])));
  });

  it('both are dynamic; the listener one per broker only', () => {
    assert.ok(isDynamicBrokerKey('max.connection.creation.rate'));
    assert.ok(isDynamicBrokerKey('listener.name.external.max.connection.creation.rate'));
    assert.ok('configs' in validateDynamicBrokerConfigs(null, { 'max.connection.creation.rate': '5' }));
    assert.ok(
      'configs' in
        validateDynamicBrokerConfigs(0, { 'listener.name.external.max.connection.creation.rate': '5' }),
    );
    const cluster = validateDynamicBrokerConfigs(null, {
      'listener.name.external.max.connection.creation.rate': '5',
    });
    assert.ok('problem' in cluster && /broker id must be specified/.test(cluster.problem.errorMessage));
    const bad = validateDynamicBrokerConfigs(0, { 'max.connection.creation.rate': 'fast' });
    assert.ok('problem' in bad);
  });
});
