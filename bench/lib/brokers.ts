// The two brokers under test, started side by side on fresh data directories on the same disk:
// Samsa (`samsa broker`, from the same build as the bench) and a single-node Apache Kafka 4.x (scripts/kafka-start.sh).
// Both stay up for the whole run; each is idle while the other is measured. Per workload the bench reads
// the broker process's CPU time and peak RSS (bench/lib/proc.ts).

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { DeleteTopicsResponse } from '../../src/protocol/generated/delete-topics-response.js';

const run = promisify(execFile);

export interface BrokerHandle {
  name: 'samsa' | 'kafka';
  label: string;
  port: number;
  pid: number;
  dataDir: string;
  /** The broker's SSL listener (same broker, second listener) when started with TLS (bench/lib/tls.ts). */
  sslPort?: number;
  /** APIs the broker advertises (ApiVersions). */
  apis: Set<number>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!alive()) throw new Error('broker process exited during start-up');
    try {
      const c = await KafkaConnection.connect({ host: '127.0.0.1', port, timeoutMs: 1000 });
      c.close();
      return;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`port ${port} not accepting Kafka connections after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function advertisedApis(port: number): Promise<Set<number>> {
  const c = await KafkaConnection.connect({ host: '127.0.0.1', port });
  const out = new Set<number>();
  for (let k = 0; k < 100; k++) {
    try {
      c.version(k);
      out.add(k);
    } catch {}
  }
  c.close();
  return out;
}

/** The broker's TLS key store (a PEM file holding the private key and its certificate chain). */
export interface BrokerTls {
  keystore: string;
}

/** Starts `samsa broker` from samsaMain (the build's src/cli/main.js); with tls, an SSL listener beside PLAINTEXT. */
export async function startSamsa(samsaMain: string, workDir: string, tls?: BrokerTls): Promise<BrokerHandle> {
  const port = await freePort();
  const sslPort = tls === undefined ? undefined : await freePort();
  const listeners =
    sslPort === undefined
      ? `listeners=PLAINTEXT://127.0.0.1:${port}`
      : `listeners=PLAINTEXT://127.0.0.1:${port},SSL://127.0.0.1:${sslPort}`;
  const tlsOverrides =
    tls === undefined ? [] : ['ssl.keystore.type=PEM', `ssl.keystore.location=${tls.keystore}`];
  const dataDir = path.join(workDir, 'samsa', 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = fs.openSync(path.join(workDir, 'samsa', 'broker.log'), 'w');
  const extra = (process.env.SAMSA_BENCH_NODE_FLAGS ?? '').split(' ').filter((s) => s !== '');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...extra,
      samsaMain,
      'broker',
      '--override',
      listeners,
      '--override',
      `log.dirs=${dataDir}`,
      // As scripts/kafka-start.sh configures Kafka (and config/server.properties Samsa): a group's first
      // rebalance is not held back 3 s for more members.
      '--override',
      'group.initial.rebalance.delay.ms=0',
      ...tlsOverrides.flatMap((o) => ['--override', o]),
    ],
    { stdio: ['ignore', logFile, logFile], env: { ...process.env, SAMSA_LOG_LEVEL: 'warn' } },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  await waitForPort(port, 30_000, () => !exited);
  return {
    name: 'samsa',
    label: 'Samsa',
    port,
    pid: child.pid as number,
    dataDir,
    sslPort,
    apis: await advertisedApis(port),
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await done;
      clearTimeout(t);
    },
  };
}

/** Null (with the reason on stderr) when Kafka cannot be had on this machine. */
export async function startKafka(
  root: string,
  workDir: string,
  tls?: BrokerTls,
): Promise<BrokerHandle | null> {
  const dir = path.join(workDir, 'kafka');
  const port = await freePort();
  // With TLS the listeners line names the controller's port: it is chosen here rather than by kafka-start.sh.
  const tlsArgs: string[] = [];
  let sslPort: number | undefined;
  if (tls !== undefined) {
    sslPort = await freePort();
    const cport = await freePort();
    tlsArgs.push('--controller-port', String(cport));
    for (const o of [
      `listeners=PLAINTEXT://127.0.0.1:${port},SSL://127.0.0.1:${sslPort},CONTROLLER://127.0.0.1:${cport}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SSL://127.0.0.1:${sslPort}`,
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL',
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${tls.keystore}`,
    ])
      tlsArgs.push('--override', o);
  }
  try {
    await run(path.join(root, 'scripts', 'kafka-dist.sh'), [], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    process.stderr.write(
      `bench: Apache Kafka is not available, measuring Samsa alone: ${(e as Error).message}\n`,
    );
    return null;
  }
  try {
    await run(
      path.join(root, 'scripts', 'kafka-start.sh'),
      ['--port', String(port), '--dir', dir, '--fresh', '--daemon', ...tlsArgs],
      {
        cwd: root,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (e) {
    process.stderr.write(
      `bench: Apache Kafka did not start, measuring Samsa alone: ${(e as Error).message}\n`,
    );
    return null;
  }
  const pid = Number(fs.readFileSync(path.join(dir, 'kafka.pid'), 'utf8').trim());
  await waitForPort(port, 60_000, () => isAlive(pid));
  return {
    name: 'kafka',
    label: 'Kafka',
    port,
    pid,
    dataDir: path.join(dir, 'data'),
    sslPort,
    apis: await advertisedApis(port),
    async stop() {
      await run(path.join(root, 'scripts', 'kafka-stop.sh'), ['--dir', dir], { cwd: root }).catch(() => {});
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function deleteTopic(port: number, topic: string): Promise<void> {
  const c = await KafkaConnection.connect({ host: '127.0.0.1', port });
  try {
    const res = await c.request<DeleteTopicsResponse>(ApiKey.DeleteTopics, {
      topicNames: [topic],
      topics: [{ name: topic, topicId: '0'.repeat(32) }],
      timeoutMs: 30_000,
    });
    const code = res.responses[0]?.errorCode ?? ErrorCode.NONE;
    if (code !== ErrorCode.NONE && code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
      process.stderr.write(`bench: deleting ${topic} failed with error ${code}\n`);
    }
  } finally {
    c.close();
  }
}
