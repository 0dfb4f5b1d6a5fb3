// The load generators, run as child processes against either broker, and the parsers of what
// they print: Kafka's ProducerPerformance / ConsumerPerformance / EndToEndLatency (from the
// Kafka jars) and `samsa perf produce|consume|e2e --json`.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ToolRun {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  wallSec: number;
}

export interface ProduceMetrics {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface ConsumeMetrics {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
}

export interface E2eMetrics {
  records: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class Tools {
  readonly javaCp: string;

  constructor(
    readonly root: string,
    /** The build's src/cli/main.js, run as `samsa`. */
    readonly samsaMain: string,
    readonly logDir: string,
    kafkaLibs: string,
  ) {
    this.javaCp = `${kafkaLibs}/*`;
    fs.mkdirSync(logDir, { recursive: true });
  }

  private async exec(name: string, cmd: string, args: string[], timeoutMs: number): Promise<ToolRun> {
    const start = Date.now();
    return new Promise((resolve) => {
      const child = spawn(cmd, args, { cwd: this.root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('close', (code) => {
        clearTimeout(timer);
        fs.writeFileSync(
          path.join(this.logDir, `${name}.log`),
          `$ ${cmd} ${args.join(' ')}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
        );
        resolve({ ok: code === 0, code, stdout, stderr, wallSec: (Date.now() - start) / 1000 });
      });
    });
  }

  private java(name: string, mainClass: string, args: string[], timeoutMs: number): Promise<ToolRun> {
    return this.exec(
      name,
      'java',
      [
        '-Xmx1g',
        '-XX:+UseG1GC',
        `-Dlog4j2.configurationFile=${path.join(this.root, 'bench', 'kafka', 'log4j2.properties')}`,
        '-cp',
        this.javaCp,
        mainClass,
        ...args,
      ],
      timeoutMs,
    );
  }

  /** `samsa perf <command> --bootstrap-server ... --topic ... <args> --json`: its last JSON line, or why it failed. */
  private async samsaJson(
    name: string,
    command: 'produce' | 'consume' | 'e2e',
    port: number | string,
    topic: string,
    args: string[],
  ): Promise<Record<string, unknown> | string> {
    const r = await this.exec(
      name,
      process.execPath,
      [
        this.samsaMain,
        'perf',
        command,
        '--bootstrap-server',
        bootstrap(port),
        '--topic',
        topic,
        ...args,
        '--json',
      ],
      300_000,
    );
    const j = lastJson(r.stdout);
    return !r.ok || j === null ? failure(`samsa perf ${command}`, r) : j;
  }

  async kafkaProduce(
    name: string,
    port: number | string,
    topic: string,
    w: { records: number; recordSize: number; acks: string; compression: string; throughput?: number },
    /** Extra producer properties, e.g. security.protocol=SSL and the trust store (bench/lib/tls.ts). */
    clientProps: string[] = [],
  ): Promise<ProduceMetrics | string> {
    const r = await this.java(
      name,
      'org.apache.kafka.tools.ProducerPerformance',
      [
        '--topic',
        topic,
        '--num-records',
        String(w.records),
        '--record-size',
        String(w.recordSize),
        '--throughput',
        String(w.throughput ?? -1),
        '--producer-props',
        `bootstrap.servers=${bootstrap(port)}`,
        `acks=${w.acks}`,
        `compression.type=${w.compression}`,
        ...clientProps,
      ],
      300_000,
    );
    const m =
      /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th/.exec(
        r.stdout,
      );
    if (m === null) return failure('ProducerPerformance', r);
    return {
      records: Number(m[1]),
      recordsPerSec: Number(m[2]),
      mbPerSec: Number(m[3]),
      avgMs: Number(m[4]),
      maxMs: Number(m[5]),
      p50Ms: Number(m[6]),
      p99Ms: Number(m[8]),
      p999Ms: Number(m[9]),
    };
  }

  async samsaProduce(
    name: string,
    port: number | string,
    topic: string,
    w: { records: number; recordSize: number; acks: string; compression: string; throughput?: number },
  ): Promise<ProduceMetrics | string> {
    const j = await this.samsaJson(name, 'produce', port, topic, [
      '--records',
      String(w.records),
      '--record-size',
      String(w.recordSize),
      `--acks=${w.acks === 'all' ? '-1' : w.acks}`,
      '--compression',
      w.compression,
      `--throughput=${w.throughput ?? -1}`,
    ]);
    if (typeof j === 'string') return j;
    return {
      records: j.records as number,
      recordsPerSec: j.recordsPerSec as number,
      mbPerSec: j.mbPerSec as number,
      ...latencyOf(j),
    };
  }

  async kafkaConsume(
    name: string,
    port: number,
    topic: string,
    records: number,
    /** A consumer properties file (--consumer.config), e.g. security.protocol=SSL (bench/lib/tls.ts). */
    configFile?: string,
  ): Promise<ConsumeMetrics | string> {
    const r = await this.java(
      name,
      'org.apache.kafka.tools.ConsumerPerformance',
      [
        ...(configFile === undefined ? [] : ['--consumer.config', configFile]),
        '--bootstrap-server',
        `127.0.0.1:${port}`,
        '--topic',
        topic,
        '--messages',
        String(records),
        '--timeout',
        '30000',
      ],
      300_000,
    );
    // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
    // fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    const line = r.stdout
      .split('\n')
      .map((s) => s.split(',').map((f) => f.trim()))
      .find((f) => f.length >= 10 && /^\d/.test(f[4] ?? ''));
    if (line === undefined || Number(line[4]) < records) return failure('ConsumerPerformance', r);
    return { records: Number(line[4]), mbPerSec: Number(line[8]), recordsPerSec: Number(line[9]) };
  }

  async samsaConsume(
    name: string,
    port: number,
    topic: string,
    records: number,
  ): Promise<ConsumeMetrics | string> {
    const j = await this.samsaJson(name, 'consume', port, topic, [
      '--records',
      String(records),
      '--timeout',
      '30000',
    ]);
    if (typeof j === 'string') return j;
    return {
      records: j.records as number,
      recordsPerSec: j.recordsPerSec as number,
      mbPerSec: j.mbPerSec as number,
    };
  }

  async samsaE2e(
    name: string,
    port: number | string,
    topic: string,
    w: { records: number; recordSize: number; throughput: number; acks?: '1' | 'all' },
  ): Promise<E2eMetrics | string> {
    const j = await this.samsaJson(name, 'e2e', port, topic, [
      '--records',
      String(w.records),
      '--record-size',
      String(w.recordSize),
      '--throughput',
      String(w.throughput),
      `--acks=${w.acks === 'all' ? '-1' : '1'}`,
    ]);
    if (typeof j === 'string') return j;
    return { records: j.consumed as number, ...latencyOf(j) };
  }

  /** Kafka's EndToEndLatency: one record at a time, produce then poll until it arrives (closed loop). */
  async kafkaE2e(
    name: string,
    port: number,
    topic: string,
    records: number,
    recordSize: number,
  ): Promise<E2eMetrics | string> {
    const r = await this.java(
      name,
      'org.apache.kafka.tools.EndToEndLatency',
      [`127.0.0.1:${port}`, topic, String(records), '1', String(recordSize)],
      300_000,
    );
    // Percentiles are printed before the final offset commit, which needs a group coordinator.
    const avg = /Avg latency: ([\d.]+) ms/.exec(r.stdout);
    const p = /Percentiles: 50th = (\d+), 99th = (\d+), 99.9th = (\d+)/.exec(r.stdout);
    if (avg === null || p === null) return failure('EndToEndLatency', r);
    return {
      records,
      avgMs: Number(avg[1]),
      p50Ms: Number(p[1]),
      p99Ms: Number(p[2]),
      p999Ms: Number(p[3]),
      maxMs: Number.NaN,
    };
  }
}

/** A port on this machine, or a bootstrap list as it is. */
function bootstrap(port: number | string): string {
  return typeof port === 'number' ? `127.0.0.1:${port}` : port;
}

/** The latency figures of `samsa perf produce` / `e2e` --json output. */
function latencyOf(j: Record<string, unknown>): Omit<E2eMetrics, 'records'> {
  const l = j.latency as Record<string, number>;
  return {
    avgMs: l.avgMs as number,
    p50Ms: l.p50Ms as number,
    p99Ms: l.p99Ms as number,
    p999Ms: l.p999Ms as number,
    maxMs: l.maxMs as number,
  };
}

function lastJson(s: string): Record<string, unknown> | null {
  const lines = s.trim().split('\n').reverse();
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {}
  }
  return null;
}

function failure(tool: string, r: ToolRun): string {
  const tail = `${r.stderr}\n${r.stdout}`
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join(' | ');
  return `${tool} failed (exit ${r.code}): ${tail.slice(0, 300)}`;
}
