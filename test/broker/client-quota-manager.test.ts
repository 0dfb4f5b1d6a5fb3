// Kafka's quota arithmetic (Rate over a SampledStat, QuotaUtils.throttleTime) on fixed times.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientQuotaManager, QuotaRate, userOf } from '../../src/broker/client-quota-manager.js';
import { ClientQuotaCache } from '../../src/security/client-quotas.js';

describe('client quota arithmetic', () => {
  it('measures over at least (samples - 1) windows, and forgets samples older than samples x window', () => {
    const r = new QuotaRate(1000, 11);
    r.record(1000, 0);
    assert.equal(r.windowSize(0), 10_000);
    assert.equal(r.measure(0), 100);
    r.record(1000, 12_500);
    // The first sample expired (12.5 s >= 11 s): only the new one counts, over the padded 10 s.
    assert.equal(r.measure(12_500), 100);
    // Past the padding the real elapsed time counts.
    r.record(0, 23_000);
    assert.equal(r.windowSize(23_400), 10_900);
  });

  it('throttles by (rate - bound) / bound x window, and unrecords', () => {
    const cache = new ClientQuotaCache();
    cache.setConfigs('clients/c', { producer_byte_rate: '100' });
    const m = new ClientQuotaManager('Produce', cache, { numSamples: 11, windowSeconds: 1 });
    assert.equal(m.recordAndGetThrottleTimeMs('User:ANONYMOUS', 'c', 1000, 1_000_000), 0);
    // 1100 bytes over 10 s = 110 B/s: 10% over a 10 s window -> 1000 ms.
    assert.equal(m.recordAndGetThrottleTimeMs('User:ANONYMOUS', 'c', 100, 1_000_000), 1000);
    m.unrecord('User:ANONYMOUS', 'c', 100, 1_000_000);
    assert.equal(m.recordAndGetThrottleTimeMs('User:ANONYMOUS', 'c', 0, 1_000_000), 0);
    // Other client ids have no quota.
    assert.equal(m.recordAndGetThrottleTimeMs('User:ANONYMOUS', 'd', 1e9, 1_000_000), 0);
    assert.equal(m.maxValueInQuotaWindow('User:ANONYMOUS', 'c'), 1000);
    assert.equal(userOf('User:alice'), 'alice');
  });

  it('keys the cache canonically whatever the znode encoding', () => {
    const cache = new ClientQuotaCache();
    cache.setConfigs('users/a.b/clients/<default>', { consumer_byte_rate: '5', 'SCRAM-SHA-256': 'x' });
    assert.deepEqual(cache.quotaFor('consumer_byte_rate', 'a.b', 'any'), {
      bound: 5,
      user: 'a.b',
      clientId: 'any',
    });
    assert.equal(cache.all().length, 1);
    cache.setConfigs('users/a%2Eb/clients/<default>', {});
    assert.equal(cache.all().length, 0);
  });
});
