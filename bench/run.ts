// `npm run bench [-- --quick] [-- --repeat N] [-- --only P1,C1,F1,R,T] [-- --no-kafka] [-- --out FILE]`
// `[-- --r4-rate N --r4-seconds S --r5-mb M]`: the sizes of R4s (consumer keeps up) and R5s (follower catch-up).
// `npm run bench -- --only S[P,SC,SN,SG,SS] [--points ...] [--startup-gb G]`: the scale curves instead (bench/lib/scale.ts).
// `npm run bench -- --only L[0,1,2,L1a,...] [--mb N]`: throughput against the machine's limits (bench/lib/limits.ts).
//
// The side-by-side benchmark: Samsa and a single-node Apache Kafka 4.x run at the same time on
// fresh data directories on the same disk, each idle while the other is measured, driven by the
// same load generators (Kafka's ProducerPerformance / ConsumerPerformance / EndToEndLatency and
// `samsa perf`). The R workloads do the same with a three-broker cluster of each
// (bench/lib/cluster-workloads.ts: replicated acks=all produce, failover after kill -9, a consumer keeping up,
// a restarted follower catching up). The T workloads run
// over each broker's PLAINTEXT and SSL listeners and print the TLS cost (bench/lib/tls.ts; `--only T` alone
// writes bench/results/tls.json). Runs alternate which broker goes first, so slow drifts in machine load hit both.
// Per workload and broker it records throughput, latency, the broker's CPU seconds and its peak
// RSS, prints one table with Samsa/Kafka ratios and writes bench/results/latest.json (+ .md).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KafkaConnection } from '../src/client/connection.js';
import { createTopic } from '../src/client/perf/cluster.js';
import { ApiKey } from '../src/protocol/generated/apis.js';
import {
  type BrokerHandle,
  cpuSeconds,
  deleteTopic,
  peakRssMb,
  resetPeakRss,
  startKafka,
  startSamsa,
} from './lib/brokers.js';
import {
  type ClusterOptions,
  type ClusterWorkload,
  clusterOptions,
  clusterWorkloads,
  describeClusterWorkload,
  isClusterWorkload,
  measureClusterWorkload,
  warmUpCluster,
} from './lib/cluster-workloads.js';
import { type ClusterHandle, startKafkaCluster, startSamsaCluster } from './lib/clusters.js';
import { consumeDuringFlood, type FloodMetrics } from './lib/flood.js';
import { isLimitsSelection, runLimits } from './lib/limits.js';
import {
  columns,
  fmtNum,
  type Measurement,
  markdownTable,
  medianOf,
  metricKeys,
  type Result,
  textTable,
} from './lib/report.js';
import { isScaleSelection, runScale } from './lib/scale.js';
import {
  type BenchTls,
  makeBenchTls,
  type SecurityProtocol,
  tlsCostMarkdown,
  tlsCosts,
  tlsCostText,
  tlsId,
} from './lib/tls.js';
import { type ConsumeMetrics, type E2eMetrics, type ProduceMetrics, Tools } from './lib/tools.js';

/** The compiled tree this file runs from (dist/): Samsa and `samsa perf` are run from the same build. */
const buildRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const samsaMain = path.join(buildRoot, 'src', 'cli', 'main.js');

/** The repository: the nearest ancestor of the build holding package.json. */
function repoRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (
      fs.existsSync(path.join(d, 'package.json')) &&
      fs.existsSync(path.join(d, 'scripts', 'kafka-start.sh'))
    )
      return d;
    if (path.dirname(d) === d) throw new Error(`no repository above ${from}`);
  }
}
const root = repoRoot(buildRoot);

type ToolName = 'kafka-tools' | 'samsa-perf';

interface ProduceWorkload {
  id: string;
  kind: 'produce';
  tool: ToolName;
  recordSize: number;
  partitions: number;
  acks: '1' | 'all';
  compression: 'none' | 'lz4';
  records: number;
  /** The T rows: the listener measured (default PLAINTEXT). */
  securityProtocol?: SecurityProtocol;
}

interface ConsumeWorkload {
  id: string;
  kind: 'consume';
  tool: ToolName;
  recordSize: number;
  partitions: number;
  records: number;
  securityProtocol?: SecurityProtocol;
}

interface E2eWorkload {
  id: string;
  kind: 'e2e';
  tool: ToolName;
  recordSize: number;
  partitions: number;
  records: number;
  /** Records/s for samsa perf e2e (fixed rate); EndToEndLatency is closed-loop. */
  throughput: number;
}

/** Producers flood a topic while one consumer reads it (bench/lib/flood.ts). */
interface FloodWorkload {
  id: string;
  kind: 'flood';
  tool: ToolName;
  recordSize: number;
  partitions: number;
  producers: number;
  /** Records per producer. */
  records: number;
  /** 0: fire and forget, nothing paces the producers (the hardest case for the consumer). */
  acks: '0' | '1';
}

type Workload = ProduceWorkload | ConsumeWorkload | E2eWorkload | FloodWorkload | ClusterWorkload;

const isTls = (w: Workload): boolean => 'securityProtocol' in w && w.securityProtocol !== undefined;

/** The T rows: each workload over PLAINTEXT then SSL, same broker, same client (Kafka's tools). */
function tlsWorkloads(): Workload[] {
  const out: Workload[] = [];
  for (const securityProtocol of ['PLAINTEXT', 'SSL'] as const) {
    const common = {
      kind: 'produce',
      tool: 'kafka-tools',
      partitions: 1,
      acks: '1',
      compression: 'none',
    } as const;
    out.push(
      { ...common, id: tlsId('T1k', securityProtocol), recordSize: 1024, records: 300_000, securityProtocol },
      {
        ...common,
        id: tlsId('T2k', securityProtocol),
        recordSize: 100,
        records: 1_000_000,
        securityProtocol,
      },
      {
        id: tlsId('T3k', securityProtocol),
        kind: 'consume',
        tool: 'kafka-tools',
        recordSize: 1024,
        partitions: 1,
        records: 500_000,
        securityProtocol,
      },
    );
  }
  // PLAINTEXT and SSL of one workload next to each other.
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function workloads(quick: boolean, cluster: ClusterOptions): Workload[] {
  const n100 = quick ? 500_000 : 750_000;
  const n1k = quick ? 100_000 : 150_000;
  const produce = (
    id: string,
    recordSize: number,
    partitions: number,
    acks: '1' | 'all',
    compression: 'none' | 'lz4',
    tools: ToolName[] = ['kafka-tools', 'samsa-perf'],
  ): Workload[] =>
    tools.map((tool) => ({
      id: `${id}${tool === 'kafka-tools' ? 'k' : 's'}`,
      kind: 'produce',
      tool,
      recordSize,
      partitions,
      acks,
      compression,
      records: recordSize >= 1024 ? n1k : n100,
    }));
  const consumeRecords = quick ? 1_000_000 : 5_000_000;
  const consume = (tool: ToolName): ConsumeWorkload => ({
    id: `C1${tool === 'kafka-tools' ? 'k' : 's'}`,
    kind: 'consume',
    tool,
    recordSize: 100,
    partitions: 1,
    records: consumeRecords,
  });
  const flood = (tool: ToolName): FloodWorkload => ({
    id: `F1${tool === 'kafka-tools' ? 'k' : 's'}`,
    kind: 'flood',
    tool,
    recordSize: 100,
    partitions: 1,
    producers: 3,
    records: quick ? 500_000 : 1_000_000,
    acks: '0',
  });
  if (quick) {
    return [
      ...produce('P1', 100, 1, '1', 'none'),
      ...produce('P3', 1024, 1, 'all', 'none', ['samsa-perf']),
      ...produce('P4', 1024, 8, '1', 'lz4', ['samsa-perf']),
      consume('samsa-perf'),
      {
        id: 'E1s',
        kind: 'e2e',
        tool: 'samsa-perf',
        recordSize: 100,
        partitions: 1,
        records: 25_000,
        throughput: 5000,
      },
      flood('samsa-perf'),
    ];
  }
  return [
    ...produce('P1', 100, 1, '1', 'none'),
    ...produce('P2', 100, 8, 'all', 'none'),
    ...produce('P3', 1024, 1, 'all', 'none'),
    ...produce('P4', 1024, 8, '1', 'lz4'),
    ...produce('P5', 100, 1, 'all', 'lz4'),
    consume('kafka-tools'),
    consume('samsa-perf'),
    {
      id: 'E1s',
      kind: 'e2e',
      tool: 'samsa-perf',
      recordSize: 100,
      partitions: 1,
      records: 60_000,
      throughput: 10_000,
    },
    {
      id: 'E2k',
      kind: 'e2e',
      tool: 'kafka-tools',
      recordSize: 100,
      partitions: 1,
      records: 1000,
      throughput: 0,
    },
    flood('samsa-perf'),
    flood('kafka-tools'),
    ...tlsWorkloads(),
    ...clusterWorkloads(cluster),
  ];
}

function describe(w: Workload): string {
  if (isClusterWorkload(w)) return describeClusterWorkload(w);
  const tool = w.tool === 'kafka-tools' ? 'kafka' : 'samsa';
  const size = w.recordSize >= 1024 ? `${w.recordSize / 1024}KiB` : `${w.recordSize}B`;
  const sp = isTls(w) ? ` ${(w as ProduceWorkload | ConsumeWorkload).securityProtocol}` : '';
  if (w.kind === 'produce') {
    return `${w.id} produce ${size} ${w.partitions}p acks=${w.acks} ${w.compression}${sp} [${tool}]`;
  }
  if (w.kind === 'consume')
    return `${w.id} consume ${w.records / 1e6}M x ${size} ${w.partitions}p${sp} [${tool}]`;
  if (w.kind === 'flood') {
    return `${w.id} consume during flood ${w.producers}x ${size} ${w.partitions}p acks=${w.acks} [${tool}]`;
  }
  return w.tool === 'kafka-tools'
    ? `${w.id} e2e ${size} closed loop [kafka]`
    : `${w.id} e2e ${size} @${w.throughput / 1000}k/s [${tool}]`;
}

interface Ctx {
  tools: Tools;
  brokers: BrokerHandle[];
  pause: (ms: number) => Promise<void>;
  consumeTopics: Map<string, string>;
  quick: boolean;
  /** The certificates and client settings of the T rows (null: no T row in this run). */
  tls: BenchTls | null;
}

async function ensureTopic(b: BrokerHandle, topic: string, partitions: number): Promise<void> {
  const c = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port, clientId: 'bench' });
  try {
    await createTopic(c, topic, partitions);
  } finally {
    c.close();
  }
}

/** The 5M-record log the consume workloads read, written once per broker (not measured). */
async function consumeTopic(ctx: Ctx, b: BrokerHandle, w: ConsumeWorkload): Promise<string> {
  const key = `${b.name}-${w.records}-${w.recordSize}-${w.partitions}`;
  const existing = ctx.consumeTopics.get(key);
  if (existing !== undefined) return existing;
  const topic = `bench-consume-${w.records}-${Date.now()}`;
  await ensureTopic(b, topic, w.partitions);
  process.stderr.write(`  writing ${w.records} records to ${b.label} for the consume workloads\n`);
  const r = await ctx.tools.samsaProduce(`setup-${key}`, b.port, topic, {
    records: w.records,
    recordSize: w.recordSize,
    acks: '1',
    compression: 'none',
  });
  if (typeof r === 'string') throw new Error(`writing the consume log to ${b.label}: ${r}`);
  ctx.consumeTopics.set(key, topic);
  return topic;
}

async function measure(ctx: Ctx, b: BrokerHandle, w: Workload, rep: number): Promise<Measurement> {
  if (isClusterWorkload(w)) throw new Error(`${w.id} runs on a cluster`);
  const name = `${w.id}-${b.name}-${rep}`;
  let topic = `bench-${w.id}-${rep}-${Date.now()}`;
  // The T rows over SSL: the broker's SSL listener, Kafka's tools with security.protocol=SSL.
  const ssl = (w.kind === 'produce' || w.kind === 'consume') && w.securityProtocol === 'SSL';
  const port = ssl ? b.sslPort : b.port;
  if (port === undefined || (ssl && (ctx.tls === null || w.tool !== 'kafka-tools'))) {
    return { ok: false, error: `no SSL listener or client settings for ${w.id}` };
  }
  if (w.kind === 'consume') {
    if (w.tool === 'kafka-tools' && !b.apis.has(ApiKey.FindCoordinator)) {
      return {
        ok: false,
        error: 'ConsumerPerformance needs consumer groups (FindCoordinator not advertised)',
      };
    }
    topic = await consumeTopic(ctx, b, w);
  } else {
    await ensureTopic(b, topic, w.partitions);
  }
  await ctx.pause(500);
  const rssReset = resetPeakRss(b.pid);
  const cpu0 = cpuSeconds(b.pid);
  const t0 = Date.now();
  let m: Measurement;
  if (w.kind === 'produce') {
    const r: ProduceMetrics | string =
      w.tool === 'kafka-tools'
        ? await ctx.tools.kafkaProduce(name, port, topic, w, ssl ? ctx.tls?.clientProps : [])
        : await ctx.tools.samsaProduce(name, b.port, topic, w);
    m =
      typeof r === 'string'
        ? { ok: false, error: r }
        : {
            ok: true,
            recordsPerSec: r.recordsPerSec,
            mbPerSec: r.mbPerSec,
            p50Ms: r.p50Ms,
            p99Ms: r.p99Ms,
            p999Ms: r.p999Ms,
          };
  } else if (w.kind === 'consume') {
    const r: ConsumeMetrics | string =
      w.tool === 'kafka-tools'
        ? await ctx.tools.kafkaConsume(name, port, topic, w.records, ssl ? ctx.tls?.clientConfig : undefined)
        : await ctx.tools.samsaConsume(name, b.port, topic, w.records);
    m =
      typeof r === 'string'
        ? { ok: false, error: r }
        : { ok: true, recordsPerSec: r.recordsPerSec, mbPerSec: r.mbPerSec };
  } else if (w.kind === 'flood') {
    const r: FloodMetrics | string = await consumeDuringFlood(ctx.tools, name, b.port, topic, {
      producers: w.producers,
      records: w.records,
      recordSize: w.recordSize,
      acks: w.acks,
      tool: w.tool,
    });
    m =
      typeof r === 'string'
        ? { ok: false, error: r }
        : {
            ok: true,
            recordsPerSec: r.produceRecordsPerSec,
            consumeRecordsPerSec: r.consumeRecordsPerSec,
            consumeShare: r.consumeShare,
            consumeLagMax: r.lagMax,
          };
  } else {
    const r: E2eMetrics | string =
      w.tool === 'kafka-tools'
        ? await ctx.tools.kafkaE2e(name, b.port, topic, w.records, w.recordSize)
        : await ctx.tools.samsaE2e(name, b.port, topic, w);
    m = typeof r === 'string' ? { ok: false, error: r } : { ok: true, e2eP50Ms: r.p50Ms, e2eP99Ms: r.p99Ms };
  }
  m.wallSec = (Date.now() - t0) / 1000;
  m.cpuSec = cpuSeconds(b.pid) - cpu0;
  m.peakRssMb = rssReset ? peakRssMb(b.pid) : Number.NaN;
  if (w.kind !== 'consume') await deleteTopic(b.port, topic).catch(() => {});
  return m;
}

function machine(): Record<string, unknown> {
  let java = 'none';
  try {
    java = execFileSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    java = String((e as { stderr?: string }).stderr ?? '').split('\n')[0] ?? 'none';
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    java,
    loadAvgAtStart: os.loadavg(),
  };
}

// ---- main --------------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const noKafka = argv.includes('--no-kafka');
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const repeat = Number(arg('--repeat') ?? (quick ? 1 : 2));
  const only = arg('--only')?.split(',');
  if (isScaleSelection(only)) {
    return runScale({ argv, root, samsaMain, noKafka, repeat, quick, only: only ?? [] });
  }
  if (isLimitsSelection(only)) return runLimits({ argv, root, samsaMain, noKafka, repeat, only: only ?? [] });
  let list = workloads(quick, clusterOptions(argv));
  if (only !== undefined) list = list.filter((w) => only.some((o) => w.id === o || w.id.startsWith(o)));
  // The cluster workloads alone (--only R) write their own file, next to the full run's.
  // So do the TLS workloads alone (--only T).
  const defaultOut =
    list.length > 0 && list.every(isClusterWorkload)
      ? 'cluster.json'
      : list.length > 0 && list.every(isTls)
        ? 'tls.json'
        : quick
          ? 'quick.json'
          : 'latest.json';
  const outFile = arg('--out') ?? path.join(root, 'bench', 'results', defaultOut);

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-'));
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  process.stderr.write(
    `bench: ${quick ? 'quick' : 'full'} run, ${list.length} workloads x ${repeat}, scratch ${workDir}\n`,
  );
  const brokers: BrokerHandle[] = [];
  const clusters: ClusterHandle[] = [];
  const stopAll = async (): Promise<void> => {
    for (const b of brokers) await b.stop().catch(() => {});
    for (const c of clusters) await c.stop().catch(() => {});
  };
  process.once('SIGINT', () => {
    void stopAll().then(() => process.exit(130));
  });
  let kafkaLibs = path.join(root, '.cache', 'kafka', process.env.KAFKA_VERSION ?? '4.1.1', 'libs');
  try {
    const logDir = path.join(workDir, 'logs');
    // The brokers get an SSL listener only when a T row is to run.
    const tls = list.some(isTls) ? makeBenchTls(workDir) : null;
    const brokerTls = tls ?? undefined;
    const ssl = (b: BrokerHandle): string => (b.sslPort === undefined ? '' : `, SSL on ${b.sslPort}`);
    if (list.some((w) => !isClusterWorkload(w))) {
      const s = await startSamsa(samsaMain, workDir, brokerTls);
      brokers.push(s);
      process.stderr.write(`bench: Samsa on port ${s.port}${ssl(s)} (pid ${s.pid})\n`);
      if (!noKafka) {
        const k = await startKafka(root, workDir, brokerTls);
        if (k !== null) {
          brokers.push(k);
          process.stderr.write(`bench: Kafka on port ${k.port}${ssl(k)} (pid ${k.pid})\n`);
        }
      }
    }
    if (!fs.existsSync(kafkaLibs)) kafkaLibs = '';
    const tools = new Tools(root, samsaMain, logDir, kafkaLibs);
    const ctx: Ctx = {
      tools,
      brokers,
      pause: (ms) => new Promise((r) => setTimeout(r, ms)),
      consumeTopics: new Map(),
      quick,
      tls,
    };
    if (kafkaLibs === '') list = list.filter((w) => w.tool !== 'kafka-tools');

    // Warm-up (both JITs), not measured.
    for (const b of brokers) {
      const topic = `bench-warmup-${Date.now()}`;
      await ensureTopic(b, topic, 1);
      await tools.samsaProduce(`warmup-${b.name}`, b.port, topic, {
        records: quick ? 200_000 : 500_000,
        recordSize: 100,
        acks: '1',
        compression: 'none',
      });
      await tools.samsaConsume(`warmup-consume-${b.name}`, b.port, topic, quick ? 200_000 : 500_000);
      await deleteTopic(b.port, topic).catch(() => {});
    }
    // The clusters start when the first cluster workload comes, after the single brokers have stopped: neither
    // setup idles in the background of the other's measurements.
    let clusterError: string | null = null;
    const startClusters = async (): Promise<void> => {
      for (const b of brokers) await b.stop().catch(() => {});
      clusters.push(await startSamsaCluster(samsaMain, workDir));
      process.stderr.write(`bench: Samsa cluster (ZooKeeper + 3 brokers) on ${clusters[0]?.bootstrap()}\n`);
      if (!noKafka) {
        const k = await startKafkaCluster(root, workDir).catch((e: unknown) => {
          process.stderr.write(`bench: the Kafka cluster did not start, measuring Samsa alone: ${e}\n`);
          return null;
        });
        if (k !== null) {
          clusters.push(k);
          process.stderr.write(`bench: Kafka cluster (KRaft controller + 3 brokers) on ${k.bootstrap()}\n`);
        }
      }
      for (const c of clusters) await warmUpCluster(tools, c);
    };

    const results: Result<Workload>[] = [];
    for (const [i, w] of list.entries()) {
      if (isClusterWorkload(w) && clusters.length === 0) {
        if (clusterError !== null) continue;
        try {
          await startClusters();
        } catch (e) {
          // E.g. no ZooKeeper here: the single-broker results are kept, the cluster workloads are skipped.
          clusterError = e instanceof Error ? e.message : String(e);
          process.stderr.write(
            `bench: the clusters did not start, skipping the R workloads: ${clusterError}\n`,
          );
          for (const c of clusters.splice(0)) await c.stop().catch(() => {});
          continue;
        }
      }
      const targets: { name: string; label: string }[] = isClusterWorkload(w) ? clusters : brokers;
      const runs: Record<string, Measurement[]> = {};
      for (const b of targets) runs[b.name] = [];
      // A failover time is mostly the session timeout less the time since the victim's last heartbeat (0-2 s, by
      // chance): at least 3 runs per broker.
      const reps = w.kind === 'failover' ? Math.max(repeat, 3) : repeat;
      for (let rep = 0; rep < reps; rep++) {
        const order = (i + rep) % 2 === 0 ? targets : [...targets].reverse();
        for (const b of order) {
          const m: Measurement = await (isClusterWorkload(w)
            ? measureClusterWorkload(root, tools, logDir, b as ClusterHandle, w, rep)
            : measure(ctx, b as BrokerHandle, w, rep)
          ).catch((e: unknown) => ({
            ok: false,
            error: e instanceof Error ? e.message : String(e),
          }));
          runs[b.name]?.push(m);
          const summary = m.ok
            ? columns
                .filter((c) => m[c.key] !== undefined && Number.isFinite(m[c.key] as number))
                .map((c) => `${c.title} ${fmtNum(m[c.key] as number, c.digits)}`)
                .join(', ')
            : `FAILED: ${m.error}`;
          process.stderr.write(`  ${describe(w)} ${b.label} #${rep + 1}: ${summary}\n`);
        }
      }
      const med: Record<string, Measurement> = {};
      for (const b of targets) med[b.name] = medianOf(runs[b.name] ?? []);
      const ratio: Partial<Record<keyof Measurement, number>> = {};
      const s = med.samsa;
      const k = med.kafka;
      if (s?.ok && k?.ok) {
        for (const key of metricKeys) {
          const a = s[key] as number | undefined;
          const c = k[key] as number | undefined;
          if (a !== undefined && c !== undefined && c !== 0) ratio[key] = a / c;
        }
      }
      results.push({ workload: w, label: describe(w), runs, median: med, ratio });
    }

    const names = [...new Set([...brokers, ...clusters].map((b) => b.name))];
    const table = textTable(results, names);
    const elapsedSec = Math.round((Date.now() - t0) / 1000);
    process.stdout.write(`\n${table}\n\n`);
    const costs = tlsCosts(results as Result<{ id: string }>[], names);
    if (costs.length > 0) {
      process.stdout.write(
        `TLS cost: SSL vs PLAINTEXT listener of the same broker, same client; medians [min-max] of ${repeat} runs\n` +
          `${tlsCostText(costs)}\n\n`,
      );
    }
    process.stdout.write(
      'rec/s, MB/s: throughput (median of runs); p50/p99/p99.9: producer latency in ms as the tool reports it;\n' +
        'e2e: produce->consume latency in ms; CPU s: broker CPU seconds during the workload; RSS MB: broker peak RSS.\n' +
        "F rows: rec/s is the flood's produce rate, cons rec/s the consumer's rate during it, cons/prod its share.\n" +
        'R rows: three-broker clusters; CPU s and RSS MB summed over the cluster (brokers + ZooKeeper / KRaft controller);\n' +
        'failover ms: kill -9 of a leader -> next acknowledged write to its partition = detect ms (the controller acts on\n' +
        'the expired session) + recover ms (election, propagation, the producer finding the new leader).\n' +
        'R4: lag@end = records unread when the last record was committed, drain ms = until all read; R5: restarted\n' +
        'broker, process start -> first ISR (ready ms) / every ISR (rejoin ms); catch-up MB/s = MiB missed / rejoin.\n' +
        `Samsa/Kafka: ratio of the medians (throughput: higher is better; the rest: lower is better). ${elapsedSec} s.\n`,
    );
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    const json = {
      startedAt,
      elapsedSec,
      quick,
      repeat,
      machine: machine(),
      brokers: names,
      results,
      ...(costs.length > 0 ? { tlsCosts: costs } : {}),
    };
    fs.writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`);
    const tlsMd = costs.length > 0 ? `\n\nTLS cost (SSL vs PLAINTEXT):\n\n${tlsCostMarkdown(costs)}` : '';
    fs.writeFileSync(outFile.replace(/\.json$/, '.md'), `${markdownTable(results, names)}${tlsMd}\n`);
    process.stderr.write(`bench: wrote ${outFile}\n`);
    return 0;
  } finally {
    await stopAll();
    if (!argv.includes('--keep')) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
