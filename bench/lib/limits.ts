// "Near this machine's limits" (issue 16): `npm run bench -- --only L` measures what the machine itself does and,
// in the same run, how close the broker gets to it with `samsa perf` as the load generator:
//   L0  ceilings (bench/lib/limits-probe.ts, no broker): a  page-cache append, a fresh file, 1 MiB (L0a) and
//       64 KiB (L0a64k) writeSync calls, no fsync; b  loopback TCP Node -> Node, 1 MiB writes; c  the L0a file,
//       in the page cache, read into page-aligned pooled buffers and sent over loopback
//   L1  `samsa perf produce` 1 KiB records (acks=1 / acks=all, 1 and 8 partitions, default 16 KiB and 256 KiB
//       batches, 1 and 2 producer processes), MB/s and its fraction of L0a
//   L2  `samsa perf consume` of 1 KiB records already in the page cache (written beforehand, not measured;
//       1 MiB and 8 MiB per-partition fetches, 1 and 8 partitions), MB/s and its fraction of L0b (and L0c)
// Each row samples the broker's and the clients' CPU (bench/lib/limits-cpu.ts) and names the component that holds
// it back. With Kafka available (and no --no-kafka) L1/L2 run against a single-node Kafka 4.x too, after Samsa has
// stopped, with the same load generator. Every row runs --repeat times; the table shows the median run.
// Options (besides run.ts's --repeat, --no-kafka, --out, --keep):
//   --mb N           record bytes per L1 row and per L2 topic, in MB (default 1024)
//   --ceiling-mb N   bytes of each L0a file, MB (default 2048); L0b sends 4x that
//   --settle-ms MS   pause after deleting data before an append is measured (default 8000: the VM hands freed
//                    memory back to the host within ~3 s, so every append row starts from the same "fresh" page
//                    cache that L0a measured)
// Writes bench/results/limits.json + limits.md.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { KafkaConnection } from '../../src/client/connection.js';
import { describeTopic } from '../../src/client/perf/cluster.js';
import type { Args } from './args.js';
import { type BrokerHandle, deleteTopic, startKafka, startSamsa } from './brokers.js';
import { type CpuSplit, CpuWindow, heldBackBy } from './limits-cpu.js';
import {
  type LimitsRow,
  limitsLegend,
  limitsMarkdown,
  limitsRatiosMarkdown,
  limitsRatiosText,
  limitsText,
} from './limits-report.js';

export const isLimitsSelection = (only: string[] | undefined): boolean =>
  only !== undefined && only.length > 0 && only.every((o) => /^L\d?[a-z]?(64k)?$/.test(o));

export interface LimitsArgs {
  args: Args;
  root: string;
  samsaMain: string;
  noKafka: boolean;
  repeat: number;
  only: string[];
}

const MB = 1e6;
const MiB = 1 << 20;
const RECORD = 1024;
const probeJs = path.join(path.dirname(fileURLToPath(import.meta.url)), 'limits-probe.js');

interface ProduceRow {
  id: string;
  label: string;
  partitions: number;
  acks: '1' | 'all';
  producers: number;
  batchSize: number;
}
interface ConsumeRow {
  id: string;
  label: string;
  partitions: number;
  partitionMaxBytes: number;
}

const produce = (
  id: string,
  partitions: number,
  acks: '1' | 'all',
  producers: number,
  batchSize: number,
): ProduceRow => ({
  id,
  label: `produce 1KiB ${partitions}p acks=${acks}${batchSize === 16_384 ? '' : ` batch ${batchSize / 1024}KiB`}${producers > 1 ? ` ${producers} procs` : ''}`,
  partitions,
  acks,
  producers,
  batchSize,
});
const produceRows: ProduceRow[] = [
  produce('L1a', 1, '1', 1, 16_384),
  produce('L1b', 1, '1', 1, 262_144),
  produce('L1c', 8, '1', 1, 16_384),
  produce('L1d', 8, '1', 1, 262_144),
  produce('L1e', 8, '1', 2, 16_384),
  produce('L1f', 8, 'all', 1, 16_384),
];
const consumeRows: ConsumeRow[] = [
  { id: 'L2a', label: 'consume 1KiB 1p fetch 1MiB/p', partitions: 1, partitionMaxBytes: MiB },
  { id: 'L2b', label: 'consume 1KiB 1p fetch 8MiB/p', partitions: 1, partitionMaxBytes: 8 * MiB },
  { id: 'L2c', label: 'consume 1KiB 8p fetch 1MiB/p', partitions: 8, partitionMaxBytes: MiB },
];

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  endedAt: number;
}

interface Proc {
  pid: number;
  /** Resolves with the exit code and stdout once the process has exited (endedAt: performance.now()). */
  done: Promise<Exit>;
}

/** A Node child; onLine sees each stdout line as it comes (GO, PORT n). */
function node(args: string[], logFile: string, onLine: (l: string) => void = () => {}): Proc {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    pending += d.toString();
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      onLine(pending.slice(0, i));
      pending = pending.slice(i + 1);
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 900_000);
  const done = new Promise<Exit>((resolve) => {
    child.once('close', (code) => {
      const endedAt = performance.now();
      clearTimeout(timer);
      fs.writeFileSync(logFile, `$ node ${args.join(' ')}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      resolve({ code, stdout, stderr, endedAt });
    });
  });
  return { pid: child.pid as number, done };
}

function lastJson(s: string): Record<string, number> | null {
  for (const l of s.trim().split('\n').reverse()) {
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l) as Record<string, number>;
    } catch {}
  }
  return null;
}

function tail(s: string): string {
  return s.trim().split('\n').slice(-2).join(' | ').slice(0, 200);
}

interface Run {
  mbPerSec: number;
  cpu: CpuSplit | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Limits {
  private seq = 0;
  constructor(
    private readonly samsaMain: string,
    private readonly logDir: string,
    private readonly opts: { mb: number; ceilingMb: number; settleMs: number },
  ) {}

  private log(name: string): string {
    return path.join(this.logDir, `${name}-${this.seq++}.log`);
  }

  // ---- L0 ----------------------------------------------------------------------------------------------------

  /** An append of the ceiling's bytes to a fresh file (kept when keep is set, for L0c). */
  async append(file: string, chunk: number): Promise<Run> {
    fs.rmSync(file, { force: true });
    await sleep(this.opts.settleMs);
    const w = new CpuWindow([]);
    const p = node(
      [probeJs, 'append', file, String(this.opts.ceilingMb * MB), String(chunk)],
      this.log('L0a'),
      (l) => {
        if (l === 'GO') w.open();
      },
    );
    w.addClient(p.pid);
    const r = await p.done;
    const cpu = w.stop();
    const j = lastJson(r.stdout);
    if (r.code !== 0 || j === null) throw new Error(`append probe failed: ${tail(r.stderr)}`);
    return { mbPerSec: (j.bytes as number) / (j.sec as number) / MB, cpu };
  }

  /** A sink and a sender (`send` over loopback, or `filesend` of a file in the page cache). */
  async stream(mode: 'send' | 'filesend', file: string): Promise<Run> {
    let port: (n: number) => void = () => {};
    const gotPort = new Promise<number>((r) => (port = r));
    const sink = node([probeJs, 'sink'], this.log('L0-sink'), (l) => {
      if (l.startsWith('PORT ')) port(Number(l.slice(5)));
    });
    const w = new CpuWindow([sink.pid]);
    const sinkPort = await Promise.race([
      gotPort,
      sink.done.then((r): number => {
        throw new Error(`sink exited (${r.code}) before listening: ${tail(r.stderr)}`);
      }),
    ]).catch((e: unknown) => {
      w.stop();
      throw e;
    });
    const args =
      mode === 'send'
        ? [String(sinkPort), String(4 * this.opts.ceilingMb * MB), String(MiB)]
        : [String(sinkPort), file];
    const p = node([probeJs, mode, ...args], this.log(`L0-${mode}`), (l) => {
      if (l === 'GO') w.open();
    });
    w.addClient(p.pid);
    const [rs, rp] = await Promise.all([sink.done, p.done]);
    const cpu = w.stop();
    const j = lastJson(rs.stdout);
    if (rs.code !== 0 || rp.code !== 0 || j === null) {
      throw new Error(`${mode} probe failed: ${tail(rp.stderr)} ${tail(rs.stderr)}`);
    }
    return { mbPerSec: (j.bytes as number) / (j.sec as number) / MB, cpu };
  }

  // ---- L1 / L2 -----------------------------------------------------------------------------------------------

  private perf(b: BrokerHandle, args: string[], w: CpuWindow, name: string): Proc {
    const p = node(
      [this.samsaMain, 'perf', ...args, '--bootstrap-server', `127.0.0.1:${b.port}`, '--json'],
      this.log(name),
    );
    w.addClient(p.pid);
    return p;
  }

  /** mb: record bytes to write (MB); unmeasured writes (warm-up, the L2 logs) log under a -setup name. */
  async produce(
    b: BrokerHandle,
    row: ProduceRow,
    topic: string,
    mb = this.opts.mb,
    measured = true,
  ): Promise<Run> {
    await createTopic(b.port, topic, row.partitions);
    const records = Math.max(1, Math.round((mb * MB) / RECORD / row.producers));
    const w = new CpuWindow([b.pid]);
    const procs: Proc[] = [];
    for (let i = 0; i < row.producers; i++) {
      const args = [
        'produce',
        '--topic',
        topic,
        '--records',
        String(records),
        '--record-size',
        String(RECORD),
      ];
      args.push(`--acks=${row.acks === 'all' ? '-1' : '1'}`, '--batch-size', String(row.batchSize));
      procs.push(this.perf(b, args, w, `${row.id}-${b.name}${measured ? '' : '-setup'}`));
    }
    const rs = await Promise.all(procs.map((p) => p.done));
    let bytes = 0;
    let sec = 0;
    let startAt = 0;
    for (const r of rs) {
      const j = lastJson(r.stdout);
      if (r.code !== 0 || j === null) {
        w.stop();
        throw new Error(`samsa perf produce failed: ${tail(r.stderr)}`);
      }
      bytes += (j.records as number) * RECORD;
      sec = Math.max(sec, j.elapsedSec as number);
      startAt = Math.max(startAt, r.endedAt - (j.elapsedSec as number) * 1000);
    }
    return { mbPerSec: bytes / sec / MB, cpu: w.stop(startAt) };
  }

  async consume(b: BrokerHandle, row: ConsumeRow, topic: string): Promise<Run> {
    const records = Math.round((this.opts.mb * MB) / RECORD);
    const w = new CpuWindow([b.pid]);
    const args = ['consume', '--topic', topic, '--records', String(records), '--timeout', '30000'];
    args.push('--max-partition-fetch-bytes', String(row.partitionMaxBytes));
    args.push('--fetch-max-bytes', String(Math.max(64 * MiB, row.partitions * row.partitionMaxBytes)));
    const p = this.perf(b, args, w, `${row.id}-${b.name}`);
    const r = await p.done;
    const j = lastJson(r.stdout);
    if (r.code !== 0 || j === null) {
      w.stop();
      throw new Error(`samsa perf consume failed: ${tail(r.stderr)}`);
    }
    const sec = j.elapsedSec as number;
    return { mbPerSec: (j.bytes as number) / sec / MB, cpu: w.stop(r.endedAt - sec * 1000) };
  }

  /** The page cache is "fresh" again: the previous row's files were deleted settleMs ago. */
  settle(): Promise<void> {
    return sleep(this.opts.settleMs);
  }
}

async function createTopic(port: number, topic: string, partitions: number): Promise<void> {
  const c = await KafkaConnection.connect({ host: '127.0.0.1', port, clientId: 'bench-limits' });
  try {
    await describeTopic(c, topic, partitions);
  } finally {
    c.close();
  }
}

/** Runs measure `repeat` times; the row keeps the median run (its MB/s and its CPU split). */
async function repeated(
  base: Omit<LimitsRow, 'ok' | 'mbPerSec' | 'runs' | 'cpu' | 'heldBackBy'>,
  repeat: number,
  measure: (rep: number) => Promise<Run>,
): Promise<LimitsRow> {
  const runs: Run[] = [];
  let error: string | undefined;
  for (let rep = 0; rep < repeat; rep++) {
    try {
      const r = await measure(rep);
      runs.push(r);
      process.stderr.write(
        `  ${base.id} ${base.label} [${base.broker}] #${rep + 1}: ${r.mbPerSec.toFixed(0)} MB/s\n`,
      );
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      process.stderr.write(`  ${base.id} ${base.label} [${base.broker}] #${rep + 1}: FAILED: ${error}\n`);
    }
  }
  const sorted = [...runs].sort((a, b) => a.mbPerSec - b.mbPerSec);
  const med = sorted[Math.floor((sorted.length - 1) / 2)];
  if (med === undefined) {
    return { ...base, ok: false, error, mbPerSec: Number.NaN, runs: [], cpu: null, heldBackBy: '' };
  }
  return {
    ...base,
    ok: true,
    mbPerSec: med.mbPerSec,
    runs: runs.map((r) => r.mbPerSec),
    cpu: med.cpu,
    heldBackBy: heldBackBy(med.cpu, base.serverName ?? 'broker', base.clientName ?? 'client'),
  };
}

function withCeiling(row: LimitsRow, ceiling: LimitsRow | undefined, fileToSocket?: LimitsRow): LimitsRow {
  if (ceiling?.ok) {
    row.ceiling = ceiling.id;
    row.ceilingMbPerSec = ceiling.mbPerSec;
    row.ofCeiling = row.mbPerSec / ceiling.mbPerSec;
  }
  if (fileToSocket?.ok) row.ofFileToSocket = row.mbPerSec / fileToSocket.mbPerSec;
  return row;
}

export async function runLimits(a: LimitsArgs): Promise<number> {
  const wanted = (id: string): boolean => a.only.some((o) => id.startsWith(o));
  const opts = {
    mb: a.args.num('--mb', 1024, { positive: true }),
    ceilingMb: a.args.num('--ceiling-mb', 2048, { positive: true }),
    settleMs: a.args.num('--settle-ms', 8000, { min: 0 }),
  };
  const keep = a.args.flag('--keep');
  const outFile = a.args.str('--out') ?? path.join(a.root, 'bench', 'results', 'limits.json');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-limits-'));
  const logDir = path.join(workDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const load0 = os.loadavg();
  const t0 = Date.now();
  process.stderr.write(
    `bench limits: ${a.only.join(',')} x ${a.repeat}, ${opts.mb} MB per row, ceilings ${opts.ceilingMb} MB, scratch ${workDir}\n`,
  );
  const L = new Limits(a.samsaMain, logDir, opts);
  const rows: LimitsRow[] = [];
  let broker: BrokerHandle | null = null;
  process.once('SIGINT', () => {
    void (broker?.stop() ?? Promise.resolve()).then(() => process.exit(130));
  });
  try {
    // ---- L0: always measured when L1/L2 are (their fractions need them) ----
    // A group is selected when some --only entry is within it (L1a) or holds it (L, L1).
    const group = (g: string): boolean => a.only.some((o) => o.startsWith(g) || g.startsWith(o));
    const needL0 = (id: string): boolean =>
      wanted(id) || (id === 'L0a' && group('L1')) || (id !== 'L0a' && group('L2'));
    const file = path.join(workDir, 'append.dat');
    const machine = { broker: 'machine' as const };
    if (wanted('L0a64k')) {
      rows.push(
        await repeated(
          { ...machine, id: 'L0a64k', label: 'page-cache append, 64KiB writes', clientName: 'writer' },
          a.repeat,
          () => L.append(file, 64 * 1024),
        ),
      );
    }
    // L0c reads the file L0a leaves.
    if (needL0('L0a') || needL0('L0c')) {
      rows.push(
        await repeated(
          { ...machine, id: 'L0a', label: 'page-cache append, 1MiB writes', clientName: 'writer' },
          a.repeat,
          () => L.append(file, MiB),
        ),
      );
    }
    if (needL0('L0b')) {
      rows.push(
        await repeated(
          {
            ...machine,
            id: 'L0b',
            label: 'loopback TCP, 1MiB writes',
            serverName: 'sink',
            clientName: 'sender',
          },
          a.repeat,
          () => L.stream('send', file),
        ),
      );
    }
    if (needL0('L0c') && fs.existsSync(file)) {
      rows.push(
        await repeated(
          { ...machine, id: 'L0c', label: 'page cache -> socket', serverName: 'sink', clientName: 'sender' },
          a.repeat,
          () => L.stream('filesend', file),
        ),
      );
    }
    fs.rmSync(file, { force: true });
    const l0 = (id: string): LimitsRow | undefined => rows.find((r) => r.id === id);

    // ---- L1 / L2 against each broker in turn, alone on the machine ----
    const names: ('samsa' | 'kafka')[] = a.noKafka ? ['samsa'] : ['samsa', 'kafka'];
    const pRows = produceRows.filter((r) => wanted(r.id));
    const cRows = consumeRows.filter((r) => wanted(r.id));
    for (const name of names) {
      if (pRows.length + cRows.length === 0) break;
      broker = name === 'samsa' ? await startSamsa(a.samsaMain, workDir) : await startKafka(a.root, workDir);
      if (broker === null) break;
      const b = broker;
      process.stderr.write(`bench limits: ${b.label} on port ${b.port} (pid ${b.pid})\n`);
      // Warm-up (JIT), not measured.
      const warm = `limits-warmup-${Date.now()}`;
      await L.produce(
        b,
        { ...(produceRows[0] as ProduceRow), id: 'warmup' },
        warm,
        Math.min(opts.mb, 200),
        false,
      );
      await deleteTopic(b.port, warm).catch(() => {});
      await L.settle();
      for (const row of pRows) {
        const base = { id: row.id, label: row.label, broker: b.name };
        const r = await repeated(base, a.repeat, async (rep) => {
          const topic = `limits-${row.id}-${rep}-${Date.now()}`;
          try {
            return await L.produce(b, row, topic);
          } finally {
            await deleteTopic(b.port, topic).catch(() => {});
            await L.settle();
          }
        });
        rows.push(withCeiling(r, l0('L0a')));
      }
      // The consume logs: written once per partition count, read by every L2 row (from the page cache).
      const logs = new Map<number, string>();
      for (const row of cRows) {
        let topic = logs.get(row.partitions);
        if (topic === undefined) {
          topic = `limits-consume-${row.partitions}p-${Date.now()}`;
          process.stderr.write(`  writing ${opts.mb} MB to ${topic} for the L2 rows (not measured)\n`);
          const setup = produce(`L2-log-${row.partitions}p`, row.partitions, '1', 1, 262_144);
          await L.produce(b, setup, topic, opts.mb, false);
          logs.set(row.partitions, topic);
        }
        const base = { id: row.id, label: row.label, broker: b.name };
        const t = topic;
        const r = await repeated(base, a.repeat, () => L.consume(b, row, t));
        rows.push(withCeiling(r, l0('L0b'), l0('L0c')));
      }
      for (const t of logs.values()) await deleteTopic(b.port, t).catch(() => {});
      await b.stop().catch(() => {});
      broker = null;
    }
  } finally {
    await broker?.stop().catch(() => {});
    if (!keep) fs.rmSync(workDir, { recursive: true, force: true });
  }

  const elapsedSec = Math.round((Date.now() - t0) / 1000);
  const note = `${startedAt}, ${a.repeat} run(s) per row (median shown), ${opts.mb} MB per L1 row / L2 log, L0 files ${opts.ceilingMb} MB; load average at start ${load0.map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores; ${elapsedSec} s`;
  process.stdout.write(`\n${limitsText(rows)}\n\n${limitsRatiosText(rows)}\n\n${limitsLegend}\n${note}\n`);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const json = {
    startedAt,
    elapsedSec,
    options: { ...opts, repeat: a.repeat, only: a.only },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
      node: process.version,
      loadAvgAtStart: load0,
      loadAvgAtEnd: os.loadavg(),
    },
    rows,
  };
  fs.writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(
    outFile.replace(/\.json$/, '.md'),
    `## Near the machine's limits (\`npm run bench -- --only L\`)\n\n${limitsMarkdown(rows)}\n\n${limitsRatiosMarkdown(rows)}\n\n${limitsLegend}\n\n${note}\n`,
  );
  process.stderr.write(`bench limits: wrote ${outFile}\n`);
  return 0;
}
