// "A dead broker loses nothing that was acknowledged": a real ZooKeeper and three real broker processes, an
// RF 3 topic with min.insync.replicas=2, kafkajs producing to it continuously (idempotent, acks=all) and a
// kafkajs consumer group committing throughout (test/helpers/replication-workload.ts), while
//   1. the leader of each partition in turn is killed with SIGKILL, then restarted;
//   3. ZooKeeper is stopped (writes go on without it) and started again;
//   4. every broker in turn is stopped with SIGTERM (controlled shutdown) and started again.
// After each fault (test/helpers/faults.ts): every acknowledged record is in the log at its offset, once, in
// order within its partition; the group's committed offsets did not move back nor past the log end, and it
// commits again; the time from the fault to the next acknowledged write is reported as a diagnostic.
// Fault 2 (a broker cut off by a network partition) is in replication-partition.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster, type TestCluster, withClusterLogs } from '../helpers/cluster.js';
import {
  createReplicatedTopic,
  describeReport,
  type FaultReport,
  faultOverrides,
  leadersOf,
  observeFault,
} from '../helpers/faults.js';
import { verifyTopic, type Workload } from '../helpers/replication-workload.js';
import { startWorkload } from '../helpers/workload-clients.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';

const partitions = 3;

describe('replication faults: acks=all loses nothing', { skip: zooKeeperSkip(), timeout: 420_000 }, () => {
  let c: TestCluster | undefined;
  let w: Workload | undefined;
  const run = Date.now().toString(36);
  const topic = `faults-${run}`;
  const topics = [topic, '__consumer_offsets'];

  before(async () => {
    c = await startCluster({ brokers: 3, overrides: faultOverrides });
    await withClusterLogs(c, async () => {
      await createReplicatedTopic(c!, topic, partitions);
      w = await startWorkload('kafkajs', {
        bootstrap: c!.bootstrap().split(','),
        topic,
        partitions,
        groupId: `g-${run}`,
      });
      await w.waitForCommitProgress(new Map()); // the group commits before the first fault
    });
  });

  after(async () => {
    await w?.stop().catch(() => {});
    await c?.destroy();
  });

  const report = (t: { diagnostic: (s: string) => void }, r: FaultReport): void =>
    t.diagnostic(describeReport(r));

  test('1. the leader of each partition in turn is killed (SIGKILL) and restarted', async (t) => {
    await withClusterLogs(c, async () => {
      for (let p = 0; p < partitions; p++) {
        const leaders = await leadersOf(c!, topic);
        const victim = leaders.get(p)!;
        const hit = [...leaders].filter(([, l]) => l === victim).map(([q]) => q);
        const r = await observeFault(c!, w!, topics, {
          name: `kill -9 broker ${victim} (leader of partition ${hit.join(',')})`,
          hit,
          victim,
          inject: () => c!.kill9(victim),
          recover: () => c!.restart(victim),
        });
        report(t, r);
        assert.ok((await leadersOf(c!, topic)).get(p) !== undefined);
      }
    });
  });

  test('3. ZooKeeper is stopped and started again', async (t) => {
    await withClusterLogs(c, async () => {
      const r = await observeFault(c!, w!, topics, {
        name: 'ZooKeeper stopped, writes acknowledged without it, started again',
        hit: [],
        inject: () => c!.zk.stop(),
        recover: () => c!.zk.start(),
      });
      report(t, r);
      const k = await observeFault(c!, w!, topics, {
        name: 'ZooKeeper killed (SIGKILL), writes acknowledged without it, started again',
        hit: [],
        inject: () => c!.zk.kill9(),
        recover: () => c!.zk.start(),
      });
      report(t, k);
    });
  });

  test('4. every broker in turn is restarted with SIGTERM (rolling restart)', async (t) => {
    await withClusterLogs(c, async () => {
      for (const id of c!.ids) {
        const leaders = await leadersOf(c!, topic);
        const hit = [...leaders].filter(([, l]) => l === id).map(([q]) => q);
        const r = await observeFault(c!, w!, topics, {
          name: `SIGTERM broker ${id} (leader of partition ${hit.join(',') || 'none'}), then start`,
          hit,
          inject: () => c!.stop(id),
          recover: () => c!.restart(id),
        });
        report(t, r);
      }
    });
  });

  test('after all faults: every acknowledged record once and in order, no send failed', async (t) => {
    await withClusterLogs(c, async () => {
      await w!.stop();
      const v = await verifyTopic(c!.bootstrap(), topic, partitions, w!.tag, w!.snapshot());
      t.diagnostic(
        `${v.acked} records acknowledged, ${v.inLog} in the log (${v.unacked} written but never acknowledged); group consumed ${w!.consumed}`,
      );
      assert.deepEqual(w!.failures, [], 'the idempotent producer retries until acknowledged');
      assert.ok(v.acked > 0);
      // The check can fail: an acknowledged value the log does not hold, and two swapped ones, are caught.
      const lost = w!.snapshot();
      lost[0]![0]!.value = `${w!.tag}|0|999999999`;
      await assert.rejects(
        verifyTopic(c!.bootstrap(), topic, partitions, w!.tag, lost),
        /acknowledged \S+\|0\|999999999 at \S+-0@\d+ .*: the log has '\S+\|0\|\d+' there$/,
      );
      const swapped = w!.snapshot();
      const [a, b] = [swapped[1]![0]!, swapped[1]![1]!];
      [a.value, b.value] = [b.value, a.value];
      await assert.rejects(
        verifyTopic(c!.bootstrap(), topic, partitions, w!.tag, swapped),
        /acknowledged \S+\|1\|\d+ at \S+-1@\d+ .*the log has '\S+\|1\|\d+' there \(the value is at \S+-1@\d+\)/,
      );
    });
  });
});
