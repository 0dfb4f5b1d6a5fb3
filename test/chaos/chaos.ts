// `npm run chaos`: a seeded, randomized run of the replication faults for a few minutes, outside `npm test`.
//
//   SAMSA_CHAOS_SEED=<n>        the seed (default: random); printed first, so any run can be repeated
//   SAMSA_CHAOS_MINUTES=<m>     how long to inject faults (default 5)
//   SAMSA_CHAOS_CLIENT=java|kafkajs   the workload's client (default java; kafkajs cannot get past a
//                               partitioned broker, so with kafkajs there are no partitions)
//   SAMSA_CHAOS_NETNS=0         brokers on 127.0.0.1 without partitions even where namespaces work
//
// A real ZooKeeper and three brokers (each in a network namespace of its own when run as root with iproute2,
// test/helpers/netns.ts), an RF 3 topic with min.insync.replicas=2 and 4 partitions, continuous idempotent
// acks=all production and a committing consumer group (test/helpers/replication-workload.ts). Until the time
// is up, faults drawn from the seed one after another: kill -9 (restart after a while, or at once), SIGTERM and
// restart, a broker cut off from everything or only from the cluster (partitions), ZooKeeper stopped or killed,
// and two at once (two brokers out, a broker killed while ZooKeeper is down). After each: the cluster in sync
// again within 2 minutes, committed offsets neither back nor past the log end, the group committing again, every
// acknowledged record in the log at its offset, once, in order (test/helpers/faults.ts observeFault). At the end
// the same over everything, and no record the producer gave up on.
//
// Exit 0 when every invariant held; 1 with the seed, the fault that broke it and a directory holding every
// broker's, ZooKeeper's and the client's output otherwise.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import {
  createReplicatedTopic,
  describeReport,
  type FaultReport,
  type FaultStep,
  faultOverrides,
  leadersOf,
  observeFault,
} from '../helpers/faults.js';
import { createNetwork, netnsMissing, startNetnsCluster, type TestNetwork } from '../helpers/netns.js';
import { verifyTopic, type Workload } from '../helpers/replication-workload.js';
import { startWorkload, type WorkloadClient } from '../helpers/workload-clients.js';
import type { TestZooKeeper } from '../helpers/zookeeper.js';

const partitions = 4;
const recoverTimeoutMs = 120_000;

/** mulberry32: a small seeded generator, enough to replay the same choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Env {
  c: TestCluster;
  w: Workload;
  net: TestNetwork | undefined;
  topic: string;
  rand: () => number;
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const between = (rand: () => number, lo: number, hi: number): number => Math.round(lo + rand() * (hi - lo));

async function partitionsLedBy(e: Env, id: number): Promise<number[]> {
  return [...(await leadersOf(e.c, e.topic))].filter(([, l]) => l === id).map(([p]) => p);
}

/** Draws the next fault. Every choice comes from e.rand, in the same order for the same seed. */
async function nextFault(e: Env): Promise<FaultStep> {
  const { c, net, rand } = e;
  const kinds = ['kill', 'kill-now', 'term', 'zk-stop', 'zk-kill', 'two-brokers', 'kill-while-zk-down'];
  if (net !== undefined) kinds.push('cut', 'cut', 'cut-cluster', 'cut-cluster');
  const kind = pick(rand, kinds);
  const ids = c.ids;
  const a = pick(rand, ids);
  const b = pick(
    rand,
    ids.filter((x) => x !== a),
  );
  const delay = between(rand, 0, 8000);
  const leaderOfRandom = (await leadersOf(c, e.topic)).get(Math.floor(rand() * partitions)) ?? a;
  switch (kind) {
    case 'kill': {
      const v = rand() < 0.5 ? leaderOfRandom : a;
      return {
        name: `kill -9 broker ${v}, restart ${delay} ms after the next ack`,
        hit: await partitionsLedBy(e, v),
        victim: v,
        inject: () => c.kill9(v),
        recover: async () => {
          await sleep(delay);
          await c.restart(v);
        },
      };
    }
    case 'kill-now':
      return {
        name: `kill -9 broker ${a} and restart it at once (its old session still alive)`,
        hit: await partitionsLedBy(e, a),
        inject: () => c.kill9(a),
        recover: () => c.restart(a),
        ackBeforeRecover: false,
      };
    case 'term':
      return {
        name: `SIGTERM broker ${a}, start ${delay} ms after the next ack`,
        hit: await partitionsLedBy(e, a),
        inject: () => c.stop(a),
        recover: async () => {
          await sleep(delay);
          await c.restart(a);
        },
      };
    case 'zk-stop': {
      const down = between(rand, 1000, 12_000);
      return {
        name: `ZooKeeper stopped for ${down} ms`,
        hit: [],
        inject: () => c.zk.stop(),
        recover: async () => {
          await sleep(down);
          await c.zk.start();
        },
        ackBeforeRecover: false,
      };
    }
    case 'zk-kill':
      return {
        name: 'ZooKeeper killed (SIGKILL), started again after the next ack',
        hit: [],
        inject: () => c.zk.kill9(),
        recover: () => c.zk.start(),
      };
    case 'two-brokers': {
      const how = net !== undefined && rand() < 0.5 ? 'cut' : 'kill';
      return {
        name: `two brokers out: kill -9 broker ${a}, ${how === 'cut' ? 'cut off' : 'kill -9'} broker ${b}; back after ${delay} ms`,
        hit: [...(await partitionsLedBy(e, a)), ...(await partitionsLedBy(e, b))],
        inject: async () => {
          await c.kill9(a);
          if (how === 'cut') await net!.cut(`b${b}`);
          else await c.kill9(b);
        },
        recover: async () => {
          await sleep(delay);
          if (how === 'cut') await net!.heal(`b${b}`);
          else await c.restart(b);
          await c.restart(a);
        },
        ackBeforeRecover: false,
      };
    }
    case 'kill-while-zk-down':
      return {
        name: `ZooKeeper stopped, kill -9 broker ${a} while it is down, both back after ${delay} ms`,
        hit: await partitionsLedBy(e, a),
        inject: async () => {
          await c.zk.stop();
          await c.kill9(a);
        },
        recover: async () => {
          await sleep(delay);
          await c.zk.start();
          await c.restart(a);
        },
        ackBeforeRecover: false,
      };
    case 'cut':
      return {
        name: `broker ${a} cut off from everything, healed ${delay} ms after the next ack`,
        hit: await partitionsLedBy(e, a),
        victim: a,
        inject: () => net!.cut(`b${a}`),
        recover: async () => {
          await sleep(delay);
          await net!.heal(`b${a}`);
        },
      };
    default:
      return {
        name: `broker ${leaderOfRandom} cut off from the cluster (clients still reach it), healed ${delay} ms after the next ack`,
        hit: await partitionsLedBy(e, leaderOfRandom),
        victim: leaderOfRandom,
        inject: () => net!.cut(`b${leaderOfRandom}`, { clients: true }),
        recover: async () => {
          await sleep(delay);
          await net!.heal(`b${leaderOfRandom}`);
        },
      };
  }
}

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '' || v === 'random') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number; got '${v}'`);
  return n;
}

async function main(): Promise<number> {
  const seed = envInt('SAMSA_CHAOS_SEED', Math.floor(Math.random() * 2 ** 31));
  const minutes = envInt('SAMSA_CHAOS_MINUTES', 5);
  const client = (process.env.SAMSA_CHAOS_CLIENT ?? 'java') as WorkloadClient;
  if (client !== 'java' && client !== 'kafkajs')
    throw new Error('SAMSA_CHAOS_CLIENT must be java or kafkajs');
  console.log(`chaos seed=${seed} minutes=${minutes} client=${client}`);
  console.log(`repeat with: SAMSA_CHAOS_SEED=${seed} SAMSA_CHAOS_MINUTES=${minutes} npm run chaos`);
  const rand = prng(seed);
  const why = process.env.SAMSA_CHAOS_NETNS === '0' ? 'SAMSA_CHAOS_NETNS=0' : netnsMissing();
  const useNetns = why === undefined && client === 'java';
  console.log(
    useNetns
      ? 'network: namespaces (partitions included)'
      : `network: 127.0.0.1, no partitions (${why ?? 'kafkajs does not get past a partitioned broker'})`,
  );

  const began = Date.now();
  const elapsed = (): string => `${((Date.now() - began) / 1000).toFixed(0)}s`;
  const dir = await mkdtemp(join(tmpdir(), `samsa-chaos-${seed}-`));
  let net: TestNetwork | undefined;
  let zk: TestZooKeeper | undefined;
  let c: TestCluster | undefined;
  let w: Workload | undefined;
  const reports: FaultReport[] = [];
  let current = 'start-up';
  try {
    if (useNetns) {
      net = await createNetwork(['zk', 'b1', 'b2', 'b3']);
      ({ zk, c } = await startNetnsCluster(net, dir, faultOverrides));
    } else {
      c = await startCluster({ brokers: 3, overrides: faultOverrides });
    }
    const topic = `chaos-${seed}`;
    await createReplicatedTopic(c, topic, partitions);
    w = await startWorkload(client, {
      bootstrap: c.bootstrap().split(','),
      topic,
      partitions,
      groupId: `chaos-${seed}`,
      ratePerPartition: 50,
    });
    await w.waitForCommitProgress(new Map());
    const env: Env = { c, w, net, topic, rand };
    const topics = [topic, '__consumer_offsets'];
    const deadline = began + minutes * 60_000;
    for (let n = 1; Date.now() < deadline; n++) {
      const step = await nextFault(env);
      current = `#${n} ${step.name}`;
      console.log(`[${elapsed()}] ${current}`);
      const r = await observeFault(c, w, topics, step, recoverTimeoutMs);
      reports.push(r);
      console.log(`[${elapsed()}]   ${describeReport(r)}`);
      await sleep(between(rand, 0, 3000));
    }
    current = 'the final check';
    await w.stop();
    const v = await verifyTopic(c.bootstrap(), topic, partitions, w.tag, w.snapshot());
    if (w.failures.length > 0) {
      throw new Error(
        `the producer gave up on ${w.failures.length} record(s): ${JSON.stringify(w.failures.slice(0, 5))}`,
      );
    }
    const hit = reports.flatMap((r) => (r.hitAckMs === undefined ? [] : [r.hitAckMs])).sort((x, y) => x - y);
    const median = hit[Math.floor(hit.length / 2)];
    console.log(
      `chaos seed=${seed}: PASSED ${reports.length} faults in ${elapsed()}; ${v.acked} records acknowledged, all in the log ` +
        `once and in order (${v.unacked} more written unacknowledged); failure -> next ack on a hit partition: ` +
        `median ${median ?? '-'} ms, max ${hit.at(-1) ?? '-'} ms over ${hit.length} faults`,
    );
    await rm(dir, { recursive: true, force: true });
    return 0;
  } catch (e) {
    const logs = join(dir, 'logs');
    await mkdir(logs, { recursive: true });
    for (const id of c?.ids ?? []) await writeFile(join(logs, `broker-${id}.log`), c!.broker(id).logs());
    if (c !== undefined) await writeFile(join(logs, 'zookeeper.log'), c.zk.logs());
    if (w !== undefined) await writeFile(join(logs, 'client.log'), w.clientLogs.join('\n'));
    console.error(`chaos seed=${seed}: FAILED during ${current} after ${elapsed()}`);
    console.error(e instanceof Error ? e.message : String(e));
    console.error(`logs: ${logs}`);
    console.error(`repeat with: SAMSA_CHAOS_SEED=${seed} SAMSA_CHAOS_MINUTES=${minutes} npm run chaos`);
    return 1;
  } finally {
    await w?.stop(20_000).catch(() => {});
    await c?.destroy().catch(() => {});
    await zk?.destroy().catch(() => {});
    await net?.destroy().catch(() => {});
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
