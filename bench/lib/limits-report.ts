// The table of `npm run bench -- --only L` (bench/lib/limits.ts): one line per row and broker, throughput as a
// fraction of the ceiling measured in the same run, and who was busy (bench/lib/limits-cpu.ts).

import { type CpuSplit, cpuColumns } from './limits-cpu.js';

export interface LimitsRow {
  id: string;
  label: string;
  /** 'machine' for the L0 ceilings. */
  broker: 'machine' | 'samsa' | 'kafka';
  ok: boolean;
  error?: string;
  /** Median over the runs, MB/s (10^6 bytes): L0 bytes moved; L1/L2 record values (+ keys) moved. */
  mbPerSec: number;
  /** Every run's MB/s. */
  runs: number[];
  /** The ceiling this row is compared with (an L0 row id), its MB/s and the fraction. */
  ceiling?: string;
  ceilingMbPerSec?: number;
  ofCeiling?: number;
  /** Consume rows: the fraction of L0c (page cache -> socket) too. */
  ofFileToSocket?: number;
  /** The CPU split of the median run. */
  cpu: CpuSplit | null;
  heldBackBy: string;
  /** What the L0 row's two processes are (the table's broker and client columns). */
  serverName?: string;
  clientName?: string;
}

const f0 = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '' : Math.round(v).toLocaleString('en-US');
const pct = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '' : `${Math.round(v * 100)}%`;

const header = [
  'row',
  'broker',
  'MB/s',
  'range',
  'ceiling',
  'of ceiling',
  'of L0c',
  'broker %',
  'broker sys %',
  'broker thr %',
  'client %',
  'client thr %',
  'idle %',
  'held back by',
];

function cells(r: LimitsRow): string[] {
  const k = cpuColumns(r.cpu);
  const who = r.broker === 'machine' ? (r.serverName ?? '-') : r.broker === 'samsa' ? 'Samsa' : 'Kafka';
  if (!r.ok) return [r.label, who, `n/a (${r.error ?? 'failed'})`, ...header.slice(3).map(() => '')];
  return [
    r.label,
    who,
    f0(r.mbPerSec),
    r.runs.length > 1 ? `${f0(Math.min(...r.runs))}-${f0(Math.max(...r.runs))}` : '',
    r.ceiling === undefined ? '' : `${r.ceiling} ${f0(r.ceilingMbPerSec)}`,
    pct(r.ofCeiling),
    pct(r.ofFileToSocket),
    f0(k.serverPct),
    f0(k.serverSysPct),
    f0(k.serverThreadPct),
    f0(k.clientPct),
    f0(k.clientThreadPct),
    f0(k.idlePct),
    r.heldBackBy,
  ];
}

export function limitsText(rows: LimitsRow[]): string {
  const all = [header, ...rows.map(cells)];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i < 2 || i === r.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function limitsMarkdown(rows: LimitsRow[]): string {
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 || i === header.length - 1 ? '---' : '---:')).join('|')}|`,
  ];
  for (const r of rows) lines.push(`| ${cells(r).join(' | ')} |`);
  return lines.join('\n');
}

export const limitsLegend = `range: the lowest and highest MB/s of the runs. MB/s: 10^6 bytes/s (L0: bytes moved; L1/L2: record values moved, as samsa perf counts them, x 1.048576).
of ceiling: L1 against L0a (page-cache append, 1 MiB writes), L2 against L0b (loopback TCP); of L0c: L2 against
page cache -> socket. broker %: the broker process's CPU in % of one core over the row's window (user + system;
broker sys %: the system part; broker thr %: its busiest thread). client %: the load generators' processes summed;
client thr %: the busiest thread among them. idle %: the machine's idle + iowait, % of all cores. L0 rows: the
"broker" columns are the receiving process (sink), the "client" columns the writing one.
held back by: a side whose busiest thread is >= 85 % of a core is saturated (broker / client / both); neither,
with the machine's cores full (idle < 10 %) -> CPU (machine full); neither, with idle CPU -> kernel/disk or
round trips (too little in flight to keep either side busy).`;

/** Samsa against Kafka per L1/L2 row: medians, each one's range over the runs, and the ratio of the medians. */
export function limitsRatios(rows: LimitsRow[]): string[][] {
  const out: string[][] = [['row', 'Samsa MB/s', 'Kafka MB/s', 'Samsa/Kafka']];
  const range = (r: LimitsRow): string =>
    r.runs.length > 1 ? ` (${f0(Math.min(...r.runs))}-${f0(Math.max(...r.runs))})` : '';
  for (const s of rows.filter((r) => r.broker === 'samsa')) {
    const k = rows.find((r) => r.broker === 'kafka' && r.id === s.id);
    if (k === undefined) continue;
    const ratio = s.ok && k.ok && k.mbPerSec > 0 ? `${(s.mbPerSec / k.mbPerSec).toFixed(2)}x` : '';
    out.push([
      `${s.id} ${s.label}`,
      s.ok ? `${f0(s.mbPerSec)}${range(s)}` : 'n/a',
      k.ok ? `${f0(k.mbPerSec)}${range(k)}` : 'n/a',
      ratio,
    ]);
  }
  return out;
}

export function limitsRatiosText(rows: LimitsRow[]): string {
  const all = limitsRatios(rows);
  if (all.length === 1) return '';
  const widths = (all[0] as string[]).map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}

export function limitsRatiosMarkdown(rows: LimitsRow[]): string {
  const all = limitsRatios(rows);
  if (all.length === 1) return '';
  const [head, ...body] = all as [string[], ...string[][]];
  return [`| ${head.join(' | ')} |`, '|---|---:|---:|---:|', ...body.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );
}
