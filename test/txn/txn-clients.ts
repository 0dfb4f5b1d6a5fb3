// What the transaction tests share: the Java transactional client (test/interop/java/.../TxnWorkload.java,
// compiled once per test process with javac against the interop project's kafka-clients 4.x jars in
// target/lib) driven line by line, its read_committed / read_uncommitted reader,
// its consume-transform-produce processor, and the check whether a broker offers transactions at all
// (ApiVersions listing EndTxn).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { Producer } from '../../src/client/producer.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { type Running, repoRoot, run, start } from '../helpers/run.js';
import { javaClientJar } from '../interop/harness.js';

/**
 * The broker's transaction keys for these tests: a short cap on transaction timeouts and small state topics.
 * The timeout test adds a frequent timeout check (transaction.abort.timed.out.transaction.cleanup.interval.ms).
 */
export const txnBrokerOverrides: Record<string, string> = {
  'transaction.max.timeout.ms': '30000',
  'transaction.state.log.num.partitions': '3',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'offsets.topic.num.partitions': '3',
  'group.initial.rebalance.delay.ms': '0',
};

/** Apache Kafka 4.x formats new clusters with transaction.version 2 (KIP-890); Samsa implements version 1. */
export const kafkaFeatures = { 'transaction.version': 1 };

/** Whether the broker at host:port advertises EndTxn (transactions) in ApiVersions. */
export async function supportsTransactions(bootstrap: string): Promise<boolean> {
  const [host, port] = bootstrap.split(',')[0]!.split(':');
  const conn = await KafkaConnection.connect({
    host: host!,
    port: Number(port),
    clientId: 'samsa-txn-probe',
  });
  try {
    return conn.supports(ApiKey.EndTxn);
  } finally {
    conn.close();
  }
}

/** Creates a topic (partitions, replication factor) through the bootstrap broker. */
export async function makeTopic(
  bootstrap: string,
  topic: string,
  partitions: number,
  replicationFactor = 1,
  configs: Record<string, string> = {},
): Promise<void> {
  const c = await Cluster.connect({ bootstrap, clientId: 'samsa-txn-test' });
  try {
    await createTopic(c, topic, { partitions, replicationFactor, configs });
  } finally {
    c.close();
  }
}

/** Writes `count` plain (non-transactional) records "PREFIX-i" to each partition, acks=all. */
export async function producePlain(
  bootstrap: string,
  topic: string,
  partitions: number,
  prefix: string,
  count: number,
): Promise<string[]> {
  const p = await Producer.connect({ bootstrap, acks: -1 });
  const values: string[] = [];
  try {
    for (let part = 0; part < partitions; part++) {
      const vs = Array.from({ length: count }, (_, i) => `${prefix}-p${part}-${i}`);
      await p.send(
        topic,
        vs.map((value) => ({ value, partition: part })),
      );
      values.push(...vs);
    }
  } finally {
    await p.close();
  }
  return values;
}

let compiled: Promise<string> | undefined;

/** TxnWorkload compiled once per test process (javac), and the classpath to run it with. */
function javaClasspath(): Promise<string> {
  compiled ??= (async () => {
    const lib = join(await javaClientJar(), '..', 'lib', '*');
    const source = join(repoRoot(), 'test/interop/java/src/main/java/samsa/interop/TxnWorkload.java');
    const out = await mkdtemp(join(tmpdir(), 'samsa-txn-java-'));
    await run('javac', ['-nowarn', '-d', out, '-cp', lib, source], { timeoutMs: 120_000 });
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    return `${lib}:${out}`;
  })();
  return compiled;
}

/** `java ... samsa.interop.TxnWorkload <mode> args` on kafka-clients from the interop client's Maven build. */
async function javaArgs(mode: string, args: string[]): Promise<string[]> {
  return [
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Xshare:auto',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    await javaClasspath(),
    'samsa.interop.TxnWorkload',
    mode,
    ...args,
  ];
}

/** A transactional Java producer taking one command at a time (TxnWorkload session). */
export class JavaTxnSession {
  private readonly replies: string[] = [];
  private waiter: ((line: string) => void) | undefined;
  private constructor(
    private readonly proc: Running,
    readonly transactionalId: string,
  ) {}

  static async start(
    bootstrap: string,
    transactionalId: string,
    opts: { transactionTimeoutMs?: number; maxBlockMs?: number } = {},
  ): Promise<JavaTxnSession> {
    const args = await javaArgs('session', [
      ...['--bootstrap', bootstrap, '--transactional-id', transactionalId],
      ...['--transaction-timeout-ms', String(opts.transactionTimeoutMs ?? 10_000)],
      ...['--max-block-ms', String(opts.maxBlockMs ?? 20_000)],
    ]);
    let s: JavaTxnSession | undefined;
    const early: string[] = [];
    const proc = start('java', args, {
      timeoutMs: 600_000,
      allowFailure: true,
      keepStdin: true,
      onStdoutLine: (line) => (s === undefined ? early.push(line) : s.onLine(line)),
    });
    s = new JavaTxnSession(proc, transactionalId);
    for (const l of early) s.onLine(l);
    const ready = await s.next(60_000);
    assert.equal(ready, 'R', `TxnWorkload session did not start: ${ready}\n${proc.stderr().slice(-3000)}`);
    return s;
  }

  private onLine(line: string): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w(line);
    } else this.replies.push(line);
  }

  private next(timeoutMs: number): Promise<string> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no answer from the Java session within ${timeoutMs} ms\n${this.stderrTail()}`));
      }, timeoutMs);
      const exited = (): void => {
        clearTimeout(timer);
        this.waiter = undefined;
        reject(new Error(`the Java session exited\n${this.stderrTail()}`));
      };
      this.proc.done.then(exited, exited);
      this.waiter = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  stderrTail(): string {
    return this.proc.stderr().slice(-3000);
  }

  /** Sends one command; resolves with its reply line ("ok ..." or "err ..."). */
  async cmd(line: string, timeoutMs = 60_000): Promise<string> {
    this.proc.child.stdin?.write(`${line}\n`);
    return this.next(timeoutMs);
  }

  /** A command that must succeed; returns the reply's detail. */
  async ok(line: string, timeoutMs = 60_000): Promise<string> {
    const reply = await this.cmd(line, timeoutMs);
    const verb = line.split(' ')[0];
    assert.ok(
      reply.startsWith(`ok ${verb}`),
      `${this.transactionalId}: '${line}' failed: ${reply}\n${this.stderrTail()}`,
    );
    return reply.slice(`ok ${verb}`.length).trim();
  }

  /** send: the offsets of the records written, [first, last]. */
  async send(topic: string, partition: number, prefix: string, count: number): Promise<[number, number]> {
    const [first, last] = (await this.ok(`send ${topic} ${partition} ${prefix} ${count}`)).split(' ');
    return [Number(first), Number(last)];
  }

  async close(): Promise<void> {
    this.proc.child.stdin?.end();
    this.proc.kill('SIGTERM');
    await this.proc.done.catch(() => {});
  }

  kill9(): Promise<unknown> {
    this.proc.kill('SIGKILL');
    return this.proc.done.catch(() => {});
  }
}

export interface ReadResult {
  values: string[];
  positions: number[];
  ends: number[];
  timedOut: boolean;
}

/** Reads a whole topic with the Java consumer at an isolation level (TxnWorkload read). */
export async function javaRead(
  bootstrap: string,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
  opts: { minCount?: number; timeoutMs?: number } = {},
): Promise<ReadResult> {
  const args = await javaArgs('read', [
    ...['--bootstrap', bootstrap, '--topic', topic, '--isolation', isolation],
    ...['--min-count', String(opts.minCount ?? 0), '--timeout-ms', String(opts.timeoutMs ?? 30_000)],
  ]);
  const r = await run('java', args, { timeoutMs: (opts.timeoutMs ?? 30_000) + 60_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line !== undefined, `no result from TxnWorkload read:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  return JSON.parse(line) as ReadResult;
}

/** The consume-transform-produce processor (TxnWorkload ctp), watched line by line. */
export interface JavaProcessor {
  child: ChildProcess;
  /** Records committed by this run, as last reported. */
  committed(): number;
  /** Resolves with the first stdout line matching re (already printed or to come). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill9(): Promise<void>;
}

export async function startProcessor(o: {
  bootstrap: string;
  input: string;
  output: string;
  group: string;
  transactionalId: string;
  hangAfter?: number;
}): Promise<JavaProcessor> {
  const args = await javaArgs('ctp', [
    ...['--bootstrap', o.bootstrap, '--input', o.input, '--output', o.output, '--group', o.group],
    ...['--transactional-id', o.transactionalId, '--hang-after', String(o.hangAfter ?? -1)],
  ]);
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  let committed = 0;
  const proc = start('java', args, {
    timeoutMs: 300_000,
    allowFailure: true,
    onStdoutLine: (line) => {
      lines.push(line);
      const m = /^C (\d+)$/.exec(line);
      if (m !== null) committed = Number(m[1]);
      for (const w of [...watchers]) w();
    },
  });
  return {
    child: proc.child,
    committed: () => committed,
    waitFor(re, timeoutMs = 60_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const l = lines.find((x) => re.test(x));
          if (l === undefined) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(l);
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(
            new Error(`processor: no line matching ${re} in ${timeoutMs} ms\n${proc.stderr().slice(-3000)}`),
          );
        }, timeoutMs);
        watchers.add(check);
        proc.done.then(
          (r) => {
            if (!watchers.has(check)) return;
            watchers.delete(check);
            clearTimeout(timer);
            reject(
              new Error(`processor exited with ${r.code ?? r.signal} before ${re}\n${r.stderr.slice(-3000)}`),
            );
          },
          () => {},
        );
      });
    },
    done: proc.done.then((r) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr })),
    kill9: async () => {
      proc.kill('SIGKILL');
      await proc.done.catch(() => {});
    },
  };
}

/** Values that occur more than once. */
export function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}
