// A tiny dependency-free line chart for the scale curves (bench/lib/scale.ts): a few series of (x, y) points on a
// log-x axis (the points are 1, 8, 64, 1,000, ...), linear y from 0, as an SVG string. toPng() converts it with
// rsvg-convert or ImageMagick when one is on the PATH; otherwise the SVG stays the chart.

import { execFileSync } from 'node:child_process';

export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A line of small print under the chart (e.g. "under load, not comparable"). */
  note?: string;
}

const W = 640;
const H = 400;
const M = { left: 70, right: 20, top: 40, bottom: 70 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 1, 2, 5 x 10^k steps covering [0, max] in about 5 ticks. */
function yTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; ; v += step) {
    out.push(v);
    if (v >= max) return out;
  }
}

function fmtTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

export function lineChart(spec: ChartSpec): string {
  const pts = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y) && p.x > 0);
  const xs = [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
  const lx0 = Math.log10(xs[0] ?? 1);
  const lx1 = Math.max(Math.log10(xs[xs.length - 1] ?? 10), lx0 + 1);
  const ticks = yTicks(Math.max(0, ...pts.map((p) => p.y)));
  const yMax = ticks[ticks.length - 1] ?? 1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number): number => M.left + ((Math.log10(x) - lx0) / (lx1 - lx0)) * pw;
  const py = (y: number): number => M.top + ph - (y / yMax) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  for (const t of ticks) {
    const y = py(t).toFixed(1);
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmtTick(t)}</text>`,
    );
  }
  for (const x of xs) {
    const X = px(x).toFixed(1);
    out.push(
      `<line x1="${X}" y1="${M.top}" x2="${X}" y2="${M.top + ph}" stroke="#eee"/>`,
      `<text x="${X}" y="${M.top + ph + 16}" text-anchor="middle">${x.toLocaleString('en-US')}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" y1="${M.top + ph}" x2="${W - M.right}" y2="${M.top + ph}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="black"/>`,
    `<text x="${M.left + pw / 2}" y="${M.top + ph + 36}" text-anchor="middle">${esc(spec.xLabel)} (log scale)</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  for (const [i, s] of spec.series.entries()) {
    const sp = s.points.filter((p) => Number.isFinite(p.y) && p.x > 0).sort((a, b) => a.x - b.x);
    if (sp.length > 1) {
      const d = sp
        .map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
        .join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    for (const p of sp)
      out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    const lx = M.left + 10 + i * 110;
    out.push(
      `<rect x="${lx}" y="${M.top + 4}" width="12" height="12" fill="${s.color}"/>`,
      `<text x="${lx + 16}" y="${M.top + 14}">${esc(s.name)}</text>`,
    );
  }
  if (spec.note !== undefined)
    out.push(
      `<text x="${W / 2}" y="${H - 10}" text-anchor="middle" font-size="11" fill="#555">${esc(spec.note)}</text>`,
    );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The converter on the PATH (rsvg-convert, then ImageMagick), or null. */
export function pngConverter(): string | null {
  for (const c of ['rsvg-convert', 'magick', 'convert']) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
      return c;
    } catch {}
  }
  return null;
}

/** Writes svgFile as pngFile; false (the SVG stays) when no converter is present or it fails. */
export function toPng(svgFile: string, pngFile: string): boolean {
  const c = pngConverter();
  if (c === null) return false;
  try {
    const args = c === 'rsvg-convert' ? ['-o', pngFile, svgFile] : [svgFile, pngFile];
    execFileSync(c, args, { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}
