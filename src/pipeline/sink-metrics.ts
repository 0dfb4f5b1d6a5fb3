// Prometheus metrics of `samsa sink` (--metrics-port), via prom-client as the broker's src/http/metrics.ts.
//
//   samsa_sink_records_total{topic}          records written to visible files
//   samsa_sink_bytes_total{topic}            bytes of visible files
//   samsa_sink_files_total{topic}            files made visible
//   samsa_sink_flush_seconds                 one partition's flush: encode, write, fsync, rename (histogram)
//   samsa_sink_commit_failures_total         OffsetCommit after a flush that failed (the files stay; a restart
//                                            resumes after them)
//   samsa_sink_lag_records{topic,partition}  records in the log not yet in a file
//   samsa_sink_buffered_records              records fetched, waiting for their flush
//   samsa_sink_avro_errors_total{reason}     values the --registry decoding left undecoded (the raw value stays)
//   process_* / nodejs_*                     prom-client's default metrics

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { MetricsEndpoint } from '../http/metrics-endpoint.js';

export class SinkMetrics {
  readonly registry = new Registry();
  readonly records: Counter<'topic'>;
  readonly bytes: Counter<'topic'>;
  readonly files: Counter<'topic'>;
  readonly flushSeconds: Histogram;
  readonly commitFailures: Counter;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly buffered: Gauge;
  readonly avroErrors: Counter<'reason'>;
  private readonly endpoint = new MetricsEndpoint(this.registry);

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.records = new Counter({
      name: 'samsa_sink_records_total',
      help: 'Records written to visible files',
      labelNames: ['topic'],
      registers,
    });
    this.bytes = new Counter({
      name: 'samsa_sink_bytes_total',
      help: 'Bytes of visible files',
      labelNames: ['topic'],
      registers,
    });
    this.files = new Counter({
      name: 'samsa_sink_files_total',
      help: 'Files made visible',
      labelNames: ['topic'],
      registers,
    });
    this.flushSeconds = new Histogram({
      name: 'samsa_sink_flush_seconds',
      help: "One partition's flush: encode, write, fsync, rename",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.commitFailures = new Counter({
      name: 'samsa_sink_commit_failures_total',
      help: 'Offset commits after a flush that failed',
      registers,
    });
    this.lag = new Gauge({
      name: 'samsa_sink_lag_records',
      help: 'Records in the log not yet in a file',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.buffered = new Gauge({
      name: 'samsa_sink_buffered_records',
      help: 'Records fetched, waiting for their flush',
      registers,
    });
    this.avroErrors = new Counter({
      name: 'samsa_sink_avro_errors_total',
      help: 'Values left undecoded by the schema registry decoding',
      labelNames: ['reason'],
      registers,
    });
  }

  /** Serves GET /metrics; resolves with the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    return this.endpoint.listen(host, port);
  }

  async close(): Promise<void> {
    await this.endpoint.close();
    this.registry.clear();
  }
}
