// `npm run bench [-- --quick] [-- --repeat N] [-- --only P1,C1,F1,R,T] [-- --no-kafka] [-- --out FILE]`
// `[-- --r4-rate N --r4-seconds S --r5-mb M]`: the sizes of R4s (consumer keeps up) and R5s (follower catch-up).
// `npm run bench -- --only S[P,SC,SN,SG,SS] [--points ...] [--startup-gb G]`: the scale curves instead (bench/lib/scale.ts).
// `npm run bench -- --only L[0,1,2,L1a,...] [--mb N]`: throughput against the machine's limits (bench/lib/limits.ts).
// `npm run bench -- --help`: the options (bench/lib/args.ts reads them).
//
// The side-by-side benchmark: Samsa and a single-node Apache Kafka 4.x run at the same time on
// fresh data directories on the same disk, each idle while the other is measured, driven by the
// same load generators (Kafka's ProducerPerformance / ConsumerPerformance / EndToEndLatency and
// `samsa perf`); the rows are defined in bench/lib/workloads.ts. The R workloads do the same with a three-broker cluster of each
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
import { Args, UsageError } from './lib/args.js';
import { type BrokerHandle, deleteTopic, startKafka, startSamsa } from './lib/brokers.js';
import {
  clusterOptions,
  isClusterWorkload,
  measureClusterWorkload,
  warmUpCluster,
} from './lib/cluster-workloads.js';
import { type ClusterHandle, startKafkaCluster, startSamsaCluster } from './lib/clusters.js';
import { consumeDuringFlood, type FloodMetrics } from './lib/flood.js';
import { isLimitsSelection, runLimits } from './lib/limits.js';
import { startCost } from './lib/proc.js';
import {
  legend,
  type Measurement,
  markdownTable,
  produceMeasurement,
  type Result,
  readAlongMeasurement,
  resultOf,
  runSummary,
  textTable,
} from './lib/report.js';
import { isScaleSelection, runScale } from './lib/scale.js';
import { type BenchTls, makeBenchTls, tlsCostMarkdown, tlsCosts, tlsCostText } from './lib/tls.js';
import { type ConsumeMetrics, type E2eMetrics, Tools } from './lib/tools.js';
import { type ConsumeWorkload, describe, isTls, type Workload, workloads } from './lib/workloads.js';

const usage = `Usage: node dist/bench/run.js [options]   (or npm run bench -- [options])

  --only IDS        comma-separated row ids or prefixes: P1,C1,E1,F1,T,R,R4,... (default: every row of the run);
                    S, SP, SC, SG, SS: the scale curves instead (bench/lib/scale.ts: --points, --records,
                    --startup-gb, --sc-rate, --pin, --note, --charts, --replot);
                    L, L0, L1a, ...: throughput against the machine's limits instead (bench/lib/limits.ts:
                    --mb, --ceiling-mb, --settle-ms)
  --quick           fewer rows and records
  --repeat N        runs per row and broker (default 2; --quick 1)
  --no-kafka        Samsa alone
  --out FILE        the JSON results (default bench/results/latest.json, quick.json, cluster.json or tls.json;
                    a .md table next to it)
  --keep            keep the scratch directory (data, logs)
  --r4-rate N       R4s: records/s of the producer (default 4000)
  --r4-seconds S    R4s: how long it produces (default 20)
  --r5-mb M         R5s: MiB written while the follower is stopped (default 200)
  --help            this text
`;

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
  const cost = startCost([b.pid]);
  const t0 = Date.now();
  let m: Measurement;
  if (w.kind === 'produce') {
    m = produceMeasurement(
      w.tool === 'kafka-tools'
        ? await ctx.tools.kafkaProduce(name, port, topic, w, ssl ? ctx.tls?.clientProps : [])
        : await ctx.tools.samsaProduce(name, b.port, topic, w),
    );
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
    m = typeof r === 'string' ? { ok: false, error: r } : readAlongMeasurement(r);
  } else {
    const r: E2eMetrics | string =
      w.tool === 'kafka-tools'
        ? await ctx.tools.kafkaE2e(name, b.port, topic, w.records, w.recordSize)
        : await ctx.tools.samsaE2e(name, b.port, topic, w);
    m = typeof r === 'string' ? { ok: false, error: r } : { ok: true, e2eP50Ms: r.p50Ms, e2eP99Ms: r.p99Ms };
  }
  m.wallSec = (Date.now() - t0) / 1000;
  const spent = cost.end();
  m.cpuSec = spent.cpuSec;
  m.peakRssMb = spent.peakRssMb;
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

async function main(args: Args): Promise<number> {
  if (args.help(usage)) return 0;
  const quick = args.flag('--quick');
  const noKafka = args.flag('--no-kafka');
  const keep = args.flag('--keep');
  const repeat = args.num('--repeat', quick ? 1 : 2, { positive: true, integer: true });
  const only = args.list('--only');
  if (isScaleSelection(only)) {
    return runScale({ args, root, samsaMain, noKafka, repeat, quick, only: only ?? [] });
  }
  if (isLimitsSelection(only)) return runLimits({ args, root, samsaMain, noKafka, repeat, only: only ?? [] });
  let list = workloads(quick, clusterOptions(args));
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
  const outFile = args.str('--out') ?? path.join(root, 'bench', 'results', defaultOut);

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
          process.stderr.write(`  ${describe(w)} ${b.label} #${rep + 1}: ${runSummary(m)}\n`);
        }
      }
      results.push(resultOf(w, describe(w), runs));
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
    process.stdout.write(`${legend} ${elapsedSec} s.\n`);
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
    if (!keep) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main(new Args()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A bad command line: its message alone.
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
