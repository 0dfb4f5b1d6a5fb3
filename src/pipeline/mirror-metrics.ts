// The mirror's progress: Prometheus metrics on GET /metrics (--metrics-port, prom-client as the broker's
// src/http/metrics.ts) and one line on stderr every few seconds.
//
//   samsa_mirror_records_total{topic}       records the target acknowledged, by source topic
//   samsa_mirror_bytes_total{topic}         their batch bytes as produced (compressed size when compressed)
//   samsa_mirror_lag_records{topic}         source high watermark - acknowledged offset, summed over partitions
//   samsa_mirror_partitions                 partitions being mirrored
//   samsa_mirror_commits_total              progress commits (OffsetCommit, or committed transactions)
//   samsa_mirror_session_errors_total       sessions that failed and were started again
//   samsa_mirror_last_commit_timestamp_seconds
//   process_* and nodejs_* (prom-client's default metrics)

import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { MetricsEndpoint } from '../http/metrics-endpoint.js';
import type { MirrorStats } from './mirror.js';

export class MirrorMetrics {
  readonly registry = new Registry();
  private readonly records: Counter<'topic'>;
  private readonly bytes: Counter<'topic'>;
  private readonly endpoint = new MetricsEndpoint(this.registry);

  constructor(stats: () => MirrorStats) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.records = new Counter({
      name: 'samsa_mirror_records_total',
      help: 'Records copied and acknowledged by the target, by source topic',
      labelNames: ['topic'],
      registers,
    });
    this.bytes = new Counter({
      name: 'samsa_mirror_bytes_total',
      help: 'Record batch bytes copied (as produced), by source topic',
      labelNames: ['topic'],
      registers,
    });
    new Gauge({
      name: 'samsa_mirror_lag_records',
      help: 'Records of the source topic not yet copied (high watermark - acknowledged offset)',
      labelNames: ['topic'],
      registers,
      collect() {
        this.reset();
        for (const [topic, lag] of stats().lag) this.set({ topic }, lag);
      },
    });
    new Gauge({
      name: 'samsa_mirror_partitions',
      help: 'Partitions being mirrored',
      registers,
      collect() {
        this.set(stats().partitions);
      },
    });
    new Gauge({
      name: 'samsa_mirror_commits_total',
      help: 'Progress commits made (OffsetCommit on the source, or transactions committed on the target)',
      registers,
      collect() {
        this.set(stats().commits);
      },
    });
    new Gauge({
      name: 'samsa_mirror_session_errors_total',
      help: 'Mirror sessions that failed and were started again from the committed offsets',
      registers,
      collect() {
        this.set(stats().errors);
      },
    });
    new Gauge({
      name: 'samsa_mirror_last_commit_timestamp_seconds',
      help: 'When progress was last committed (0: not yet)',
      registers,
      collect() {
        this.set(stats().lastCommitAt / 1000);
      },
    });
  }

  copied(topic: string, records: number, bytes: number): void {
    this.records.inc({ topic }, records);
    this.bytes.inc({ topic }, bytes);
  }

  /** Serves GET /metrics; resolves with the bound port (0 picks a free one). */
  listen(port: number, host: string): Promise<number> {
    return this.endpoint.listen(host, port);
  }

  async close(): Promise<void> {
    await this.endpoint.close();
  }
}

/** The progress line: rate since the previous line, totals, lag per topic (the largest first, at most 5). */
export function progressLine(
  stats: MirrorStats,
  prev: { records: number; bytes: number; at: number },
  now: number,
): string {
  const secs = Math.max(0.001, (now - prev.at) / 1000);
  const rate = (stats.records - prev.records) / secs;
  const mbps = (stats.bytes - prev.bytes) / secs / (1024 * 1024);
  const lags = [...stats.lag].sort((a, b) => b[1] - a[1]);
  const lagText =
    lags.length === 0
      ? 'none'
      : lags
          .slice(0, 5)
          .map(([t, l]) => `${t}=${l}`)
          .join(' ') + (lags.length > 5 ? ` (+${lags.length - 5} topics)` : '');
  const committed =
    stats.lastCommitAt === 0 ? 'not yet' : `${Math.round((now - stats.lastCommitAt) / 1000)} s ago`;
  return (
    `mirror: ${Math.round(rate)} records/s ${mbps.toFixed(2)} MiB/s, ${stats.records} copied, ` +
    `${stats.partitions} partitions, lag ${lagText}, committed ${committed}\n`
  );
}
