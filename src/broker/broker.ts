// The broker: owns the configuration, the logs, the replicas, the cluster's metadata as this broker knows
// it, the coordinators and the listeners, and starts and stops them in order.
//
// Start: lock the log dirs -> bind the listeners -> open the metadata store and the logs (recovering after
// an unclean stop) -> take on the partitions the controller assigns (the local controller on a single node)
// -> load the consumer groups -> serve. Stop (SIGTERM): stop accepting, let in-flight requests finish,
// checkpoint high watermarks, flush and close every log, write the clean-shutdown marker so the next start
// skips recovery.

import type { ClusterAdmin } from '../cluster/admin.js';
import { refuseForeignDataDirs } from '../cluster/foreign-data.js';
import { LocalController } from '../cluster/local-controller.js';
import { logConfigFor } from '../cluster/log-configs.js';
import { type BrokerInfo, MetadataCache } from '../cluster/metadata-cache.js';
import { MetadataStore } from '../cluster/metadata-store.js';
import type { Partition } from '../cluster/partition.js';
import { ReplicaManager } from '../cluster/replica-manager.js';
import { TopicsView } from '../cluster/topics-view.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { topicConfigValue } from '../config/topic-config.js';
import { GroupCoordinator } from '../coordinator/group/coordinator.js';
import { OFFSETS_TOPIC } from '../coordinator/group/records.js';
import { ProducerIdManager } from '../coordinator/txn/producer-ids.js';
import { BrokerMetrics, type Metrics, NOOP_METRICS } from '../http/metrics.js';
import * as limits from '../limits.js';
import { createLogger, type Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import type { LogConfig } from '../storage/config.js';
import { LogDirError, LogDirLocks } from '../storage/log-dirs.js';
import { LogManager } from '../storage/log-manager.js';
import type { Handler } from './handler.js';
import { handlers } from './handlers/index.js';
import { Server } from './server.js';
import { StartupError } from './startup-error.js';

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export class Broker {
  readonly log: Logger;
  readonly nodeId: number;
  /** The cluster as this broker knows it: brokers, topics, partition leaders (metadata-cache.ts). */
  readonly metadataCache: MetadataCache;
  /** The partition replicas hosted here, led or followed (replica-manager.ts). */
  readonly replicas: ReplicaManager;
  /** Topic administration for the admin APIs (the local controller, or ZooKeeper in a cluster). */
  readonly admin: ClusterAdmin;
  /** A read-only view joining the metadata cache and the local replicas, by topic. */
  readonly topics: TopicsView;
  readonly producerIds: ProducerIdManager;
  /** Consumer groups and committed offsets (src/coordinator/group/). */
  readonly groups: GroupCoordinator;
  /** Prometheus hooks (no-ops when metrics.http.port is -1). */
  readonly metrics: Metrics;
  private metricsPort = -1;
  private readonly handlerMap: Map<number, Handler<unknown, unknown>>;
  private boundPort = -1;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly config: BrokerConfig,
    readonly metadata: MetadataStore,
    readonly logs: LogManager,
    private readonly server: Server,
    private readonly brokerMetrics: BrokerMetrics | null,
    private readonly locks: LogDirLocks,
  ) {
    this.log = createLogger('broker');
    this.nodeId = config.nodeId;
    this.metadataCache = new MetadataCache(metadata.clusterId, this.nodeId);
    this.replicas = new ReplicaManager({
      localBrokerId: this.nodeId,
      logs,
      metadata: this.metadataCache,
      logger: createLogger('replicas'),
      replicaLagTimeMaxMs: config.long('replica.lag.time.max.ms'),
      highWatermarkCheckpointIntervalMs: config.long('replica.high.watermark.checkpoint.interval.ms'),
      logConfigFor: (topic) => this.logConfigFor(topic),
      // A single node's ISR is itself alone: nothing ever changes it.
      alterIsr: async () => ({ errorCode: ErrorCode.NOT_CONTROLLER }),
    });
    this.topics = new TopicsView(this.metadataCache, this.replicas);
    const local = new LocalController(
      config,
      metadata,
      this.metadataCache,
      this.replicas,
      this.selfInfo(server),
      createLogger('controller'),
    );
    this.localController = local;
    this.admin = local;
    this.producerIds = new ProducerIdManager(this.admin);
    this.groups = new GroupCoordinator(
      config,
      {
        partitionCount: () => this.metadataCache.partitionCount(OFFSETS_TOPIC),
        leaderPartition: (i) => {
          const p = this.replicas.partition(OFFSETS_TOPIC, i);
          return p?.isLeader ? p : undefined;
        },
        partitionExists: (topic, partition) => this.metadataCache.partition(topic, partition) !== undefined,
        createTopic: () => void this.ensureOffsetsTopic(),
        minInsyncReplicas: () =>
          Number(
            topicConfigValue(config, this.metadataCache.topicConfig(OFFSETS_TOPIC), 'min.insync.replicas'),
          ),
      },
      createLogger('group-coordinator'),
    );
    // The group coordinator owns the groups of the __consumer_offsets partitions this broker leads: it
    // loads a partition when this broker becomes its leader and unloads it when it stops leading it.
    const offsetsPartitions = (ps: readonly Partition[]): Partition[] =>
      ps.filter((p) => p.topic === OFFSETS_TOPIC);
    this.replicas.addLeadershipListener({
      onBecomeLeader: (ps) => this.groups.onElection(offsetsPartitions(ps)),
      onBecomeFollower: (ps) => this.groups.onResignation(offsetsPartitions(ps)),
    });
    this.handlerMap = new Map(handlers.map((h) => [h.apiKey, h as Handler<unknown, unknown>]));
    this.metrics = brokerMetrics ?? NOOP_METRICS;
  }

  private readonly localController: LocalController;

  /** This broker as the cluster sees it: id, rack and advertised endpoints. */
  private selfInfo(server: Server): BrokerInfo {
    const listeners = this.config.listeners();
    return {
      id: this.nodeId,
      rack: this.config.get('broker.rack'),
      endpoints: this.config.advertisedListeners().map((a, i) => ({
        listener: a.name,
        host: a.host,
        port: a.port === 0 ? (i === 0 ? server.port : (listeners[i]?.port ?? 0)) : a.port,
        securityProtocol: 'PLAINTEXT',
      })),
    };
  }

  /** A topic's config overrides (empty for none). */
  topicConfig(topic: string): Readonly<Record<string, string>> {
    return this.metadataCache.topicConfig(topic);
  }

  /** The storage config of a topic's logs: its overrides over this broker's defaults. */
  logConfigFor(topic: string): LogConfig {
    return logConfigFor(this.config, this.metadataCache.topicConfig(topic));
  }

  /**
   * Creates __consumer_offsets when it does not exist (Kafka does so on the first FindCoordinator for a group),
   * with offsets.topic.* settings; resolves with an error code.
   */
  async ensureOffsetsTopic(): Promise<number> {
    if (this.metadataCache.topic(OFFSETS_TOPIC) !== undefined) return ErrorCode.NONE;
    const c = this.groups.config;
    const [res] = await this.admin.createTopics(
      [
        {
          name: OFFSETS_TOPIC,
          numPartitions: c.offsetsTopicPartitions,
          replicationFactor: Math.min(
            this.config.int('offsets.topic.replication.factor'),
            Math.max(1, this.metadataCache.brokers().length),
          ),
          assignments: [],
          configs: {
            'cleanup.policy': 'compact',
            'segment.bytes': String(c.offsetsTopicSegmentBytes),
            'compression.type': 'producer',
          },
        },
      ],
      false,
      limits.internalTopicCreateTimeoutMs,
    );
    if (
      res === undefined ||
      (res.errorCode !== ErrorCode.NONE && res.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS)
    ) {
      this.log.error('cannot create the offsets topic', { topic: OFFSETS_TOPIC, error: res?.errorMessage });
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return ErrorCode.NONE;
  }

  /** What /metrics reports; empty until the broker has started (the endpoint is bound before the logs load). */
  private static metricsSource(ref: {
    broker: Broker | null;
  }): ConstructorParameters<typeof BrokerMetrics>[0] {
    return {
      *partitions() {
        const replicas = ref.broker?.replicas;
        if (replicas === undefined) return;
        for (const p of replicas.all()) {
          {
            const l = p.log;
            yield {
              topic: p.topic,
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
        connections: ref.broker?.server.connectionCount ?? 0,
        queuedRequestBytes: ref.broker?.server.queuedRequestBytes ?? 0,
        queuedRequestBytesPeak: ref.broker?.server.queuedRequestBytesPeak ?? 0,
      }),
      groupOffsets: () => ref.broker?.committedOffsets() ?? [],
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
        const p = this.replicas.partition(o.topic, o.partition);
        if (p === undefined || !p.isLeader) continue;
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

  /**
   * Starts a broker. Order: lock the log dirs (creating them if missing), bind every listener, then load
   * the metadata and the logs, then serve. A failure at any step undoes the steps before it and throws
   * a StartupError naming the setting at fault.
   */
  static async start(config: BrokerConfig): Promise<Broker> {
    const log = createLogger('broker');
    const logDirs = config.logDirs();
    const undo: Array<() => unknown> = [];
    const source: { broker: Broker | null } = { broker: null };
    try {
      const locks = step('log.dirs', () => {
        // Another program's data (Kafka's) is refused before anything, even the lock file, is written there.
        refuseForeignDataDirs(logDirs);
        return LogDirLocks.acquire(logDirs);
      });
      undo.push(() => locks.release());
      const listener = config.listeners()[0];
      if (listener === undefined) throw new StartupError('listeners', 'no listener configured');
      const server = new Server(
        {
          host: listener.host === '' ? '0.0.0.0' : listener.host,
          port: listener.port,
          requestBytesMax: config.int('socket.request.max.bytes'),
          queuedRequestBytesMax: config.long('queued.max.request.bytes'),
          maxConnections: config.int('max.connections'),
          maxConnectionsPerIp: config.int('max.connections.per.ip'),
          idleMs: config.long('connections.max.idle.ms'),
        },
        createLogger('network'),
      );
      const boundPort = await listen('listeners', `${listener.host}:${listener.port}`, () => server.bind());
      undo.push(() => server.close(0));
      let brokerMetrics: BrokerMetrics | null = null;
      let metricsPort = -1;
      if (config.int('metrics.http.port') >= 0) {
        const metrics = new BrokerMetrics(Broker.metricsSource(source));
        brokerMetrics = metrics;
        const host = config.string('metrics.http.host');
        const port = config.int('metrics.http.port');
        metricsPort = await listen('metrics.http.port', `${host}:${port}`, () => metrics.listen(host, port));
        undo.push(() => metrics.close());
      }
      const metadata = step('log.dirs', () =>
        MetadataStore.open(logDirs, config.nodeId, config.get('cluster.id')),
      );
      const logs = step('log.dirs', () =>
        LogManager.open({
          logDirs,
          logger: createLogger('storage'),
          cleaner: { backoffMs: config.long('log.cleaner.backoff.ms') },
        }),
      );
      undo.push(() => logs.close());
      const broker = new Broker(config, metadata, logs, server, brokerMetrics, locks);
      broker.boundPort = boundPort;
      broker.metricsPort = metricsPort;
      undo.push(() => broker.replicas.stop());
      broker.localController.start();
      broker.replicas.start();
      undo.push(() => broker.groups.stop());
      await broker.groups.start();
      logs.startBackgroundTasks({
        retentionCheckIntervalMs: config.long('log.retention.check.interval.ms'),
        flushIntervalMs: config.flushIntervalMs(),
        cleanerEnabled: config.bool('log.cleaner.enable'),
        recoveryPointCheckpointIntervalMs: config.int('log.flush.offset.checkpoint.interval.ms'),
      });
      source.broker = broker;
      server.start(broker, broker.handlerMap);
      if (brokerMetrics !== null) {
        log.info('metrics endpoint listening', {
          url: `http://${config.string('metrics.http.host')}:${metricsPort}/metrics`,
        });
      }
      log.info('Samsa broker started', {
        nodeId: broker.nodeId,
        clusterId: metadata.clusterId,
        listener: `${listener.name}://${listener.host}:${boundPort}`,
        advertised: `${listener.name}://${broker.advertised().host}:${broker.advertised().port}`,
        logDirs,
        topics: broker.metadataCache.topicNames().length,
      });
      return broker;
    } catch (err) {
      for (const fn of undo.reverse()) {
        try {
          await fn();
        } catch (e) {
          log.warn('undoing a start-up step failed', { error: e });
        }
      }
      throw err instanceof StartupError ? err : new StartupError(null, errorText(err));
    }
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
    await this.server.close(limits.shutdownGraceMs);
    if (this.brokerMetrics !== null) await this.brokerMetrics.close();
    this.replicas.stop();
    await this.logs.close();
    this.locks.release();
    this.log.info('shut down cleanly');
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs a synchronous start-up step; a failure becomes a StartupError naming `setting`. */
function step<T>(setting: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StartupError) throw err;
    if (err instanceof LogDirError) throw new StartupError(setting, err.message);
    throw new StartupError(setting, errorText(err));
  }
}

/** Binds a listener; EADDRINUSE and friends become a StartupError naming the setting and the address. */
async function listen(setting: string, address: string, bind: () => Promise<number>): Promise<number> {
  try {
    return await bind();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? 'the address is already in use (is another broker running?)'
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : code === 'EADDRNOTAVAIL'
            ? 'no such local address'
            : errorText(err);
    throw new StartupError(
      setting,
      `cannot listen on ${address}: ${why}${code !== undefined ? ` (${code})` : ''}`,
    );
  }
}
