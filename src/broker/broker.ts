// The broker: owns the configuration, the metadata store, the logs, the topic view and the
// listener, and starts and stops them in order.
//
// Start: validate config -> open metadata store -> open logs (recovering after an unclean stop)
// -> load topics -> listen. Stop (SIGTERM): stop accepting, let in-flight requests finish, flush
// and close every log, write the clean-shutdown marker so the next start skips recovery.

import { MetadataStore } from '../cluster/metadata-store.js';
import { TopicManager } from '../cluster/topics.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { GroupCoordinator } from '../coordinator/group/coordinator.js';
import { ProducerIdManager } from '../coordinator/txn/producer-ids.js';
import { BrokerMetrics, type Metrics, NOOP_METRICS } from '../http/metrics.js';
import * as limits from '../limits.js';
import { createLogger, type Logger } from '../logger.js';
import { LogManager } from '../storage/log-manager.js';
import type { Handler } from './handler.js';
import { handlers } from './handlers/index.js';
import { Server } from './server.js';

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export class Broker {
  readonly log: Logger;
  readonly nodeId: number;
  readonly topics: TopicManager;
  readonly producerIds: ProducerIdManager;
  /** Consumer groups and committed offsets (src/coordinator/group/). */
  readonly groups: GroupCoordinator;
  /** Prometheus hooks (no-ops when metrics.http.port is -1). */
  readonly metrics: Metrics;
  private readonly brokerMetrics: BrokerMetrics | null;
  private metricsPort = -1;
  private server: Server | null = null;
  private readonly handlerMap: Map<number, Handler<unknown, unknown>>;
  private boundPort = -1;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly config: BrokerConfig,
    readonly metadata: MetadataStore,
    readonly logs: LogManager,
  ) {
    this.log = createLogger('broker');
    this.nodeId = config.nodeId;
    this.topics = new TopicManager(config, metadata, logs, createLogger('topics'));
    this.producerIds = new ProducerIdManager(metadata);
    this.groups = new GroupCoordinator(config, this.topics, createLogger('group-coordinator'));
    this.handlerMap = new Map(handlers.map((h) => [h.apiKey, h as Handler<unknown, unknown>]));
    this.brokerMetrics =
      config.int('metrics.http.port') >= 0 ? new BrokerMetrics(this.metricsSource()) : null;
    this.metrics = this.brokerMetrics ?? NOOP_METRICS;
  }

  private metricsSource(): ConstructorParameters<typeof BrokerMetrics>[0] {
    const topics = this.topics;
    return {
      *partitions() {
        for (const t of topics.all()) {
          for (const p of t.partitions) {
            const l = p.log;
            yield {
              topic: t.name,
              partition: p.index,
              sizeBytes: l.sizeBytes,
              logStartOffset: l.logStartOffset,
              logEndOffset: l.logEndOffset,
              highWatermark: l.highWatermark,
            };
          }
        }
      },
      network: () => ({
        connections: this.server?.connectionCount ?? 0,
        queuedRequestBytes: this.server?.queuedRequestBytes ?? 0,
        queuedRequestBytesPeak: this.server?.queuedRequestBytesPeak ?? 0,
      }),
      groupOffsets: () => this.committedOffsets(),
    };
  }

  /** Committed offsets of every group with the partition's high watermark (the lag metric). */
  private *committedOffsets(): Generator<{
    group: string;
    topic: string;
    partition: number;
    offset: number;
    highWatermark: number;
  }> {
    const offsets = this.groups.offsets;
    for (const group of offsets.groupIds()) {
      for (const o of offsets.all(group)) {
        const p = this.topics.partition(o.topic, o.partition);
        if (p === undefined) continue;
        yield {
          group,
          topic: o.topic,
          partition: o.partition,
          offset: o.value.offset,
          highWatermark: p.log.highWatermark,
        };
      }
    }
  }

  static async start(config: BrokerConfig): Promise<Broker> {
    const log = createLogger('broker');
    const logDirs = config.logDirs();
    const metadata = MetadataStore.open(logDirs, config.nodeId, config.get('cluster.id'));
    const logs = await LogManager.open({
      logDirs,
      logger: createLogger('storage'),
      cleaner: { backoffMs: config.long('log.cleaner.backoff.ms') },
    });
    const broker = new Broker(config, metadata, logs);
    broker.topics.load();
    await broker.groups.start();
    logs.startBackgroundTasks({
      retentionCheckIntervalMs: config.long('log.retention.check.interval.ms'),
      flushIntervalMs: config.flushIntervalMs(),
      cleanerEnabled: config.bool('log.cleaner.enable'),
    });
    const listener = config.listeners()[0];
    if (listener === undefined) throw new Error('no listener');
    broker.server = new Server(
      broker,
      broker.handlerMap,
      {
        host: listener.host === '' ? '0.0.0.0' : listener.host,
        port: listener.port,
        requestBytesMax: config.int('socket.request.max.bytes'),
        queuedRequestBytesMax: config.long('queued.max.request.bytes'),
        requestReceiveTimeoutMs: config.long('socket.request.receive.timeout.ms'),
        maxConnections: config.int('max.connections'),
        maxConnectionsPerIp: config.int('max.connections.per.ip'),
        idleMs: config.long('connections.max.idle.ms'),
      },
      createLogger('network'),
    );
    broker.boundPort = await broker.server.listen();
    if (broker.brokerMetrics !== null) {
      broker.metricsPort = await broker.brokerMetrics.listen(
        config.string('metrics.http.host'),
        config.int('metrics.http.port'),
      );
      log.info('metrics endpoint listening', {
        url: `http://${config.string('metrics.http.host')}:${broker.metricsPort}/metrics`,
      });
    }
    log.info('Samsa broker started', {
      nodeId: broker.nodeId,
      clusterId: metadata.clusterId,
      listener: `${listener.name}://${listener.host}:${broker.boundPort}`,
      logDirs,
      topics: [...broker.topics.all()].length,
    });
    return broker;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The bound /metrics port, -1 when metrics are off. */
  get metricsHttpPort(): number {
    return this.metricsPort;
  }

  /** The endpoint clients are told to use (advertised.listeners, else the bound listener). */
  advertised(): { host: string; port: number } {
    const a = this.config.advertisedListeners()[0];
    if (a === undefined) return { host: '127.0.0.1', port: this.boundPort };
    return { host: a.host, port: a.port === 0 ? this.boundPort : a.port };
  }

  apiVersionRanges(): ApiVersionRange[] {
    return [...this.handlerMap.values()]
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  stop(): Promise<void> {
    if (this.stopping === null) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.log.info('shutting down');
    // Parked JoinGroup/SyncGroup requests are answered first, so the listener can drain.
    this.groups.stop();
    if (this.server !== null) await this.server.close(limits.shutdownGraceMs);
    if (this.brokerMetrics !== null) await this.brokerMetrics.close();
    await this.logs.close();
    this.log.info('shut down cleanly');
  }
}
