// How far V8 lets the heap grow between full (mark-compact) GCs, for the broker process.
//
// Every socket read is a fresh 64 KiB ArrayBuffer (Node allocates them; a net.Server offers no way to read into
// buffers of our own), and V8 counts the external memory allocated since the last mark-compact against the old
// generation's limit. With the broker's small heap (~13 MB live) V8 often settles on a limit only 15-25 MB above
// it (its growing factor varies between 1.1 and 4 with its speed estimates), which produce traffic at hundreds of
// MB/s crosses every 50-100 ms: a mark-compact GC after another ("GC storm", 30-65 per GB produced), whose
// concurrent marking took 0.5-1.3 s of CPU per GB on the helper threads, up to a third of the broker's CPU, in 17
// of 27 runs of `samsa perf produce` on a 2-core machine, 16 KiB and 256 KiB batches alike
// (docs/performance/profiles/big-batches.md).
// While the live heap is small (limits.heapGrowthBoostLiveBytesMax) the growing factor is held at V8's largest
// (4x, --heap-growing-percent=300), which removes the storms; above it V8's own heuristics apply again, so a large
// heap (many partitions, big caches) does not get 3x headroom. An operator who sets heap flags keeps them.

import * as v8 from 'node:v8';
import * as limits from '../limits.js';
import type { Logger } from '../logger.js';

const HEAP_FLAGS = /--(heap-growing-percent|initial-old-space-size|initial-heap-size)\b/;

/** True when the process was started with flags that set the heap's growth (the operator's choice stands). */
export function heapFlagsGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, nodeOptions ?? ''].some((a) => HEAP_FLAGS.test(a));
}

/** The --heap-growing-percent for a live heap of usedHeapBytes: 300 (4x) while small, 0 (V8 decides) above. */
export function heapGrowingPercentFor(usedHeapBytes: number): number {
  return usedHeapBytes < limits.heapGrowthBoostLiveBytesMax ? 300 : 0;
}

/** Starts the heap-growth policy; returns a function that stops it (leaving V8's default behind). */
export function startHeapGrowthPolicy(log: Logger): () => void {
  if (heapFlagsGiven(process.execArgv, process.env.NODE_OPTIONS)) {
    log.debug('heap flags given on the command line; heap growth left as configured');
    return () => {};
  }
  let boosted = false;
  const apply = (): void => {
    const percent = heapGrowingPercentFor(v8.getHeapStatistics().used_heap_size);
    if (percent > 0 === boosted) return;
    boosted = percent > 0;
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  apply();
  const timer = setInterval(apply, limits.heapGrowthCheckIntervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (boosted) v8.setFlagsFromString('--heap-growing-percent=0');
    boosted = false;
  };
}
