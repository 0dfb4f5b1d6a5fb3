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

import * as path from 'node:path';
import { deleteTopic } from './brokers.js';
import { type ClusterHandle, clusterCost, createReplicatedTopic } from './clusters.js';
import { measureFailover } from './failover.js';
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

export type ClusterWorkload = ClusterProduceWorkload | FailoverWorkload;

export function isClusterWorkload(w: { kind: string }): w is ClusterWorkload {
  return w.kind === 'cluster-produce' || w.kind === 'failover';
}

export function clusterWorkloads(): ClusterWorkload[] {
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
  ];
}

export function describeClusterWorkload(w: ClusterWorkload): string {
  if (w.kind === 'failover') {
    return `${w.id} failover: kill -9 a leader, acks=all RF3 ${w.partitions}p @${w.rate / 1000}k/s [java producer]`;
  }
  const size = w.recordSize >= 1024 ? `${w.recordSize / 1024}KiB` : `${w.recordSize}B`;
  const rate = w.throughput === undefined ? '' : ` @${w.throughput / 1000}k/s`;
  return `${w.id} produce ${size} RF3 acks=all ${w.partitions}p 3 brokers${rate} [${w.tool === 'kafka-tools' ? 'kafka' : 'samsa'}]`;
}

export interface ClusterMeasurement {
  ok: boolean;
  error?: string;
  recordsPerSec?: number;
  mbPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  cpuSec?: number;
  peakRssMb?: number;
  wallSec?: number;
  failoverMs?: number;
  detectMs?: number;
  recoverMs?: number;
  leaderMs?: number;
  gapMs?: number;
  worstPartitionMs?: number;
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
): Promise<ClusterMeasurement> {
  const name = `${w.id}-${c.name}-${rep}`;
  const topic = `bench-${w.id}-${rep}-${Date.now()}`;
  const t0 = Date.now();
  let m: ClusterMeasurement;
  if (w.kind === 'failover') {
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
    m =
      typeof r === 'string'
        ? { ok: false, error: r }
        : {
            ok: true,
            recordsPerSec: r.recordsPerSec,
            mbPerSec: r.mbPerSec,
            p50Ms: r.p50Ms,
            p99Ms: r.p99Ms,
            p999Ms: r.p999Ms,
            cpuSec: spent.cpuSec,
            peakRssMb: spent.peakRssMb,
          };
  }
  m.wallSec = (Date.now() - t0) / 1000;
  await deleteTopic(c.port(c.running()[0] as number), topic).catch(() => {});
  return m;
}
