// `samsa perf produce --producers N`: N independent producer clients in one process, each a PerfProducer with its
// own connections to the partition leaders (its own batches, sticky partition and in-flight window), as N Java
// KafkaProducers in one JVM would be (bench/kafka/ScaleDriver.java), but without a thread per client: a
// driver for hundreds or thousands of producer connections on a small machine.
//
// The records are split evenly over the producers. With a throughput they share the budget: each produces
// throughput / N records/s, producer i's schedule shifted by i / throughput s, so that record k of the whole
// run is due at k / throughput s (producer k % N), as ScaleDriver paces. The connections are opened first (at
// most perfConnectConcurrencyMax at a time); the timed part starts when every one is open. Latencies go into one
// histogram, so the percentiles are over every record of every producer.

import { performance } from 'node:perf_hooks';
import * as limits from '../../limits.js';
import type { KafkaConnection } from '../connection.js';
import { PayloadPool } from './batch.js';
import { connectLeaders, type TopicLayout } from './cluster.js';
import { PerfProducer, type ProduceResult, type ProducerOptions, ProduceStats } from './producer.js';

export interface ProducersResult extends ProduceResult {
  producers: number;
  /** Connections the producers held (producers x leader nodes). */
  connections: number;
  /** Time to open every connection, before the timed part. */
  connectMs: number;
}

/** buffer.memory of each of n producers unless given: ScaleDriver's sizing. */
export function producersBufferMemory(n: number): number {
  const mib = 1024 * 1024;
  return Math.max(mib, Math.min(32 * mib, Math.floor(limits.perfProducersBufferBytesTotal / n)));
}

/** Opens n connection sets (one connection per leader node each), a few at a time; closes them all on failure. */
async function connectAll(
  layout: TopicLayout,
  n: number,
  clientId: string,
): Promise<Map<number, KafkaConnection>[]> {
  const out: Map<number, KafkaConnection>[] = new Array(n);
  let next = 0;
  let failed: unknown = null;
  const worker = async (): Promise<void> => {
    while (failed === null && next < n) {
      const i = next++;
      try {
        out[i] = await connectLeaders(layout, `${clientId}-${i}`);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, limits.perfConnectConcurrencyMax) }, worker));
  if (failed !== null) {
    closeAll(out);
    throw failed;
  }
  return out;
}

export async function runProducers(
  layout: TopicLayout,
  n: number,
  clientId: string,
  opts: ProducerOptions,
  /** Called once every connection is open, before the timed part. */
  onConnected?: (connections: number, connectMs: number) => void,
): Promise<ProducersResult> {
  const c0 = performance.now();
  const sets = await connectAll(layout, n, clientId);
  const connectMs = performance.now() - c0;
  const connections = sets.reduce((a, s) => a + s.size, 0);
  onConnected?.(connections, connectMs);
  const stats = new ProduceStats();
  const payload = new PayloadPool(opts.recordSize);
  const onInterval = opts.onInterval;
  const reporter =
    onInterval === undefined
      ? null
      : setInterval(() => onInterval(stats.takeInterval()), opts.reportMs ?? 2000);
  try {
    const t0 = performance.now();
    stats.takeInterval(); // the first interval starts now, not at connecting
    const paced = opts.throughput > 0;
    const producers = sets.map((conns, i) => {
      const records = Math.floor(opts.records / n) + (i < opts.records % n ? 1 : 0);
      const o: ProducerOptions = {
        ...opts,
        records,
        throughput: paced ? opts.throughput / n : opts.throughput,
        paceStartMs: paced ? t0 + (i / opts.throughput) * 1000 : undefined,
        onInterval: undefined,
      };
      return new PerfProducer(layout, conns, o, { stats, payload });
    });
    // One failing producer ends the run: closing every connection fails the others' requests too.
    const settled = await Promise.allSettled(
      producers.map((p) =>
        p.run().catch((e: unknown) => {
          closeAll(sets);
          throw e;
        }),
      ),
    );
    const elapsedSec = (performance.now() - t0) / 1000;
    const results: ProduceResult[] = [];
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason;
      results.push(s.value);
    }
    const acked = results.reduce((a, r) => a + r.records, 0);
    return {
      records: acked,
      errors: results.reduce((a, r) => a + r.errors, 0),
      firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
      elapsedSec,
      recordsPerSec: acked / elapsedSec,
      mbPerSec: (acked * opts.recordSize) / 1048576 / elapsedSec,
      latency: stats.hist.summary(),
      requests: results.reduce((a, r) => a + r.requests, 0),
      batches: results.reduce((a, r) => a + r.batches, 0),
      producers: n,
      connections,
      connectMs: Math.round(connectMs * 10) / 10,
    };
  } finally {
    if (reporter !== null) clearInterval(reporter);
    closeAll(sets);
  }
}

function closeAll(sets: Map<number, KafkaConnection>[]): void {
  for (const conns of sets) if (conns !== undefined) for (const c of conns.values()) c.close();
}
