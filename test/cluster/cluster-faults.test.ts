// Faults of a ZooKeeper cluster of three real broker processes: ZooKeeper restarted while producers write,
// kill -9 of the controller's broker, and the start-up refusals and retries of a broker: a broker.id that is
// already registered, a log directory of another cluster, ZooKeeper not there yet.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster, KafkaError } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import {
  clusterDefaults,
  createAssignedTopic,
  type Metadata,
  metadataOf,
  startCluster,
  summarize,
  type TestCluster,
  waitFor,
  withClusterLogs,
} from '../helpers/cluster.js';
import { run } from '../helpers/run.js';
import { startTestZooKeeper, type TestZooKeeper, zooKeeperSkip } from '../helpers/zookeeper.js';
import {
  assertSummaries,
  javaClientJar,
  jsonLines,
  produceThroughCrash,
  skipUnless,
  tool,
  withTempDir,
} from '../interop/harness.js';
import { newRun } from '../interop/records.js';

const javaSkip = skipUnless([
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
]);

/** Values of records read from topic-partition, from offset 0 up to `count` records. */
async function readValues(
  bootstrap: string,
  topic: string,
  partition: number,
  count: number,
): Promise<string[]> {
  const consumer = await Consumer.connect({ bootstrap, maxWaitMs: 200 });
  try {
    await consumer.assign(topic, [partition], { offset: 0 });
    const out: string[] = [];
    const deadline = Date.now() + 30_000;
    while (out.length < count && Date.now() < deadline) {
      for (const r of await consumer.poll()) out.push(r.value?.toString() ?? '');
    }
    return out;
  } finally {
    await consumer.close();
  }
}

/** Every partition of the topic led by a live broker that is in its ISR, on every running broker. */
function allLed(c: TestCluster, m: Metadata): boolean {
  const t = m.topics[0];
  return (
    t !== undefined &&
    t.errorCode === ErrorCode.NONE &&
    t.partitions.length > 0 &&
    t.partitions.every((p) => c.running().includes(p.leaderId) && p.isrNodes.includes(p.leaderId))
  );
}

const sessionTimeoutMs = Number(clusterDefaults(3)['zookeeper.session.timeout.ms']);

describe('ZooKeeper cluster faults', { skip: zooKeeperSkip(), timeout: 240_000 }, () => {
  let c: TestCluster;

  before(async () => {
    c = await startCluster({ brokers: 3 });
  });
  after(async () => {
    await c?.destroy();
  });

  async function rf3Topic(topic: string, partitions: number): Promise<void> {
    const cl = await Cluster.connect({ bootstrap: c.bootstrapOf(1) });
    try {
      await createTopic(cl, topic, { partitions, replicationFactor: 3 });
    } finally {
      cl.close();
    }
    await c.waitForMetadata(
      `${topic} led, with full ISRs`,
      (m) => allLed(c, m) && m.topics[0]!.partitions.every((p) => p.isrNodes.length === 3),
      { topics: [topic] },
    );
  }

  test('ZooKeeper restarted under load: produce carries on, then the cluster still answers admin requests', () =>
    withClusterLogs(c, async () => {
      const topic = 'zk-restart';
      await rf3Topic(topic, 3);
      const controllerBefore = await c.controllerId();
      const producer = await Producer.connect({ bootstrap: c.bootstrapOf(2), acks: -1 });
      const acked: string[][] = [[], [], []];
      let failures = 0;
      let firstFailure = '';
      let stop = false;
      let i = 0;
      const load = (async () => {
        while (!stop) {
          const partition = i % 3;
          const values = Array.from({ length: 20 }, (_, k) => `${i}-${k}`);
          i++;
          try {
            await producer.send(
              topic,
              values.map((value) => ({ value, partition })),
            );
            acked[partition]!.push(...values);
          } catch (e) {
            failures++;
            firstFailure ||= e instanceof Error ? e.message : String(e);
          }
        }
      })();
      const ackedNow = (): number => acked.reduce((n, a) => n + a.length, 0);
      try {
        await waitFor('load before the restart', async () => (ackedNow() >= 500 ? true : undefined));
        await c.zk.stop();
        // Writes go on while ZooKeeper is down (the data path does not need it), for longer than the
        // session timeout: the restarted server restarts every session's timer, so no broker loses its own.
        const atStop = ackedNow();
        const downSince = Date.now();
        await waitFor(
          'acknowledgements while ZooKeeper is down, for longer than a session timeout',
          async () =>
            ackedNow() >= atStop + 500 && Date.now() - downSince > sessionTimeoutMs + 1000 ? true : undefined,
          30_000,
        );
        await c.zk.start();
        const atStart = ackedNow();
        await waitFor('load after the restart', async () => (ackedNow() >= atStart + 500 ? true : undefined));
      } finally {
        stop = true;
        await load;
        await producer.close();
      }
      assert.equal(failures, 0, `produce failures across the restart: ${firstFailure}`);
      assert.deepEqual(c.running(), [...c.ids], 'no broker stopped');
      // Same members, same controller: sessions survive a ZooKeeper restart.
      await c.waitReady();
      assert.equal(await c.controllerId(), controllerBefore);
      // The controller still hears about new topics (its watches came back with the session).
      await rf3Topic('after-zk-restart', 2);
      for (let p = 0; p < 3; p++) {
        const got = await readValues(c.bootstrapOf(3), topic, p, acked[p]!.length);
        assert.equal(got.length, acked[p]!.length, `partition ${p}: records read`);
        assert.deepEqual(got, acked[p], `partition ${p}: every acknowledged record, in order`);
      }
    }));

  test(
    'kill -9 of a partition leader under acks=all production (Java client): no acknowledged record lost',
    {
      skip: javaSkip,
    },
    () =>
      withClusterLogs(c, () =>
        withTempDir(async (dir) => {
          const jar = await javaClientJar();
          const controller = await c.controllerId();
          const leader = c.ids.find((id) => id !== controller)!;
          const others = c.ids.filter((id) => id !== leader);
          const topic = 'leader-kill';
          await createAssignedTopic(c, controller, topic, [[leader, ...others]], {
            'min.insync.replicas': '2',
          });
          const { base } = newRun();
          const acked = join(dir, 'acked.txt');
          const common = ['--topic', topic, '--count', '20000', '--base-ts', `${base}`];
          const { result, crash } = await produceThroughCrash(
            c.broker(leader),
            'java',
            ['-jar', jar, 'produce', '--bootstrap', c.bootstrapOf(others[0]!), ...common].concat([
              '--compression',
              'lz4',
              '--rate',
              '4000',
              '--acked-file',
              acked,
              '--allow-failures',
            ]),
            4000,
          );
          const produced = jsonLines(result)[0]!;
          assert.ok(Number(produced.acked) > crash.ackedAtKill, 'acknowledgements after the kill');
          // The idempotent producer rides out the failover: every record is acknowledged, none twice.
          assert.equal(produced.failed, 0, JSON.stringify(produced));
          await c.waitReady();
          const verified = await run('java', [
            '-jar',
            jar,
            'verify',
            '--bootstrap',
            c.bootstrapOf(others[1]!),
            ...common,
            '--acked-file',
            acked,
          ]);
          assertSummaries(verified, [topic], 'verify after the leader was killed');
          process.stdout.write(
            `# leader kill: ${JSON.stringify(crash)}; producer ${JSON.stringify(produced)}\n`,
          );
        }),
      ),
  );

  test('kill -9 of the controller broker: another broker takes over, leaders move, the old one rejoins', () =>
    withClusterLogs(c, async () => {
      const topic = 'failover';
      await rf3Topic(topic, 3);
      const before = (await c.metadata(1, [topic])).topics[0]!.partitions;
      const old = await c.controllerId();
      const t0 = Date.now();
      await c.kill9(old);
      const next = await c.controllerId(30_000);
      const takeoverMs = Date.now() - t0;
      assert.notEqual(next, old);
      const live = c.running();
      const after = await c.waitForMetadata(
        `brokers ${live.join(',')} without ${old}, leaders of ${topic} moved off it`,
        (m) =>
          m.brokers.every((b) => b.nodeId !== old) &&
          allLed(c, m) &&
          m.topics[0]!.partitions.every((p) => !p.isrNodes.includes(old)),
        { topics: [topic] },
      );
      for (const p of after.get(live[0]!)!.topics[0]!.partitions) {
        const was = before.find((x) => x.partitionIndex === p.partitionIndex)!;
        if (was.leaderId === old) {
          assert.ok(p.leaderEpoch > was.leaderEpoch, `partition ${p.partitionIndex}: a new leader epoch`);
        }
      }
      // The new controller acts: a topic created now gets leaders, and writes go through. RF 3 is refused
      // while only two brokers live.
      const cl = await Cluster.connect({ bootstrap: c.bootstrapOf(next) });
      try {
        await assert.rejects(
          createTopic(cl, 'after-failover-rf3', { partitions: 1, replicationFactor: 3 }),
          (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_REPLICATION_FACTOR,
        );
        await createTopic(cl, 'after-failover-rf2', { partitions: 2, replicationFactor: 2 });
      } finally {
        cl.close();
      }
      await c.waitForMetadata('after-failover-rf2 led', (m) => allLed(c, m), {
        topics: ['after-failover-rf2'],
      });
      const producer = await Producer.connect({ bootstrap: c.bootstrapOf(next), acks: -1 });
      try {
        for (let p = 0; p < 3; p++)
          await producer.send(topic, [{ value: 'after the failover', partition: p }]);
      } finally {
        await producer.close();
      }
      // The old controller comes back as an ordinary broker and catches up.
      await c.restart(old);
      await c.waitReady();
      assert.equal(await c.controllerId(), next, 'the controller stays where it moved');
      await c.waitForMetadata(
        `${old} back in every ISR of ${topic}`,
        (m) => m.topics[0]!.partitions.every((p) => p.isrNodes.length === 3),
        { topics: [topic] },
      );
      process.stdout.write(`# controller ${old} -> ${next} in ${takeoverMs} ms after kill -9\n`);
    }));

  test('a second broker with a registered broker.id refuses to start, naming the id', () =>
    withClusterLogs(c, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'samsa-dup-id-'));
      const sessionMs = 2000;
      const t0 = Date.now();
      try {
        await assert.rejects(
          startBroker({
            dataDir: dir,
            overrides: {
              ...clusterDefaults(3),
              'broker.id': '2',
              'zookeeper.connect': c.zkConnect,
              'zookeeper.session.timeout.ms': String(sessionMs),
            },
          }),
          (e: unknown) => {
            const text = e instanceof Error ? e.message : String(e);
            assert.match(text, /waiting for it to expire/);
            assert.match(text, /cannot start: broker\.id: another broker with broker\.id=2 is registered/);
            return true;
          },
        );
        // It waited for a stale registration first (1.5x the session timeout).
        assert.ok(Date.now() - t0 >= 1.5 * sessionMs, `refused after ${Date.now() - t0} ms`);
        // The broker that owns the id is untouched.
        const m = await c.metadata(2);
        assert.deepEqual(m.brokers.map((b) => b.port).sort(), c.ids.map((id) => c.broker(id).port).sort());
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }));

  test('a log directory of another cluster, or of a cluster ZooKeeper does not know, refuses to start and keeps its data', () =>
    withClusterLogs(c, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'samsa-other-cluster-'));
      let other: BrokerHandle | undefined;
      try {
        const base = { ...clusterDefaults(1), 'broker.id': '7' };
        const home = `${c.zk.connectString}/another-cluster-${Date.now()}`;
        other = await startBroker({ dataDir: dir, overrides: { ...base, 'zookeeper.connect': home } });
        const otherId = (await metadataOf(other.bootstrap)).clusterId!;
        const ours = (await c.metadata(1)).clusterId!;
        assert.notEqual(otherId, ours);
        const cl = await Cluster.connect({ bootstrap: other.bootstrap });
        try {
          // Until the new cluster's controller has seen its one broker register, a topic is refused with
          // INVALID_REPLICATION_FACTOR (no brokers available): retry that, nothing else.
          await waitFor('the other cluster to take a topic', async () => {
            try {
              await createTopic(cl, 'precious', { partitions: 1, replicationFactor: 1 });
              return true;
            } catch (e) {
              if (e instanceof KafkaError && e.code === ErrorCode.INVALID_REPLICATION_FACTOR)
                return undefined;
              throw e;
            }
          });
        } finally {
          cl.close();
        }
        const producer = await Producer.connect({ bootstrap: other.bootstrap });
        try {
          await producer.send('precious', [{ value: 'keep me', partition: 0 }]);
        } finally {
          await producer.close();
        }
        await other.stop();
        const refused = (connect: string, clusterInZk: RegExp) =>
          assert.rejects(
            startBroker({ dataDir: dir, overrides: { ...base, 'zookeeper.connect': connect } }),
            (e: unknown) => {
              const text = e instanceof Error ? e.message : String(e);
              assert.match(text, /cannot start: zookeeper\.connect: the cluster in ZooKeeper/);
              assert.match(text, clusterInZk);
              assert.match(
                text,
                new RegExp(
                  `holds data of cluster ${otherId}: this broker is trying to join the wrong cluster`,
                ),
              );
              return true;
            },
          );
        // Another cluster's ZooKeeper.
        await refused(c.zkConnect, new RegExp(`has id ${ours}`));
        assert.ok(
          (await c.metadata(1)).brokers.every((b) => b.nodeId !== 7),
          'broker 7 never joined',
        );
        // A ZooKeeper that knows no cluster (its data lost, a mistyped chroot): refused as well, where adopting
        // the log dir's cluster id would have had the controller delete every log as stray.
        await refused(`${c.zk.connectString}/empty-${Date.now()}`, /has id \S+,/);
        // Back home, the data is all there.
        await other.restart();
        // A restarted broker learns its topics from the controller (itself) just after it says it started.
        await waitFor('precious led after the restart', async () => {
          const m = await metadataOf(other!.bootstrap, ['precious']);
          return (m.topics[0]?.partitions[0]?.leaderId ?? -1) >= 0 ? true : undefined;
        });
        const values = await readValues(other.bootstrap, 'precious', 0, 1);
        assert.deepEqual(values, ['keep me']);
      } finally {
        await other?.destroy();
        await rm(dir, { recursive: true, force: true });
      }
    }));
});

describe('ZooKeeper unreachable at start', { skip: zooKeeperSkip(), timeout: 120_000 }, () => {
  let zk: TestZooKeeper | undefined;
  let broker: BrokerHandle | undefined;
  after(async () => {
    await broker?.destroy();
    await zk?.destroy();
  });

  test('the broker retries with growing backoff, logging why, and starts once ZooKeeper is up', async () => {
    const port = await freePort();
    const retries: { retryInMs: number; error: string }[] = [];
    let pending = '';
    let enough: () => void = () => {};
    const twoRetries = new Promise<void>((resolve) => {
      enough = resolve;
    });
    const starting = startBroker({
      overrides: {
        ...clusterDefaults(1),
        'broker.id': '1',
        'zookeeper.connect': `127.0.0.1:${port}/late`,
        'zookeeper.connection.timeout.ms': '1000',
      },
      onOutput: (text) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.includes('cannot reach ZooKeeper; retrying')) continue;
          const entry = JSON.parse(line) as { retryInMs: number; error: string; zookeeper: string };
          assert.equal(entry.zookeeper, `127.0.0.1:${port}/late`);
          retries.push(entry);
          if (retries.length === 2) enough();
        }
      },
    });
    starting.catch(() => {}); // awaited below
    await twoRetries;
    assert.ok(retries[1]!.retryInMs > retries[0]!.retryInMs, `backoff grows: ${JSON.stringify(retries)}`);
    assert.match(retries[0]!.error, /could not connect to ZooKeeper/);
    zk = await startTestZooKeeper({ port });
    broker = await starting;
    assert.match(broker.logs(), /connected to ZooKeeper/);
    // A member of the cluster like any other: it elects itself controller and learns of itself.
    const b = broker;
    const m = await waitFor('the broker to list itself and a controller', async () => {
      const res = await metadataOf(b.bootstrap);
      return res.brokers.length > 0 && res.controllerId >= 0 ? res : undefined;
    });
    assert.deepEqual(
      m.brokers.map((x) => x.nodeId),
      [1],
      summarize(m),
    );
    assert.equal(m.controllerId, 1);
  });
});
