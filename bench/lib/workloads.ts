// The single-broker rows of `npm run bench` and the whole list of rows a run picks from:
//   P1-P5   produce (Kafka's ProducerPerformance: id ...k; `samsa perf produce`: ...s), record size, partitions,
//           acks and compression as in describe()
//   C1      consume a 5M-record log written beforehand (1M with --quick)
//   E1s/E2k produce -> consume latency: `samsa perf e2e` at a fixed rate, Kafka's EndToEndLatency closed loop
//   F1      consume during a produce flood (bench/lib/flood.ts)
//   T1-T3   produce / consume over each broker's PLAINTEXT and SSL listeners (bench/lib/tls.ts)
// and then the cluster rows R (bench/lib/cluster-workloads.ts). Measured by bench/run.ts.

import {
  type ClusterOptions,
  type ClusterWorkload,
  clusterWorkloads,
  describeClusterWorkload,
  isClusterWorkload,
} from './cluster-workloads.js';
import { type SecurityProtocol, tlsId } from './tls.js';

export type ToolName = 'kafka-tools' | 'samsa-perf';

export interface ProduceWorkload {
  id: string;
  kind: 'produce';
  tool: ToolName;
  recordSize: number;
  partitions: number;
  acks: '1' | 'all';
  compression: 'none' | 'lz4';
  records: number;
  /** The T rows: the listener measured (default PLAINTEXT). */
  securityProtocol?: SecurityProtocol;
}

export interface ConsumeWorkload {
  id: string;
  kind: 'consume';
  tool: ToolName;
  recordSize: number;
  partitions: number;
  records: number;
  securityProtocol?: SecurityProtocol;
}

export interface E2eWorkload {
  id: string;
  kind: 'e2e';
  tool: ToolName;
  recordSize: number;
  partitions: number;
  records: number;
  /** Records/s for samsa perf e2e (fixed rate); EndToEndLatency is closed-loop. */
  throughput: number;
}

/** Producers flood a topic while one consumer reads it (bench/lib/flood.ts). */
export interface FloodWorkload {
  id: string;
  kind: 'flood';
  tool: ToolName;
  recordSize: number;
  partitions: number;
  producers: number;
  /** Records per producer. */
  records: number;
  /** 0: fire and forget, nothing paces the producers (the hardest case for the consumer). */
  acks: '0' | '1';
}

export type Workload = ProduceWorkload | ConsumeWorkload | E2eWorkload | FloodWorkload | ClusterWorkload;

export const isTls = (w: Workload): boolean => 'securityProtocol' in w && w.securityProtocol !== undefined;

/** The T rows: each workload over PLAINTEXT then SSL, same broker, same client (Kafka's tools). */
function tlsWorkloads(): Workload[] {
  const out: Workload[] = [];
  for (const securityProtocol of ['PLAINTEXT', 'SSL'] as const) {
    const common = {
      kind: 'produce',
      tool: 'kafka-tools',
      partitions: 1,
      acks: '1',
      compression: 'none',
    } as const;
    out.push(
      { ...common, id: tlsId('T1k', securityProtocol), recordSize: 1024, records: 300_000, securityProtocol },
      {
        ...common,
        id: tlsId('T2k', securityProtocol),
        recordSize: 100,
        records: 1_000_000,
        securityProtocol,
      },
      {
        id: tlsId('T3k', securityProtocol),
        kind: 'consume',
        tool: 'kafka-tools',
        recordSize: 1024,
        partitions: 1,
        records: 500_000,
        securityProtocol,
      },
    );
  }
  // PLAINTEXT and SSL of one workload next to each other.
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export function workloads(quick: boolean, cluster: ClusterOptions): Workload[] {
  const n100 = quick ? 500_000 : 750_000;
  const n1k = quick ? 100_000 : 150_000;
  const produce = (
    id: string,
    recordSize: number,
    partitions: number,
    acks: '1' | 'all',
    compression: 'none' | 'lz4',
    tools: ToolName[] = ['kafka-tools', 'samsa-perf'],
  ): Workload[] =>
    tools.map((tool) => ({
      id: `${id}${tool === 'kafka-tools' ? 'k' : 's'}`,
      kind: 'produce',
      tool,
      recordSize,
      partitions,
      acks,
      compression,
      records: recordSize >= 1024 ? n1k : n100,
    }));
  const consumeRecords = quick ? 1_000_000 : 5_000_000;
  const consume = (tool: ToolName): ConsumeWorkload => ({
    id: `C1${tool === 'kafka-tools' ? 'k' : 's'}`,
    kind: 'consume',
    tool,
    recordSize: 100,
    partitions: 1,
    records: consumeRecords,
  });
  const flood = (tool: ToolName): FloodWorkload => ({
    id: `F1${tool === 'kafka-tools' ? 'k' : 's'}`,
    kind: 'flood',
    tool,
    recordSize: 100,
    partitions: 1,
    producers: 3,
    records: quick ? 500_000 : 1_000_000,
    acks: '0',
  });
  const e2e = (id: string, tool: ToolName, records: number, throughput: number): E2eWorkload => ({
    id,
    kind: 'e2e',
    tool,
    recordSize: 100,
    partitions: 1,
    records,
    throughput,
  });
  if (quick) {
    return [
      ...produce('P1', 100, 1, '1', 'none'),
      ...produce('P3', 1024, 1, 'all', 'none', ['samsa-perf']),
      ...produce('P4', 1024, 8, '1', 'lz4', ['samsa-perf']),
      consume('samsa-perf'),
      e2e('E1s', 'samsa-perf', 25_000, 5000),
      flood('samsa-perf'),
    ];
  }
  return [
    ...produce('P1', 100, 1, '1', 'none'),
    ...produce('P2', 100, 8, 'all', 'none'),
    ...produce('P3', 1024, 1, 'all', 'none'),
    ...produce('P4', 1024, 8, '1', 'lz4'),
    ...produce('P5', 100, 1, 'all', 'lz4'),
    consume('kafka-tools'),
    consume('samsa-perf'),
    e2e('E1s', 'samsa-perf', 60_000, 10_000),
    e2e('E2k', 'kafka-tools', 1000, 0),
    flood('samsa-perf'),
    flood('kafka-tools'),
    ...tlsWorkloads(),
    ...clusterWorkloads(cluster),
  ];
}

export function describe(w: Workload): string {
  if (isClusterWorkload(w)) return describeClusterWorkload(w);
  const tool = w.tool === 'kafka-tools' ? 'kafka' : 'samsa';
  const size = w.recordSize >= 1024 ? `${w.recordSize / 1024}KiB` : `${w.recordSize}B`;
  const sp = isTls(w) ? ` ${(w as ProduceWorkload | ConsumeWorkload).securityProtocol}` : '';
  if (w.kind === 'produce') {
    return `${w.id} produce ${size} ${w.partitions}p acks=${w.acks} ${w.compression}${sp} [${tool}]`;
  }
  if (w.kind === 'consume')
    return `${w.id} consume ${w.records / 1e6}M x ${size} ${w.partitions}p${sp} [${tool}]`;
  if (w.kind === 'flood') {
    return `${w.id} consume during flood ${w.producers}x ${size} ${w.partitions}p acks=${w.acks} [${tool}]`;
  }
  return w.tool === 'kafka-tools'
    ? `${w.id} e2e ${size} closed loop [kafka]`
    : `${w.id} e2e ${size} @${w.throughput / 1000}k/s [${tool}]`;
}
