// Three brokers for the transaction cluster tests, of the target chosen by SAMSA_INTEROP_TARGET: Samsa in
// ZooKeeper mode (test/helpers/cluster.ts) or Apache Kafka 4.x in KRaft mode (scripts/kafka-cluster.sh: a
// controller-only node and three broker-only nodes, formatted with transaction.version=1 as Samsa implements).
// Both with __transaction_state and the data topics replicated three ways, min.insync.replicas 2.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { interopTarget } from '../helpers/broker.js';
import { startCluster } from '../helpers/cluster.js';
import { repoRoot, run } from '../helpers/run.js';

export interface TxnCluster {
  readonly ids: readonly number[];
  bootstrap(): string;
  kill9(id: number): Promise<void>;
  restart(id: number): Promise<void>;
  logs(): string;
  destroy(): Promise<void>;
}

/** Keys for every broker of the cluster: small, replicated state topics; data topics need 2 replicas in sync. */
const clusterTxnOverrides: Record<string, string> = {
  'transaction.state.log.num.partitions': '3',
  'transaction.state.log.replication.factor': '3',
  'transaction.state.log.min.isr': '2',
  'transaction.max.timeout.ms': '60000',
  'min.insync.replicas': '2',
  'default.replication.factor': '3',
};

export async function startTxnCluster(): Promise<TxnCluster> {
  return interopTarget() === 'kafka' ? startKafkaCluster() : startSamsaCluster();
}

async function startSamsaCluster(): Promise<TxnCluster> {
  const c = await startCluster({ brokers: 3, overrides: clusterTxnOverrides });
  return {
    ids: c.ids,
    bootstrap: () => c.bootstrap(),
    kill9: (id) => c.kill9(id),
    restart: (id) => c.restart(id),
    logs: () => c.logs(6000),
    destroy: () => c.destroy(),
  };
}

async function startKafkaCluster(): Promise<TxnCluster> {
  const root = repoRoot();
  const script = join(root, 'scripts', 'kafka-cluster.sh');
  const home = await mkdtemp(join(tmpdir(), 'samsa-kafka-txn-cluster-'));
  const overrides = {
    ...clusterTxnOverrides,
    // The controller fences a broker that stops heartbeating after this long (default 9 s).
    'broker.session.timeout.ms': '4000',
    'broker.heartbeat.interval.ms': '500',
  };
  const args = ['start', '--dir', home, '--brokers', '3', '--feature', 'transaction.version=1'];
  for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
  const stop = () => run(script, ['stop', '--dir', home, '--kill'], { cwd: root, allowFailure: true });
  let endpoints: string[];
  try {
    const { stdout } = await run(script, args, { cwd: root, timeoutMs: 180_000 });
    const line = stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('bootstrap=')) throw new Error(`kafka-cluster.sh printed no bootstrap: ${stdout}`);
    endpoints = line.slice('bootstrap='.length).split(',');
  } catch (e) {
    await stop();
    await rm(home, { recursive: true, force: true });
    throw e;
  }
  const pidOf = (id: number): number | undefined => {
    try {
      return Number(readFileSync(join(home, `broker-${id}`, 'kafka.pid'), 'utf8').trim());
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
  // The nodes run as daemons (not children of this process): stop them if the test process ends first.
  const onExit = (): void => {
    for (const node of ['broker-1', 'broker-2', 'broker-3', 'controller']) {
      try {
        process.kill(Number(readFileSync(join(home, node, 'kafka.pid'), 'utf8').trim()), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  };
  process.once('exit', onExit);
  return {
    ids: [1, 2, 3],
    bootstrap: () => endpoints.join(','),
    async kill9(id) {
      const pid = pidOf(id);
      if (pid === undefined || !alive(pid)) return;
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await sleep(10);
    },
    async restart(id) {
      await run(script, ['restart-node', '--dir', home, '--node', `broker-${id}`], {
        cwd: root,
        timeoutMs: 120_000,
      });
    },
    logs() {
      return [1, 2, 3]
        .map((id) => {
          let out = '';
          try {
            out = readFileSync(join(home, `broker-${id}`, 'kafka.out'), 'utf8');
          } catch {
            // no log
          }
          return `--- kafka broker ${id} (tail) ---\n${out.slice(-6000)}`;
        })
        .join('\n');
    },
    async destroy() {
      await stop();
      process.removeListener('exit', onExit);
      if (process.env.SAMSA_KEEP_DATA === undefined) await rm(home, { recursive: true, force: true });
    },
  };
}
