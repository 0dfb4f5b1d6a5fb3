// The cluster workloads of `npm run bench` (ids R...; `--only R` runs just these), measured on the
// three-broker clusters of bench/lib/clusters.ts:
//
//   R1k / R1s  produce 1 KiB records to 6 partitions, replication factor 3, min.insync.replicas 2, acks=all,
//              as fast as the tool goes: Kafka's ProducerPerformance (R1k) and `samsa perf produce` (R1s),
//              both connected to every partition's leader. Throughput and latency as the tool reports them;
//              CPU s and RSS MB are summed over every process of the cluster (3 brokers + ZooKeeper or the
//              KRaft controller).
//   R3s        the same at a fixed 3,000 records/s (`samsa perf produce --throughput 3000`, latency in microseconds):
//              far from saturation, so the latency is the broker's (append, follower fetch round trip, high
//              watermark), not time queued in the producer's buffer
//   R2k        failover (bench/lib/failover.ts): kill -9 of a leader during acks=all production by Kafka's
//              Java producer, to the next acknowledged write to that partition.
//   R4s        consumers keep up (bench/lib/cluster-catchup.ts): `samsa perf produce --throughput N` (acks=all, 1 KiB,
//              6 partitions; --r4-rate N, default 4,000 records/s, for --r4-seconds S, default 20) while the
//              `samsa perf consume` reader (in the bench's process) reads the same topic from offset 0. rec/s and
//              cons rec/s: growth of the log end offsets and of the records consumed during the production (sampled
//              every 50 ms), cons/prod their ratio; lag@end: records not yet consumed when the last record was
//              committed; drain ms: from then until the consumer has read them all; e2e p50/p99: then
//              `samsa perf e2e --acks -1` at the same rate on the same topic (up to 10 s). Keeping up = cons/prod
//              within a few % of 1.00 and drain < 1 s.
//   R5s        follower catch-up after a restart (bench/lib/cluster-catchup.ts): clean stop (SIGTERM) of a broker
//              that is not the controller, --r5-mb MiB (default 200) of 1 KiB records written with acks=all to the
//              two others (6 partitions, RF 3, min.insync.replicas 2), the broker started again. From its process
//              start a surviving broker's Metadata is polled every 50 ms: ready ms = back in its first partition's
//              ISR, rejoin ms = back in every partition's ISR, catch-up MB/s = MiB written while it was stopped /
//              rejoin time (process start included).

import * as path from 'node:path';
import type { Args } from './args.js';
import { deleteTopic } from './brokers.js';
import { measureCatchUp, measureKeepUp } from './cluster-catchup.js';
import { type ClusterHandle, clusterCost, createReplicatedTopic } from './clusters.js';
import { measureFailover } from './failover.js';
import { type Measurement, produceMeasurement, readAlongMeasurement } from './report.js';
import type { ProduceMetrics, Tools } from './tools.js';

export interface ClusterProduceWorkload {
  id: string;
  kind: 'cluster-produce';
  tool: 'kafka-tools' | 'samsa-perf';
  recordSize: number;
  partitions: number;
  acks: 'all';
  compression: 'none';
  records: number;
  minInsyncReplicas: number;
  /** Records/s; unset: as fast as the tool goes. */
  throughput?: number;
}

export interface FailoverWorkload {
  id: string;
  kind: 'failover';
  tool: 'kafka-tools';
  partitions: number;
  recordSize: number;
  /** Records/s over all partitions. */
  rate: number;
  minInsyncReplicas: number;
}

/** R4s: a fixed-rate producer and a consumer reading along. */
export interface KeepUpWorkload {
  id: string;
  kind: 'keep-up';
  tool: 'samsa-perf';
  partitions: number;
  recordSize: number;
  /** Records/s of the producer. */
  rate: number;
  seconds: number;
  minInsyncReplicas: number;
}

/** R5s: a stopped broker started again catches up. */
export interface CatchUpWorkload {
  id: string;
  kind: 'catch-up';
  tool: 'samsa-perf';
  partitions: number;
  recordSize: number;
  /** MiB written while the broker is stopped. */
  megabytes: number;
  minInsyncReplicas: number;
}

export type ClusterWorkload = ClusterProduceWorkload | FailoverWorkload | KeepUpWorkload | CatchUpWorkload;

const clusterKinds = new Set(['cluster-produce', 'failover', 'keep-up', 'catch-up']);

export function isClusterWorkload(w: { kind: string }): w is ClusterWorkload {
  return clusterKinds.has(w.kind);
}

/** The sizes of R4s / R5s (`--r4-rate N --r4-seconds S --r5-mb M`). */
export interface ClusterOptions {
  r4Rate: number;
  r4Seconds: number;
  r5Mb: number;
}

export const clusterDefaults: ClusterOptions = { r4Rate: 4000, r4Seconds: 20, r5Mb: 200 };

/** The sizes from the bench's command line, the defaults otherwise. */
export function clusterOptions(args: Args): ClusterOptions {
  return {
    r4Rate: args.num('--r4-rate', clusterDefaults.r4Rate, { positive: true }),
    r4Seconds: args.num('--r4-seconds', clusterDefaults.r4Seconds, { positive: true }),
    r5Mb: args.num('--r5-mb', clusterDefaults.r5Mb, { positive: true }),
  };
}

export function clusterWorkloads(o: ClusterOptions = clusterDefaults): ClusterWorkload[] {
  const produce = (tool: ClusterProduceWorkload['tool']): ClusterProduceWorkload => ({
    id: `R1${tool === 'kafka-tools' ? 'k' : 's'}`,
    kind: 'cluster-produce',
    tool,
    recordSize: 1024,
    partitions: 6,
    acks: 'all',
    compression: 'none',
    records: 60_000,
    minInsyncReplicas: 2,
  });
  return [
    produce('kafka-tools'),
    produce('samsa-perf'),
    // At a fixed rate far below saturation, latency is the broker's: append, follower fetch round trip, high watermark.
    { ...produce('samsa-perf'), id: 'R3s', records: 15_000, throughput: 3000 },
    {
      id: 'R2k',
      kind: 'failover',
      tool: 'kafka-tools',
      partitions: 6,
      recordSize: 100,
      rate: 2000,
      minInsyncReplicas: 2,
    },
    {
      id: 'R4s',
      kind: 'keep-up',
      tool: 'samsa-perf',
      partitions: 6,
      recordSize: 1024,
      rate: o.r4Rate,
      seconds: o.r4Seconds,
      minInsyncReplicas: 2,
    },
    {
      id: 'R5s',
      kind: 'catch-up',
      tool: 'samsa-perf',
      partitions: 6,
      recordSize: 1024,
      megabytes: o.r5Mb,
      minInsyncReplicas: 2,
    },
  ];
}

export function describeClusterWorkload(w: ClusterWorkload): string {
  if (w.kind === 'failover') {
    return `${w.id} failover: kill -9 a leader, acks=all RF3 ${w.partitions}p @${w.rate / 1000}k/s [java producer]`;
  }
  if (w.kind === 'keep-up') {
    return `${w.id} consumer keeps up: 1KiB RF3 acks=all ${w.partitions}p @${w.rate / 1000}k/s x ${w.seconds} s [samsa]`;
  }
  if (w.kind === 'catch-up') {
    return `${w.id} follower catch-up: ${w.megabytes} MiB written while stopped, RF3 ${w.partitions}p [samsa]`;
  }
  const size = w.recordSize >= 1024 ? `${w.recordSize / 1024}KiB` : `${w.recordSize}B`;
  const rate = w.throughput === undefined ? '' : ` @${w.throughput / 1000}k/s`;
  return `${w.id} produce ${size} RF3 acks=all ${w.partitions}p 3 brokers${rate} [${w.tool === 'kafka-tools' ? 'kafka' : 'samsa'}]`;
}

/**
 * Unmeasured acks=all runs on replicated topics, so that no JIT (broker or replica fetcher) is cold: Kafka's
 * brokers need 200-300k such records before their CPU per record settles (21-27 -> 9-10 CPU s per 60k records
 * here); 4 x 60k, the same for both.
 */
export async function warmUpCluster(tools: Tools, c: ClusterHandle): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const topic = `bench-warmup-rf3-${i}-${Date.now()}`;
    await createReplicatedTopic(c, topic, 6, { 'min.insync.replicas': '2' });
    await tools.samsaProduce(`warmup-${c.name}-cluster-${i}`, c.bootstrap(), topic, {
      records: 60_000,
      recordSize: 1024,
      acks: 'all',
      compression: 'none',
    });
    await deleteTopic(c.port(c.running()[0] as number), topic).catch(() => {});
  }
}

export async function measureClusterWorkload(
  root: string,
  tools: Tools,
  logDir: string,
  c: ClusterHandle,
  w: ClusterWorkload,
  rep: number,
): Promise<Measurement> {
  const name = `${w.id}-${c.name}-${rep}`;
  const topic = `bench-${w.id}-${rep}-${Date.now()}`;
  const t0 = Date.now();
  let m: Measurement;
  if (w.kind === 'keep-up') {
    const r = await measureKeepUp(tools, name, c, topic, w);
    m =
      typeof r === 'string'
        ? { ok: false, error: r }
        : {
            ...readAlongMeasurement(r),
            lagAtEnd: r.lagAtEnd,
            drainMs: r.drainMs,
            e2eP50Ms: r.e2eP50Ms,
            e2eP99Ms: r.e2eP99Ms,
            cpuSec: r.cpuSec,
            peakRssMb: r.peakRssMb,
          };
  } else if (w.kind === 'catch-up') {
    const r = await measureCatchUp(tools, name, c, topic, w);
    m =
      typeof r === 'string'
        ? { ok: false, error: r }
        : {
            ok: true,
            readyMs: r.readyMs,
            rejoinMs: r.rejoinMs,
            listedMs: r.listedMs,
            catchUpMbPerSec: r.catchUpMbPerSec,
          };
    if (typeof r !== 'string') {
      process.stderr.write(
        `    stopped broker ${r.victim}; ${r.writtenMb.toFixed(0)} MiB written meanwhile at ${r.writeMbPerSec.toFixed(1)} MB/s\n`,
      );
    }
  } else if (w.kind === 'failover') {
    const r = await measureFailover(root, tools.javaCp, path.join(logDir, `${name}.log`), c, topic, w);
    m =
      typeof r === 'string'
        ? { ok: false, error: r }
        : r.errors > 0 || r.acked !== r.sent
          ? {
              ok: false,
              error: `${r.sent - r.acked} of ${r.sent} records not acknowledged (${r.errors} errors)`,
            }
          : {
              ok: true,
              failoverMs: r.failoverMs,
              detectMs: r.detectMs,
              recoverMs: r.failoverMs - r.detectMs,
              leaderMs: r.leaderMs,
              gapMs: r.gapMs,
              worstPartitionMs: r.worstPartitionMs,
            };
    if (typeof r !== 'string') {
      process.stderr.write(
        `    killed broker ${r.victim} (leader of partition ${r.partition}); ${r.acked}/${r.sent} acknowledged\n`,
      );
    }
  } else {
    await createReplicatedTopic(c, topic, w.partitions, {
      'min.insync.replicas': String(w.minInsyncReplicas),
    });
    await new Promise((r) => setTimeout(r, 500));
    const cost = clusterCost(c);
    const r: ProduceMetrics | string =
      w.tool === 'kafka-tools'
        ? await tools.kafkaProduce(name, c.bootstrap(), topic, w)
        : await tools.samsaProduce(name, c.bootstrap(), topic, w);
    const spent = cost.end();
    m = produceMeasurement(r);
    if (m.ok) {
      m.cpuSec = spent.cpuSec;
      m.peakRssMb = spent.peakRssMb;
    }
  }
  m.wallSec = (Date.now() - t0) / 1000;
  await deleteTopic(c.port(c.running()[0] as number), topic).catch(() => {});
  return m;
}
