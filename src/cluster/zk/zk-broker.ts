// A broker's own duties in a ZooKeeper cluster (Kafka's KafkaServer ZooKeeper start-up and KafkaZkClient
// broker side):
// - connect (retrying with backoff while ZooKeeper is unreachable, each failure logged; nothing is served
//   meanwhile) and make sure Kafka's persistent paths exist;
// - the cluster id: /cluster/id, created by the first broker;
// - registration: the ephemeral /brokers/ids/<id> with the broker's endpoints and rack; its czxid is the
//   broker epoch the controller stamps on its requests. A registration left by this broker's previous,
//   crashed process lives until that session times out: registration waits for it to go. One that stays
//   longer belongs to another live broker with the same broker.id: start-up fails, naming the id;
// - after a session expiry: register again (a new broker epoch) and hand the controller a new session;
// - topic configs: read /config/topics/<t> for topics this broker learns of, and apply the change
//   notifications under /config/changes (Kafka's ZkConfigManager / TopicConfigHandler);
// - dynamic broker configs: /config/brokers/<default> and /config/brokers/<id>, read before serving and
//   re-read on their change notifications (Kafka's BrokerConfigHandler).

import { DEFAULT_BROKER_ENTITY, loadDynamicBrokerConfigs } from '../../config/dynamic-broker-config.js';
import type { Logger } from '../../logger.js';
import { QUOTA_DEFAULT } from '../../security/client-quotas.js';
import type { BrokerInfo, MetadataCache } from '../metadata-cache.js';
import { isZkError, ZkClient, type ZkClientOptions } from './zk-client.js';
import {
  decodeBrokerRegistration,
  decodeClusterId,
  decodeConfigChange,
  decodeEntityConfig,
  encodeBrokerRegistration,
  encodeClusterId,
  persistentZkPaths,
  sequenceNumber,
  zkPaths,
} from './zk-data.js';
import { groupEntityName } from './zk-paths.js';

export class BrokerIdTakenError extends Error {}

/** The dynamic broker configs that concern one broker. */
export interface DynamicBrokerConfigs {
  perBroker: Record<string, string>;
  clusterDefault: Record<string, string>;
}

/** Connects to ZooKeeper, retrying with backoff until it answers or `signal` aborts. */
export async function connectZooKeeper(
  connectString: string,
  opts: ZkClientOptions & { logger: Logger; signal?: AbortSignal },
): Promise<ZkClient> {
  let backoff = 500;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted === true) throw new Error('start-up interrupted while connecting to ZooKeeper');
    try {
      const zk = await ZkClient.connect(connectString, opts);
      if (attempt > 1)
        opts.logger.info('connected to ZooKeeper', { zookeeper: connectString, attempts: attempt });
      return zk;
    } catch (err) {
      opts.logger.warn('cannot reach ZooKeeper; retrying', {
        zookeeper: connectString,
        attempt,
        retryInMs: backoff,
        error: err instanceof Error ? err.message : String(err),
      });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, backoff);
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
}

export class ZkBroker {
  /** The czxid of this broker's registration znode (the broker epoch); -1 before registering. */
  epoch = -1;
  private markRegistered: () => void = () => {};
  /** Resolves once this process has registered (epoch set). */
  private readonly registered = new Promise<void>((resolve) => {
    this.markRegistered = resolve;
  });
  private self: BrokerInfo | null = null;
  private lastConfigChange = -1;
  private stopped = false;
  private onTopicConfig: ((topic: string, configs: Record<string, string>) => void) | null = null;
  private onBrokerConfigs: ((configs: DynamicBrokerConfigs) => void) | null = null;
  /** Called with a user entity's configs (SCRAM credentials) at start-up and on every change. */
  onUserConfigs: ((user: string, configs: Record<string, string>) => void) | null = null;
  /** Called with a client quota entity's configs (by entity path) at start-up and on every change. */
  onQuotaConfigs: ((path: string, configs: Record<string, string>) => void) | null = null;

  constructor(
    readonly zk: ZkClient,
    private readonly brokerId: number,
    private readonly logger: Logger,
  ) {}

  /** Creates Kafka's persistent paths that are missing (every broker does, as Kafka's makeSurePersistentPathsExists). */
  async ensurePaths(): Promise<void> {
    for (const p of persistentZkPaths) {
      await this.zk.createRecursive(p).catch((e: unknown) => {
        if (!isZkError(e, 'NODEEXISTS')) throw e;
      });
    }
  }

  /** The cluster's id, created by the first broker to ask. */
  async clusterId(proposed: string): Promise<string> {
    const existing = await this.zk.get(zkPaths.clusterId);
    if (existing !== null) return decodeClusterId(existing.data);
    try {
      await this.zk.createRecursive(zkPaths.clusterId, encodeClusterId(proposed));
      this.logger.info('created the cluster id', { clusterId: proposed });
      return proposed;
    } catch (e) {
      if (!isZkError(e, 'NODEEXISTS')) throw e;
      const r = await this.zk.get(zkPaths.clusterId);
      if (r === null) throw new Error('/cluster/id vanished');
      return decodeClusterId(r.data);
    }
  }

  /**
   * Whether a controller request stamped with `brokerEpoch` is meant for an older registration of this broker
   * id (Kafka's isBrokerEpochStale; -1 is never stale). This process serves before it has registered, and may
   * wait a whole session timeout for its previous run's registration to expire: meanwhile the controller still
   * sends that run's requests here. So before registering this waits until it has, and only then compares;
   * otherwise the previous run's UpdateMetadata would fill the empty metadata cache with a few partitions of a
   * topic (Metadata answers listing a topic with some of its partitions) and its LeaderAndIsr would move
   * replicas on stale orders.
   */
  async isStaleBrokerEpoch(brokerEpoch: number): Promise<boolean> {
    if (brokerEpoch === -1) return false;
    if (this.epoch === -1) await this.registered;
    return brokerEpoch < this.epoch;
  }

  /**
   * Registers this broker. A registration of another session waits up to the session timeout (plus a margin)
   * to disappear; one still there is another live broker with our id: BrokerIdTakenError.
   */
  async register(self: BrokerInfo, signal?: AbortSignal): Promise<number> {
    this.self = self;
    const path = zkPaths.brokerId(this.brokerId);
    const data = encodeBrokerRegistration({
      endpoints: self.endpoints.map((e) => ({
        listener: e.listener,
        host: e.host,
        port: e.port,
        securityProtocol: e.securityProtocol,
      })),
      rack: self.rack,
      jmxPort: -1,
      timestamp: Date.now(),
      features: {},
    });
    const deadline = Date.now() + this.zk.sessionTimeoutMs * 1.5 + 2000;
    let logged = false;
    for (;;) {
      try {
        const { stat } = await this.zk.createWithStat(path, data, { mode: 'ephemeral' });
        this.epoch = stat.czxid;
        this.markRegistered();
        this.logger.info('registered in ZooKeeper', { broker: this.brokerId, brokerEpoch: this.epoch });
        return this.epoch;
      } catch (e) {
        if (!isZkError(e, 'NODEEXISTS')) throw e;
      }
      const r = await this.zk.get(path);
      if (r === null) continue;
      if (r.stat.ephemeralOwner === this.zk.sessionId) {
        this.epoch = r.stat.czxid;
        this.markRegistered();
        return this.epoch;
      }
      if (Date.now() > deadline || signal?.aborted === true) {
        let where = '';
        try {
          const reg = decodeBrokerRegistration(this.brokerId, r.data);
          where = ` (${reg.endpoints.map((x) => `${x.listener}://${x.host}:${x.port}`).join(',')})`;
        } catch {
          // The endpoints only make the message better.
        }
        throw new BrokerIdTakenError(
          `another broker with broker.id=${this.brokerId} is registered in ZooKeeper${where}; each broker needs its own broker.id`,
        );
      }
      if (!logged) {
        this.logger.warn(
          'a registration with this broker.id exists; waiting for it to expire (a previous run of this broker?)',
          {
            broker: this.brokerId,
            sessionTimeoutMs: this.zk.sessionTimeoutMs,
          },
        );
        logged = true;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        void this.zk
          .existsWithWatch(path, () => {
            clearTimeout(t);
            resolve();
          })
          .catch(() => {});
      });
    }
  }

  /** Registers again after a new session (the old registration went with the expired one). */
  async reregister(): Promise<void> {
    if (this.self === null || this.stopped) return;
    await this.register(this.self);
  }

  // ---- topic configs -----------------------------------------------------------------------------

  /** Reads a topic's config overrides ({} when it has none). */
  async topicConfig(topic: string): Promise<Record<string, string>> {
    const r = await this.zk.get(zkPaths.topicConfig(topic));
    return r === null ? {} : decodeEntityConfig(zkPaths.topicConfig(topic), r.data);
  }

  /**
   * Reads the dynamic broker configs that concern this broker: its own and the cluster-wide default. Stored
   * entries that are not dynamic or not valid are dropped with a warning each (Kafka ignores them the same way).
   */
  async dynamicBrokerConfigs(): Promise<DynamicBrokerConfigs> {
    const load = async (brokerId: number | null): Promise<Record<string, string>> => {
      const path = zkPaths.entityConfig(
        'brokers',
        brokerId === null ? DEFAULT_BROKER_ENTITY : String(brokerId),
      );
      const r = await this.zk.get(path);
      const stored = r === null ? {} : decodeEntityConfig(path, r.data);
      const loaded = loadDynamicBrokerConfigs(brokerId, stored);
      for (const why of loaded.dropped)
        this.logger.warn('ignoring a stored dynamic broker config', { znode: path, why });
      return loaded.configs;
    };
    return { perBroker: await load(this.brokerId), clusterDefault: await load(null) };
  }

  /**
   * Loads every topic's configs into the cache and applies the dynamic broker configs, then follows
   * /config/changes.
   */
  async startConfigListener(
    cache: MetadataCache,
    apply: (topic: string) => void,
    applyBrokerConfigs: (configs: DynamicBrokerConfigs) => void,
  ): Promise<void> {
    this.onTopicConfig = (topic, configs) => {
      cache.setTopicConfig(topic, configs);
      apply(topic);
    };
    this.onBrokerConfigs = applyBrokerConfigs;
    applyBrokerConfigs(await this.dynamicBrokerConfigs());
    await this.loadUserConfigs();
    const children = (await this.zk.getChildren(zkPaths.configChanges)) ?? [];
    for (const c of children) {
      try {
        this.lastConfigChange = Math.max(
          this.lastConfigChange,
          Number(sequenceNumber(c, zkPaths.configChangePrefix)),
        );
      } catch {
        // not a notification
      }
    }
    for (const topic of (await this.zk.getChildren(zkPaths.configEntityType('topics'))) ?? []) {
      cache.setTopicConfig(topic, await this.topicConfig(topic));
    }
    await this.watchConfigChanges();
  }

  private async watchConfigChanges(): Promise<void> {
    if (this.stopped) return;
    const children =
      (await this.zk.getChildrenWithWatch(zkPaths.configChanges, () => {
        void this.watchConfigChanges().catch((err: unknown) =>
          this.logger.warn('reading config change notifications failed', { error: err }),
        );
      })) ?? [];
    const fresh = children
      .flatMap((c) => {
        try {
          return [{ name: c, seq: Number(sequenceNumber(c, zkPaths.configChangePrefix)) }];
        } catch {
          return [];
        }
      })
      .filter((c) => c.seq > this.lastConfigChange)
      .sort((a, b) => a.seq - b.seq);
    for (const c of fresh) {
      this.lastConfigChange = c.seq;
      const r = await this.zk.get(`${zkPaths.configChanges}/${c.name}`);
      if (r === null) continue;
      try {
        const change = decodeConfigChange(c.name, r.data);
        if (change.entityType === 'brokers') {
          if (change.entityName === DEFAULT_BROKER_ENTITY || change.entityName === String(this.brokerId)) {
            const configs = await this.dynamicBrokerConfigs();
            this.logger.info('dynamic broker configs changed', { entity: change.entityName, ...configs });
            this.onBrokerConfigs?.(configs);
          }
          continue;
        }
        if (
          change.entityType === 'clients' ||
          change.entityType === 'ips' ||
          (change.entityType === 'users' && change.entityName.includes('/'))
        ) {
          const path = `${change.entityType}/${change.entityName}`;
          this.onQuotaConfigs?.(path, await this.entityConfigs(path));
          this.logger.info('client quota configs changed', { entity: path });
          continue;
        }
        if (change.entityType === 'users') {
          const user = decodeURIComponent(change.entityName);
          const configs = await this.entityConfigs(`users/${change.entityName}`);
          // <default> is the users' default quota entity, not a user with credentials.
          if (change.entityName !== QUOTA_DEFAULT) this.onUserConfigs?.(user, configs);
          this.onQuotaConfigs?.(`users/${change.entityName}`, configs);
          this.logger.info('user configs changed', { user });
          continue;
        }
        if (change.entityType !== 'topics') continue;
        const configs = await this.topicConfig(change.entityName);
        this.logger.info('topic configs changed', { topic: change.entityName, configs });
        this.onTopicConfig?.(change.entityName, configs);
      } catch (err) {
        this.logger.warn('ignoring an unreadable config change notification', { znode: c.name, error: err });
      }
    }
  }

  /** After a new session: re-read configs (watches were lost with the old session). */
  async resumeConfigListener(cache: MetadataCache): Promise<void> {
    for (const topic of (await this.zk.getChildren(zkPaths.configEntityType('topics'))) ?? []) {
      const configs = await this.topicConfig(topic);
      cache.setTopicConfig(topic, configs);
      this.onTopicConfig?.(topic, configs);
    }
    this.onBrokerConfigs?.(await this.dynamicBrokerConfigs());
    await this.loadUserConfigs();
    await this.watchConfigChanges();
  }

  /** /config/users/<user> (the name percent-encoded as groups are); {} for none. */
  async userConfigs(user: string): Promise<Record<string, string>> {
    const path = zkPaths.entityConfig('users', groupEntityName(user));
    const r = await this.zk.get(path);
    return r === null ? {} : decodeEntityConfig(path, r.data);
  }

  /** /config/<entity path>; {} for none. */
  async entityConfigs(path: string): Promise<Record<string, string>> {
    const znode = `/config/${path}`;
    const r = await this.zk.get(znode);
    return r === null ? {} : decodeEntityConfig(znode, r.data);
  }

  /**
   * Every user entity's configs, handed to onUserConfigs, and every client quota entity's (users, users/<u>/clients,
   * clients, ips), handed to onQuotaConfigs.
   */
  async loadUserConfigs(): Promise<void> {
    for (const entity of (await this.zk.getChildren(zkPaths.configEntityType('users'))) ?? []) {
      const configs = await this.entityConfigs(`users/${entity}`);
      if (entity !== QUOTA_DEFAULT) this.onUserConfigs?.(decodeURIComponent(entity), configs);
      this.onQuotaConfigs?.(`users/${entity}`, configs);
      for (const client of (await this.zk.getChildren(`/config/users/${entity}/clients`)) ?? []) {
        const path = `users/${entity}/clients/${client}`;
        this.onQuotaConfigs?.(path, await this.entityConfigs(path));
      }
    }
    for (const type of ['clients', 'ips']) {
      for (const entity of (await this.zk.getChildren(zkPaths.configEntityType(type))) ?? []) {
        const path = `${type}/${entity}`;
        this.onQuotaConfigs?.(path, await this.entityConfigs(path));
      }
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.zk.close();
  }
}
