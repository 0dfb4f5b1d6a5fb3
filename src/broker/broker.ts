// The broker: owns the configuration, the logs, the replicas, the cluster's metadata as this broker knows
// it, the coordinators and the listeners, and starts and stops them in order.
//
// Two modes. Embedded (no zookeeper.connect, the default): one node that is its own cluster, with a local
// controller and the metadata in the data directory. ZooKeeper (zookeeper.connect set): one broker of a
// cluster; the metadata lives in ZooKeeper, an elected controller (one of the brokers) assigns leaders and
// tells every broker with LeaderAndIsr / UpdateMetadata / StopReplica, followers copy their leaders' logs.
//
// Start: lock the log dirs -> bind the listeners -> (ZooKeeper: connect, cluster id) -> open the metadata
// store and the logs (recovering after an unclean stop) -> embedded: take on every partition; ZooKeeper:
// serve, register, run for controller, take on what the controller assigns -> load the consumer groups.
// Stop (SIGTERM): stop accepting, let in-flight requests finish, checkpoint high watermarks, flush and close
// every log, write the clean-shutdown marker so the next start skips recovery.

import type { ClientSecurity } from '../client/connection.js';
import type { ClusterAdmin } from '../cluster/admin.js';
import { Controller } from '../cluster/controller/controller.js';
import { ControllerClient } from '../cluster/controller-client.js';
import { refuseForeignDataDirs } from '../cluster/foreign-data.js';
import { LocalController } from '../cluster/local-controller.js';
import { logConfigFor } from '../cluster/log-configs.js';
import { type BrokerInfo, MetadataCache } from '../cluster/metadata-cache.js';
import { MetadataStore, newClusterId } from '../cluster/metadata-store.js';
import type { Partition } from '../cluster/partition.js';
import { ReplicaFetcherManager } from '../cluster/replica-fetcher.js';
import { ReplicaManager } from '../cluster/replica-manager.js';
import { TopicsView } from '../cluster/topics-view.js';
import { ZkAclFollower } from '../cluster/zk/zk-acls.js';
import { ZkAdmin } from '../cluster/zk/zk-admin.js';
import { BrokerIdTakenError, connectZooKeeper, ZkBroker } from '../cluster/zk/zk-broker.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { RELOADABLE_SSL_KEY } from '../config/dynamic-broker-config.js';
import { parseProtocolMap, protocolOf } from '../config/listeners.js';
import { redactSensitive } from '../config/security-config.js';
import { topicConfigValue } from '../config/topic-config.js';
import { GroupCoordinator } from '../coordinator/group/coordinator.js';
import { OFFSETS_TOPIC } from '../coordinator/group/records.js';
import { offsetsTopicConfigs } from '../coordinator/group/state-log.js';
import { TransactionCoordinator } from '../coordinator/txn/coordinator.js';
import { ProducerIdManager } from '../coordinator/txn/producer-ids.js';
import { TRANSACTION_STATE_TOPIC } from '../coordinator/txn/records.js';
import { transactionTopicConfigs } from '../coordinator/txn/state-log.js';
import { BrokerMetrics, type Metrics, NOOP_METRICS } from '../http/metrics.js';
import * as limits from '../limits.js';
import { createLogger, type Logger } from '../logger.js';
import type { AuditCounters } from '../pipeline/audit-counters.js';
import { brokerAuditCounters } from '../pipeline/audit-counters-writer.js';
import { ErrorCode } from '../protocol/errors.js';
import { AUTHORIZER_CLASS_NAMES, Authorizer } from '../security/authorizer.js';
import { ClientQuotaCache } from '../security/client-quotas.js';
import { interBrokerSecurity } from '../security/inter-broker.js';
import { ScramCredentialCache } from '../security/scram-credentials.js';
import type { LogConfig } from '../storage/config.js';
import { LogDirError, LogDirLocks } from '../storage/log-dirs.js';
import { LogManager } from '../storage/log-manager.js';
import { QuotaManagers } from './client-quota-manager.js';
import { ClientWarnings } from './client-warnings.js';
import type { ConnectionQuotas } from './connection-quotas.js';
import { FetchSessionCache } from './fetch-session.js';
import type { Handler } from './handler.js';
import { handlers } from './handlers/index.js';
import { ListenerSet } from './listener-set.js';
import { brokerMetricsSource } from './metrics-source.js';
import { StartupError } from './startup-error.js';
import { stopTxnVerifier } from './txn-verification.js';

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
  /** Transactional ids and their transactions (src/coordinator/txn/). */
  readonly transactions: TransactionCoordinator;
  /** Warnings about client requests, rate-limited per client and kind (client-warnings.ts). */
  readonly clientWarnings: ClientWarnings;
  /** TLS/SASL of connections to the other brokers (inter.broker.listener.name's); undefined for PLAINTEXT. */
  readonly interBrokerSecurity: ClientSecurity | undefined;
  /** Fetch sessions (KIP-227) of the fetchers of this broker (fetch-session.ts). */
  readonly fetchSessions: FetchSessionCache;
  /** The ACL authorizer (authorizer.class.name), or null: everything allowed. */
  readonly authorizer: Authorizer | null;
  /** The authorizer's denials, logged at info and rate-limited per client. */
  readonly authorizerLog: ClientWarnings;
  /** ZooKeeper mode with an authorizer: follows the ACL znodes. */
  private readonly aclFollower: ZkAclFollower | null;
  /** Prometheus hooks (no-ops when metrics.http.port is -1). */
  readonly metrics: Metrics;
  /** Records appended per partition and time window, for `samsa audit --use-counters` (null: samsa.audit.enable off). */
  readonly auditCounters: AuditCounters | null;
  /** ZooKeeper mode: registration, configs (null on a single node). */
  readonly zk: ZkBroker | null;
  /** ZooKeeper mode: this broker's controller (active when elected). */
  readonly controller: Controller | null;
  /** ZooKeeper mode: the replica fetchers of the partitions this broker follows. */
  readonly fetchers: ReplicaFetcherManager | null;
  /** The client quota configs (security/client-quotas.ts), filled from the metadata and kept current. */
  readonly clientQuotas = new ClientQuotaCache();
  /** Produce / Fetch / request quota enforcement (client-quota-manager.ts). */
  readonly quotas: QuotaManagers;
  private readonly controllerClient: ControllerClient | null;
  private readonly localController: LocalController | null;
  private metricsPort = -1;
  private readonly handlerMap: Map<number, Handler<unknown, unknown>>;
  private boundPort = -1;
  private stopping: Promise<void> | null = null;
  private offsetsTopicCreation: Promise<number> | null = null;
  private transactionTopicCreation: Promise<number> | null = null;

  private constructor(
    readonly config: BrokerConfig,
    readonly metadata: MetadataStore,
    readonly logs: LogManager,
    private readonly server: ListenerSet,
    private readonly brokerMetrics: BrokerMetrics | null,
    private readonly locks: LogDirLocks,
    zk: ZkBroker | null,
    /** The SCRAM credentials the listeners authenticate against; filled here from the metadata. */
    readonly scramCredentials: ScramCredentialCache = new ScramCredentialCache(),
  ) {
    this.log = createLogger('broker');
    this.clientWarnings = new ClientWarnings(this.log);
    this.fetchSessions = new FetchSessionCache({
      maxEntries: config.int('max.incremental.fetch.session.cache.slots'),
      evictionMs: limits.fetchSessionEvictionMsMin,
    });
    this.authorizerLog = new ClientWarnings(
      createLogger('kafka.authorizer.logger'),
      limits.clientWarningIntervalMs,
      limits.clientWarningKeysMax,
      'info',
    );
    this.authorizer = createAuthorizer(config);
    const authorizer = this.authorizer;
    const clientQuotas = this.clientQuotas;
    this.quotas = new QuotaManagers(clientQuotas, {
      numSamples: config.int('quota.window.num'),
      windowSeconds: config.int('quota.window.size.seconds'),
    });
    this.nodeId = config.nodeId;
    this.zk = zk;
    this.metadataCache = new MetadataCache(metadata.clusterId, this.nodeId);
    const interBroker = this.interBrokerListener();
    const interSecurity = zk === null ? undefined : interBrokerSecurity(config);
    this.interBrokerSecurity = interSecurity;
    this.controllerClient =
      zk === null
        ? null
        : new ControllerClient(
            this.metadataCache,
            this.nodeId,
            interBroker,
            config.int('controller.socket.timeout.ms'),
            createLogger('controller-client'),
            interSecurity,
          );
    this.replicas = new ReplicaManager({
      localBrokerId: this.nodeId,
      logs,
      metadata: this.metadataCache,
      logger: createLogger('replicas'),
      replicaLagTimeMaxMs: config.long('replica.lag.time.max.ms'),
      highWatermarkCheckpointIntervalMs: config.long('replica.high.watermark.checkpoint.interval.ms'),
      logConfigFor: (topic) => this.logConfigFor(topic),
      // A single node's ISR is itself alone: nothing ever changes it.
      alterIsr:
        this.controllerClient === null || zk === null
          ? async () => ({ errorCode: ErrorCode.NOT_CONTROLLER })
          : this.controllerClient.alterIsr(() => zk.epoch),
    });
    this.topics = new TopicsView(this.metadataCache, this.replicas);
    if (zk === null) {
      const local = new LocalController(
        config,
        metadata,
        this.metadataCache,
        this.replicas,
        this.selfInfo(),
        createLogger('controller'),
        (perBroker, clusterDefault) => this.applyDynamicConfigs(perBroker, clusterDefault),
      );
      this.localController = local;
      const stored = local.storedBrokerConfigs();
      this.applyDynamicConfigs(stored.perBroker, stored.clusterDefault);
      for (const user of metadata.userNames())
        scramCredentials.setUserConfigs(user, metadata.userConfigs(user));
      local.onUserConfigs = (user, configs) => scramCredentials.setUserConfigs(user, configs);
      for (const [path, configs] of Object.entries(metadata.quotaConfigs()))
        clientQuotas.setConfigs(path, configs);
      local.onQuotaConfigs = (path, configs) => clientQuotas.setConfigs(path, configs);
      if (authorizer !== null) {
        for (const a of metadata.acls()) authorizer.setResourceAcls(a.pattern, a.entries);
        local.onAcls = (pattern, entries) => authorizer.setResourceAcls(pattern, entries);
      }
      this.aclFollower = null;
      this.admin = local;
      this.controller = null;
      this.fetchers = null;
    } else {
      this.localController = null;
      const zkAdmin = new ZkAdmin(zk.zk, config, this.metadataCache, this.nodeId, createLogger('admin'));
      zkAdmin.onUserConfigs = (user, configs) => scramCredentials.setUserConfigs(user, configs);
      zk.onUserConfigs = (user, configs) => scramCredentials.setUserConfigs(user, configs);
      zkAdmin.onQuotaConfigs = (path, configs) => clientQuotas.setConfigs(path, configs);
      zk.onQuotaConfigs = (path, configs) => clientQuotas.setConfigs(path, configs);
      if (authorizer !== null)
        zkAdmin.onAcls = (pattern, entries) => authorizer.setResourceAcls(pattern, entries);
      this.aclFollower =
        authorizer === null
          ? null
          : new ZkAclFollower(
              zk.zk,
              (pattern, entries) => authorizer.setResourceAcls(pattern, entries),
              createLogger('authorizer'),
              config.long('samsa.acl.change.notification.expiration.ms'),
            );
      this.admin = zkAdmin;
      this.controller = new Controller({
        zk: zk.zk,
        brokerId: this.nodeId,
        logger: createLogger('controller'),
        interBrokerListener: interBroker,
        uncleanLeaderElection: config.bool('unclean.leader.election.enable'),
        socketTimeoutMs: config.int('controller.socket.timeout.ms'),
        autoLeaderRebalance: config.bool('auto.leader.rebalance.enable'),
        leaderImbalanceCheckIntervalMs: config.long('leader.imbalance.check.interval.seconds') * 1000,
        leaderImbalancePerBrokerPercentage: config.int('leader.imbalance.per.broker.percentage'),
        ...(interSecurity === undefined ? {} : { interBrokerSecurity: interSecurity }),
      });
      this.fetchers = new ReplicaFetcherManager({
        localBrokerId: this.nodeId,
        listener: interBroker,
        metadata: this.metadataCache,
        logger: createLogger('replicas'),
        fetchWaitMaxMs: config.int('replica.fetch.wait.max.ms'),
        fetchMinBytes: config.int('replica.fetch.min.bytes'),
        fetchMaxBytes: config.int('replica.fetch.max.bytes'),
        fetchResponseMaxBytes: config.int('replica.fetch.response.max.bytes'),
        fetchBackoffMs: config.int('replica.fetch.backoff.ms'),
        socketTimeoutMs: config.int('replica.socket.timeout.ms'),
        ...(interSecurity === undefined ? {} : { security: interSecurity }),
      });
      this.replicas.setFollowerDriver(this.fetchers);
    }
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
        topic: (name) => {
          const t = this.metadataCache.topic(name);
          return t === undefined ? undefined : { topicId: t.topicId, partitions: t.partitions.length };
        },
        topicName: (topicId) => this.metadataCache.topicById(topicId)?.name,
        topicNames: () => this.metadataCache.topicNames(),
        groupConfigs: (groupId) => this.admin.groupConfigs(groupId),
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
    this.transactions = new TransactionCoordinator(
      config,
      this.nodeId,
      {
        partitionCount: () => this.metadataCache.partitionCount(TRANSACTION_STATE_TOPIC),
        leaderPartition: (i) => {
          const p = this.replicas.partition(TRANSACTION_STATE_TOPIC, i);
          return p?.isLeader ? p : undefined;
        },
        createTopic: () => this.ensureTransactionTopic(),
        minInsyncReplicas: () =>
          Number(
            topicConfigValue(
              config,
              this.metadataCache.topicConfig(TRANSACTION_STATE_TOPIC),
              'min.insync.replicas',
            ),
          ),
        nextProducerId: () => this.producerIds.nextId(),
        leaderOf: (topic, partition) => {
          const p = this.metadataCache.partition(topic, partition);
          if (p === undefined) return null;
          return p.leader >= 0 && this.metadataCache.isAlive(p.leader) ? p.leader : -1;
        },
        endpoint: (id) =>
          this.metadataCache.isAlive(id) ? this.metadataCache.endpoint(id, interBroker) : undefined,
        security: interSecurity,
      },
      createLogger('txn-coordinator'),
    );
    // Likewise the transaction coordinator with the __transaction_state partitions.
    const txnPartitions = (ps: readonly Partition[]): Partition[] =>
      ps.filter((p) => p.topic === TRANSACTION_STATE_TOPIC);
    this.replicas.addLeadershipListener({
      onBecomeLeader: (ps) => this.transactions.onElection(txnPartitions(ps)),
      onBecomeFollower: (ps) => this.transactions.onResignation(txnPartitions(ps)),
    });
    this.handlerMap = new Map(handlers.map((h) => [h.apiKey, h as Handler<unknown, unknown>]));
    this.metrics = brokerMetrics ?? NOOP_METRICS;
    this.auditCounters = brokerAuditCounters(config, this.nodeId, () => this.advertised());
  }

  /** inter.broker.listener.name, else the first listener's name. */
  private interBrokerListener(): string {
    return this.config.get('inter.broker.listener.name') ?? this.config.listeners()[0]?.name ?? 'PLAINTEXT';
  }

  /** This broker as the cluster sees it: id, rack and advertised endpoints. */
  private selfInfo(): BrokerInfo {
    const map = parseProtocolMap(this.config.string('listener.security.protocol.map'));
    return {
      id: this.nodeId,
      rack: this.config.get('broker.rack'),
      endpoints: this.config.advertisedListeners().map((a) => ({
        listener: a.name,
        host: a.host,
        port: a.port === 0 ? this.server.portOf(a.name) : a.port,
        securityProtocol: protocolOf(a.name, map),
      })),
    };
  }

  /**
   * Applies dynamic broker configs (already validated; dynamic-broker-config.ts): the effective configuration
   * changes at once, every log gets its topic's config again (topics without an override follow the new
   * log.* defaults) and the listener takes the new connection limits.
   */
  applyDynamicConfigs(
    perBroker: Readonly<Record<string, string>>,
    clusterDefault: Readonly<Record<string, string>>,
  ): void {
    const changed = this.config.setDynamic(perBroker, clusterDefault);
    // TLS stores are read again whenever they are (re)set, even to the same value: the files may have changed.
    const ssl = [...changed, ...Object.keys(perBroker)].some((k) => RELOADABLE_SSL_KEY.test(k));
    if (ssl) this.server.reloadTls(this.config, this.log);
    if (changed.length === 0) return;
    this.log.info('dynamic broker configs applied', {
      changed,
      perBroker: redactSensitive(perBroker),
      clusterDefault: redactSensitive(clusterDefault),
    });
    this.replicas.updateAllTopicConfigs();
    this.server.setConnectionLimits(
      this.config.int('max.connections'),
      this.config.int('max.connections.per.ip'),
    );
    this.server.setConnectionRates(this.config);
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
  ensureOffsetsTopic(): Promise<number> {
    if (this.metadataCache.topic(OFFSETS_TOPIC) !== undefined) return Promise.resolve(ErrorCode.NONE);
    if (this.offsetsTopicCreation === null) {
      this.offsetsTopicCreation = this.createOffsetsTopic().finally(() => {
        this.offsetsTopicCreation = null;
      });
    }
    return this.offsetsTopicCreation;
  }

  /**
   * Creates __transaction_state when it does not exist (on the first FindCoordinator for a transactional id or
   * InitProducerId with one), with transaction.state.log.* settings; resolves with an error code.
   */
  ensureTransactionTopic(): Promise<number> {
    if (this.metadataCache.topic(TRANSACTION_STATE_TOPIC) !== undefined)
      return Promise.resolve(ErrorCode.NONE);
    if (this.transactionTopicCreation === null) {
      this.transactionTopicCreation = this.createTransactionTopic().finally(() => {
        this.transactionTopicCreation = null;
      });
    }
    return this.transactionTopicCreation;
  }

  private async createTransactionTopic(): Promise<number> {
    const c = this.transactions.config;
    const replicationFactor = Math.min(
      c.stateLogReplicationFactor,
      Math.max(1, this.metadataCache.brokers().length),
    );
    const [res] = await this.admin.createTopics(
      [
        {
          name: TRANSACTION_STATE_TOPIC,
          numPartitions: c.stateLogPartitions,
          replicationFactor,
          assignments: [],
          configs: transactionTopicConfigs(c, replicationFactor),
        },
      ],
      false,
      limits.internalTopicCreateTimeoutMs,
    );
    if (
      res === undefined ||
      (res.errorCode !== ErrorCode.NONE && res.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS)
    ) {
      this.log.error('cannot create the transaction state topic', {
        topic: TRANSACTION_STATE_TOPIC,
        error: res?.errorMessage,
      });
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return ErrorCode.NONE;
  }

  /**
   * Brokers before compaction created __consumer_offsets with retention.ms=-1 and without compression.type (a
   * stopgap that kept every segment); such a topic gets Kafka's configs back, once, at start-up. Configs someone
   * set by hand are left alone.
   */
  private async upgradeOffsetsTopicConfigs(): Promise<void> {
    const c = this.metadataCache.topicConfig(OFFSETS_TOPIC);
    const keys = Object.keys(c).sort().join(',');
    if (keys !== 'cleanup.policy,retention.ms,segment.bytes' || c['retention.ms'] !== '-1') return;
    if (c['cleanup.policy'] !== 'compact') return;
    const wanted = { ...offsetsTopicConfigs(this.groups.config), 'segment.bytes': c['segment.bytes'] ?? '' };
    const res = await this.admin.alterTopicConfigs(
      OFFSETS_TOPIC,
      Object.entries(wanted).map(([key, value]) => ({ key, value, op: 'set' as const })),
      false,
      false,
    );
    if (res.errorCode !== ErrorCode.NONE) {
      this.log.warn('could not replace the configs of the offsets topic', { error: res.errorMessage });
    } else {
      this.log.info('offsets topic configs upgraded: retention.ms=-1 dropped, compacted by the log cleaner', {
        configs: wanted,
      });
    }
  }

  private async createOffsetsTopic(): Promise<number> {
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
          configs: offsetsTopicConfigs(c),
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

  /**
   * Starts a broker. Order: lock the log dirs (creating them if missing), bind every listener, then load
   * the metadata and the logs, then serve. A failure at any step undoes the steps before it and throws
   * a StartupError naming the setting at fault.
   */
  static async start(config: BrokerConfig, opts: { signal?: AbortSignal } = {}): Promise<Broker> {
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
      const credentials = new ScramCredentialCache();
      const server = ListenerSet.create(config, credentials.lookup, createLogger('network'));
      await server.bind((address, bind) => listen('listeners', address, bind));
      undo.push(() => server.close(0));
      let brokerMetrics: BrokerMetrics | null = null;
      let metricsPort = -1;
      if (config.int('metrics.http.port') >= 0) {
        const metrics = new BrokerMetrics(brokerMetricsSource(source));
        brokerMetrics = metrics;
        const host = config.string('metrics.http.host');
        const port = config.int('metrics.http.port');
        metricsPort = await listen('metrics.http.port', `${host}:${port}`, () => metrics.listen(host, port));
        undo.push(() => metrics.close());
      }
      // ZooKeeper mode: the cluster id is the cluster's (in ZooKeeper); a data dir of another cluster is refused.
      let zk: ZkBroker | null = null;
      let clusterId = config.get('cluster.id');
      const connect = config.get('zookeeper.connect');
      if (connect !== null) {
        const client = await connectZooKeeper(connect, {
          logger: createLogger('zookeeper'),
          sessionTimeoutMs: config.int('zookeeper.session.timeout.ms'),
          ...(config.has('zookeeper.connection.timeout.ms')
            ? { connectionTimeoutMs: config.int('zookeeper.connection.timeout.ms') }
            : {}),
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        }).catch((err: unknown) => {
          throw new StartupError('zookeeper.connect', errorText(err));
        });
        zk = new ZkBroker(client, config.nodeId, createLogger('zookeeper'));
        const zkb = zk;
        undo.push(() => zkb.close());
        await zk.ensurePaths();
        // A cluster new to ZooKeeper gets a new id (cluster.id when set), never the one in log.dirs: data of a
        // cluster that ZooKeeper does not know (its data lost, a wrong chroot) is refused, not adopted, or the
        // controller's first full LeaderAndIsr would delete every log here as stray (Kafka refuses the same way:
        // InconsistentClusterIdException).
        clusterId = await zk.clusterId(clusterId ?? newClusterId());
        const stored = MetadataStore.storedClusterId(logDirs);
        if (stored !== null && stored !== clusterId) {
          throw new StartupError(
            'zookeeper.connect',
            `the cluster in ZooKeeper (${connect}) has id ${clusterId}, but ${logDirs[0]} holds data of cluster ${stored}: this broker is trying to join the wrong cluster; check zookeeper.connect (and its chroot) and that ZooKeeper's data is intact`,
          );
        }
      }
      const metadata = step('log.dirs', () => MetadataStore.open(logDirs, config.nodeId, clusterId));
      if (zk !== null && metadata.topics().length > 0) {
        throw new StartupError(
          'zookeeper.connect',
          `the data in ${logDirs.join(',')} belongs to a single-node broker (${metadata.topics().length} topics in its local metadata); a ZooKeeper cluster cannot take it over: use a new log.dirs`,
        );
      }
      const logs = step('log.dirs', () =>
        LogManager.open({
          logDirs,
          logger: createLogger('storage'),
          cleaner: { backoffMs: config.long('log.cleaner.backoff.ms') },
        }),
      );
      undo.push(() => logs.close());
      const broker = new Broker(config, metadata, logs, server, brokerMetrics, locks, zk, credentials);
      broker.boundPort = server.port;
      broker.metricsPort = metricsPort;
      undo.push(() => broker.replicas.stop());
      logs.startBackgroundTasks({
        retentionCheckIntervalMs: config.long('log.retention.check.interval.ms'),
        flushIntervalMs: config.flushIntervalMs(),
        cleanerEnabled: config.bool('log.cleaner.enable'),
        recoveryPointCheckpointIntervalMs: config.int('log.flush.offset.checkpoint.interval.ms'),
      });
      source.broker = broker;
      if (zk === null || broker.controller === null) {
        broker.localController?.start();
        await broker.upgradeOffsetsTopicConfigs();
        broker.replicas.start();
        undo.push(() => broker.groups.stop());
        await broker.groups.start();
        undo.push(() => broker.transactions.stop());
        await broker.transactions.start();
        server.start(broker, broker.handlerMap);
      } else {
        const zkb = zk;
        const controller = broker.controller;
        await zkb.startConfigListener(
          broker.metadataCache,
          (topic) => broker.replicas.updateTopicConfig(topic),
          (c) => broker.applyDynamicConfigs(c.perBroker, c.clusterDefault),
        );
        await broker.aclFollower?.start();
        broker.replicas.start();
        undo.push(() => broker.fetchers?.stop());
        undo.push(() => broker.groups.stop());
        await broker.groups.start();
        undo.push(() => broker.transactions.stop());
        await broker.transactions.start();
        // Serve before registering: the controller's first LeaderAndIsr comes as soon as we register.
        server.start(broker, broker.handlerMap);
        try {
          await zkb.register(broker.selfInfo(), opts.signal);
        } catch (err) {
          throw err instanceof BrokerIdTakenError ? new StartupError('broker.id', err.message) : err;
        }
        undo.push(() => controller.stop());
        controller.start();
        zkb.zk.on('session', () => {
          log.warn('new ZooKeeper session: registering again and re-running the controller election');
          void zkb
            .reregister()
            .then(() => zkb.resumeConfigListener(broker.metadataCache))
            .then(() => broker.aclFollower?.start())
            .catch((err: unknown) => log.error('re-registering in ZooKeeper failed', { error: err }));
          controller.onNewSession();
        });
      }
      broker.auditCounters?.start();
      if (brokerMetrics !== null) {
        log.info('metrics endpoint listening', {
          url: `http://${config.string('metrics.http.host')}:${metricsPort}/metrics`,
        });
      }
      const adv = broker.selfInfo().endpoints;
      log.info('Samsa broker started', {
        nodeId: broker.nodeId,
        clusterId: metadata.clusterId,
        mode: zk === null ? 'single node' : `ZooKeeper cluster (${connect})`,
        listeners: server.describe(),
        advertised: adv.map((a) => `${a.listener}://${a.host}:${a.port}`),
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

  /** The listeners' connection creation rates and their throttle counters (for /metrics). */
  get connectionQuotas(): ConnectionQuotas {
    return this.server.connectionQuotas;
  }

  /** Connection and request-memory counters of the listener (for /metrics). */
  networkCounters(): { connections: number; queuedRequestBytes: number; queuedRequestBytesPeak: number } {
    return {
      connections: this.server.connectionCount,
      queuedRequestBytes: this.server.queuedRequestBytes,
      queuedRequestBytesPeak: this.server.queuedRequestBytesPeak,
    };
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
    // As Kafka: the consumer group APIs are advertised only when group.coordinator.rebalance.protocols has consumer.
    const consumerGroups = this.groups.config.consumerProtocolEnabled;
    return [...this.handlerMap.values()]
      .filter((h) => consumerGroups || (h.apiKey !== 68 && h.apiKey !== 69))
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  stop(): Promise<void> {
    if (this.stopping === null) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    // Node exits when nothing keeps the event loop alive, and parts of a shutdown wait on unref'd timers (a
    // socket's linger, for one) once the listener is closed: this keeps the process until the logs are closed and
    // the clean-shutdown marker is written.
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      await this.stopParts();
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async stopParts(): Promise<void> {
    this.log.info('shutting down');
    if (
      this.controllerClient !== null &&
      this.zk !== null &&
      this.config.bool('controlled.shutdown.enable')
    ) {
      const zk = this.zk;
      await this.controllerClient.controlledShutdown(() => zk.epoch, {
        attempts: this.config.int('controlled.shutdown.max.retries') + 1,
        backoffMs: this.config.long('controlled.shutdown.retry.backoff.ms'),
        logger: this.log,
      });
    }
    // Another broker takes the controller role at once rather than after our ZooKeeper session times out.
    await this.controller?.stop();
    // Parked JoinGroup/SyncGroup requests are answered first, so the listener can drain.
    this.groups.stop();
    this.transactions.stop();
    // The last counts are written while this broker still serves (it may lead __samsa_audit).
    await this.auditCounters?.stop();
    stopTxnVerifier(this);
    await this.server.close(limits.shutdownGraceMs);
    this.clientWarnings.close();
    this.authorizerLog.close();
    this.aclFollower?.stop();
    if (this.brokerMetrics !== null) await this.brokerMetrics.close();
    await this.fetchers?.stop();
    this.controllerClient?.close();
    // Closing the session removes the registration: the controller moves this broker's leaderships.
    await this.zk?.close();
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

/** The authorizer authorizer.class.name names, or null when it is unset. */
function createAuthorizer(config: BrokerConfig): Authorizer | null {
  const name = config.string('authorizer.class.name').trim();
  if (name === '') return null;
  if (!AUTHORIZER_CLASS_NAMES.includes(name)) {
    throw new StartupError(
      'authorizer.class.name',
      `unknown authorizer ${name}; Samsa serves ${AUTHORIZER_CLASS_NAMES.join(', ')}`,
    );
  }
  return new Authorizer(config.string('super.users'), config.bool('allow.everyone.if.no.acl.found'));
}
