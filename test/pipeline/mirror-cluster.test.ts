// samsa mirror into a three-broker Samsa cluster (ZooKeeper): target topics created with replication factor
// 3, exactly-once copying that goes on while a target broker is killed with -9.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster } from '../../src/client/cluster.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { startCluster, type TestCluster, waitFor } from '../helpers/cluster.js';
import {
  assertSameRecords,
  endOffsets,
  killMirrors,
  makeTopic,
  produceRecords,
  type Rec,
  readTopic,
  singleBrokerTxn,
  startMirror,
  waitForCommitted,
} from './mirror-helpers.js';

describe('samsa mirror into a three-broker cluster', { timeout: 600_000 }, () => {
  let source: BrokerHandle;
  let target: TestCluster;

  before(async () => {
    [source, target] = await Promise.all([
      startBroker({ overrides: singleBrokerTxn }),
      startCluster({ brokers: 3, overrides: { 'transaction.state.log.num.partitions': '3' } }),
    ]);
  });

  after(async () => {
    await killMirrors();
    await Promise.all([source?.destroy(), target?.destroy()]);
  });

  test('exactly-once into replicated topics, through the loss of a target broker', async () => {
    await makeTopic(source.bootstrap, 'payments', 4);
    let expected = await produceRecords(source.bootstrap, 'payments', 4, 2000, { chunk: 100 });
    const m = startMirror([
      '--from',
      source.bootstrap,
      '--to',
      target.bootstrap(),
      '--topics',
      'payments',
      '--exactly-once',
      '--replication-factor',
      '3',
      '--commit-interval-ms',
      '200',
    ]);
    await waitForCommitted(
      target.bootstrap(),
      'samsa-mirror',
      'payments',
      await endOffsets(source.bootstrap, 'payments'),
    );
    const meta = await target.metadata(1, ['payments']);
    const parts = meta.topics[0]?.partitions ?? [];
    assert.equal(parts.length, 4);
    for (const p of parts) assert.equal(p.replicaNodes.length, 3, `payments-${p.partitionIndex} replicas`);

    // A target broker that leads a partition dies while records flow; the mirror starts a new session.
    const victim = await target.leaderOf('payments', 0);
    const more = produceRecords(source.bootstrap, 'payments', 4, 2000, { chunk: 50, from: 2000 });
    await target.kill9(victim);
    const rest: Map<number, Rec[]> = await more;
    for (const [p, recs] of rest) expected.set(p, [...(expected.get(p) ?? []), ...recs]);
    const alive = target
      .running()
      .map((id) => target.bootstrapOf(id))
      .join(',');
    await waitForCommitted(
      alive,
      'samsa-mirror',
      'payments',
      await endOffsets(source.bootstrap, 'payments'),
      120_000,
    );
    await target.restart(victim);
    await waitFor('the restarted broker to rejoin', async () => {
      const c = await Cluster.connect({ bootstrap: target.bootstrapOf(victim) });
      try {
        return (await c.brokers()).length === 3 ? true : undefined;
      } finally {
        c.close();
      }
    });
    m.run.kill('SIGTERM');
    assert.equal((await m.run.done).code, 0, m.lines.join('\n'));
    const restarts = m.lines.filter((l) => l.includes('mirror session failed')).length;
    process.stderr.write(`# mirror sessions started again after the broker loss: ${restarts}\n`);
    expected = new Map([...expected].sort((x, y) => x[0] - y[0]));
    assertSameRecords(expected, await readTopic(alive, 'payments', { committedOnly: true }), 'payments');
  });
});
