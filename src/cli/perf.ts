// `samsa perf produce|consume|e2e`: load generators in the manner of Kafka's
// kafka-producer-perf-test / kafka-consumer-perf-test / EndToEndLatency, built on the internal
// client (pipelined requests, batches encoded once, no per-record objects) so that the tool is
// not what limits the numbers. They work against any Kafka-protocol broker.
//
// A progress line goes to stderr every ~2 s; the final summary goes to stdout (with --json, one
// JSON object instead, for bench/run.ts).

import { KafkaConnection as Conn, type KafkaConnection } from '../client/connection.js';
import { connectLeaders, describeTopic, listOffsets, parseBootstrap } from '../client/perf/cluster.js';
import { consumerDefaults, PerfConsumer } from '../client/perf/consumer.js';
import { runE2e } from '../client/perf/e2e.js';
import {
  PerfProducer,
  type ProduceResult,
  type ProducerOptions,
  producerDefaults,
} from '../client/perf/producer.js';
import { producersBufferMemory, runProducers } from '../client/perf/producers.js';
import * as limits from '../limits.js';
import { codecFromName } from '../protocol/compression.js';
import {
  CommandError,
  DEFAULT_BOOTSTRAP,
  parse,
  printHelp,
  required,
  runCommand,
  UsageError,
} from './common.js';

const help = `Usage: samsa perf <produce|consume|e2e> --topic T [--bootstrap-server HOST:PORT] [options]

  --bootstrap-server HOST:PORT   broker to connect to (default ${DEFAULT_BOOTSTRAP})

  produce   --records N --record-size B [--acks -1|0|1] [--compression none|gzip|snappy|lz4|zstd]
            [--batch-size BYTES (16384)] [--linger-ms MS (5)] [--throughput REC/S (-1: unlimited)]
            [--buffer-memory BYTES (33554432)] [--max-in-flight N (5)] [--partitions N] [--json]
            [--producers N (1)]
            Latency runs from a record's creation to its acknowledgement, as in Kafka's
            ProducerPerformance (at saturation it includes time queued in buffer.memory).
            --producers N runs N independent producers (each its own connection to every partition
            leader) in this process; they share --records and --throughput (paced in total), each has
            --buffer-memory (default 512 MiB / N within 1-32 MiB); the figures are over all of them.
  consume   --records N [--fetch-max-bytes B] [--max-partition-fetch-bytes B] [--from earliest|latest]
            [--timeout MS (10000: give up after this long without records)] [--json]
  e2e       --records N [--record-size B (100)] [--throughput REC/S (1000)] [--acks 1]
            [--linger-ms MS (0)] [--partitions N] [--json]
            Produces at a fixed rate and consumes in the same process; latency is produce -> consume.

  --partitions N creates the topic with N partitions when it does not exist.
`;

function num(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number; got '${v}'`);
  return n;
}

function codec(name: string): number {
  try {
    return codecFromName(name);
  } catch (e) {
    throw new UsageError(`--compression: ${(e as Error).message}`);
  }
}

const fmt = (n: number, d = 2): string => n.toFixed(d);

async function open(bootstrap: string, topic: string, partitions: number, clientId: string) {
  const hp = parseBootstrap(bootstrap);
  const boot = await Conn.connect({ ...hp, clientId });
  try {
    const layout = await describeTopic(boot, topic, partitions);
    return layout;
  } finally {
    boot.close();
  }
}

function closeAll(conns: Map<number, KafkaConnection>): void {
  for (const c of conns.values()) c.close();
}

/** The summary of a produce run (stdout); throws when records failed. */
function printProduce(r: ProduceResult, json: boolean): void {
  const l = r.latency;
  if (json) {
    process.stdout.write(`${JSON.stringify({ kind: 'produce', ...r })}\n`);
  } else {
    process.stdout.write(
      `${r.records} records sent, ${fmt(r.recordsPerSec, 1)} records/sec (${fmt(r.mbPerSec)} MB/sec), ` +
        `${fmt(l.avgMs)} ms avg latency, ${fmt(l.maxMs)} ms max latency, ${fmt(l.p50Ms)} ms 50th, ` +
        `${fmt(l.p95Ms)} ms 95th, ${fmt(l.p99Ms)} ms 99th, ${fmt(l.p999Ms)} ms 99.9th.\n`,
    );
  }
  if (r.errors > 0) throw new CommandError(`${r.errors} records failed (first: ${r.firstError})`);
}

const options = {
  'bootstrap-server': { type: 'string', default: DEFAULT_BOOTSTRAP },
  topic: { type: 'string' },
  records: { type: 'string' },
  'num-records': { type: 'string' },
  'record-size': { type: 'string' },
  acks: { type: 'string' },
  compression: { type: 'string' },
  'batch-size': { type: 'string' },
  'linger-ms': { type: 'string' },
  throughput: { type: 'string' },
  'buffer-memory': { type: 'string' },
  'max-in-flight': { type: 'string' },
  producers: { type: 'string' },
  partitions: { type: 'string' },
  'fetch-max-bytes': { type: 'string' },
  'max-partition-fetch-bytes': { type: 'string' },
  from: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const subcommands = ['produce', 'consume', 'e2e'];

export function runPerf(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') return Promise.resolve(printHelp(help));
  if (sub === undefined || !subcommands.includes(sub)) {
    return runCommand('perf', () => {
      throw new UsageError(
        sub === undefined ? 'expected produce, consume or e2e' : `unknown subcommand '${sub}'`,
      );
    });
  }
  return runCommand(`perf ${sub}`, () => perf(sub, rest));
}

async function perf(sub: string, rest: string[]): Promise<number> {
  const { values: v } = parse(rest, options, false);
  if (v.help === true) return printHelp(help);
  const bootstrap = v['bootstrap-server'];
  const topic = required('topic', v.topic);
  const records = num(v.records ?? v['num-records'], 'records', -1);
  if (!(records > 0)) throw new UsageError('--records N (N > 0) is required');
  const partitions = num(v.partitions, 'partitions', 0);
  const json = v.json === true;
  const clientId = `samsa-perf-${sub}`;
  const producers = num(v.producers, 'producers', 1);
  if (!Number.isInteger(producers) || producers < 1 || producers > limits.perfProducersMax) {
    throw new UsageError(
      `--producers must be an integer from 1 to ${limits.perfProducersMax}; got '${v.producers}'`,
    );
  }
  if (producers > 1 && sub !== 'produce') throw new UsageError('--producers is for perf produce only');

  if (sub === 'produce' || sub === 'e2e') {
    const e2e = sub === 'e2e';
    const recordSize = num(v['record-size'], 'record-size', e2e ? 100 : -1);
    if (!(recordSize >= 0)) throw new UsageError('--record-size B is required');
    const acks = num(v.acks, 'acks', e2e ? 1 : producerDefaults.acks);
    if (acks !== -1 && acks !== 0 && acks !== 1)
      throw new UsageError(`--acks must be -1, 0 or 1; got ${acks}`);
    if (e2e && acks === 0) throw new UsageError('e2e needs acknowledgements: --acks 1 or -1');
    const opts: ProducerOptions = {
      records,
      recordSize,
      acks,
      codec: codec(v.compression ?? 'none'),
      batchSize: num(v['batch-size'], 'batch-size', producerDefaults.batchSize),
      lingerMs: num(v['linger-ms'], 'linger-ms', e2e ? 0 : producerDefaults.lingerMs),
      throughput: num(v.throughput, 'throughput', e2e ? 1000 : producerDefaults.throughput),
      bufferMemory: num(
        v['buffer-memory'],
        'buffer-memory',
        producers > 1 ? producersBufferMemory(producers) : producerDefaults.bufferMemory,
      ),
      maxInFlight: num(v['max-in-flight'], 'max-in-flight', producerDefaults.maxInFlight),
      maxRequestSize: producerDefaults.maxRequestSize,
      requestTimeoutMs: producerDefaults.requestTimeoutMs,
      reportMs: 2000,
    };
    const layout = await open(bootstrap, topic, partitions, clientId);
    opts.onInterval = (s) =>
      process.stderr.write(
        `${s.records} records sent, ${fmt(s.recordsPerSec, 1)} records/sec (${fmt(s.mbPerSec)} MB/sec), ` +
          `${fmt(s.avgMs, 1)} ms avg latency, ${fmt(s.maxMs, 1)} ms max latency.\n`,
      );
    if (producers > 1) {
      const r = await runProducers(layout, producers, clientId, opts, (n, ms) =>
        process.stderr.write(`${producers} producers connected (${n} connections) in ${fmt(ms, 0)} ms.\n`),
      );
      printProduce(r, json);
      return 0;
    }
    const conns = await connectLeaders(layout, clientId);
    if (e2e) {
      opts.onInterval = undefined;
      const consumerConns = await connectLeaders(layout, `${clientId}-consumer`);
      try {
        const r = await runE2e(layout, conns, consumerConns, opts, (consumed, s) => {
          process.stderr.write(
            `${consumed} records consumed, e2e latency ${fmt(s.avgMs)} ms avg, ${fmt(s.p99Ms)} ms p99, ${fmt(s.maxMs)} ms max.\n`,
          );
        });
        const l = r.latency;
        if (json) {
          process.stdout.write(`${JSON.stringify({ kind: 'e2e', ...r })}\n`);
        } else {
          process.stdout.write(
            `${r.consumed} records produced and consumed at ${fmt(r.produced.recordsPerSec, 1)} records/sec; ` +
              `end-to-end latency ${fmt(l.avgMs)} ms avg, ${fmt(l.p50Ms)} ms 50th, ${fmt(l.p99Ms)} ms 99th, ` +
              `${fmt(l.p999Ms)} ms 99.9th, ${fmt(l.maxMs)} ms max.\n`,
          );
        }
        return r.consumed === records && r.produced.errors === 0 ? 0 : 1;
      } finally {
        closeAll(conns);
        closeAll(consumerConns);
      }
    }
    try {
      printProduce(await new PerfProducer(layout, conns, opts).run(), json);
      return 0;
    } finally {
      closeAll(conns);
    }
  }

  if (sub === 'consume') {
    const layout = await open(bootstrap, topic, partitions, clientId);
    const conns = await connectLeaders(layout, clientId);
    try {
      const from = v.from ?? 'earliest';
      if (from !== 'earliest' && from !== 'latest') throw new UsageError('--from must be earliest or latest');
      const start = await listOffsets(conns, layout, from === 'earliest' ? -2 : -1);
      const consumer = new PerfConsumer(layout, conns, start, {
        ...consumerDefaults,
        records,
        fetchMaxBytes: num(v['fetch-max-bytes'], 'fetch-max-bytes', consumerDefaults.fetchMaxBytes),
        partitionMaxBytes: num(
          v['max-partition-fetch-bytes'],
          'max-partition-fetch-bytes',
          consumerDefaults.partitionMaxBytes,
        ),
        idleTimeoutMs: num(v.timeout, 'timeout', consumerDefaults.idleTimeoutMs),
        reportMs: 2000,
        onInterval: (n, bytes) =>
          process.stderr.write(
            `${n} records consumed, ${fmt(n / 2, 1)} records/sec (${fmt(bytes / 1048576 / 2)} MB/sec).\n`,
          ),
      });
      const r = await consumer.run();
      if (json) {
        process.stdout.write(`${JSON.stringify({ kind: 'consume', ...r })}\n`);
      } else {
        process.stdout.write(
          `${r.records} records consumed in ${fmt(r.elapsedSec, 3)} s, ${fmt(r.recordsPerSec, 1)} records/sec ` +
            `(${fmt(r.mbPerSec)} MB/sec), ${r.fetches} fetches, ${r.batches} batches.\n`,
        );
      }
      if (r.timedOut) {
        throw new CommandError(`only ${r.records} of ${records} records arrived before the timeout`);
      }
      return 0;
    } finally {
      closeAll(conns);
    }
  }

  throw new UsageError(`unknown subcommand '${sub}'`);
}
