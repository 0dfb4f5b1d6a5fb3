// `samsa sink`: load topics into files (Parquet or JSON lines) under a folder, partitioned by hour or day, with
// offsets committed to a consumer group once the files are durable. See docs/sink.md and src/pipeline/sink.ts.

import { configureLogging, createLogger } from '../logger.js';
import { Sink, type SinkStats } from '../pipeline/sink.js';
import { AvroDecoder } from '../pipeline/sink-avro.js';
import type { PartitionBy, SinkFormat } from '../pipeline/sink-files.js';
import type { ParquetCompression } from '../pipeline/sink-format.js';
import { SinkMetrics } from '../pipeline/sink-metrics.js';
import {
  commandConfigSecurity,
  DEFAULT_BOOTSTRAP,
  intOption,
  parse,
  printHelp,
  required,
  runCommand,
  UsageError,
} from './common.js';

const help = `Usage: samsa sink --topics REGEX --group G --to DIR [options]

Writes the records of every topic whose name matches REGEX (the whole name; internal topics never) into files
under DIR/<topic>/date=YYYY-MM-DD/hour=HH/ by record timestamp (UTC), committing the offsets to consumer group G
only once the files are on disk. Stop with Ctrl-C (or SIGTERM): what is buffered is written first.

  --bootstrap HOST:PORT[,...]    broker to connect to (default ${DEFAULT_BOOTSTRAP}; also --bootstrap-server)
  --command-config FILE          Kafka client properties: security.protocol, ssl.*, sasl.mechanism,
                                 sasl.jaas.config (docs/security.md)
  --topics REGEX                 topics to sink (Java regex syntax as far as JavaScript's agrees)
  --group G                      consumer group whose committed offsets say where to resume
  --to DIR                       folder of the data lake
  --format parquet|jsonl         file format (default parquet)
  --compression snappy|none      Parquet page compression (default snappy)
  --partition-by hour|day|none   folders per hour (default), per day, or none
  --flush-records N              write a partition's file(s) at N buffered records (default 100000)
  --flush-interval DURATION      ... or when its oldest buffered record is this old (default 30s; 500ms, 10s, 5m)
  --registry URL                 schema registry (Confluent REST API): Avro values in Confluent's wire format
                                 are also decoded into value_<field> columns
  --metrics-port PORT            serve Prometheus metrics on GET /metrics (0: any free port)
  --metrics-host HOST            address for --metrics-port (default 0.0.0.0)
  --progress-interval DURATION   a progress line on stderr this often (default 5s; 0 = none)
  -h, --help                     this help
  --version                      print the version
`;

const options = {
  bootstrap: { type: 'string' },
  'bootstrap-server': { type: 'string' },
  'command-config': { type: 'string' },
  topics: { type: 'string' },
  group: { type: 'string' },
  to: { type: 'string' },
  format: { type: 'string', default: 'parquet' },
  compression: { type: 'string', default: 'snappy' },
  'partition-by': { type: 'string', default: 'hour' },
  'flush-records': { type: 'string', default: '100000' },
  'flush-interval': { type: 'string', default: '30s' },
  registry: { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string', default: '0.0.0.0' },
  'progress-interval': { type: 'string', default: '5s' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** 500ms, 10s, 5m, 1h, or a bare number of milliseconds. */
export function parseDuration(name: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (m === null) throw new UsageError(`--${name} must be a duration like 500ms, 10s or 5m; got "${v}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be ${allowed.join(', ')}; got "${v}"`);
  }
  return v as T;
}

export function runSink(args: string[]): Promise<number> {
  return runCommand('sink', async () => {
    const { values: v, positionals } = parse(args, options, false);
    if (v.help) return printHelp(help);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const source = required('topics', v.topics);
    let topics: RegExp;
    try {
      topics = new RegExp(`^(?:${source})$`);
    } catch (e) {
      throw new UsageError(`--topics is not a valid regex: ${(e as Error).message}`);
    }
    const format = oneOf<SinkFormat>('format', v.format, ['parquet', 'jsonl']);
    const compression = oneOf<ParquetCompression>('compression', v.compression, ['snappy', 'none']);
    const partitionBy = oneOf<PartitionBy>('partition-by', v['partition-by'], ['hour', 'day', 'none']);
    const flushRecords = intOption('flush-records', v['flush-records'], 1) ?? 100_000;
    const flushIntervalMs = parseDuration('flush-interval', v['flush-interval']);
    if (flushIntervalMs <= 0) throw new UsageError('--flush-interval must be > 0');
    const progressMs = parseDuration('progress-interval', v['progress-interval']);
    const metricsPort = intOption('metrics-port', v['metrics-port'], 0);
    if (v.registry !== undefined && !/^https?:\/\//.test(v.registry)) {
      throw new UsageError(`--registry must be an http(s) URL; got "${v.registry}"`);
    }
    configureLogging(null, 'auto');
    const log = createLogger('sink');
    const metrics = metricsPort !== undefined ? new SinkMetrics() : undefined;
    if (metrics !== undefined && metricsPort !== undefined) {
      const port = await metrics.listen(v['metrics-host'], metricsPort);
      log.info('metrics on /metrics', { port });
    }
    const security = commandConfigSecurity(v['command-config']);
    const sink = new Sink({
      bootstrap: v.bootstrap ?? v['bootstrap-server'] ?? DEFAULT_BOOTSTRAP,
      ...(security === undefined ? {} : { security }),
      topics,
      groupId: required('group', v.group),
      dir: required('to', v.to),
      format,
      compression,
      partitionBy,
      flushRecords,
      flushIntervalMs,
      avro: v.registry !== undefined ? new AvroDecoder(v.registry, log.child('avro'), metrics) : undefined,
      metrics,
      logger: log,
    });
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const progress = progressMs > 0 ? startProgress(sink, progressMs) : null;
    try {
      await sink.run(abort.signal);
    } finally {
      if (progress !== null) clearInterval(progress);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await metrics?.close();
    }
    const s = sink.stats();
    process.stderr.write(`samsa sink: stopped; ${s.recordsWritten} records in ${s.filesWritten} files\n`);
    return 0;
  });
}

function startProgress(sink: Sink, everyMs: number): NodeJS.Timeout {
  let last: SinkStats = sink.stats();
  let lastAt = Date.now();
  const t = setInterval(() => {
    const s = sink.stats();
    const now = Date.now();
    const rate = ((s.recordsWritten - last.recordsWritten) * 1000) / Math.max(1, now - lastAt);
    const mib = (s.bytesWritten - last.bytesWritten) / 1048576 / Math.max(0.001, (now - lastAt) / 1000);
    process.stderr.write(
      `samsa sink: ${Math.round(rate)} records/s (${mib.toFixed(1)} MiB/s), ${s.filesWritten} files, ` +
        `${s.recordsWritten} records written, lag ${s.lag ?? '?'}, buffered ${s.buffered}, ` +
        `${s.assigned} partitions\n`,
    );
    last = s;
    lastAt = now;
  }, everyMs);
  t.unref();
  return t;
}
