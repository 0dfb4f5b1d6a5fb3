// A tiny timing harness for the micro-benchmarks: runs a body repeatedly for a fixed time after a
// warm-up, reports operations/s and (when bytes per operation are given) MB/s, best of a few rounds
// (the machine is shared and noisy; the best round is the least disturbed one).

import { performance } from 'node:perf_hooks';

export interface MicroResult {
  name: string;
  opsPerSec: number;
  mbPerSec: number | null;
  nsPerOp: number;
}

export interface MicroOptions {
  /** Bytes processed per call of body, for MB/s. */
  bytesPerOp?: number;
  /** Calls per timing check (keeps the clock out of the measurement for cheap bodies). */
  batch?: number;
  roundMs?: number;
  rounds?: number;
}

export function measure(name: string, body: () => void, opts: MicroOptions = {}): MicroResult {
  const batch = opts.batch ?? 1;
  const roundMs = opts.roundMs ?? 400;
  const rounds = opts.rounds ?? 4;
  const warmEnd = performance.now() + roundMs / 2;
  while (performance.now() < warmEnd) for (let i = 0; i < batch; i++) body();
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const start = performance.now();
    let now = start;
    while (now - start < roundMs) {
      for (let i = 0; i < batch; i++) body();
      ops += batch;
      now = performance.now();
    }
    best = Math.max(best, ops / ((now - start) / 1000));
  }
  return {
    name,
    opsPerSec: best,
    mbPerSec: opts.bytesPerOp === undefined ? null : (best * opts.bytesPerOp) / 1e6,
    nsPerOp: 1e9 / best,
  };
}

export function report(title: string, results: MicroResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length), 10);
  const lines = [
    `${title}`,
    `  ${'benchmark'.padEnd(w)}  ${'ops/s'.padStart(12)}  ${'ns/op'.padStart(10)}  ${'MB/s'.padStart(8)}`,
  ];
  for (const r of results) {
    lines.push(
      `  ${r.name.padEnd(w)}  ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)}  ${Math.round(
        r.nsPerOp,
      )
        .toLocaleString('en-US')
        .padStart(10)}  ${(r.mbPerSec === null ? '' : r.mbPerSec.toFixed(0)).padStart(8)}`,
    );
  }
  return lines.join('\n');
}
