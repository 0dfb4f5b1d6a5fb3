// The SN scale curve (bench/lib/scale.ts): produce 1 KiB acks=1 to an 8-partition topic from N producer
// connections, driven by `samsa perf produce --producers N` (N independent producer clients in one Node process,
// src/client/perf/producers.ts) instead of the Java ScaleDriver, whose thread per client makes the driver the
// limit at a few hundred producers on a small machine. Each point: a saturated run (--records), then a run paced
// at --sc-rate records/s in all for --sc-rate x 8 records, as SC's. Around each run the broker's and the driver's
// CPU are sampled from /proc (bench/lib/limits-cpu.ts) over the driver's timed part (after connecting), so that the
// table says who was busy: the broker, the driver, or neither.

import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BrokerHandle } from './brokers.js';
import { CpuWindow, cpuColumns } from './limits-cpu.js';
import { startCost } from './proc.js';
import type { Figures } from './scale-report.js';

export interface PerfEnv {
  root: string;
  samsaMain: string;
  logDir: string;
  /** --pin: the driver on CPU 1 (the brokers are on CPU 0). */
  pin: boolean;
}

/** The perf drivers running now (killed with the bench on SIGINT). */
export const perfDrivers = new Set<ChildProcess>();

/** One `samsa perf produce --producers N --json` run; its JSON and the CPU split over its timed part. */
async function perfRun(
  env: PerfEnv,
  b: BrokerHandle,
  name: string,
  args: string[],
  timeoutMs: number,
): Promise<{ r: Record<string, number>; cpu: ReturnType<typeof cpuColumns> } | string> {
  const argv = [
    env.samsaMain,
    'perf',
    'produce',
    '--bootstrap-server',
    `127.0.0.1:${b.port}`,
    ...args,
    '--json',
  ];
  const w = new CpuWindow([b.pid]);
  const child = env.pin
    ? spawn('taskset', ['-c', '1', process.execPath, ...argv], {
        cwd: env.root,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, argv, { cwd: env.root, stdio: ['ignore', 'pipe', 'pipe'] });
  perfDrivers.add(child);
  if (child.pid !== undefined) w.addClient(child.pid);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const endedAt = performance.now();
  clearTimeout(timer);
  perfDrivers.delete(child);
  fs.writeFileSync(
    path.join(env.logDir, `${name}.log`),
    `$ node ${argv.join(' ')}\n${out}\n--- stderr\n${err}`,
  );
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (code !== 0 || line === undefined) {
    w.stop();
    const tail = `${err}\n${out}`.trim().split('\n').slice(-3).join(' | ');
    return `samsa perf produce failed (exit ${code}): ${tail.slice(0, 300)}`;
  }
  const j = JSON.parse(line) as Record<string, unknown>;
  const lat = j.latency as Record<string, number>;
  const r: Record<string, number> = {
    records: j.records as number,
    recordsPerSec: j.recordsPerSec as number,
    mbPerSec: ((j.records as number) * 1024) / 1e6 / (j.elapsedSec as number),
    p50Ms: lat.p50Ms ?? Number.NaN,
    p99Ms: lat.p99Ms ?? Number.NaN,
    maxMs: lat.maxMs ?? Number.NaN,
    connectMs: j.connectMs as number,
    connections: j.connections as number,
  };
  return { r, cpu: cpuColumns(w.stop(endedAt - (j.elapsedSec as number) * 1000)) };
}

const runArgs = (topic: string, producers: number, records: number): string[] => [
  '--topic',
  topic,
  '--records',
  String(records),
  '--record-size',
  '1024',
  '--acks',
  '1',
  '--producers',
  String(producers),
];

/** One SN point on one broker: the topic exists (8 partitions); it is deleted by the caller. */
export async function measurePerfPoint(
  env: PerfEnv,
  b: BrokerHandle,
  name: string,
  topic: string,
  producers: number,
  records: number,
  rate: number,
): Promise<Figures> {
  const cost = startCost([b.pid]);
  const sat = await perfRun(env, b, name, runArgs(topic, producers, records), 900_000);
  if (typeof sat === 'string') return { ok: false, error: sat, v: {} };
  const v: Record<string, number> = {
    ...sat.r,
    brokerPct: sat.cpu.serverPct,
    driverPct: sat.cpu.clientPct,
    driverThreadPct: sat.cpu.clientThreadPct,
  };
  const spent = cost.end();
  v.cpuSec = spent.cpuSec;
  if (!Number.isNaN(spent.peakRssMb)) v.peakRssMb = spent.peakRssMb;
  if (rate > 0) {
    const paced = await perfRun(
      env,
      b,
      `${name}-paced`,
      [...runArgs(topic, producers, Math.round(rate * 8)), '--throughput', String(rate)],
      300_000,
    );
    if (typeof paced === 'string') return { ok: false, error: `paced: ${paced}`, v };
    v.pacedRecordsPerSec = paced.r.recordsPerSec ?? Number.NaN;
    v.pacedP50Ms = paced.r.p50Ms ?? Number.NaN;
    v.pacedP99Ms = paced.r.p99Ms ?? Number.NaN;
    v.pacedBrokerPct = paced.cpu.serverPct;
    v.pacedDriverThreadPct = paced.cpu.clientThreadPct;
    v.pacedIdlePct = paced.cpu.idlePct;
  }
  return { ok: true, v };
}
