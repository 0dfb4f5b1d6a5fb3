// The numbers of a bench run and how they are printed: per-run measurements, medians, Samsa/Kafka ratios, the
// text table on stdout and the markdown table of bench/results/*.md.

import type { ReadAlongRates } from './read-along.js';
import type { ProduceMetrics } from './tools.js';

export interface Measurement {
  ok: boolean;
  error?: string;
  recordsPerSec?: number;
  mbPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  e2eP50Ms?: number;
  e2eP99Ms?: number;
  cpuSec?: number;
  peakRssMb?: number;
  wallSec?: number;
  /** Flood workloads: the consumer's rate during the flood, and its share of the produce rate. */
  consumeRecordsPerSec?: number;
  consumeShare?: number;
  /** Flood workloads: the largest consumer lag sampled during the flood (records; in the JSON only). */
  consumeLagMax?: number;
  /** Failover: kill -9 of the leader -> next acknowledged write to its partition. */
  failoverMs?: number;
  /** Failover: kill -9 -> the controller acts on it (its log). */
  detectMs?: number;
  /** Failover: failoverMs - detectMs (election, propagation, the client finding the new leader). */
  recoverMs?: number;
  /** Failover: kill -9 -> a surviving broker's Metadata names a new leader (JSON only). */
  leaderMs?: number;
  /** Failover: the partition's silence, last acknowledgement before the kill -> first after (JSON only). */
  gapMs?: number;
  /** Failover: the slowest of the partitions the victim led (JSON only). */
  worstPartitionMs?: number;
  /** Keep-up (R4): records not yet consumed when the last record was committed. */
  lagAtEnd?: number;
  /** Keep-up (R4): the last record committed -> the consumer has read every record. */
  drainMs?: number;
  /** Catch-up (R5): the restarted broker's process start -> back in its first partition's ISR. */
  readyMs?: number;
  /** Catch-up (R5): process start -> back in the ISR of every partition it hosts. */
  rejoinMs?: number;
  /** Catch-up (R5): process start -> the survivors list it as a broker (JSON only). */
  listedMs?: number;
  /** Catch-up (R5): MiB written while it was stopped / rejoin time. */
  catchUpMbPerSec?: number;
}

/** A producer tool's figures (or its failure) as a measurement. */
export function produceMeasurement(r: ProduceMetrics | string): Measurement {
  if (typeof r === 'string') return { ok: false, error: r };
  return {
    ok: true,
    recordsPerSec: r.recordsPerSec,
    mbPerSec: r.mbPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    p999Ms: r.p999Ms,
  };
}

/** The rates of a consumer reading along (flood, keep-up) as a measurement. */
export function readAlongMeasurement(r: ReadAlongRates): Measurement {
  return {
    ok: true,
    recordsPerSec: r.produceRecordsPerSec,
    consumeRecordsPerSec: r.consumeRecordsPerSec,
    consumeShare: r.consumeShare,
    consumeLagMax: r.lagMax,
  };
}

export interface Result<W = unknown> {
  workload: W;
  label: string;
  runs: Record<string, Measurement[]>;
  median: Record<string, Measurement>;
  ratio: Partial<Record<keyof Measurement, number>>;
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export const metricKeys: (keyof Measurement)[] = [
  'recordsPerSec',
  'mbPerSec',
  'p50Ms',
  'p99Ms',
  'p999Ms',
  'e2eP50Ms',
  'e2eP99Ms',
  'cpuSec',
  'peakRssMb',
  'wallSec',
  'consumeRecordsPerSec',
  'consumeShare',
  'consumeLagMax',
  'failoverMs',
  'detectMs',
  'recoverMs',
  'leaderMs',
  'gapMs',
  'worstPartitionMs',
  'lagAtEnd',
  'drainMs',
  'readyMs',
  'rejoinMs',
  'listedMs',
  'catchUpMbPerSec',
];

export function medianOf(ms: Measurement[]): Measurement {
  const good = ms.filter((m) => m.ok);
  if (good.length === 0) return { ok: false, error: ms[0]?.error ?? 'not run' };
  const out: Measurement = { ok: true };
  for (const k of metricKeys) {
    const vals = good.map((m) => m[k] as number | undefined).filter((v): v is number => v !== undefined);
    if (vals.length > 0) (out as unknown as Record<string, number>)[k] = median(vals);
  }
  return out;
}

/** A workload's result from its runs per broker: the medians, and Samsa/Kafka ratios when both ran. */
export function resultOf<W>(workload: W, label: string, runs: Record<string, Measurement[]>): Result<W> {
  const med: Record<string, Measurement> = {};
  for (const [name, ms] of Object.entries(runs)) med[name] = medianOf(ms);
  const ratio: Partial<Record<keyof Measurement, number>> = {};
  const s = med.samsa;
  const k = med.kafka;
  if (s?.ok && k?.ok) {
    for (const key of metricKeys) {
      const a = s[key] as number | undefined;
      const c = k[key] as number | undefined;
      if (a !== undefined && c !== undefined && c !== 0) ratio[key] = a / c;
    }
  }
  return { workload, label, runs, median: med, ratio };
}

export const columns: { key: keyof Measurement; title: string; higherIsBetter: boolean; digits: number }[] = [
  { key: 'recordsPerSec', title: 'rec/s', higherIsBetter: true, digits: 0 },
  { key: 'mbPerSec', title: 'MB/s', higherIsBetter: true, digits: 1 },
  { key: 'p50Ms', title: 'p50 ms', higherIsBetter: false, digits: 1 },
  { key: 'p99Ms', title: 'p99 ms', higherIsBetter: false, digits: 1 },
  { key: 'p999Ms', title: 'p99.9 ms', higherIsBetter: false, digits: 1 },
  { key: 'e2eP50Ms', title: 'e2e p50', higherIsBetter: false, digits: 2 },
  { key: 'e2eP99Ms', title: 'e2e p99', higherIsBetter: false, digits: 2 },
  { key: 'consumeRecordsPerSec', title: 'cons rec/s', higherIsBetter: true, digits: 0 },
  { key: 'consumeShare', title: 'cons/prod', higherIsBetter: true, digits: 2 },
  { key: 'failoverMs', title: 'failover ms', higherIsBetter: false, digits: 0 },
  { key: 'detectMs', title: 'detect ms', higherIsBetter: false, digits: 0 },
  { key: 'recoverMs', title: 'recover ms', higherIsBetter: false, digits: 0 },
  { key: 'lagAtEnd', title: 'lag@end', higherIsBetter: false, digits: 0 },
  { key: 'drainMs', title: 'drain ms', higherIsBetter: false, digits: 0 },
  { key: 'readyMs', title: 'ready ms', higherIsBetter: false, digits: 0 },
  { key: 'rejoinMs', title: 'rejoin ms', higherIsBetter: false, digits: 0 },
  { key: 'catchUpMbPerSec', title: 'catch-up MB/s', higherIsBetter: true, digits: 1 },
  { key: 'cpuSec', title: 'CPU s', higherIsBetter: false, digits: 1 },
  { key: 'peakRssMb', title: 'RSS MB', higherIsBetter: false, digits: 0 },
];

export function fmtNum(v: number | undefined, digits: number): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  if (digits === 0) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}

type Column = (typeof columns)[number];

/** The spread of one column over the runs: "min-max" (empty when no run has it). */
function spread(runs: Measurement[], c: Column): string {
  const vals = runs.map((m) => m[c.key] as number | undefined).filter((v): v is number => Number.isFinite(v));
  if (vals.length < 2) return '';
  return `${fmtNum(Math.min(...vals), c.digits)}-${fmtNum(Math.max(...vals), c.digits)}`;
}

/** One run's figures on one line (the progress lines on stderr). */
export function runSummary(m: Measurement): string {
  if (!m.ok) return `FAILED: ${m.error}`;
  return columns
    .filter((c) => m[c.key] !== undefined && Number.isFinite(m[c.key] as number))
    .map((c) => `${c.title} ${fmtNum(m[c.key] as number, c.digits)}`)
    .join(', ');
}

/** What the columns of the table mean, printed under it. */
export const legend =
  'rec/s, MB/s: throughput (median of runs); p50/p99/p99.9: producer latency in ms as the tool reports it;\n' +
  'e2e: produce->consume latency in ms; CPU s: broker CPU seconds during the workload; RSS MB: broker peak RSS.\n' +
  "F rows: rec/s is the flood's produce rate, cons rec/s the consumer's rate during it, cons/prod its share.\n" +
  'R rows: three-broker clusters; CPU s and RSS MB summed over the cluster (brokers + ZooKeeper / KRaft controller);\n' +
  'failover ms: kill -9 of a leader -> next acknowledged write to its partition = detect ms (the controller acts on\n' +
  'the expired session) + recover ms (election, propagation, the producer finding the new leader).\n' +
  'R4: lag@end = records unread when the last record was committed, drain ms = until all read; R5: restarted\n' +
  'broker, process start -> first ISR (ready ms) / every ISR (rejoin ms); catch-up MB/s = MiB missed / rejoin.\n' +
  '... range: the lowest and highest of the runs (with --repeat > 1).\n' +
  'Samsa/Kafka: ratio of the medians (throughput: higher is better; the rest: lower is better).';

/** The columns some result has a number in (a run of the cluster workloads alone has no e2e column, ...). */
function usedColumns(results: Result[]): Column[] {
  return columns.filter((c) =>
    results.some((r) =>
      Object.values(r.median).some((m) => m.ok && Number.isFinite(m[c.key] as number | undefined)),
    ),
  );
}

function tableRows(results: Result[], brokers: string[], cols: Column[]): string[][] {
  const rows: string[][] = [];
  for (const r of results) {
    let first = true;
    for (const b of brokers) {
      const m = r.median[b];
      const cells = cols.map((c) => (m?.ok ? fmtNum(m[c.key] as number | undefined, c.digits) : ''));
      const note = m?.ok ? '' : ` (${m?.error ?? 'not run'})`;
      rows.push([first ? r.label : '', b === 'samsa' ? 'Samsa' : 'Kafka', ...cells, note]);
      first = false;
      const good = (r.runs[b] ?? []).filter((x) => x.ok);
      if (good.length > 1) {
        rows.push(['', '... range', ...cols.map((c) => spread(good, c)), '']);
      }
    }
    if (brokers.length === 2) {
      rows.push([
        '',
        'Samsa/Kafka',
        ...cols.map((c) => {
          const v = r.ratio[c.key];
          return v === undefined || !Number.isFinite(v) ? '' : `${v.toFixed(2)}x`;
        }),
        '',
      ]);
    }
  }
  return rows;
}

export function textTable(results: Result[], brokers: string[]): string {
  const cols = usedColumns(results);
  const header = ['workload', 'broker', ...cols.map((c) => c.title), ''];
  const rows = [header, ...tableRows(results, brokers, cols)];
  const widths = header.map((_, i) =>
    Math.max(...rows.map((r) => (i === header.length - 1 ? 0 : (r[i] ?? '').length))),
  );
  return rows
    .map((r) =>
      r
        .map((cell, i) =>
          i < 2
            ? cell.padEnd(widths[i] as number)
            : i === r.length - 1
              ? cell
              : cell.padStart(widths[i] as number),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function markdownTable(results: Result[], brokers: string[]): string {
  const cols = usedColumns(results);
  const header = ['workload', 'broker', ...cols.map((c) => c.title)];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
  ];
  for (const row of tableRows(results, brokers, cols)) {
    const note = row[row.length - 1] ?? '';
    const cells = row.slice(0, -1);
    if (note !== '') cells[2] = `n/a${note}`;
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
