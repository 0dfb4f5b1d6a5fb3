// A ZooKeeper-mode Samsa cluster for tests: a real ZooKeeper (test/helpers/zookeeper.ts) and N real broker
// processes (test/helpers/broker.ts, bin/samsa.js broker) with broker.id 1..N, each on its own port and data
// directory, under a chroot of their own (so several clusters may share one ZooKeeper).
//
//   const c = await startCluster({ brokers: 3 });        // ready: every broker lists all 3 and a controller
//   const leader = await c.leaderOf('orders', 0);         // broker id
//   await c.kill9(await c.controllerId());                // a crash; c.restart(id) brings it back
//   await c.destroy();                                    // brokers, then ZooKeeper (if the cluster started it)
//
// Brokers run with short ZooKeeper sessions (6 s) so a crashed broker's registration goes quickly, no
// initial rebalance delay, a small __consumer_offsets (5 partitions, RF min(3, N)) and short controlled
// shutdown backoff. Processes are tracked (test/helpers/run.ts) and die with the test process.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import { type BrokerHandle, freePort, type StartOptions, startBroker } from './broker.js';
import { startTestZooKeeper, type TestZooKeeper } from './zookeeper.js';

export interface ClusterOptions {
  /** Number of brokers, ids 1..N (default 3; tests on 2 cores start at most 3). */
  brokers?: number;
  /** Keys for every broker, over the defaults below. */
  overrides?: Record<string, string>;
  /** Keys for one broker (by id), over `overrides`. */
  brokerOverrides?: Record<number, Record<string, string>>;
  /** A running ZooKeeper to use (not stopped by destroy()); by default the cluster starts its own. */
  zk?: TestZooKeeper;
  /** How long the whole start may take (default 90 s). */
  readyTimeoutMs?: number;
  /**
   * Where a broker listens and advertises (host, port) and what it runs under (`wrap`, e.g. a network
   * namespace: test/helpers/netns.ts); by default 127.0.0.1, a free port, nothing.
   */
  placement?: (id: number) => { host?: string; port?: number; wrap?: readonly string[] };
}

/** What the brokers of a test cluster run with unless a test says otherwise. */
export function clusterDefaults(brokers: number): Record<string, string> {
  return {
    'zookeeper.session.timeout.ms': '6000',
    'group.initial.rebalance.delay.ms': '0',
    'offsets.topic.num.partitions': '5',
    'offsets.topic.replication.factor': String(Math.min(3, brokers)),
    'controlled.shutdown.retry.backoff.ms': '200',
    'replica.fetch.wait.max.ms': '100',
    'replica.fetch.backoff.ms': '200',
    'auto.leader.rebalance.enable': 'false',
  };
}

export type Metadata = MetadataResponse;

export interface TestCluster {
  readonly zk: TestZooKeeper;
  /** zookeeper.connect of the brokers, with the cluster's chroot. */
  readonly zkConnect: string;
  /** Broker ids, 1..N. */
  readonly ids: readonly number[];
  broker(id: number): BrokerHandle;
  /** Every broker's host:port, comma-separated. */
  bootstrap(): string;
  /** One broker's host:port. */
  bootstrapOf(id: number): string;
  /** Ids of the brokers whose process runs. */
  running(): number[];
  /** A Metadata request (all topics, or `topics`) to one broker. */
  metadata(id: number, topics?: string[] | null): Promise<Metadata>;
  /** Waits until every running broker lists exactly the running brokers and the same live controller. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The controller every running broker agrees on (waits for agreement). */
  controllerId(timeoutMs?: number): Promise<number>;
  /** The leader of topic-partition as seen by broker `via` (default: the first running broker); waits for one. */
  leaderOf(topic: string, partition: number, via?: number): Promise<number>;
  /** Waits until `check` holds on the Metadata of every running broker (or of `only`). */
  waitForMetadata(
    what: string,
    check: (m: Metadata, id: number) => boolean,
    opts?: { topics?: string[] | null; only?: number[]; timeoutMs?: number },
  ): Promise<Map<number, Metadata>>;
  kill9(id: number): Promise<void>;
  /** SIGTERM: controlled shutdown, then exit. */
  stop(id: number): Promise<void>;
  /** Starts a stopped broker again (same port and data); resolves when it says it started. */
  restart(id: number): Promise<void>;
  /** Every broker's output, headed by its id (for failure messages). */
  logs(maxCharsPerBroker?: number): string;
  /** Kills every broker and removes their data, then ZooKeeper unless it was given. */
  destroy(): Promise<void>;
}

const metadataTimeoutMs = 5000;

/** Runs fn with a connection to host:port, closing it afterwards; fails after timeoutMs. */
export async function withConnection<T>(
  bootstrap: string,
  fn: (c: KafkaConnection) => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const [host, port] = bootstrap.split(':');
  const conn = await KafkaConnection.connect({ host: host!, port: Number(port), clientId: 'samsa-test' });
  const give = new AbortController();
  try {
    return await Promise.race([
      fn(conn),
      sleep(timeoutMs, undefined, { signal: give.signal }).then(() => {
        throw new Error(`no answer from ${bootstrap} within ${timeoutMs} ms`);
      }),
    ]);
  } finally {
    give.abort();
    conn.close();
  }
}

/** A Metadata request (all topics, or `topics`) to the broker at host:port. */
export function metadataOf(bootstrap: string, topics: string[] | null = null): Promise<Metadata> {
  return withConnection(
    bootstrap,
    (c) =>
      c.request<Metadata>(ApiKey.Metadata, {
        topics: topics === null ? null : topics.map((name) => ({ name, topicId: '0'.repeat(32) })),
        allowAutoTopicCreation: false,
      }),
    metadataTimeoutMs,
  );
}

/** Polls `probe` until it returns a value other than undefined; throws `what` (and the last error) after timeoutMs. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last === '' ? '' : ` (${last})`}`,
      );
    }
    await sleep(intervalMs);
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const n = opts.brokers ?? 3;
  const ownZk = opts.zk === undefined;
  const zk = opts.zk ?? (await startTestZooKeeper());
  const chroot = `/samsa-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const zkConnect = `${zk.connectString}${chroot}`;
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const brokers = new Map<number, BrokerHandle>();
  const dirs: string[] = [];
  const cluster = new Cluster(zk, ownZk, zkConnect, ids, brokers, dirs);
  try {
    // Ports first, so every broker's listener is fixed before any of them starts.
    const ports = new Map<number, number>();
    for (const id of ids) ports.set(id, opts.placement?.(id).port ?? (await freePort()));
    await Promise.all(
      ids.map(async (id) => {
        const dataDir = await mkdtemp(join(tmpdir(), `samsa-cluster-b${id}-`));
        dirs.push(dataDir);
        const place = opts.placement?.(id);
        const start: StartOptions = {
          dataDir,
          port: ports.get(id)!,
          ...(place?.host === undefined ? {} : { host: place.host }),
          ...(place?.wrap === undefined ? {} : { wrap: place.wrap }),
          overrides: {
            ...clusterDefaults(n),
            ...opts.overrides,
            ...opts.brokerOverrides?.[id],
            'broker.id': String(id),
            'zookeeper.connect': zkConnect,
          },
        };
        brokers.set(id, await startBroker(start));
      }),
    );
    await cluster.waitReady(opts.readyTimeoutMs ?? 90_000);
    return cluster;
  } catch (e) {
    const logs = cluster.logs(4000);
    await cluster.destroy();
    if (e instanceof Error) e.message += `\n${logs}`;
    throw e;
  }
}

class Cluster implements TestCluster {
  constructor(
    readonly zk: TestZooKeeper,
    private readonly ownZk: boolean,
    readonly zkConnect: string,
    readonly ids: readonly number[],
    private readonly brokers: Map<number, BrokerHandle>,
    private readonly dirs: string[],
  ) {}

  broker(id: number): BrokerHandle {
    const b = this.brokers.get(id);
    if (b === undefined) throw new Error(`no broker ${id} in this cluster (${this.ids.join(', ')})`);
    return b;
  }

  bootstrap(): string {
    return this.ids.map((id) => this.broker(id).bootstrap).join(',');
  }

  bootstrapOf(id: number): string {
    return this.broker(id).bootstrap;
  }

  running(): number[] {
    return this.ids.filter((id) => this.brokers.get(id)?.running() === true);
  }

  metadata(id: number, topics: string[] | null = null): Promise<Metadata> {
    return metadataOf(this.bootstrapOf(id), topics);
  }

  async waitForMetadata(
    what: string,
    check: (m: Metadata, id: number) => boolean,
    opts: { topics?: string[] | null; only?: number[]; timeoutMs?: number } = {},
  ): Promise<Map<number, Metadata>> {
    return waitFor(
      what,
      async () => {
        const out = new Map<number, Metadata>();
        for (const id of opts.only ?? this.running()) {
          const m = await this.metadata(id, opts.topics ?? null);
          if (!check(m, id)) throw new Error(`broker ${id} not yet: ${summarize(m)}`);
          out.set(id, m);
        }
        return out;
      },
      opts.timeoutMs ?? 30_000,
    );
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const live = this.running();
    await this.waitForMetadata(
      `brokers ${live.join(',')} to list each other and a controller`,
      (m) => {
        const ids = m.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
        return ids.join(',') === live.join(',') && live.includes(m.controllerId);
      },
      { timeoutMs },
    );
    await this.controllerId(timeoutMs);
  }

  async controllerId(timeoutMs = 30_000): Promise<number> {
    return waitFor(
      'every running broker to name the same live controller',
      async () => {
        const named = new Set<number>();
        for (const id of this.running()) named.add((await this.metadata(id, [])).controllerId);
        const [only] = named;
        return named.size === 1 && only !== undefined && this.running().includes(only) ? only : undefined;
      },
      timeoutMs,
    );
  }

  async leaderOf(topic: string, partition: number, via?: number): Promise<number> {
    return waitFor(`a live leader of ${topic}-${partition}`, async () => {
      const from = via ?? this.running()[0];
      if (from === undefined) throw new Error('no broker runs');
      const m = await this.metadata(from, [topic]);
      const p = m.topics[0]?.partitions.find((x) => x.partitionIndex === partition);
      return p !== undefined && this.running().includes(p.leaderId) ? p.leaderId : undefined;
    });
  }

  kill9(id: number): Promise<void> {
    return this.broker(id).kill9();
  }

  stop(id: number): Promise<void> {
    return this.broker(id).stop('SIGTERM');
  }

  restart(id: number): Promise<void> {
    return this.broker(id).restart();
  }

  logs(maxCharsPerBroker = 20_000): string {
    return this.ids
      .filter((id) => this.brokers.has(id))
      .map((id) => {
        const l = this.broker(id).logs();
        return `--- broker ${id} (tail) ---\n${l.length > maxCharsPerBroker ? `...${l.slice(-maxCharsPerBroker)}` : l}`;
      })
      .join('\n');
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.brokers.values()].map((b) => b.kill9().catch(() => {})));
    if (process.env.SAMSA_KEEP_DATA === undefined) {
      await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
    if (this.ownZk) await this.zk.destroy();
  }
}

/** Brokers, controller and topic leaders of a Metadata response, for messages. */
export function summarize(m: Metadata): string {
  const topics = m.topics
    .map(
      (t) =>
        `${t.name}[${t.partitions.map((p) => `${p.partitionIndex}:L${p.leaderId}/${p.replicaNodes.join('.')}/isr${p.isrNodes.join('.')}`).join(' ')}]`,
    )
    .join(' ');
  return `brokers ${m.brokers.map((b) => b.nodeId).join(',')} controller ${m.controllerId}${topics === '' ? '' : ` ${topics}`}`;
}

/**
 * Creates `topic` with an explicit replica assignment (one broker list per partition, the first one its
 * preferred leader) through broker `via`, and waits until every running broker shows each partition led by
 * its first replica with every replica in sync.
 */
export async function createAssignedTopic(
  c: TestCluster,
  via: number,
  topic: string,
  assignment: number[][],
  configs: Record<string, string> = {},
): Promise<void> {
  const res = await withConnection(c.bootstrapOf(via), (conn) =>
    conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [
        {
          name: topic,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: assignment.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
          configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    }),
  );
  const t = res.topics[0];
  if (t?.errorCode !== ErrorCode.NONE)
    throw new Error(`CreateTopics ${topic}: ${JSON.stringify(res.topics)}`);
  await c.waitForMetadata(
    `${topic} led by its preferred replicas with full ISRs`,
    (m) => {
      const parts = m.topics[0]?.partitions ?? [];
      return (
        parts.length === assignment.length &&
        parts.every(
          (p) =>
            p.leaderId === assignment[p.partitionIndex]?.[0] &&
            p.isrNodes.length === assignment[p.partitionIndex]?.length,
        )
      );
    },
    { topics: [topic] },
  );
}

/** Runs fn; on failure, appends the tail of every broker's output to the error. */
export async function withClusterLogs<T>(c: TestCluster | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (c !== undefined && err instanceof Error) err.message += `\n${c.logs(6000)}`;
    throw err;
  }
}
