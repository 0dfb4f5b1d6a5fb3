// How the scale curves (bench/lib/scale.ts) are summed up: medians and spread per point and broker, a text table
// per curve on stdout, the markdown of bench/results/scale.md and the charts under docs/performance/ (SVG from
// bench/lib/svg-chart.ts, converted to PNG when a converter is present).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmtNum } from './report.js';
import { lineChart, pngConverter, toPng } from './svg-chart.js';

/** One run of one point on one broker: ok, or the error; the figures by name. */
export interface Figures {
  ok: boolean;
  error?: string;
  v: Record<string, number>;
}

export interface Column {
  key: string;
  title: string;
  digits: number;
}

export interface CurveDef {
  id: string;
  title: string;
  /** The x axis: what a point is (partitions, producer clients, group members). */
  x: string;
  defaultPoints: number[];
  columns: Column[];
  /** One chart per entry: the metric against the points, Samsa and Kafka. */
  charts: { key: string; yLabel: string }[];
}

export interface PointResult {
  x: number;
  runs: Record<string, Figures[]>;
  median: Record<string, Record<string, number>>;
  /** rec/s (or the first column) of each broker's runs: [min, max]. */
  spread: Record<string, [number, number]>;
  errors: Record<string, string>;
}

export interface CurveResult {
  id: string;
  title: string;
  x: string;
  points: PointResult[];
  /** How the curve was measured (each curve may come from another run of the bench). */
  run?: {
    startedAt: string;
    elapsedSec: number;
    repeat: number;
    records: number;
    startupGb: number;
    note: string;
    brokers: string[];
  };
}

const med = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export function summarize(def: CurveDef, x: number, runs: Record<string, Figures[]>): PointResult {
  const median: Record<string, Record<string, number>> = {};
  const spread: Record<string, [number, number]> = {};
  const errors: Record<string, string> = {};
  const first = def.columns[0]?.key ?? 'recordsPerSec';
  for (const [b, rs] of Object.entries(runs)) {
    const good = rs.filter((r) => r.ok);
    if (good.length === 0) {
      errors[b] = rs[0]?.error ?? 'not run';
      continue;
    }
    const keys = new Set(good.flatMap((r) => Object.keys(r.v)));
    const m: Record<string, number> = {};
    for (const k of keys) m[k] = med(good.map((r) => r.v[k] ?? Number.NaN));
    median[b] = m;
    const vs = good.map((r) => r.v[first] ?? Number.NaN).filter(Number.isFinite);
    spread[b] = vs.length === 0 ? [Number.NaN, Number.NaN] : [Math.min(...vs), Math.max(...vs)];
  }
  return { x, runs, median, spread, errors };
}

const label = (b: string): string => (b === 'samsa' ? 'Samsa' : b === 'kafka' ? 'Kafka' : b);

function rows(def: CurveDef, c: CurveResult, brokers: string[], repeat: number): string[][] {
  const out: string[][] = [];
  for (const p of c.points) {
    for (const [i, b] of brokers.entries()) {
      const m = p.median[b];
      if (m === undefined) {
        out.push([i === 0 ? p.x.toLocaleString('en-US') : '', label(b), `n/a (${p.errors[b] ?? 'not run'})`]);
        continue;
      }
      const cells = def.columns.map((col, j) => {
        const v = fmtNum(m[col.key], col.digits);
        const s = p.spread[b];
        return j === 0 && repeat > 1 && s !== undefined && v !== ''
          ? `${v} [${fmtNum(s[0], col.digits)}-${fmtNum(s[1], col.digits)}]`
          : v;
      });
      out.push([i === 0 ? p.x.toLocaleString('en-US') : '', label(b), ...cells]);
    }
    const s = p.median.samsa;
    const k = p.median.kafka;
    if (s !== undefined && k !== undefined) {
      out.push([
        '',
        'Samsa/Kafka',
        ...def.columns.map((col) => {
          const a = s[col.key];
          const d = k[col.key];
          return a !== undefined && d !== undefined && d !== 0 && Number.isFinite(a / d)
            ? `${(a / d).toFixed(2)}x`
            : '';
        }),
      ]);
    }
  }
  return out;
}

export function curveText(def: CurveDef, c: CurveResult, brokers: string[], repeat: number): string {
  const header = [def.x, 'broker', ...def.columns.map((col) => col.title)];
  const all = [header, ...rows(def, c, brokers, repeat)];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r.length > 3 ? (r[i] ?? '').length : 0))));
  const body = all
    .map((r) =>
      r
        .map((cell, i) =>
          r.length <= 3 ? cell : i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
  return `${def.id} ${def.title}\n${body}`;
}

export function curveMarkdown(def: CurveDef, c: CurveResult, brokers: string[], repeat: number): string {
  const header = [def.x, 'broker', ...def.columns.map((col) => col.title)];
  const lines = [
    `### ${def.id}: ${def.title}`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
  ];
  for (const r of rows(def, c, brokers, repeat)) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

const colors: Record<string, string> = { samsa: '#d62728', kafka: '#1f77b4' };

/** Writes the curve's charts into dir; returns the files written (PNG, or SVG when no converter is present). */
export function writeCharts(
  def: CurveDef,
  c: CurveResult,
  brokers: string[],
  dir: string,
  note: string,
): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const png = pngConverter() !== null;
  const written: string[] = [];
  for (const ch of def.charts) {
    const col = def.columns.find((x) => x.key === ch.key);
    const svg = lineChart({
      title: `${def.title}: ${col?.title ?? ch.key}`,
      xLabel: def.x,
      yLabel: ch.yLabel,
      note,
      series: brokers.map((b) => ({
        name: label(b),
        color: colors[b] ?? '#333',
        points: c.points.map((p) => ({ x: p.x, y: p.median[b]?.[ch.key] ?? Number.NaN })),
      })),
    });
    const base = path.join(dir, `scale-${def.id.toLowerCase()}-${ch.key}`);
    fs.writeFileSync(`${base}.svg`, svg);
    if (png && toPng(`${base}.svg`, `${base}.png`)) {
      fs.rmSync(`${base}.svg`);
      written.push(`${base}.png`);
    } else {
      written.push(`${base}.svg`);
    }
  }
  return written;
}
