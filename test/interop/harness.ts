// What the interop test files share: which broker they target, what tools they need (skipped when
// absent on a developer's machine, a failure in CI), the external client programs and their JSON
// summaries, and the kill -9 choreography. See docs/interop.md.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrokerHandle, interopTarget } from '../helpers/broker.js';
import { type RunResult, repoRoot, run, start, which } from '../helpers/run.js';
import { newRun, type Profile, type ReadRecord, topicName, verifyRecords } from './records.js';

export const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof codecs)[number];

/** Records per topic in the produce/restart/verify tests. */
export const recordCount = Number(process.env.SAMSA_INTEROP_RECORDS ?? 10_000);

/** Python with Debian's python3-confluent-kafka and python3-kafka (pyenv's python3 lacks them). */
export const python = process.env.SAMSA_INTEROP_PYTHON ?? '/usr/bin/python3';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

export interface Requirement {
  /** What is missing, e.g. "kcat"; checked only when the suite runs. */
  name: string;
  present: () => boolean;
  /** How to get it, for the message. */
  hint: string;
}

export const tool = (cmd: string, hint: string): Requirement => ({
  name: cmd,
  present: () => which(cmd) !== undefined,
  hint,
});

export const pythonModule = (module: string, debPackage: string): Requirement => ({
  name: `${python} with ${module}`,
  present: () => spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0,
  hint: `apt-get install ${debPackage}`,
});

/** What the selected target itself needs (Kafka: a JVM and Maven for its jars). */
function targetRequirements(): Requirement[] {
  if (interopTarget() === 'kafka') {
    return [tool('java', 'apt-get install openjdk-17-jdk-headless'), tool('mvn', 'apt-get install maven')];
  }
  return [
    {
      name: 'dist/src/cli/main.js',
      present: () => existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'main.js')),
      hint: "run 'npm run build' (npm test does)",
    },
  ];
}

/**
 * The `skip` option for an interop suite: a reason when it cannot run here, or false. Missing tools
 * skip a suite on a developer's machine; in CI (CI=true) nothing is skipped for a missing tool, and
 * requireAll() in the suite's before() fails it with the install hint instead.
 * SAMSA_INTEROP_TARGET=none skips every interop suite.
 */
export function skipUnless(requirements: Requirement[]): string | false {
  if (interopTarget() === 'none') return 'SAMSA_INTEROP_TARGET=none';
  if (inCi) return false;
  const missing = [...targetRequirements(), ...requirements].filter((r) => !r.present());
  if (missing.length === 0) return false;
  return `missing ${missing.map((r) => `${r.name} (${r.hint})`).join(', ')}`;
}

/** Throws when a requirement is missing (reached only in CI, or when skipping was not possible). */
export function requireAll(requirements: Requirement[]): void {
  const missing = [...targetRequirements(), ...requirements].filter((r) => !r.present());
  if (missing.length > 0) {
    throw new Error(`interop: missing ${missing.map((r) => `${r.name} (${r.hint})`).join(', ')}`);
  }
}

/** The target's name for test titles. */
export function targetName(): string {
  return interopTarget() === 'kafka' ? 'Apache Kafka' : 'Samsa';
}

/** Runs fn; on failure, appends the tail of the broker's output to the error. */
export async function withBrokerLogs<T>(broker: BrokerHandle | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (broker !== undefined && err instanceof Error) {
      const logs = broker.logs();
      err.message += `\n--- ${broker.target} broker output (tail) ---\n${logs.slice(-8000)}`;
    }
    throw err;
  }
}

/** One JSON object per line of a client program's stdout. */
export function jsonLines(r: RunResult): Record<string, unknown>[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Asserts every summary line says ok and there is one per topic. */
export function assertSummaries(
  r: RunResult,
  topics: readonly string[],
  what: string,
): Record<string, unknown>[] {
  const lines = jsonLines(r);
  const bad = lines.filter((l) => l.ok !== true);
  assert.equal(bad.length, 0, `${what}: ${JSON.stringify(bad, null, 1)}\n${r.stderr.slice(-3000)}`);
  assert.deepEqual(
    lines.map((l) => l.topic),
    [...topics],
    `${what}: one summary per topic expected\n${r.stdout}\n${r.stderr.slice(-3000)}`,
  );
  return lines;
}

const javaDir = (): string => join(repoRoot(), 'test', 'interop', 'java');

/** The Java interop client's jar, built with Maven (offline when ~/.m2 has everything) if missing. */
export async function javaClientJar(): Promise<string> {
  const jar = join(javaDir(), 'target', 'samsa-interop.jar');
  if (!existsSync(jar) || newestSource(join(javaDir(), 'src')) > statSync(jar).mtimeMs) {
    await run('mvn', ['-q', '-B', '-Dstyle.color=never', 'package'], { cwd: javaDir(), timeoutMs: 600_000 });
  }
  return jar;
}

/** The newest modification time of the files under dir (a stale jar is rebuilt). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function clientScript(file: string): string {
  return join(repoRoot(), 'test', 'interop', 'clients', file);
}

/** A temporary directory removed after fn. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-interop-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function readAckedFile(file: string): Promise<Set<number>> {
  const text = await readFile(file, 'utf8');
  return new Set(
    text
      .split('\n')
      .filter((l) => l !== '')
      .map(Number),
  );
}

export interface CrashReport {
  /** Acknowledgements seen before the kill. */
  ackedAtKill: number;
  killedAfterMs: number;
  restartMs: number;
}

/**
 * The kill -9 choreography for an external producer: start it, wait until it reports `killAt`
 * acknowledgements ("progress acked=N" on stderr), SIGKILL the broker, restart it on the same port
 * and data, and wait for the producer to finish. Returns the producer's result and what happened.
 */
export async function produceThroughCrash(
  broker: BrokerHandle,
  cmd: string,
  args: string[],
  killAt: number,
  timeoutMs = 240_000,
): Promise<{ result: RunResult; crash: CrashReport }> {
  let acked = 0;
  const began = Date.now();
  const producer = start(cmd, args, {
    timeoutMs,
    onStderrLine: (line) => {
      const m = /progress acked=(\d+)/.exec(line);
      if (m !== null) acked = Number(m[1]);
    },
  });
  let exited = false;
  const done = producer.done.finally(() => {
    exited = true;
  });
  done.catch(() => {}); // awaited below; avoid an unhandled rejection while we wait
  while (acked < killAt && !exited) await sleep(20);
  assert.ok(
    !exited,
    `producer finished before ${killAt} acknowledgements; raise its count or lower its rate`,
  );
  const crash: CrashReport = { ackedAtKill: acked, killedAfterMs: Date.now() - began, restartMs: 0 };
  await broker.kill9();
  await sleep(500);
  const t = Date.now();
  await broker.restart();
  crash.restartMs = Date.now() - t;
  const result = await done;
  return { result, crash };
}

export interface ExternalClient {
  /** Name in topic names and messages, e.g. "confluent-kafka". */
  name: string;
  /** Program and leading arguments; the mode and options follow (the Java client's command line). */
  cmd: string;
  args: string[];
  codecs: readonly string[];
}

/**
 * The main interop check for a client program: produce recordCount records per codec (one topic
 * each), restart the broker, read every topic back and compare byte for byte.
 */
export async function roundTripThroughRestart(
  broker: BrokerHandle,
  client: ExternalClient,
  diagnostic: (msg: string) => void,
): Promise<void> {
  const { runId, base } = newRun();
  const topics = client.codecs.map((c) => topicName(client.name, c, runId));
  const common = ['--bootstrap', broker.bootstrap, '--topic', topics.join(','), '--count', `${recordCount}`];
  common.push('--base-ts', `${base}`);
  const produced = await run(
    client.cmd,
    [...client.args, 'produce', ...common, '--compression', client.codecs.join(',')],
    {
      timeoutMs: 180_000,
    },
  );
  assertSummaries(produced, topics, `${client.name} produce`);
  const t0 = Date.now();
  await broker.restart();
  const restartMs = Date.now() - t0;
  const consumed = await run(client.cmd, [...client.args, 'consume', ...common], { timeoutMs: 180_000 });
  assertSummaries(consumed, topics, `${client.name} consume after restart`);
  diagnostic(
    `${client.name}: ${recordCount} records x ${client.codecs.join(',')}: produce ${produced.ms} ms, ` +
      `restart ${restartMs} ms, consume ${consumed.ms} ms`,
  );
}

/** An in-process Node client under test: produce one codec to one topic, read topics back. */
export interface NodeClient {
  name: string;
  codecs: readonly string[];
  profile: Profile;
  produce(o: { bootstrap: string; topic: string; codec: string; count: number; base: number }): Promise<{
    acked: Set<number>;
    failed: number;
    firstError?: string;
  }>;
  consume(bootstrap: string, topics: readonly string[]): Promise<Map<string, ReadRecord[]>>;
}

/**
 * The common interop round trip: recordCount records per codec, a broker restart, then a read-back
 * compared byte for byte with the record scheme. Returns a one-line timing summary.
 */
export async function restartRoundTrip(b: BrokerHandle, client: NodeClient): Promise<string> {
  return withBrokerLogs(b, async () => {
    const { runId, base } = newRun();
    const topics = client.codecs.map((c) => topicName(client.name, c, runId));
    const t0 = Date.now();
    for (const [k, codec] of client.codecs.entries()) {
      const r = await client.produce({
        bootstrap: b.bootstrap,
        topic: topics[k]!,
        codec,
        count: recordCount,
        base,
      });
      assert.equal(r.failed, 0, `${codec}: ${r.firstError}`);
      assert.equal(r.acked.size, recordCount);
    }
    const produceMs = Date.now() - t0;
    const t1 = Date.now();
    await b.restart();
    const restartMs = Date.now() - t1;
    const t2 = Date.now();
    const read = await client.consume(b.bootstrap, topics);
    const consumeMs = Date.now() - t2;
    for (const topic of topics) {
      const summary = verifyRecords(read.get(topic)!, recordCount, base, client.profile);
      assert.ok(summary.ok, `${topic}: ${JSON.stringify(summary)}`);
    }
    return (
      `${client.name}: ${recordCount} records x ${client.codecs.join(',')}: produce ${produceMs} ms, ` +
      `restart ${restartMs} ms, consume ${consumeMs} ms`
    );
  });
}
