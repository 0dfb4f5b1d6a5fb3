// The example cluster configuration in config/cluster/ (docs/cluster.md): three files a broker starts from
// without a warning, that differ only where brokers of one cluster must differ (broker.id, broker.rack, the
// advertised name) and agree on the rest, zookeeper.connect with its chroot included.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BrokerConfig, readPropertiesFile } from '../../src/config/broker-config.js';
import { repoRoot } from '../helpers/run.js';

const files = [1, 2, 3].map((n) => join(repoRoot(), 'config', 'cluster', `server-${n}.properties`));
const perBroker = new Set(['broker.id', 'broker.rack', 'advertised.listeners']);

describe('config/cluster example files', () => {
  it('each starts a broker without warnings, with its own id, rack and advertised name', () => {
    const configs = files.map((f) => {
      const { config, warnings } = BrokerConfig.from(readPropertiesFile(f));
      assert.deepEqual(warnings, [], f);
      return config;
    });
    assert.deepEqual(
      configs.map((c) => c.nodeId),
      [1, 2, 3],
    );
    assert.equal(new Set(configs.map((c) => c.string('broker.rack'))).size, 3, 'three racks');
    assert.equal(new Set(configs.map((c) => c.advertisedListeners()[0]?.host)).size, 3);
    for (const c of configs) {
      assert.match(
        c.string('zookeeper.connect'),
        /^([\w.-]+:\d+,){2}[\w.-]+:\d+\/\w+$/,
        'an ensemble and a chroot',
      );
      assert.ok(c.int('default.replication.factor') <= 3 && c.int('offsets.topic.replication.factor') <= 3);
      assert.ok(c.int('min.insync.replicas') < c.int('default.replication.factor'), 'one broker may be down');
    }
  });

  it('the files agree on every other key', () => {
    const [first, ...rest] = files.map(readPropertiesFile);
    for (const [k, other] of rest.entries()) {
      const keys = new Set([...first!.keys(), ...other.keys()]);
      for (const key of keys) {
        if (perBroker.has(key)) continue;
        assert.equal(other.get(key), first!.get(key), `${key} in ${files[k + 1]}`);
      }
    }
  });
});
