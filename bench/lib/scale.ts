// The scale curves of `npm run bench -- --only S` (issue 16): Samsa and a single-node Apache Kafka side by side,
// each point measured on both with the same driver, bench/kafka/ScaleDriver.java (Kafka's Java client, many
// clients in one JVM):
//   SP  produce 1 KiB acks=1 round robin over all partitions, against the partition count (1 ... 10,000; above
//       1,000 the partitions are spread over topics of 1,000)
//   SC  produce 1 KiB acks=1 to an 8-partition topic from N producer clients (each its own KafkaProducer): as
//       fast as they go (throughput; latency there is mostly time queued in the clients' buffers), then paced at
//       --sc-rate records/s in all (default 10,000) for --sc-rate x 8 records: p50/p99 below saturation
//   SN  as SC, from N producer connections (1 ... 1,000), driven by `samsa perf produce --producers N` (N producer
//       clients in one Node process, bench/lib/scale-perf.ts) rather than the Java driver, whose thread per client
//       is what limits SC at 100 and above on 2 CPUs; with the broker's and the driver's CPU % (who was busy)
//   SG  a consumer group of N members reading a >= 100-partition topic: time until every member holds an
//       assignment, until each has had a record, and read rate until every partition is read to its end
//   SS  start-up time and RSS with N partitions and --startup-gb of data, clean restart and after kill -9
//       (bench/lib/scale-startup.ts)
// Options (besides run.ts's --repeat, --no-kafka, --out, --keep, --quick):
//   --points 1,64             these points for every selected curve
//   --points SP=1,64;SC=1,10  per curve (any values, not only the defaults)
//   --records N               records per SP/SC point and in the SG topic (default 200,000; --quick 50,000)
//   --startup-gb G            data written before the SS restarts (default 0.1)
//   --sc-rate R               records/s of SC's and SN's paced run (default 10,000; 0: no paced run)
//   --pin                     SP/SC/SG: every thread of the brokers on CPU 0, the driver on CPU 1 (taskset), so
//                             that a driver of hundreds of threads cannot crowd out a broker of one event loop
//                             (Linux shares the CPU per thread); without it they share both CPUs
//   --note TEXT               printed under the charts (default: the load average at the start)
//   --charts DIR              where the charts go (default docs/performance)
//   --replot                  no measurement: redraw every curve's charts from the results file (--out)
// Writes bench/results/scale.json + scale.md and the charts docs/performance/scale-<curve>-<metric>.png (SVG when
// neither rsvg-convert nor ImageMagick is present).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaConnection } from '../../src/client/connection.js';
import { createTopic } from '../../src/client/perf/cluster.js';
import type { Args } from './args.js';
import { type BrokerHandle, deleteTopic, startKafka, startSamsa } from './brokers.js';
import { startCost } from './proc.js';
import { measurePerfPoint, perfDrivers } from './scale-perf.js';
import {
  type CurveDef,
  type CurveResult,
  curveMarkdown,
  curveText,
  type Figures,
  summarize,
  writeCharts,
} from './scale-report.js';
import { measureStartup, topicsFor } from './scale-startup.js';

const tput = [
  { key: 'recordsPerSec', title: 'rec/s', digits: 0 },
  { key: 'mbPerSec', title: 'MB/s', digits: 1 },
  { key: 'p50Ms', title: 'p50 ms', digits: 1 },
  { key: 'p99Ms', title: 'p99 ms', digits: 1 },
];
const cost = [
  { key: 'cpuSec', title: 'CPU s', digits: 1 },
  { key: 'peakRssMb', title: 'RSS MB', digits: 0 },
];
const tputCharts = [
  { key: 'recordsPerSec', yLabel: 'records/s (1 KiB)' },
  { key: 'p99Ms', yLabel: 'p99 produce latency, ms' },
];

export const scaleCurves: CurveDef[] = [
  {
    id: 'SP',
    title: 'Produce 1 KiB acks=1 vs partitions',
    x: 'partitions',
    defaultPoints: [1, 8, 64, 1000, 10000],
    columns: [...tput, ...cost],
    charts: tputCharts,
  },
  {
    id: 'SC',
    title: 'Produce 1 KiB acks=1 vs producer clients',
    x: 'producers',
    defaultPoints: [1, 10, 100, 1000],
    columns: [
      ...tput,
      { key: 'pacedP50Ms', title: 'paced p50 ms', digits: 1 },
      { key: 'pacedP99Ms', title: 'paced p99 ms', digits: 1 },
      { key: 'connectMs', title: 'connect ms', digits: 0 },
      ...cost,
    ],
    charts: [...tputCharts, { key: 'pacedP99Ms', yLabel: 'p99 produce latency at a fixed rate, ms' }],
  },
  {
    id: 'SN',
    title: 'Produce 1 KiB acks=1 vs producer connections, samsa perf',
    x: 'producers',
    defaultPoints: [1, 10, 100, 1000],
    columns: [
      ...tput,
      { key: 'brokerPct', title: 'broker CPU %', digits: 0 },
      { key: 'driverThreadPct', title: 'driver thread %', digits: 0 },
      { key: 'pacedRecordsPerSec', title: 'paced rec/s', digits: 0 },
      { key: 'pacedP50Ms', title: 'paced p50 ms', digits: 1 },
      { key: 'pacedP99Ms', title: 'paced p99 ms', digits: 1 },
      { key: 'pacedBrokerPct', title: 'paced broker CPU %', digits: 0 },
      { key: 'pacedDriverThreadPct', title: 'paced driver thread %', digits: 0 },
      { key: 'pacedIdlePct', title: 'paced idle %', digits: 0 },
      { key: 'connectMs', title: 'connect ms', digits: 0 },
      ...cost,
    ],
    charts: [...tputCharts, { key: 'pacedP99Ms', yLabel: 'p99 produce latency at a fixed rate, ms' }],
  },
  {
    id: 'SG',
    title: 'Consumer group vs members',
    x: 'members',
    defaultPoints: [1, 10, 100],
    columns: [
      { key: 'recordsPerSec', title: 'rec/s', digits: 0 },
      { key: 'assignedMs', title: 'all assigned ms', digits: 0 },
      { key: 'everyMemberConsumedMs', title: 'all consuming ms', digits: 0 },
      { key: 'sec', title: 'all read s', digits: 1 },
      { key: 'assignments', title: 'assignments', digits: 0 },
      ...cost,
    ],
    charts: [
      { key: 'recordsPerSec', yLabel: 'records/s read (1 KiB)' },
      { key: 'assignedMs', yLabel: 'ms until every member has partitions' },
    ],
  },
  {
    id: 'SS',
    title: 'Start-up vs partitions',
    x: 'partitions',
    defaultPoints: [10000],
    columns: [
      { key: 'cleanStartMs', title: 'clean start ms', digits: 0 },
      { key: 'recoveryStartMs', title: 'kill -9 start ms', digits: 0 },
      { key: 'cleanRssMb', title: 'RSS MB', digits: 0 },
      { key: 'recoveryPeakRssMb', title: 'recovery peak RSS MB', digits: 0 },
      { key: 'createMs', title: 'create ms', digits: 0 },
      { key: 'records', title: 'records', digits: 0 },
      { key: 'offsetsKept', title: 'offsets kept', digits: 0 },
    ],
    charts: [
      { key: 'cleanStartMs', yLabel: 'ms from spawn to ready (clean restart)' },
      { key: 'recoveryStartMs', yLabel: 'ms from spawn to ready (after kill -9)' },
      { key: 'cleanRssMb', yLabel: 'RSS MB when ready' },
    ],
  },
];

/** True when every --only entry names scale curves (S, SP, SG, ...): the scale bench runs instead of run.ts's. */
export const isScaleSelection = (only: string[] | undefined): boolean =>
  only !== undefined && only.length > 0 && only.every((o) => /^S[A-Z]?$/.test(o));

/** `--points` as given: one list for all curves, or per curve (`SP=1,64;SC=1,10`). */
export function parsePoints(arg: string | undefined, def: CurveDef): number[] {
  if (arg === undefined) return def.defaultPoints;
  const nums = (s: string): number[] =>
    s
      .split(',')
      .map((x) => Number(x.replace(/_/g, '')))
      .filter((x) => Number.isInteger(x) && x > 0);
  if (!arg.includes('=')) return nums(arg);
  for (const part of arg.split(/[;/ ]/)) {
    const [id, list] = part.split('=');
    if (id === def.id && list !== undefined) return nums(list);
  }
  return [];
}

export interface ScaleArgs {
  args: Args;
  root: string;
  samsaMain: string;
  noKafka: boolean;
  repeat: number;
  quick: boolean;
  only: string[];
}

interface Env {
  root: string;
  /** The build's src/cli/main.js (SN's driver, `samsa perf produce`). */
  samsaMain: string;
  libs: string;
  logDir: string;
  /** --pin: the driver runs on CPU 1, the brokers on CPU 0. */
  pin: boolean;
}

/** --pin: every thread of the process (and those it starts later) on CPU 0. */
function pinToCpu0(pid: number): void {
  execFileSync('taskset', ['-a', '-pc', '0', String(pid)], { stdio: 'ignore' });
}

/** The drivers running now (killed with the bench on SIGINT). */
const drivers = new Set<ChildProcess>();

/** Runs bench/kafka/ScaleDriver.java; its JSON line, or the error. */
function driver(
  env: Env,
  name: string,
  args: string[],
  timeoutMs: number,
): Promise<Record<string, number> | string> {
  const heap = Number(args[2]) >= 300 ? '-Xmx2g' : '-Xmx1g';
  const cmd = [
    heap,
    '-XX:+UseG1GC',
    `-Dlog4j2.configurationFile=${path.join(env.root, 'bench', 'kafka', 'log4j2.properties')}`,
    '-cp',
    `${env.libs}/*`,
    path.join(env.root, 'bench', 'kafka', 'ScaleDriver.java'),
    ...args,
  ];
  return new Promise((resolve) => {
    const child = env.pin
      ? spawn('taskset', ['-c', '1', 'java', ...cmd], { cwd: env.root, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('java', cmd, { cwd: env.root, stdio: ['ignore', 'pipe', 'pipe'] });
    drivers.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      drivers.delete(child);
      fs.writeFileSync(
        path.join(env.logDir, `${name}.log`),
        `$ java ${cmd.join(' ')}\n${out}\n--- stderr\n${err}`,
      );
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (code === 0 && line !== undefined) {
        resolve(JSON.parse(line) as Record<string, number>);
        return;
      }
      const tail = `${err}\n${out}`.trim().split('\n').slice(-3).join(' | ');
      resolve(`ScaleDriver ${args[0]} failed (exit ${code}): ${tail.slice(0, 300)}`);
    });
  });
}

const produceArgs = (
  port: number,
  clients: number,
  records: number,
  topics: [string, number][],
): string[] => [
  'produce',
  `127.0.0.1:${port}`,
  String(clients),
  String(records),
  '1024',
  '1',
  topics.map(([t, n]) => `${t}:${n}`).join(','),
];

async function createTopics(port: number, topics: [string, number][]): Promise<void> {
  const c = await KafkaConnection.connect({ host: '127.0.0.1', port, clientId: 'bench-scale' });
  try {
    for (const [t, n] of topics) await createTopic(c, t, n);
  } finally {
    c.close();
  }
}

/** One SP/SC/SG point on one broker. */
async function measurePoint(
  env: Env,
  b: BrokerHandle,
  curve: string,
  x: number,
  rep: number,
  records: number,
  scRate: number,
): Promise<Figures> {
  const name = `${curve}-${x}-${b.name}-${rep}`;
  const prefix = `scale-${curve.toLowerCase()}-${x}-${rep}-${Date.now()}`;
  const topics: [string, number][] =
    curve === 'SP'
      ? topicsFor(prefix, x)
      : [[prefix, curve === 'SC' || curve === 'SN' ? 8 : Math.max(100, x)]];
  try {
    await createTopics(b.port, topics);
    if (curve === 'SG') {
      const fill = await driver(env, `${name}-fill`, produceArgs(b.port, 1, records, topics), 600_000);
      if (typeof fill === 'string') return { ok: false, error: `filling: ${fill}`, v: {} };
    }
    await new Promise((r) => setTimeout(r, 500));
    if (curve === 'SN') return await measurePerfPoint(env, b, name, prefix, x, records, scRate);
    const cost = startCost([b.pid]);
    const r =
      curve === 'SG'
        ? await driver(env, name, ['consume', `127.0.0.1:${b.port}`, String(x), prefix, '300000'], 420_000)
        : await driver(env, name, produceArgs(b.port, curve === 'SC' ? x : 1, records, topics), 900_000);
    if (typeof r === 'string') return { ok: false, error: r, v: {} };
    const spent = cost.end();
    const v: Record<string, number> = { ...r, cpuSec: spent.cpuSec };
    if (!Number.isNaN(spent.peakRssMb)) v.peakRssMb = spent.peakRssMb;
    if (curve === 'SC' && scRate > 0) {
      const paced = await driver(
        env,
        `${name}-paced`,
        [...produceArgs(b.port, x, Math.round(scRate * 8), topics), `rate=${scRate}`],
        300_000,
      );
      if (typeof paced === 'string') return { ok: false, error: `paced: ${paced}`, v };
      v.pacedP50Ms = paced.p50Ms ?? Number.NaN;
      v.pacedP99Ms = paced.p99Ms ?? Number.NaN;
    }
    return { ok: true, v };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e), v: {} };
  } finally {
    for (const [t] of topics) await deleteTopic(b.port, t).catch(() => {});
  }
}

async function kafkaLibs(root: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(path.join(root, 'scripts', 'kafka-dist.sh'), [], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.once('close', (code) =>
      code === 0
        ? resolve(out.trim().split('\n').pop() ?? '')
        : reject(new Error(`kafka-dist.sh exited ${code}`)),
    );
  });
}

export async function runScale(a: ScaleArgs): Promise<number> {
  const args = a.args;
  const defs = scaleCurves.filter((d) => a.only.some((o) => d.id.startsWith(o)));
  const plan = defs.map((d) => ({ def: d, points: parsePoints(args.str('--points'), d) }));
  const records = args.num('--records', a.quick ? 50_000 : 200_000, { positive: true, integer: true });
  const startupGb = args.num('--startup-gb', 0.1, { min: 0 });
  const scRate = args.num('--sc-rate', 10_000, { min: 0 });
  const pin = args.flag('--pin');
  const outFile = args.str('--out') ?? path.join(a.root, 'bench', 'results', 'scale.json');
  const chartDir = args.str('--charts') ?? path.join(a.root, 'docs', 'performance');
  if (args.flag('--replot')) return replot(outFile, chartDir);
  const load0 = os.loadavg();
  const note =
    args.str('--note') ??
    `median of ${a.repeat} run(s); load average at start ${load0.map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores${pin ? '; pinned: brokers on CPU 0, driver on CPU 1' : ''}`;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-scale-'));
  const logDir = path.join(workDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const env: Env = { root: a.root, samsaMain: a.samsaMain, libs: await kafkaLibs(a.root), logDir, pin };
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  process.stderr.write(
    `bench scale: ${plan.map((p) => `${p.def.id} [${p.points.join(', ')}]`).join(', ')} x ${a.repeat}, scratch ${workDir}\n`,
  );
  const brokers: BrokerHandle[] = [];
  const stopAll = async (): Promise<void> => {
    for (const b of brokers.splice(0)) await b.stop().catch(() => {});
  };
  process.once('SIGINT', () => {
    for (const d of [...drivers, ...perfDrivers]) d.kill('SIGKILL');
    void stopAll().then(() => process.exit(130));
  });
  const names = a.noKafka ? ['samsa'] : ['samsa', 'kafka'];
  const results: CurveResult[] = [];
  try {
    for (const { def, points } of plan) {
      const curve: CurveResult = { id: def.id, title: def.title, x: def.x, points: [] };
      results.push(curve);
      // The SS points start their own brokers, one at a time; the others share one pair.
      if (def.id === 'SS') await stopAll();
      else if (brokers.length === 0) {
        brokers.push(await startSamsa(a.samsaMain, workDir));
        if (!a.noKafka) {
          const k = await startKafka(a.root, workDir);
          if (k !== null) brokers.push(k);
        }
        if (env.pin) for (const b of brokers) pinToCpu0(b.pid);
        // Warm-up (both JITs, the driver's compile cache), not measured.
        for (const b of brokers) {
          const topic: [string, number][] = [[`scale-warmup-${Date.now()}`, 1]];
          await createTopics(b.port, topic);
          await driver(
            env,
            `warmup-${b.name}`,
            produceArgs(b.port, 1, a.quick ? 50_000 : 200_000, topic),
            600_000,
          );
          await deleteTopic(b.port, topic[0]?.[0] ?? '').catch(() => {});
        }
      }
      for (const [i, x] of points.entries()) {
        const runs: Record<string, Figures[]> = Object.fromEntries(names.map((n) => [n, []]));
        for (let rep = 0; rep < a.repeat; rep++) {
          const order = (i + rep) % 2 === 0 ? names : [...names].reverse();
          for (const n of order) {
            let f: Figures;
            if (def.id === 'SS') {
              const s = await measureStartup(
                {
                  root: a.root,
                  samsaMain: a.samsaMain,
                  workDir,
                  produce: async (name, port, topics, n2) => {
                    const r = await driver(env, name, produceArgs(port, 1, n2, topics), 3_600_000);
                    return typeof r === 'string' ? r : null;
                  },
                },
                n as 'samsa' | 'kafka',
                x,
                startupGb,
                rep,
              );
              const { ok, error, ...v } = s;
              f = { ok, error, v: v as Record<string, number> };
            } else {
              const b = brokers.find((y) => y.name === n);
              f =
                b === undefined
                  ? { ok: false, error: `${n} is not running`, v: {} }
                  : await measurePoint(env, b, def.id, x, rep, records, scRate);
            }
            runs[n]?.push(f);
            const shown = def.columns
              .filter((c) => Number.isFinite(f.v[c.key]))
              .map((c) => `${c.title} ${Number(f.v[c.key]).toFixed(c.digits)}`)
              .join(', ');
            process.stderr.write(
              `  ${def.id} ${def.x}=${x} ${n} #${rep + 1}: ${f.ok ? shown : `FAILED: ${f.error}`}\n`,
            );
          }
        }
        curve.points.push(summarize(def, x, runs));
      }
    }
  } finally {
    await stopAll();
    if (!args.flag('--keep')) fs.rmSync(workDir, { recursive: true, force: true });
  }

  const elapsedSec = Math.round((Date.now() - t0) / 1000);
  const charts: string[] = [];
  for (const c of results) {
    const def = scaleCurves.find((d) => d.id === c.id) as CurveDef;
    c.run = { startedAt, elapsedSec, repeat: a.repeat, records, startupGb, note, brokers: names };
    process.stdout.write(`\n${curveText(def, c, names, a.repeat)}\n`);
    charts.push(...writeCharts(def, c, names, chartDir, note));
  }
  // The curves of earlier runs into the same file stay (one curve per session on a quiet machine).
  let earlier: CurveResult[] = [];
  try {
    earlier = (JSON.parse(fs.readFileSync(outFile, 'utf8')) as { curves?: CurveResult[] }).curves ?? [];
  } catch {}
  const order = (c: CurveResult): number => scaleCurves.findIndex((d) => d.id === c.id);
  const curves = [...earlier.filter((e) => !results.some((c) => c.id === e.id)), ...results].sort(
    (x, y) => order(x) - order(y),
  );
  const md: string[] = [
    '## Scale curves (`npm run bench -- --only S`)',
    '',
    "Driver: bench/kafka/ScaleDriver.java (Kafka's Java client) for both brokers; SN: `samsa perf produce --producers N` (one Node process) for both. First column: median [min-max].",
  ];
  for (const c of curves) {
    const def = scaleCurves.find((d) => d.id === c.id);
    if (def === undefined) continue;
    const r = c.run;
    const how =
      r === undefined
        ? ''
        : `${r.startedAt}, ${r.repeat} run(s), ${c.id === 'SS' ? `${r.startupGb} GB` : `${r.records} records`}; ${r.note}`;
    md.push('', curveMarkdown(def, c, r?.brokers ?? names, r?.repeat ?? 1), '', how);
  }
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const json = {
    updatedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAvgAtStart: load0,
      loadAvgAtEnd: os.loadavg(),
    },
    curves,
  };
  fs.writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(outFile.replace(/\.json$/, '.md'), `${md.join('\n')}\n`);
  process.stdout.write(`\n${note}\n`);
  process.stderr.write(`bench scale: wrote ${outFile} and ${charts.length} charts (${elapsedSec} s)\n`);
  return 0;
}

/** --replot: the charts of every curve in the results file, with each curve's own note. */
function replot(outFile: string, chartDir: string): number {
  const saved = JSON.parse(fs.readFileSync(outFile, 'utf8')) as { curves?: CurveResult[] };
  const written: string[] = [];
  for (const c of saved.curves ?? []) {
    const def = scaleCurves.find((d) => d.id === c.id);
    if (def === undefined) continue;
    const note = c.run === undefined ? '' : `${c.run.startedAt.slice(0, 10)}, ${c.run.note}`;
    written.push(...writeCharts(def, c, c.run?.brokers ?? ['samsa', 'kafka'], chartDir, note));
  }
  process.stderr.write(`bench scale: redrew ${written.length} charts from ${outFile}\n`);
  return 0;
}
