// A latency histogram for the perf tools: log-linear buckets (HdrHistogram's layout) over
// microseconds, so recording is one array increment and percentiles are exact to within 1/128
// (< 0.8 %) of the value, from 1 us up to 2^37 us (38 hours; larger values count as that). Values are recorded in
// microseconds and reported in milliseconds, the unit Kafka's perf tools print.

const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const MAGNITUDES = 31;

export class Histogram {
  private readonly counts = new Float64Array(SUB_BUCKETS * (MAGNITUDES + 1));
  private n = 0;
  private sum = 0;
  private maxUs = 0;
  private minUs = Number.POSITIVE_INFINITY;

  get count(): number {
    return this.n;
  }

  /** Records one value in microseconds (negative values count as 0). */
  record(us: number, times = 1): void {
    const v = us > 0 ? Math.floor(us) : 0;
    this.counts[bucketOf(v)]! += times;
    this.n += times;
    this.sum += v * times;
    if (v > this.maxUs) this.maxUs = v;
    if (v < this.minUs) this.minUs = v;
  }

  /** Adds every value of another histogram (per-interval stats into the total). */
  add(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sum += other.sum;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
    this.minUs = Math.min(this.minUs, other.minUs);
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.sum = 0;
    this.maxUs = 0;
    this.minUs = Number.POSITIVE_INFINITY;
  }

  meanMs(): number {
    return this.n === 0 ? 0 : this.sum / this.n / 1000;
  }

  maxMs(): number {
    return this.maxUs / 1000;
  }

  /** The value at quantile q (0..1), in milliseconds: the upper edge of the bucket holding it, capped at max. */
  percentileMs(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketUpper(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.n,
      avgMs: round3(this.meanMs()),
      p50Ms: round3(this.percentileMs(0.5)),
      p95Ms: round3(this.percentileMs(0.95)),
      p99Ms: round3(this.percentileMs(0.99)),
      p999Ms: round3(this.percentileMs(0.999)),
      maxMs: round3(this.maxMs()),
    };
  }
}

export interface LatencySummary {
  count: number;
  avgMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

function bucketOf(v: number): number {
  if (v < SUB_BUCKETS) return v;
  if (v >= 2 ** 37) v = 2 ** 37 - 1;
  // magnitude m >= 1: values in [2^(m+6), 2^(m+7)) map to sub-buckets of width 2^m.
  const bits = v < 4294967296 ? 32 - Math.clz32(v) : 32 + (32 - Math.clz32(Math.floor(v / 4294967296)));
  const m = bits - SUB_BUCKET_BITS;
  return m * SUB_BUCKETS + Math.floor(v / 2 ** m);
}

function bucketUpper(i: number): number {
  const m = Math.floor(i / SUB_BUCKETS);
  const sub = i % SUB_BUCKETS;
  if (m === 0) return sub;
  return (sub + 1) * 2 ** m - 1;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
