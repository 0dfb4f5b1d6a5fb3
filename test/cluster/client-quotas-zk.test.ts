// Client quotas in a ZooKeeper cluster of two broker processes: quotas altered through broker 1 are stored in
// ZooKeeper (/config/users, /config/users/<u>/clients, /config/clients) and reach broker 2 by the change
// notification; a user's SCRAM credentials in the same znode stay; a restarted broker loads them from ZooKeeper.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alterUser, describeUsers } from '../../src/cli/configs-users.js';
import { Cluster } from '../../src/client/cluster.js';
import { alterClientQuotas, type DescribedQuota, describeClientQuotas } from '../../src/client/quotas.js';
import { startCluster, type TestCluster, waitFor } from '../helpers/cluster.js';

const key = (e: DescribedQuota) =>
  JSON.stringify([Object.entries(e.entity).sort(), Object.entries(e.values).sort()]);

describe('client quotas in a ZooKeeper cluster', { timeout: 180_000 }, () => {
  let c: TestCluster;

  before(async () => {
    c = await startCluster({ brokers: 2 });
  });

  after(async () => {
    await c?.destroy();
  });

  async function quotasOn(id: number): Promise<string[]> {
    const cluster = await Cluster.connect({ bootstrap: c.bootstrapOf(id) });
    try {
      return (await describeClientQuotas(cluster, [], false)).map(key).sort();
    } finally {
      cluster.close();
    }
  }

  it('every broker follows the quotas one broker stores', async () => {
    const one = await Cluster.connect({ bootstrap: c.bootstrapOf(1) });
    try {
      await alterUser(one, 'alice', ['SCRAM-SHA-256=[password=alice-secret]'], []);
      await alterClientQuotas(one, [
        { entity: { user: 'alice' }, set: { producer_byte_rate: 1048576 } },
        { entity: { user: null }, set: { consumer_byte_rate: 2048 } },
        { entity: { user: 'alice', 'client-id': 'app' }, set: { request_percentage: 50 } },
        { entity: { 'client-id': null }, set: { producer_byte_rate: 4096 } },
      ]);
      const expected = await quotasOn(1);
      assert.equal(expected.length, 4);
      await waitFor('broker 2 to see the quotas', async () => {
        const seen = await quotasOn(2);
        return JSON.stringify(seen) === JSON.stringify(expected) ? seen : undefined;
      });
      // alice's credentials share /config/users/alice with her quota.
      assert.match((await describeUsers(one, 'alice')).join('\n'), /SCRAM-SHA-256=iterations=4096/);

      await alterClientQuotas(one, [{ entity: { user: 'alice' }, remove: ['producer_byte_rate'] }]);
      await waitFor('broker 2 to see the removal', async () => {
        const seen = await quotasOn(2);
        return seen.length === 3 ? seen : undefined;
      });
      assert.match((await describeUsers(one, 'alice')).join('\n'), /SCRAM-SHA-256=iterations=4096/);
    } finally {
      one.close();
    }
  });

  it('a restarted broker loads the quotas from ZooKeeper', async () => {
    const expected = await quotasOn(1);
    await c.restart(2);
    assert.deepEqual(await quotasOn(2), expected);
  });
});
