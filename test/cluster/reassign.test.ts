// Partition reassignment with `samsa reassign` (kafka-reassign-partitions.sh) on a ZooKeeper cluster of three
// real brokers: partitions with records move to other brokers and grow from one replica to three, --verify
// reports completion, every record stays readable through the new leaders, the removed replicas' directories
// disappear and DescribeLogDirs on each broker lists what it holds; --cancel of a move in progress returns to
// the original replicas; a controller killed in the middle of a move leaves it to the next controller; and with
// auto.leader.rebalance.enable a restarted broker gets its preferred partitions back by itself.
//
// Broker 3 catches up slowly on purpose: its follower fetches wait for 1 MiB (replica.fetch.min.bytes) that
// never comes while taking one batch at a time (replica.fetch.max.bytes=1), so each fetch brings one batch
// after replica.fetch.wait.max.ms. A move onto broker 3 of a partition written as many small batches stays in
// progress for seconds: long enough to cancel it or to kill the controller meanwhile.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listPartitionReassignments } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { startCluster, type TestCluster, waitFor, withClusterLogs } from '../helpers/cluster.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';
import {
  createAssigned,
  produce,
  readBack,
  reassignmentJson,
  samsaOn,
  scratch,
  waitForHoldings,
  waitForPartitions,
} from './cluster-ops.js';

const slowFetchWaitMs = 200;

describe('partition reassignment on a three-broker cluster', {
  skip: zooKeeperSkip(),
  timeout: 240_000,
}, () => {
  let c: TestCluster;
  let files: Awaited<ReturnType<typeof scratch>>;

  before(async () => {
    files = await scratch();
    c = await startCluster({
      brokers: 3,
      overrides: {
        'auto.leader.rebalance.enable': 'true',
        'leader.imbalance.check.interval.seconds': '1',
        'leader.imbalance.per.broker.percentage': '0',
      },
      brokerOverrides: {
        3: {
          'replica.fetch.min.bytes': String(1024 * 1024),
          'replica.fetch.max.bytes': '1',
          'replica.fetch.wait.max.ms': String(slowFetchWaitMs),
        },
      },
    });
  });
  after(async () => {
    await c?.destroy();
    await files?.remove();
  });

  /** Moves in progress, as the controller lists them. */
  async function moving(): Promise<string[]> {
    const cl = await Cluster.connect({ bootstrap: c.bootstrap(), clientId: 'reassign-test' });
    try {
      return (await listPartitionReassignments(cl, null)).map((r) => `${r.topic}-${r.partition}`);
    } finally {
      cl.close();
    }
  }

  async function waitForNoMoves(): Promise<void> {
    await waitFor(
      'no reassignment in progress',
      async () => ((await moving()).length === 0 ? true : undefined),
      60_000,
    );
  }

  test('an RF 2 topic with records moves to other brokers: --execute, --verify, records, old replicas deleted', () =>
    withClusterLogs(c, async () => {
      const topic = 'move';
      await createAssigned(c, topic, [
        [1, 2],
        [2, 1],
      ]);
      await produce(c, topic, 0, 2000, 4);
      await produce(c, topic, 1, 2000, 4);
      const target = { 0: [2, 3], 1: [3, 2] };
      const file = await files.file('move.json', reassignmentJson(topic, target));
      const exec = await samsaOn(c, ['reassign', '--execute', '--reassignment-json-file', file]);
      assert.equal(exec.code, 0, exec.stderr);
      assert.equal(
        exec.stdout,
        'Current partition replica assignment\n\n' +
          '{"version":1,"partitions":[{"topic":"move","partition":0,"replicas":[1,2],"log_dirs":["any","any"]},' +
          '{"topic":"move","partition":1,"replicas":[2,1],"log_dirs":["any","any"]}]}\n\n' +
          'Save this to use as the --reassignment-json-file option during rollback\n' +
          'Successfully started partition reassignments for move-0,move-1\n',
      );
      await waitForNoMoves();
      const verify = await samsaOn(c, ['reassign', '--verify', '--reassignment-json-file', file]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.equal(
        verify.stdout,
        'Status of partition reassignment:\nReassignment of partition move-0 is completed.\n' +
          'Reassignment of partition move-1 is completed.\n',
      );
      await waitForPartitions(c, topic, (p) => {
        const want = target[p.partitionIndex as 0 | 1];
        return (
          p.replicaNodes.join(',') === want.join(',') &&
          [...p.isrNodes].sort().join(',') === [...want].sort().join(',') &&
          want.includes(p.leaderId)
        );
      });
      // Broker 1 held both partitions and holds none now; broker 3 holds both, identical to broker 2's copies.
      const sizes = await waitForHoldings(c, topic, { 1: [], 2: [0, 1], 3: [0, 1] });
      for (const p of [0, 1]) {
        assert.ok((sizes.get(2)?.get(p) ?? 0) > 2000 * 100, `move-${p} size on broker 2`);
        assert.equal(sizes.get(3)?.get(p), sizes.get(2)?.get(p), `move-${p}: the replicas' sizes`);
      }
      await readBack(c, topic, 0, 2000);
      await readBack(c, topic, 1, 2000);
      // Writes keep working on the new replicas.
      await produce(c, topic, 0, 10, 1, 2000);
    }));

  test('a reassignment raises the replication factor from 1 to 3', () =>
    withClusterLogs(c, async () => {
      const topic = 'grow';
      await createAssigned(c, topic, [[2]]);
      await produce(c, topic, 0, 1000, 2);
      const file = await files.file('grow.json', reassignmentJson(topic, { 0: [2, 3, 1] }));
      const exec = await samsaOn(c, ['reassign', '--execute', '--reassignment-json-file', file]);
      assert.equal(exec.code, 0, exec.stderr);
      assert.match(exec.stdout, /Successfully started partition reassignment for grow-0\n$/);
      await waitForNoMoves();
      const verify = await samsaOn(c, ['reassign', '--verify', '--reassignment-json-file', file]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout, /Reassignment of partition grow-0 is completed\./);
      await waitForPartitions(
        c,
        topic,
        (p) => p.replicaNodes.join(',') === '2,3,1' && p.isrNodes.length === 3 && p.leaderId === 2,
      );
      const sizes = await waitForHoldings(c, topic, { 1: [0], 2: [0], 3: [0] });
      const size = sizes.get(2)?.get(0);
      assert.ok(size !== undefined && size > 1000 * 100);
      assert.equal(sizes.get(1)?.get(0), size);
      assert.equal(sizes.get(3)?.get(0), size);
      await readBack(c, topic, 0, 1000);
    }));

  test("--generate proposes Kafka's assignment of whole topics over --broker-list", () =>
    withClusterLogs(c, async () => {
      const file = await files.file('topics.json', { version: 1, topics: [{ topic: 'move' }] });
      const r = await samsaOn(c, [
        'reassign',
        '--generate',
        '--topics-to-move-json-file',
        file,
        '--broker-list',
        '1,3',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const m =
        /^Current partition replica assignment\n(.+)\n\nProposed partition reassignment configuration\n(.+)\n$/.exec(
          r.stdout,
        );
      assert.ok(m !== null, r.stdout);
      assert.deepEqual(JSON.parse(m[1] as string), reassignmentJson('move', { 0: [2, 3], 1: [3, 2] }));
      const proposed = JSON.parse(m[2] as string) as {
        version: number;
        partitions: { replicas: number[] }[];
      };
      assert.equal(proposed.version, 1);
      assert.equal(proposed.partitions.length, 2);
      // Two brokers, RF 2: each partition on both, led by a different one (Kafka's round robin).
      for (const p of proposed.partitions) assert.deepEqual([...p.replicas].sort(), [1, 3]);
      assert.notEqual(proposed.partitions[0]?.replicas[0], proposed.partitions[1]?.replicas[0]);
      // Nothing moved.
      assert.deepEqual(await moving(), []);
    }));

  test('--cancel of a move that cannot finish yet returns the partition to its original replicas', () =>
    withClusterLogs(c, async () => {
      const topic = 'cancel';
      await createAssigned(c, topic, [[1]]);
      // 200 batches: broker 3 takes one per fetch, so catching up would take about 40 s.
      await produce(c, topic, 0, 200, 200);
      const file = await files.file('cancel.json', reassignmentJson(topic, { 0: [1, 3] }));
      const exec = await samsaOn(c, ['reassign', '--execute', '--reassignment-json-file', file]);
      assert.equal(exec.code, 0, exec.stderr);
      const verify = await samsaOn(c, ['reassign', '--verify', '--reassignment-json-file', file]);
      assert.equal(verify.code, 1, verify.stdout + verify.stderr);
      assert.equal(
        verify.stdout,
        'Status of partition reassignment:\nReassignment of partition cancel-0 is still in progress.\n',
      );
      const list = await samsaOn(c, ['reassign', '--list']);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, 'Current partition reassignments:\ncancel-0: replicas: 1,3. adding: 3.\n');
      const twice = await samsaOn(c, ['reassign', '--execute', '--reassignment-json-file', file]);
      assert.equal(twice.code, 1);
      assert.match(
        twice.stderr,
        /^samsa reassign: Cannot execute because there is an existing partition assignment\. Use --additional/,
      );
      // Broker 3 has started to copy the partition.
      await waitForHoldings(c, topic, { 1: [0], 3: [0] });
      const cancel = await samsaOn(c, ['reassign', '--cancel', '--reassignment-json-file', file]);
      assert.equal(cancel.code, 0, cancel.stdout + cancel.stderr);
      assert.equal(cancel.stdout, 'Successfully cancelled partition reassignment for: cancel-0\n');
      await waitForPartitions(
        c,
        topic,
        (p) => p.replicaNodes.join(',') === '1' && p.isrNodes.join(',') === '1' && p.leaderId === 1,
      );
      assert.deepEqual(await moving(), []);
      // Broker 3's partial copy is deleted.
      await waitForHoldings(c, topic, { 1: [0], 2: [], 3: [] });
      const again = await samsaOn(c, ['reassign', '--cancel', '--reassignment-json-file', file]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, 'None of the specified partition reassignments are active.\n');
      const after = await samsaOn(c, ['reassign', '--verify', '--reassignment-json-file', file]);
      assert.equal(after.code, 1);
      assert.match(
        after.stdout,
        /There is no active reassignment of partition cancel-0, but replica set is 1 rather than 1,3\./,
      );
      await readBack(c, topic, 0, 200);
    }));

  test('auto.leader.rebalance.enable: a restarted broker leads its preferred partitions again by itself', () =>
    withClusterLogs(c, async () => {
      const topic = 'balance';
      await createAssigned(c, topic, [
        [1, 2, 3],
        [2, 3, 1],
        [3, 1, 2],
      ]);
      const controller = await c.controllerId();
      const victim = controller === 2 ? 1 : 2;
      await c.stop(victim);
      await waitForPartitions(c, topic, (p) => p.leaderId !== victim && p.leaderId >= 0);
      await c.restart(victim);
      // Back in every ISR, then the controller's imbalance check gives its partition back.
      const all = await waitForPartitions(
        c,
        topic,
        (p) => p.leaderId === p.replicaNodes[0] && p.isrNodes.length === 3,
      );
      assert.ok(all.size === 3);
      assert.match(c.broker(controller).logs(), /electing preferred leaders/);
    }));

  test('a controller killed during a reassignment: the next controller completes the move', () =>
    withClusterLogs(c, async () => {
      const topic = 'failover';
      let controller = await c.controllerId();
      if (controller === 3) {
        // Broker 3 is the slow target of the move: hand the controller role to another broker first.
        await c.stop(3);
        await c.restart(3);
        await c.waitReady();
        controller = await c.controllerId();
      }
      const source = controller === 1 ? 2 : 1;
      await createAssigned(c, topic, [[source]]);
      // 30 batches: about 6 s for broker 3 to catch up, beyond the controller's kill.
      await produce(c, topic, 0, 300, 30);
      const file = await files.file('failover.json', reassignmentJson(topic, { 0: [3] }));
      const exec = await samsaOn(c, ['reassign', '--execute', '--reassignment-json-file', file]);
      assert.equal(exec.code, 0, exec.stderr);
      await c.kill9(controller);
      // Asked at once, while the brokers still name the dead controller: the command keeps looking for the
      // active one (until the next controller is elected) and answers.
      const list = await samsaOn(c, ['reassign', '--list']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(
        list.stdout,
        new RegExp(
          `^(Current partition reassignments:\nfailover-0: replicas: 3,${source}. adding: 3. removing: ${source}.|No partition reassignments found.)\n$`,
        ),
      );
      const next = await c.controllerId(60_000);
      assert.notEqual(next, controller);
      await waitForPartitions(
        c,
        topic,
        (p) => p.replicaNodes.join(',') === '3' && p.isrNodes.join(',') === '3' && p.leaderId === 3,
        60_000,
      );
      const verify = await samsaOn(c, ['reassign', '--verify', '--reassignment-json-file', file]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout, /Reassignment of partition failover-0 is completed\./);
      await waitForHoldings(c, topic, { [source]: [], 3: [0] });
      await readBack(c, topic, 0, 300);
      // The move was in progress when the controller died: the next one completed it.
      const completed = /"partition reassignment completed","partitions":\[\{"partition":"failover-0"/;
      assert.doesNotMatch(c.broker(controller).logs(), completed);
      assert.match(c.broker(next).logs(), completed);
    }));
});
