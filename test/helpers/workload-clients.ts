// The clients that drive a replication workload (test/helpers/replication-workload.ts):
//
// kafkajs (in this process): producer with idempotent: true, acks=all (-1), one request in flight, retrying
//   for ever (kafkajs's default for idempotence); one lane per partition sends a batch of `batch` records with
//   explicit partitions, waits for the answer, pauses `pauseMs`. A consumer group member (kafkajs consumer,
//   autoCommitInterval 300 ms). kafkajs retries a request that timed out on the same connection without
//   refreshing its metadata, so it does not get past a broker that stops answering without closing its
//   connections (a network partition): use it for crashes and restarts.
//
// java (a child process, test/interop/java/.../FaultWorkload.java, run from source on kafka-clients 4.x): the
//   reference client, idempotent acks=all producer paced per partition and a group member auto-committing
//   every 300 ms; it reports each acknowledgement on stdout. Rides out partitions (request.timeout.ms 8 s,
//   then another broker's metadata).

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Consumer as KConsumer, type Producer } from 'kafkajs';
import { javaClientJar } from '../interop/harness.js';
import { Workload, type WorkloadOptions } from './replication-workload.js';
import { repoRoot, track } from './run.js';

const { Kafka, logLevel } = kafkajs;

export type WorkloadClient = 'kafkajs' | 'java';

/** Starts a workload on `client`; resolves once every partition has an acknowledged write. */
export async function startWorkload(client: WorkloadClient, opts: WorkloadOptions): Promise<Workload> {
  const w = client === 'kafkajs' ? await KafkajsWorkload.start(opts) : await JavaWorkload.start(opts);
  try {
    await Promise.all([...Array(opts.partitions).keys()].map((p) => w.nextAckAfter(0, [p], 90_000)));
  } catch (e) {
    await w.stop(10_000).catch(() => {});
    throw e;
  }
  return w;
}

export class KafkajsWorkload extends Workload {
  readonly client = 'kafkajs';
  private stopping = false;
  private readonly stopSignal = new AbortController();
  private lanes: Promise<void>[] = [];
  private readonly nextSeq: number[];
  private producer!: Producer;
  private consumer!: KConsumer;

  private readonly pauseMs: number;

  private constructor(
    opts: WorkloadOptions,
    private readonly batch = 10,
    private readonly ackTimeoutMs = 5000,
  ) {
    super(opts);
    // At most ratePerPartition: a batch, then a pause as long as the batch's share of a second.
    this.pauseMs = Math.round((batch * 1000) / this.o.ratePerPartition);
    this.nextSeq = Array.from({ length: opts.partitions }, () => 0);
  }

  static async start(opts: WorkloadOptions): Promise<KafkajsWorkload> {
    const w = new KafkajsWorkload(opts);
    const kafka = new Kafka({
      clientId: 'samsa-faults',
      brokers: [...opts.bootstrap],
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ namespace, level, log }) =>
          w.log(`kafkajs ${level} ${namespace} ${log.message}`),
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    w.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await w.producer.connect();
    w.consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 250,
    });
    await w.consumer.connect();
    await w.consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
    await w.consumer.run({
      autoCommitInterval: 300,
      eachMessage: async () => {
        w.consumed++;
      },
    });
    w.lanes = Array.from({ length: opts.partitions }, (_, p) => w.lane(p));
    return w;
  }

  private async lane(p: number): Promise<void> {
    while (!this.stopping) {
      const first = this.nextSeq[p]!;
      this.nextSeq[p] = first + this.batch;
      const values = Array.from({ length: this.batch }, (_, i) => this.valueOf(p, first + i));
      try {
        const res = await this.producer.send({
          topic: this.o.topic,
          acks: -1,
          timeout: this.ackTimeoutMs,
          messages: values.map((value) => ({ partition: p, value })),
        });
        const meta = res.find((r) => r.partition === p);
        if (meta?.baseOffset === undefined || meta.errorCode !== 0) {
          throw new Error(`no offset for partition ${p} in ${JSON.stringify(res)}`);
        }
        const base = Number(meta.baseOffset);
        const at = Date.now();
        for (let i = 0; i < this.batch; i++) this.recordAck(p, base + i, first + i, at);
      } catch (e) {
        const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        this.recordFailure(p, [first, first + this.batch - 1], error, Date.now());
      }
      await sleep(this.pauseMs, undefined, { signal: this.stopSignal.signal }).catch(() => {});
    }
  }

  async stop(timeoutMs = 60_000): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    const give = new AbortController();
    const stuck = await Promise.race([
      Promise.all(this.lanes).then(() => false),
      sleep(timeoutMs, true, { signal: give.signal }).catch(() => false),
    ]);
    give.abort();
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect()]);
    if (stuck)
      throw new Error(`a kafkajs producer lane still waited for its send ${timeoutMs} ms after stop()`);
  }
}

export class JavaWorkload extends Workload {
  readonly client = 'java (kafka-clients)';
  private child!: ChildProcess;
  private exited!: Promise<number | string | null>;
  private stderr = '';
  private done = false;

  private constructor(opts: WorkloadOptions) {
    super(opts);
  }

  static async start(opts: WorkloadOptions): Promise<JavaWorkload> {
    const w = new JavaWorkload(opts);
    const lib = join(await javaClientJar(), '..', 'lib', '*');
    const source = join(repoRoot(), 'test/interop/java/src/main/java/samsa/interop/FaultWorkload.java');
    const args = [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-cp',
      lib,
      source,
      ...['--bootstrap', opts.bootstrap.join(','), '--topic', opts.topic],
      ...['--partitions', String(opts.partitions), '--group', opts.groupId, '--tag', w.tag],
      ...['--rate', String(w.o.ratePerPartition)],
    ];
    // stdin stays open: closing it is how the workload is told to stop.
    const child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    w.child = child;
    track(child);
    child.stdin.on('error', () => {});
    let ready: () => void = () => {};
    const isReady = new Promise<void>((r) => {
      ready = r;
    });
    w.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => resolve(code ?? signal));
      child.once('error', (e) => resolve(e.message));
    });
    lines(child.stdout, (line) => {
      const f = line.split(' ');
      switch (f[0]) {
        case 'A':
          w.recordAck(Number(f[1]), Number(f[2]), Number(f[3]), Number(f[4]));
          break;
        case 'F':
          w.recordFailure(Number(f[1]), [Number(f[2]), Number(f[2])], f.slice(4).join(' '), Number(f[3]));
          break;
        case 'C':
          w.consumed = Number(f[1]);
          break;
        case 'R':
          ready();
          break;
        case 'D':
          w.done = true;
          break;
        default:
          w.log(`java ${line}`);
      }
    });
    lines(child.stderr, (line) => {
      w.stderr = `${w.stderr}${line}\n`.slice(-20_000);
      w.log(`java stderr ${line}`);
    });
    const early = w.exited.then((how) => {
      throw new Error(`the Java workload exited before it was ready (${how}):\n${w.stderr.slice(-3000)}`);
    });
    early.catch(() => {});
    await Promise.race([isReady, early]);
    return w;
  }

  async stop(timeoutMs = 60_000): Promise<void> {
    this.child.stdin?.end();
    const give = new AbortController();
    const exited = await Promise.race([
      this.exited.then(() => true),
      sleep(timeoutMs, false, { signal: give.signal }).catch(() => false),
    ]);
    give.abort();
    if (!exited) {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`the Java workload did not stop within ${timeoutMs} ms`);
    }
    if (!this.done)
      throw new Error(`the Java workload ended without finishing:\n${this.stderr.slice(-3000)}`);
  }
}

/** Calls fn with each complete line of a stream. */
function lines(stream: Readable | null, fn: (line: string) => void): void {
  let pending = '';
  stream?.on('data', (c: Buffer) => {
    pending += c.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      fn(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
  });
}
