// The SS curve of the scale bench (bench/lib/scale.ts): broker start-up time and RSS with many partitions and some
// data. Per broker, alone on the machine (the other one is not running): a fresh broker gets the partitions (topics
// of at most 1,000 partitions: 10,000 = 10 x 1,000) and --startup-gb of 1 KiB records spread over all of them, is
// stopped cleanly and started again (clean restart), then killed with SIGKILL and started again (recovery). "Ready"
// = every partition has a leader in Metadata and answers ListOffsets, and the end offsets are the ones written
// before the stop (nothing acknowledged lost). Times run from the spawn of the process to ready; RSS is the
// broker's VmRSS at ready and its VmHWM (peak) during the start-up.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KafkaConnection } from '../../src/client/connection.js';
import { connectLeaders, createTopic, describeTopic, listOffsets } from '../../src/client/perf/cluster.js';
import { freePort } from './brokers.js';
import { memoryMb } from './proc.js';

const run = promisify(execFile);

export interface StartupEnv {
  root: string;
  samsaMain: string;
  workDir: string;
  /** Runs the Java driver's produce mode (bench/lib/scale.ts); a string is an error. */
  produce: (
    name: string,
    port: number,
    topics: [string, number][],
    records: number,
  ) => Promise<string | null>;
}

export interface Proc {
  pid: number;
  port: number;
  exited: () => boolean;
  wait: () => Promise<void>;
}

/** Starts the broker on its data under dir (kept between starts); resolves at once, with the pid. */
async function spawnBroker(env: StartupEnv, broker: 'samsa' | 'kafka', dir: string): Promise<Proc> {
  const port = await freePort();
  fs.mkdirSync(dir, { recursive: true });
  const out = fs.openSync(path.join(dir, `${broker}.out`), 'a');
  let child: ChildProcess;
  if (broker === 'samsa') {
    const data = path.join(dir, 'data');
    child = spawn(
      process.execPath,
      [
        env.samsaMain,
        'broker',
        '--override',
        `listeners=PLAINTEXT://127.0.0.1:${port}`,
        '--override',
        `log.dirs=${data}`,
      ],
      { stdio: ['ignore', out, out], env: { ...process.env, SAMSA_LOG_LEVEL: 'warn' } },
    );
  } else {
    // Without --daemon the script execs the JVM: the child's pid is Kafka's.
    child = spawn(path.join(env.root, 'scripts', 'kafka-start.sh'), ['--port', String(port), '--dir', dir], {
      cwd: env.root,
      stdio: ['ignore', out, out],
    });
  }
  fs.closeSync(out);
  let exited = false;
  const gone = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  return { pid: child.pid as number, port, exited: () => exited, wait: () => gone };
}

/** The topics of a point: at most 1,000 partitions each (10,000 = 10 x 1,000). */
export function topicsFor(prefix: string, partitions: number): [string, number][] {
  const n = Math.ceil(partitions / 1000);
  const out: [string, number][] = [];
  for (let i = 0; i < n; i++) {
    out.push([`${prefix}-${i}`, Math.floor(partitions / n) + (i < partitions % n ? 1 : 0)]);
  }
  return out;
}

/** Sum of the end offsets of every partition, once every partition has a leader and answers; null until then. */
async function endOffsets(port: number, topics: [string, number][]): Promise<number | null> {
  let c: KafkaConnection | null = null;
  try {
    c = await KafkaConnection.connect({
      host: '127.0.0.1',
      port,
      clientId: 'bench-startup',
      timeoutMs: 2000,
    });
    let sum = 0;
    for (const [topic, n] of topics) {
      const layout = await describeTopic(c, topic);
      if (layout.leaders.size !== n) return null;
      const conns = await connectLeaders(layout, 'bench-startup');
      try {
        for (const v of (await listOffsets(conns, layout, -1)).values()) sum += v;
      } finally {
        for (const x of conns.values()) x.close();
      }
    }
    return sum;
  } catch {
    return null;
  } finally {
    c?.close();
  }
}

/** ms from now until the broker is ready with `expected` records in all; throws after timeoutMs. */
async function untilReady(
  p: Proc,
  topics: [string, number][],
  expected: number,
  t0: number,
  timeoutMs: number,
) {
  for (;;) {
    if (p.exited()) throw new Error('the broker exited during start-up');
    const sum = await endOffsets(p.port, topics);
    if (sum !== null && sum >= expected) return { ms: Date.now() - t0, endOffsets: sum };
    if (Date.now() - t0 > timeoutMs) throw new Error(`not ready after ${timeoutMs} ms (end offsets ${sum})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(p: Proc, signal: NodeJS.Signals): Promise<void> {
  if (p.exited()) return;
  process.kill(p.pid, signal);
  const t = setTimeout(() => {
    if (!p.exited()) process.kill(p.pid, 'SIGKILL');
  }, 120_000);
  await p.wait();
  clearTimeout(t);
}

export interface StartupFigures {
  ok: boolean;
  error?: string;
  createMs?: number;
  fillSec?: number;
  records?: number;
  /** Clean restart (SIGTERM, then start): spawn -> ready. */
  cleanStartMs?: number;
  cleanRssMb?: number;
  cleanPeakRssMb?: number;
  /** After SIGKILL: spawn -> ready (log recovery). */
  recoveryStartMs?: number;
  recoveryRssMb?: number;
  recoveryPeakRssMb?: number;
  /** The end offsets after each start equal the ones before the stop. */
  offsetsKept?: number;
}

export async function measureStartup(
  env: StartupEnv,
  broker: 'samsa' | 'kafka',
  partitions: number,
  gb: number,
  rep: number,
): Promise<StartupFigures> {
  const dir = path.join(env.workDir, `startup-${broker}-${partitions}-${rep}`);
  fs.rmSync(dir, { recursive: true, force: true });
  if (broker === 'kafka') await run(path.join(env.root, 'scripts', 'kafka-dist.sh'), [], { cwd: env.root });
  const topics = topicsFor('scale-startup', partitions);
  const records = Math.max(partitions, Math.round((gb * 1e9) / 1024));
  const timeout = 1_800_000;
  let p = await spawnBroker(env, broker, dir);
  try {
    await untilReady(p, [], 0, Date.now(), 120_000);
    const c0 = Date.now();
    const conn = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: p.port,
      clientId: 'bench-startup',
    });
    try {
      for (const [t, n] of topics) await createTopic(conn, t, n);
    } finally {
      conn.close();
    }
    await untilReady(p, topics, 0, c0, timeout);
    const createMs = Date.now() - c0;
    const f0 = Date.now();
    const err = await env.produce(`startup-fill-${broker}-${partitions}-${rep}`, p.port, topics, records);
    if (err !== null) return { ok: false, error: `filling: ${err}` };
    const fillSec = (Date.now() - f0) / 1000;
    const written = (await untilReady(p, topics, records, Date.now(), 60_000)).endOffsets;

    await stop(p, 'SIGTERM');
    let t0 = Date.now();
    p = await spawnBroker(env, broker, dir);
    const clean = await untilReady(p, topics, written, t0, timeout);
    const cleanRss = memoryMb(p.pid);

    await stop(p, 'SIGKILL');
    t0 = Date.now();
    p = await spawnBroker(env, broker, dir);
    const recovery = await untilReady(p, topics, written, t0, timeout);
    const recoveryRss = memoryMb(p.pid);
    return {
      ok: true,
      createMs,
      fillSec,
      records: written,
      cleanStartMs: clean.ms,
      cleanRssMb: cleanRss.rssMb,
      cleanPeakRssMb: cleanRss.peakRssMb,
      recoveryStartMs: recovery.ms,
      recoveryRssMb: recoveryRss.rssMb,
      recoveryPeakRssMb: recoveryRss.peakRssMb,
      offsetsKept: clean.endOffsets === written && recovery.endOffsets === written ? 1 : 0,
    };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  } finally {
    await stop(p, 'SIGTERM').catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
