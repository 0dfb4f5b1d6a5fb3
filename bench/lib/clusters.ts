// The three-broker clusters of the cluster workloads (R rows), started side by side on fresh data directories:
//
//   Samsa  ZooKeeper (src/cluster/zk/zookeeper-process.ts, Debian's zookeeper 3.8) + N `samsa broker`
//          processes in ZooKeeper mode (broker.id 1..N; the controller is one of them, elected in ZooKeeper)
//   Kafka  a KRaft controller-only node + N broker-only nodes (scripts/kafka-cluster.sh), Apache Kafka 4.1.1
//
// The metadata quorum is a process of its own on both sides (ZooKeeper; the KRaft controller). Both detect a dead
// broker through a session of the same length: Samsa's ZooKeeper session (zookeeper.session.timeout.ms, the client
// pings every third of it) and Kafka's broker session (broker.session.timeout.ms, heartbeats every
// broker.heartbeat.interval.ms = 2000 ms, Kafka's default). Everything else is each broker's default.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KafkaConnection } from '../../src/client/connection.js';
import { startZooKeeper, type ZooKeeperHandle } from '../../src/cluster/zk/zookeeper-process.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import { freePort } from './brokers.js';
import { type Cost, startCost } from './proc.js';

const run = promisify(execFile);

/** What both clusters run with, beyond their defaults. */
export const clusterSettings = {
  brokers: 3,
  /** zookeeper.session.timeout.ms (Samsa) = broker.session.timeout.ms (Kafka). */
  sessionTimeoutMs: 6000,
  /** ZooKeeper's tickTime: sessions expire on tick boundaries, so a short tick keeps expiry near the timeout. */
  zkTickTimeMs: 200,
};

export interface ClusterHandle {
  name: 'samsa' | 'kafka';
  label: string;
  /** Broker ids, 1..N. */
  ids: number[];
  /** host:port of every broker. */
  bootstrap(): string;
  port(id: number): number;
  /** Ids of the brokers whose process runs. */
  running(): number[];
  /** Every process of the cluster (brokers and the metadata quorum), for CPU and RSS. */
  pids(): number[];
  /** The broker acting as controller, or null when the controller is not a broker (KRaft controller node). */
  controllerBroker(): Promise<number | null>;
  kill9(id: number): Promise<void>;
  /** Clean stop of one broker (SIGTERM; each broker's own shutdown); resolves when its process has exited. */
  stopBroker(id: number): Promise<void>;
  /** Starts a killed or stopped broker again (same port and data); resolves when every broker lists it again. */
  restart(id: number): Promise<void>;
  stop(): Promise<void>;
  /**
   * When the controller acted on the death of broker `id` (at or after sinceMs), from its log: Samsa's controller
   * "brokers changed" with the broker dead (its ZooKeeper session expired), Kafka's "Fencing broker N ... because
   * its session has timed out". Undefined when the log has no such line.
   */
  detectedAt(id: number, sinceMs: number): number | undefined;
  /** Where the processes write their output. */
  logDir: string;
}

export async function metadataOf(port: number, topics: string[] | null): Promise<MetadataResponse> {
  const c = await KafkaConnection.connect({ host: '127.0.0.1', port, clientId: 'bench', timeoutMs: 5000 });
  try {
    return await c.request<MetadataResponse>(ApiKey.Metadata, {
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: '0'.repeat(32) })),
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  } finally {
    c.close();
  }
}

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until every running broker lists exactly the running brokers. */
async function waitAllListed(c: ClusterHandle, ms: number): Promise<void> {
  const live = c.running().join(',');
  await waitFor(`brokers ${live} to list each other`, ms, async () => {
    for (const id of c.running()) {
      const m = await metadataOf(c.port(id), []);
      const ids = m.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
      if (ids.join(',') !== live || m.controllerId < 0) return undefined;
    }
    return true;
  });
}

function create(
  conn: KafkaConnection,
  topic: string,
  partitions: number,
  replicationFactor: number,
  configs: Record<string, string>,
): Promise<CreateTopicsResponse> {
  return conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
    topics: [
      {
        name: topic,
        numPartitions: partitions,
        replicationFactor,
        assignments: [],
        configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
      },
    ],
    timeoutMs: 30_000,
    validateOnly: false,
  });
}

/**
 * Creates a topic with replication factor N and the given configs, and waits until every running broker
 * shows a leader and the full ISR for every partition.
 */
export async function createReplicatedTopic(
  c: ClusterHandle,
  topic: string,
  partitions: number,
  configs: Record<string, string>,
): Promise<void> {
  const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: c.port(c.running()[0] as number) });
  try {
    // Just after a restart the controller may not count the broker yet (INVALID_REPLICATION_FACTOR) while every
    // broker already lists it: try again for a while.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await create(conn, topic, partitions, c.ids.length, configs);
      const t = res.topics[0];
      if (t === undefined || t.errorCode === ErrorCode.NONE) break;
      if (t.errorCode !== ErrorCode.INVALID_REPLICATION_FACTOR || Date.now() > deadline) {
        throw new Error(`creating ${topic} on ${c.label}: error ${t.errorCode} ${t.errorMessage ?? ''}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    conn.close();
  }
  await waitFor(`${topic} to have leaders and full ISRs`, 60_000, async () => {
    for (const id of c.running()) {
      const m = await metadataOf(c.port(id), [topic]);
      const ps = m.topics[0]?.partitions ?? [];
      if (ps.length !== partitions) return undefined;
      if (!ps.every((p) => p.leaderId >= 0 && p.isrNodes.length === c.ids.length)) return undefined;
    }
    return true;
  });
}

// ---- Samsa -----------------------------------------------------------------------------------------------

interface SamsaNode {
  id: number;
  port: number;
  dataDir: string;
  child: ChildProcess | null;
}

export async function startSamsaCluster(samsaMain: string, workDir: string): Promise<ClusterHandle> {
  const home = path.join(workDir, 'samsa-cluster');
  fs.mkdirSync(home, { recursive: true });
  const zkLog = fs.createWriteStream(path.join(home, 'zookeeper.log'));
  const zk: ZooKeeperHandle = await startZooKeeper({
    dir: path.join(home, 'zookeeper'),
    tickTimeMs: clusterSettings.zkTickTimeMs,
    logLevel: 'INFO',
    onOutput: (t) => zkLog.write(t),
  });
  const zkConnect = `${zk.connectString}/samsa`;
  const nodes = new Map<number, SamsaNode>();
  const ids = Array.from({ length: clusterSettings.brokers }, (_, i) => i + 1);
  for (const id of ids) {
    nodes.set(id, {
      id,
      port: await freePort(),
      dataDir: path.join(home, `broker-${id}`, 'data'),
      child: null,
    });
  }
  const extra = (process.env.SAMSA_BENCH_NODE_FLAGS ?? '').split(' ').filter((s) => s !== '');
  const launch = (n: SamsaNode): void => {
    fs.mkdirSync(n.dataDir, { recursive: true });
    const out = fs.openSync(path.join(home, `broker-${n.id}.log`), 'a');
    const overrides: Record<string, string> = {
      'broker.id': String(n.id),
      listeners: `PLAINTEXT://127.0.0.1:${n.port}`,
      'log.dirs': n.dataDir,
      'zookeeper.connect': zkConnect,
      'zookeeper.session.timeout.ms': String(clusterSettings.sessionTimeoutMs),
      'offsets.topic.replication.factor': String(Math.min(3, ids.length)),
      'group.initial.rebalance.delay.ms': '0',
    };
    const args = [...extra, samsaMain, 'broker'];
    for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
    const child = spawn(process.execPath, args, {
      cwd: home,
      stdio: ['ignore', out, out],
      env: { ...process.env, SAMSA_LOG_LEVEL: 'info' },
    });
    fs.closeSync(out);
    n.child = child;
    child.once('exit', () => {
      if (n.child === child) n.child = null;
    });
  };
  const handle: ClusterHandle = {
    name: 'samsa',
    label: 'Samsa',
    ids,
    logDir: home,
    bootstrap: () => ids.map((id) => `127.0.0.1:${nodes.get(id)?.port}`).join(','),
    port: (id) => nodes.get(id)?.port as number,
    running: () => ids.filter((id) => nodes.get(id)?.child != null),
    pids: () => [
      ...ids.map((id) => nodes.get(id)?.child?.pid).filter((p): p is number => p !== undefined),
      ...(zk.pid === undefined ? [] : [zk.pid]),
    ],
    async controllerBroker() {
      const m = await metadataOf(handle.port(handle.running()[0] as number), []);
      return m.controllerId;
    },
    detectedAt(id, sinceMs) {
      let first: number | undefined;
      for (const b of ids) {
        const file = path.join(home, `broker-${b}.log`);
        if (!fs.existsSync(file)) continue;
        for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
          if (!line.includes('"brokers changed"')) continue;
          try {
            const j = JSON.parse(line) as { ts: string; dead?: number[] };
            const at = Date.parse(j.ts);
            if (at >= sinceMs && j.dead?.includes(id) === true && (first === undefined || at < first))
              first = at;
          } catch {}
        }
      }
      return first;
    },
    async kill9(id) {
      const n = nodes.get(id) as SamsaNode;
      const child = n.child;
      if (child === null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
    async stopBroker(id) {
      const child = nodes.get(id)?.child;
      if (child == null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await gone;
      clearTimeout(t);
    },
    async restart(id) {
      launch(nodes.get(id) as SamsaNode);
      await waitAllListed(handle, 60_000);
    },
    async stop() {
      await Promise.all(
        ids.map(async (id) => {
          const child = nodes.get(id)?.child;
          if (child == null) return;
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await gone;
          clearTimeout(t);
        }),
      );
      await zk.stop();
      zkLog.end();
    },
  };
  try {
    for (const n of nodes.values()) launch(n);
    await waitAllListed(handle, 90_000);
  } catch (e) {
    await handle.stop().catch(() => {});
    throw e;
  }
  return handle;
}

// ---- Kafka -----------------------------------------------------------------------------------------------

export async function startKafkaCluster(root: string, workDir: string): Promise<ClusterHandle> {
  const home = path.join(workDir, 'kafka-cluster');
  const script = path.join(root, 'scripts', 'kafka-cluster.sh');
  const env = {
    ...process.env,
    KAFKA_JVM_OPTS: `${process.env.KAFKA_JVM_OPTS ?? ''} -Dlog4j2.configurationFile=${path.join(root, 'bench', 'kafka', 'log4j2-cluster.properties')}`,
  };
  const { stdout } = await run(
    script,
    [
      'start',
      '--dir',
      home,
      '--fresh',
      '--brokers',
      String(clusterSettings.brokers),
      '--override',
      `broker.session.timeout.ms=${clusterSettings.sessionTimeoutMs}`,
    ],
    { cwd: root, env, maxBuffer: 16 * 1024 * 1024 },
  );
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('bootstrap=')) throw new Error(`kafka-cluster.sh printed no bootstrap: ${stdout}`);
  const endpoints = line.slice('bootstrap='.length).split(',');
  const ids = endpoints.map((_, i) => i + 1);
  const portOf = (id: number): number => Number(endpoints[id - 1]?.split(':')[1]);
  const pidOf = (node: string): number | undefined => {
    try {
      return Number(fs.readFileSync(path.join(home, node, 'kafka.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
  };
  const alive = (pid: number | undefined): boolean => {
    if (pid === undefined) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const handle: ClusterHandle = {
    name: 'kafka',
    label: 'Kafka',
    ids,
    logDir: home,
    bootstrap: () => endpoints.join(','),
    port: portOf,
    running: () => ids.filter((id) => alive(pidOf(`broker-${id}`))),
    pids: () =>
      [...ids.map((id) => `broker-${id}`), 'controller']
        .map(pidOf)
        .filter((p): p is number => p !== undefined && alive(p)),
    controllerBroker: async () => null,
    detectedAt(id, sinceMs) {
      const file = path.join(home, 'controller', 'kafka.out');
      if (!fs.existsSync(file)) return undefined;
      const re = new RegExp(
        `^\\[(\\d{4}-\\d\\d-\\d\\d) (\\d\\d:\\d\\d:\\d\\d),(\\d{3})\\].* Fencing broker ${id} at epoch \\d+ because its session has timed out`,
      );
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const m = re.exec(line);
        if (m === null) continue;
        // log4j prints the local time; Date.parse reads a date-time without a zone as local time too.
        const at = Date.parse(`${m[1]}T${m[2]}.${m[3]}`);
        if (at >= sinceMs) return at;
      }
      return undefined;
    },
    async kill9(id) {
      const pid = pidOf(`broker-${id}`);
      if (pid === undefined || !alive(pid)) return;
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await new Promise((r) => setTimeout(r, 10));
    },
    async stopBroker(id) {
      // SIGTERM, SIGKILL after 60 s; removes the pid file (running() then leaves it out).
      await run(path.join(root, 'scripts', 'kafka-stop.sh'), ['--dir', path.join(home, `broker-${id}`)], {
        cwd: root,
        env,
      });
    },
    async restart(id) {
      await run(script, ['restart-node', '--dir', home, '--node', `broker-${id}`], {
        cwd: root,
        env,
        maxBuffer: 16 * 1024 * 1024,
      });
      await waitAllListed(handle, 60_000);
    },
    async stop() {
      await run(script, ['stop', '--dir', home], { cwd: root, env }).catch(() => {});
    },
  };
  return handle;
}

// ---- cost ------------------------------------------------------------------------------------------------

/** CPU seconds and peak RSS over every process of a cluster, from now to end() (a killed broker counts 0). */
export function clusterCost(c: ClusterHandle): { end(): Cost } {
  return startCost(c.pids(), true);
}
