// Prometheus metrics: GET /metrics on metrics.http.host:metrics.http.port (-1 = off), via prom-client.
//
// What is exported (names follow Prometheus conventions; Kafka's JMX names in brackets):
//   samsa_requests_total{api,version}                 requests handled [RequestsPerSec]
//   samsa_request_errors_total{api,version,error}     error codes in responses, by Kafka error name [ErrorsPerSec]
//   samsa_request_duration_seconds{api}               time from decode to response queued [TotalTimeMs]
//   samsa_request_bytes_total{api}, samsa_response_bytes_total{api}   frame bytes in and out [RequestBytes]
//   samsa_topic_{bytes,records}_{in,out}_total{topic} produce and fetch traffic [BytesInPerSec, ...]
//   samsa_produce_recompressed_batches_total{topic}   batches rewritten for the topic's compression.type
//   samsa_partition_{log_size_bytes,log_start_offset,log_end_offset,high_watermark}{topic,partition}
//                                                     read from the logs at scrape time
//   samsa_connections, samsa_connections_accepted_total, samsa_connections_closed_total{reason}
//   samsa_queued_request_bytes, samsa_queued_request_bytes_peak   (queued.max.request.bytes accounting)
//   samsa_fetch_long_poll_waits_total, samsa_fetch_long_poll_wait_seconds   fetches that parked for data
//   samsa_consumer_group_committed_offset, samsa_consumer_group_lag{group,topic,partition}
//                                                     committed offsets and high watermark - committed offset
//   samsa_log_dir_free_bytes, samsa_log_dir_size_bytes{dir}   the file system of each log dir (statfs at scrape
//                                                     time; free = available to this unprivileged process)
//   samsa_under_replicated_partitions                 [UnderReplicatedPartitions]; 0 until replication exists
//   samsa_fetch_sessions, samsa_fetch_session_partitions, samsa_fetch_session_evictions_total
//                                                     fetch sessions (KIP-227) [NumIncrementalFetchSessions,
//                                                     NumIncrementalFetchPartitionsCached,
//                                                     IncrementalFetchSessionEvictionsPerSec]
//   samsa_fetch_sessions_created_total, samsa_fetch_session_incremental_requests_total
//                                                     full fetches that opened a session; incremental fetches
//   samsa_quota_throttled_responses_total{type}, samsa_quota_throttle_seconds_total{type}
//                                                     client quotas exceeded (Produce, Fetch, Request) [throttle-time]
//   process_* and nodejs_* (prom-client's default metrics: memory, CPU, event-loop lag, GC)
//
// Hot-path cost: every hook is a Map lookup on a number or a topic name that returns a cached prom-client
// child (label values bound once), then an increment. No label strings are built per request.

import { statfsSync } from 'node:fs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { errorName } from '../protocol/errors.js';
import { apiSchemas } from '../protocol/generated/apis.js';
import { MetricsEndpoint } from './metrics-endpoint.js';

/** What the metrics read from the broker at scrape time. */
export interface MetricsSource {
  partitions(): Iterable<{
    topic: string;
    partition: number;
    sizeBytes: number;
    logStartOffset: number;
    logEndOffset: number;
    highWatermark: number;
  }>;
  network(): { connections: number; queuedRequestBytes: number; queuedRequestBytesPeak: number };
  /** The log dirs (log.dirs), for their file systems' free and total bytes. */
  logDirs?(): readonly string[];
  /** Partitions led here whose ISR is smaller than their replica set (none while each has one replica). */
  underReplicatedPartitions?(): number;
  /** The fetch session cache: sessions, partitions they hold, evictions since start. */
  fetchSessions?(): FetchSessionSample;
  /** Client quota throttling since start, by quota type (Produce, Fetch, Request). */
  quotaThrottles?(): Iterable<{ type: string; responses: number; throttleTimeMs: number }>;
  /** Committed offsets of consumer groups, with the partition's high watermark. */
  groupOffsets?(): Iterable<{
    group: string;
    topic: string;
    partition: number;
    offset: number;
    highWatermark: number;
  }>;
}

/** The hooks the broker calls. NOOP_METRICS implements them for brokers without a metrics port. */
export interface Metrics {
  /** False for NOOP_METRICS: callers skip work done only to feed a hook. */
  readonly enabled: boolean;
  /** A request was decoded; `bytes` is its frame with the size prefix. */
  request(apiKey: number, apiVersion: number, bytes?: number): void;
  /** A response was queued `seconds` after the request was decoded; its error codes are counted. */
  response(apiKey: number, apiVersion: number, seconds: number, body: unknown, bytes?: number): void;
  topicIn(topic: string, bytes: number, records: number): void;
  topicOut(topic: string, bytes: number, records: number): void;
  recompressed(topic: string): void;
  connectionAccepted(): void;
  connectionClosed(reason: ClosedReason): void;
  longPollWait(seconds: number): void;
}

export type ClosedReason =
  | 'client'
  | 'idle'
  | 'slow_request'
  | 'malformed'
  | 'oversized'
  | 'unsupported'
  | 'internal_error'
  | 'max_connections'
  | 'max_connections_per_ip'
  | 'connection_creation_rate'
  | 'accept_queue_full'
  | 'authentication'
  | 'shutdown';

export const NOOP_METRICS: Metrics = {
  enabled: false,
  request() {},
  response() {},
  topicIn() {},
  topicOut() {},
  recompressed() {},
  connectionAccepted() {},
  connectionClosed() {},
  longPollWait() {},
};

type FetchSessionSample = {
  sessions: number;
  partitions: number;
  evictions: number;
  created: number;
  incremental: number;
};

const NO_FETCH_SESSIONS: FetchSessionSample = {
  sessions: 0,
  partitions: 0,
  evictions: 0,
  created: 0,
  incremental: 0,
};

interface ApiChildren {
  requests: Counter.Internal;
  requestBytes: Counter.Internal;
  responseBytes: Counter.Internal;
  duration: Histogram.Internal<string>;
  errors: Map<number, Counter.Internal>;
  api: string;
  version: string;
}

interface TopicChildren {
  bytesIn: Counter.Internal;
  recordsIn: Counter.Internal;
  bytesOut: Counter.Internal;
  recordsOut: Counter.Internal;
  recompressed: Counter.Internal;
}

/**
 * Calls fn(code) for every non-zero `errorCode` in a response body (Kafka's AbstractResponse.errorCounts).
 * Walks the response's objects and arrays only; Buffers (record data) are skipped.
 */
export function forEachErrorCode(body: unknown, fn: (code: number) => void): void {
  if (body === null || typeof body !== 'object' || body instanceof Uint8Array) return;
  if (Array.isArray(body)) {
    for (const e of body) if (e !== null && typeof e === 'object') forEachErrorCode(e, fn);
    return;
  }
  const o = body as Record<string, unknown>;
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'number') {
      if (v !== 0 && k === 'errorCode') fn(v);
    } else if (v !== null && typeof v === 'object') {
      forEachErrorCode(v, fn);
    }
  }
}

export class BrokerMetrics implements Metrics {
  readonly enabled = true;
  readonly registry = new Registry();
  private readonly apis = new Map<number, ApiChildren>();
  private readonly topics = new Map<string, TopicChildren>();
  private readonly closed = new Map<ClosedReason, Counter.Internal>();
  private readonly endpoint = new MetricsEndpoint(this.registry);

  private readonly requestsTotal: Counter;
  private readonly errorsTotal: Counter;
  private readonly requestBytesTotal: Counter;
  private readonly responseBytesTotal: Counter;
  private readonly requestDuration: Histogram;
  private readonly bytesIn: Counter;
  private readonly recordsIn: Counter;
  private readonly bytesOut: Counter;
  private readonly recordsOut: Counter;
  private readonly recompressedTotal: Counter;
  private readonly accepted: Counter.Internal;
  private readonly closedTotal: Counter;
  private readonly longPollWaits: Counter.Internal;
  private readonly longPollSeconds: Histogram.Internal<string>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    this.requestsTotal = new Counter({
      name: 'samsa_requests_total',
      help: 'Requests handled, by API and version',
      labelNames: ['api', 'version'],
      registers,
    });
    this.errorsTotal = new Counter({
      name: 'samsa_request_errors_total',
      help: 'Non-zero error codes in responses, by API, version and Kafka error name',
      labelNames: ['api', 'version', 'error'],
      registers,
    });
    this.requestBytesTotal = new Counter({
      name: 'samsa_request_bytes_total',
      help: 'Bytes of request frames received (size prefix included), by API',
      labelNames: ['api'],
      registers,
    });
    this.responseBytesTotal = new Counter({
      name: 'samsa_response_bytes_total',
      help: 'Bytes of response frames sent (size prefix included), by API',
      labelNames: ['api'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'samsa_request_duration_seconds',
      help: 'Time from a decoded request to its queued response, by API',
      labelNames: ['api'],
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
      ],
      registers,
    });
    const topicCounter = (name: string, help: string): Counter =>
      new Counter({ name, help, labelNames: ['topic'], registers });
    this.bytesIn = topicCounter('samsa_topic_bytes_in_total', 'Record batch bytes appended by producers');
    this.recordsIn = topicCounter('samsa_topic_records_in_total', 'Records appended by producers');
    this.bytesOut = topicCounter('samsa_topic_bytes_out_total', 'Record batch bytes sent to consumers');
    this.recordsOut = topicCounter(
      'samsa_topic_records_out_total',
      'Records sent to consumers (whole batches)',
    );
    this.recompressedTotal = topicCounter(
      'samsa_produce_recompressed_batches_total',
      "Batches rewritten to the topic's compression.type",
    );
    this.accepted = new Counter({
      name: 'samsa_connections_accepted_total',
      help: 'Client connections accepted',
      registers,
    }).labels();
    this.closedTotal = new Counter({
      name: 'samsa_connections_closed_total',
      help: 'Client connections closed, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.longPollWaits = new Counter({
      name: 'samsa_fetch_long_poll_waits_total',
      help: 'Fetch requests that parked waiting for data (min.bytes not yet available)',
      registers,
    }).labels();
    this.longPollSeconds = new Histogram({
      name: 'samsa_fetch_long_poll_wait_seconds',
      help: 'How long parked fetches waited',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }).labels();

    const partitionGauge = (name: string, help: string, pick: (p: PartitionSample) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect(this: Gauge) {
          this.reset();
          for (const p of source.partitions())
            this.set({ topic: p.topic, partition: String(p.partition) }, pick(p));
        },
      });
    };
    partitionGauge(
      'samsa_partition_log_size_bytes',
      'Bytes of the partition log on disk',
      (p) => p.sizeBytes,
    );
    partitionGauge(
      'samsa_partition_log_start_offset',
      'First offset still in the log',
      (p) => p.logStartOffset,
    );
    partitionGauge(
      'samsa_partition_log_end_offset',
      'Offset the next appended record gets',
      (p) => p.logEndOffset,
    );
    partitionGauge(
      'samsa_partition_high_watermark',
      'Offset up to which consumers may read',
      (p) => p.highWatermark,
    );
    const networkGauge = (name: string, help: string, pick: (n: NetworkSample) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          this.set(pick(source.network()));
        },
      });
    };
    networkGauge('samsa_connections', 'Open client connections', (n) => n.connections);
    networkGauge(
      'samsa_queued_request_bytes',
      'Request bytes read and not yet answered',
      (n) => n.queuedRequestBytes,
    );
    networkGauge(
      'samsa_queued_request_bytes_peak',
      'Largest samsa_queued_request_bytes since start (bounded by queued.max.request.bytes + one request)',
      (n) => n.queuedRequestBytesPeak,
    );
    const groupGauge = (name: string, help: string, pick: (o: GroupOffsetSample) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['group', 'topic', 'partition'],
        registers,
        collect(this: Gauge) {
          this.reset();
          for (const o of source.groupOffsets?.() ?? []) {
            this.set({ group: o.group, topic: o.topic, partition: String(o.partition) }, pick(o));
          }
        },
      });
    };
    groupGauge('samsa_consumer_group_committed_offset', 'Offset committed by the group', (o) => o.offset);
    groupGauge(
      'samsa_consumer_group_lag',
      'Records between the committed offset and the high watermark',
      (o) => Math.max(o.highWatermark - o.offset, 0),
    );
    const logDirGauge = (
      name: string,
      help: string,
      pick: (s: { bavail: number; blocks: number }) => number,
    ) => {
      new Gauge({
        name,
        help,
        labelNames: ['dir'],
        registers,
        collect(this: Gauge) {
          this.reset();
          for (const dir of source.logDirs?.() ?? []) {
            try {
              const st = statfsSync(dir);
              this.set({ dir }, pick({ bavail: st.bavail * st.bsize, blocks: st.blocks * st.bsize }));
            } catch {
              // A log dir that cannot be stat'ed has no sample: the alert on absent data covers it.
            }
          }
        },
      });
    };
    logDirGauge(
      'samsa_log_dir_free_bytes',
      'Bytes available to the broker on the file system of the log dir',
      (s) => s.bavail,
    );
    logDirGauge('samsa_log_dir_size_bytes', 'Size of the file system of the log dir', (s) => s.blocks);
    new Gauge({
      name: 'samsa_under_replicated_partitions',
      help: 'Partitions whose in-sync replicas are fewer than their replicas (0 until replication exists)',
      registers,
      collect(this: Gauge) {
        this.set(source.underReplicatedPartitions?.() ?? 0);
      },
    });
    const sessionGauge = (name: string, help: string, pick: (s: FetchSessionSample) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          this.set(pick(source.fetchSessions?.() ?? NO_FETCH_SESSIONS));
        },
      });
    };
    sessionGauge('samsa_fetch_sessions', 'Fetch sessions (KIP-227) in the cache', (f) => f.sessions);
    sessionGauge(
      'samsa_fetch_session_partitions',
      'Partitions held by the fetch sessions in the cache',
      (f) => f.partitions,
    );
    const sessionCounter = (name: string, help: string, pick: (s: FetchSessionSample) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect(this: Counter) {
          this.reset();
          this.inc(pick(source.fetchSessions?.() ?? NO_FETCH_SESSIONS));
        },
      });
    };
    sessionCounter(
      'samsa_fetch_session_evictions_total',
      'Fetch sessions evicted to make room for new ones (max.incremental.fetch.session.cache.slots)',
      (f) => f.evictions,
    );
    sessionCounter(
      'samsa_fetch_sessions_created_total',
      'Fetch sessions created by full fetches',
      (f) => f.created,
    );
    sessionCounter(
      'samsa_fetch_session_incremental_requests_total',
      'Incremental fetches served in a fetch session',
      (f) => f.incremental,
    );
    const quotaCounter = (
      name: string,
      help: string,
      pick: (q: { responses: number; throttleTimeMs: number }) => number,
    ): void => {
      new Counter({
        name,
        help,
        labelNames: ['type'],
        registers,
        collect(this: Counter) {
          this.reset();
          for (const q of source.quotaThrottles?.() ?? []) this.inc({ type: q.type }, pick(q));
        },
      });
    };
    quotaCounter(
      'samsa_quota_throttled_responses_total',
      'Responses that exceeded a client quota (throttle_time_ms > 0)',
      (q) => q.responses,
    );
    quotaCounter(
      'samsa_quota_throttle_seconds_total',
      'Throttle time handed out for client quotas (connections muted that long)',
      (q) => q.throttleTimeMs / 1000,
    );
    collectDefaultMetrics({ register: this.registry });
  }

  private api(apiKey: number, apiVersion: number): ApiChildren {
    const k = (apiKey << 8) | (apiVersion & 0xff);
    let c = this.apis.get(k);
    if (c === undefined) {
      const api = apiSchemas.get(apiKey)?.name ?? String(apiKey);
      const version = String(apiVersion);
      c = {
        api,
        version,
        requests: this.requestsTotal.labels(api, version),
        requestBytes: this.requestBytesTotal.labels(api),
        responseBytes: this.responseBytesTotal.labels(api),
        duration: this.requestDuration.labels(api),
        errors: new Map(),
      };
      this.apis.set(k, c);
    }
    return c;
  }

  private topic(topic: string): TopicChildren {
    let c = this.topics.get(topic);
    if (c === undefined) {
      c = {
        bytesIn: this.bytesIn.labels(topic),
        recordsIn: this.recordsIn.labels(topic),
        bytesOut: this.bytesOut.labels(topic),
        recordsOut: this.recordsOut.labels(topic),
        recompressed: this.recompressedTotal.labels(topic),
      };
      this.topics.set(topic, c);
    }
    return c;
  }

  request(apiKey: number, apiVersion: number, bytes = 0): void {
    const c = this.api(apiKey, apiVersion);
    c.requests.inc();
    if (bytes > 0) c.requestBytes.inc(bytes);
  }

  response(apiKey: number, apiVersion: number, seconds: number, body: unknown, bytes = 0): void {
    const c = this.api(apiKey, apiVersion);
    c.duration.observe(seconds);
    if (bytes > 0) c.responseBytes.inc(bytes);
    forEachErrorCode(body, (code) => {
      let e = c.errors.get(code);
      if (e === undefined) {
        e = this.errorsTotal.labels(c.api, c.version, errorName(code));
        c.errors.set(code, e);
      }
      e.inc();
    });
  }

  topicIn(topic: string, bytes: number, records: number): void {
    const c = this.topic(topic);
    c.bytesIn.inc(bytes);
    c.recordsIn.inc(records);
  }

  topicOut(topic: string, bytes: number, records: number): void {
    const c = this.topic(topic);
    c.bytesOut.inc(bytes);
    c.recordsOut.inc(records);
  }

  recompressed(topic: string): void {
    this.topic(topic).recompressed.inc();
  }

  connectionAccepted(): void {
    this.accepted.inc();
  }

  connectionClosed(reason: ClosedReason): void {
    let c = this.closed.get(reason);
    if (c === undefined) {
      c = this.closedTotal.labels(reason);
      this.closed.set(reason, c);
    }
    c.inc();
  }

  longPollWait(seconds: number): void {
    this.longPollWaits.inc();
    this.longPollSeconds.observe(seconds);
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

type PartitionSample = ReturnType<MetricsSource['partitions']> extends Iterable<infer P> ? P : never;
type NetworkSample = ReturnType<MetricsSource['network']>;
type GroupOffsetSample =
  NonNullable<ReturnType<NonNullable<MetricsSource['groupOffsets']>>> extends Iterable<infer O> ? O : never;
