// Broker configuration with Kafka's server.properties keys.
//
// Sources, lowest precedence first: the built-in defaults below, a server.properties file,
// `--override key=value` on the command line. Every key is validated at start-up; an unknown key or
// an invalid value stops the broker with a message that names the key and says what is expected.
// Keys Kafka has that make no sense here (thread pool sizes, ...) are accepted and ignored with a
// warning, and so are the KRaft controller keys of Kafka 4's stock server.properties (listeners.ts),
// so an existing server.properties works unchanged. Keys Samsa validates but does not act on yet
// (noEffectYet) warn once at start-up too.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as limits from '../limits.js';
import { ConfigError } from './config-error.js';
import {
  checkListeners,
  dropKraftSettings,
  kraftControllerKeys,
  type Listener,
  parseListener,
  parseProtocolMap,
} from './listeners.js';
import { listenerKeyDefinition, securityDefinitions } from './security-config.js';

export { ConfigError } from './config-error.js';
export { type Listener, parseListener } from './listeners.js';

type Kind = 'int' | 'long' | 'boolean' | 'string' | 'list' | 'double';

interface Definition {
  kind: Kind;
  default: string | null;
  min?: number;
  max?: number;
  oneOf?: readonly string[];
  /** A key whose value, when this one is unset, supplies it (Kafka's log.retention.hours -> .ms style). */
  doc?: string;
}

const LONG_MAX = '9223372036854775807';

/** Keys Samsa implements, with Kafka's defaults unless noted. */
export const definitions: Record<string, Definition> = {
  'node.id': { kind: 'int', default: '0', min: 0 },
  'broker.id': { kind: 'int', default: null, min: -1 },
  'broker.rack': { kind: 'string', default: null },
  // Kafka's default listener binds all interfaces; Samsa's embedded default stays on loopback.
  listeners: { kind: 'list', default: 'PLAINTEXT://127.0.0.1:9092' },
  'advertised.listeners': { kind: 'list', default: null },
  'listener.security.protocol.map': { kind: 'list', default: 'PLAINTEXT:PLAINTEXT' },
  'inter.broker.listener.name': { kind: 'string', default: null },
  'log.dirs': { kind: 'list', default: null },
  // Kafka's default is /tmp/kafka-logs; Samsa keeps data beside where it was started.
  'log.dir': { kind: 'string', default: './data' },
  'num.partitions': { kind: 'int', default: '1', min: 1, max: limits.partitionsPerTopicMax },
  'default.replication.factor': { kind: 'int', default: '1', min: 1 },
  'auto.create.topics.enable': { kind: 'boolean', default: 'true' },
  'delete.topic.enable': { kind: 'boolean', default: 'true' },
  'message.max.bytes': { kind: 'int', default: String(limits.messageBytesMaxDefault), min: 0 },
  'log.segment.bytes': { kind: 'int', default: String(1024 * 1024 * 1024), min: 14 },
  'log.roll.ms': { kind: 'long', default: null, min: 1 },
  'log.roll.hours': { kind: 'int', default: '168', min: 1 },
  'log.retention.ms': { kind: 'long', default: null, min: -1 },
  'log.retention.minutes': { kind: 'int', default: null, min: -1 },
  'log.retention.hours': { kind: 'int', default: '168', min: -1 },
  'log.retention.bytes': { kind: 'long', default: '-1', min: -1 },
  'log.retention.check.interval.ms': { kind: 'long', default: '300000', min: 1 },
  'log.flush.interval.messages': { kind: 'long', default: LONG_MAX, min: 1 },
  'log.flush.interval.ms': { kind: 'long', default: null, min: 0 },
  'log.flush.scheduler.interval.ms': { kind: 'long', default: LONG_MAX, min: 0 },
  'log.flush.offset.checkpoint.interval.ms': { kind: 'int', default: '60000', min: 0 },
  'log.index.interval.bytes': { kind: 'int', default: '4096', min: 0 },
  'log.index.size.max.bytes': { kind: 'int', default: String(10 * 1024 * 1024), min: 4 },
  'log.message.timestamp.type': {
    kind: 'string',
    default: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
  },
  // KIP-937 bounds on CreateTime timestamps (Kafka 4.0 defaults: the past unbounded, the future 1 hour).
  'log.message.timestamp.before.max.ms': { kind: 'long', default: LONG_MAX, min: 0 },
  'log.message.timestamp.after.max.ms': { kind: 'long', default: '3600000', min: 0 },
  'log.cleanup.policy': { kind: 'list', default: 'delete' },
  'log.cleaner.delete.retention.ms': { kind: 'long', default: '86400000', min: 0 },
  'log.cleaner.enable': { kind: 'boolean', default: 'true' },
  'log.cleaner.backoff.ms': { kind: 'long', default: '15000', min: 0 },
  'log.cleaner.min.compaction.lag.ms': { kind: 'long', default: '0', min: 0 },
  'log.cleaner.max.compaction.lag.ms': { kind: 'long', default: LONG_MAX, min: 1 },
  'log.cleaner.min.cleanable.ratio': { kind: 'double', default: '0.5', min: 0, max: 1 },
  'log.segment.delete.delay.ms': { kind: 'long', default: '60000', min: 0 },
  'compression.type': {
    kind: 'string',
    default: 'producer',
    oneOf: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
  },
  'min.insync.replicas': { kind: 'int', default: '1', min: 1 },
  'replica.lag.time.max.ms': { kind: 'long', default: '30000', min: 1 },
  'replica.high.watermark.checkpoint.interval.ms': { kind: 'long', default: '5000', min: 1 },
  'socket.request.max.bytes': { kind: 'int', default: String(limits.requestBytesMaxDefault), min: 1 },
  // Kafka's default (-1) is unbounded; Samsa always bounds what it buffers.
  'queued.max.request.bytes': { kind: 'long', default: String(limits.queuedRequestBytesMaxDefault), min: 1 },
  // Samsa's own (Kafka has none): a request must arrive within this, plus 1 s per MiB received.
  'socket.request.receive.timeout.ms': {
    kind: 'long',
    default: String(limits.requestReceiveTimeoutMsDefault),
    min: 1,
  },
  // DescribeTopicPartitions: the most partitions one response describes (Kafka's default).
  'max.request.partition.size.limit': { kind: 'int', default: '2000', min: 1 },
  'max.connections': { kind: 'int', default: '2147483647', min: 0 },
  'max.connections.per.ip': { kind: 'int', default: '2147483647', min: 0 },
  // KIP-612: new connections per second over all listeners but the inter-broker one (when there are several);
  // over it, the acceptors wait. listener.name.<l>.max.connection.creation.rate bounds one listener.
  'max.connection.creation.rate': { kind: 'int', default: '2147483647', min: 0 },
  'connections.max.idle.ms': { kind: 'long', default: '600000', min: -1 },
  // Client quotas (KIP-13/55): the rate of each quota entity is measured over quota.window.num samples of
  // quota.window.size.seconds.
  'quota.window.num': { kind: 'int', default: '11', min: 1 },
  'quota.window.size.seconds': { kind: 'int', default: '1', min: 1 },
  'offsets.topic.num.partitions': { kind: 'int', default: '50', min: 1 },
  'offsets.topic.replication.factor': { kind: 'int', default: '1', min: 1 },
  'offsets.topic.segment.bytes': { kind: 'int', default: String(100 * 1024 * 1024), min: 1 },
  'offsets.retention.minutes': { kind: 'int', default: '10080', min: 1 },
  'offsets.retention.check.interval.ms': { kind: 'long', default: '600000', min: 1 },
  'offsets.commit.timeout.ms': { kind: 'int', default: '5000', min: 1 },
  'offset.metadata.max.bytes': { kind: 'int', default: '4096', min: 0 },
  'group.initial.rebalance.delay.ms': { kind: 'int', default: '3000', min: 0 },
  'group.min.session.timeout.ms': { kind: 'int', default: '6000', min: 0 },
  'group.max.session.timeout.ms': { kind: 'int', default: '1800000', min: 0 },
  'group.max.size': { kind: 'int', default: '2147483647', min: 1 },
  'transaction.state.log.num.partitions': { kind: 'int', default: '50', min: 1 },
  'transaction.state.log.replication.factor': { kind: 'int', default: '3', min: 1 },
  'transaction.state.log.min.isr': { kind: 'int', default: '2', min: 1 },
  'transaction.state.log.segment.bytes': { kind: 'int', default: String(100 * 1024 * 1024), min: 1 },
  'transactional.id.expiration.ms': { kind: 'int', default: '604800000', min: 1 },
  'transaction.max.timeout.ms': { kind: 'int', default: '900000', min: 1 },
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': { kind: 'int', default: '10000', min: 1 },
  'transaction.remove.expired.transaction.cleanup.interval.ms': { kind: 'int', default: '3600000', min: 1 },
  'producer.id.expiration.ms': { kind: 'int', default: '86400000', min: 1 },
  // Kafka's transaction.version feature (set there with kafka-features.sh / kafka-storage format --feature), here a
  // key: the finalized level ApiVersions advertises (2: KIP-890 part 2, as Kafka 4.x). Same value on every broker.
  'transaction.version': { kind: 'int', default: '2', min: 0, max: 2 },
  'transaction.partition.verification.enable': { kind: 'boolean', default: 'true' },
  'transaction.two.phase.commit.enable': { kind: 'boolean', default: 'false' },
  // KIP-848 consumer groups: the defaults and bounds of a GROUP resource's consumer.* configs.
  'group.consumer.session.timeout.ms': { kind: 'int', default: '45000', min: 1 },
  'group.consumer.min.session.timeout.ms': { kind: 'int', default: '45000', min: 1 },
  'group.consumer.max.session.timeout.ms': { kind: 'int', default: '60000', min: 1 },
  'group.consumer.heartbeat.interval.ms': { kind: 'int', default: '5000', min: 1 },
  'group.consumer.min.heartbeat.interval.ms': { kind: 'int', default: '5000', min: 1 },
  'group.consumer.max.heartbeat.interval.ms': { kind: 'int', default: '15000', min: 1 },
  // The broker-side assignors of consumer groups, the first the default (Kafka's short names).
  'group.consumer.assignors': { kind: 'list', default: 'uniform,range' },
  'group.consumer.max.size': { kind: 'int', default: '2147483647', min: 1 },
  // KIP-848 online migration between the classic and the consumer protocol (case-insensitive as Kafka).
  'group.consumer.migration.policy': { kind: 'string', default: 'bidirectional' },
  // Which group protocols the coordinator serves: without consumer, ConsumerGroupHeartbeat is refused.
  'group.coordinator.rebalance.protocols': { kind: 'list', default: 'classic,consumer' },
  'cluster.id': { kind: 'string', default: null },
  'zookeeper.connect': { kind: 'string', default: null },
  'metrics.http.port': { kind: 'int', default: '-1', min: -1, max: 65535 },
  'metrics.http.host': { kind: 'string', default: '127.0.0.1' },

  // Logging (Samsa's own keys; Kafka configures log4j instead). log.level unset: SAMSA_LOG_LEVEL, else
  // info. log.format auto: text when stderr is a terminal, json otherwise; --log-format overrides it.
  'log.level': { kind: 'string', default: null, oneOf: ['debug', 'info', 'warn', 'error'] },
  'log.format': { kind: 'string', default: 'auto', oneOf: ['auto', 'json', 'text'] },

  // Broker-side audit counters (Samsa's own keys; src/pipeline/audit-counters.ts, docs/pipeline.md, "samsa audit"): records
  // appended per partition and window of record timestamps, written to the compacted topic __samsa_audit.
  'samsa.audit.enable': { kind: 'boolean', default: 'false' },
  'samsa.audit.window.ms': { kind: 'long', default: '60000', min: 1000 },
  'samsa.audit.flush.interval.ms': { kind: 'long', default: '10000', min: 10 },

  // ZooKeeper-coordinated clusters (src/cluster/zk/, docs/cluster.md).
  // Samsa's own key (Kafka hard-codes 15 minutes): ACL change notifications older than this are deleted.
  'samsa.acl.change.notification.expiration.ms': {
    kind: 'long',
    default: String(limits.aclChangeNotificationExpirationMsDefault),
    min: 1,
  },
  'zookeeper.session.timeout.ms': { kind: 'int', default: '18000', min: 1 },
  'zookeeper.connection.timeout.ms': { kind: 'int', default: null, min: 1 },
  'controller.socket.timeout.ms': { kind: 'int', default: '30000', min: 1 },
  'unclean.leader.election.enable': { kind: 'boolean', default: 'false' },
  'auto.leader.rebalance.enable': { kind: 'boolean', default: 'true' },
  'leader.imbalance.check.interval.seconds': { kind: 'long', default: '300', min: 1 },
  'leader.imbalance.per.broker.percentage': { kind: 'int', default: '10', min: 0 },
  'controlled.shutdown.enable': { kind: 'boolean', default: 'true' },
  'controlled.shutdown.max.retries': { kind: 'int', default: '3', min: 0 },
  'controlled.shutdown.retry.backoff.ms': { kind: 'long', default: '5000', min: 0 },
  // Replication (src/cluster/replica-fetcher.ts).
  'replica.fetch.wait.max.ms': { kind: 'int', default: '500', min: 0 },
  'replica.fetch.min.bytes': { kind: 'int', default: '1', min: 1 },
  'replica.fetch.max.bytes': { kind: 'int', default: '1048576', min: 0 },
  'replica.fetch.response.max.bytes': { kind: 'int', default: '10485760', min: 0 },
  'replica.fetch.backoff.ms': { kind: 'int', default: '1000', min: 0 },
  'replica.socket.timeout.ms': { kind: 'int', default: '30000', min: 1 },
  ...securityDefinitions,
  // Fetch sessions (KIP-227, src/broker/fetch-session.ts); 0 turns them off.
  'max.incremental.fetch.session.cache.slots': {
    kind: 'int',
    default: String(limits.fetchSessionCacheSlotsDefault),
    min: 0,
  },
};

/**
 * Keys that are validated and accepted but that Samsa does not act on yet, with the reason; each one set
 * in the configuration warns once at start-up. Remove a key from here when the feature behind it lands.
 */
export const noEffectYet: ReadonlyMap<string, string> = new Map([
  ['producer.id.expiration.ms', 'idle producer ids are not expired'],
  [
    'transaction.two.phase.commit.enable',
    'two-phase commit (KIP-939) is not implemented: InitProducerId enable2Pc is refused',
  ],
]);

/** Kafka keys accepted for compatibility and ignored (with a warning) because Samsa has no use for them. */
export const ignoredKafkaKeys: ReadonlySet<string> = new Set([
  'num.network.threads',
  'num.io.threads',
  'num.recovery.threads.per.data.dir',
  'num.replica.fetchers',
  'socket.send.buffer.bytes',
  'socket.receive.buffer.bytes',
  'share.coordinator.state.topic.replication.factor',
  'share.coordinator.state.topic.min.isr',
  'log.cleaner.threads',
  'queued.max.requests',
]);

export type RawConfig = Map<string, string>;

/** Parses Java .properties text: `key=value` or `key: value` lines, `#`/`!` comments, `\` continuations. */
export function parseProperties(text: string): RawConfig {
  const out: RawConfig = new Map();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + (lines[++i] ?? '').trim();
    }
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m === null) out.set(line, '');
    else out.set(m[1] as string, (m[2] as string).trim());
  }
  return out;
}

export function readPropertiesFile(path: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('config file', `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseProperties(text);
}

/** Checks a value against a key's definition; returns the normalized value or throws ConfigError. */
export function validateBrokerValue(key: string, value: string): string {
  const def = definitions[key] ?? listenerKeyDefinition(key);
  if (def === undefined) throw new ConfigError(key, 'unknown configuration key');
  return validate(key, def, value);
}

function validate(key: string, def: Definition, value: string): string {
  switch (def.kind) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(key, `expected an integer; got "${value}"`);
      const n = Number(value.trim());
      if (def.kind === 'int' && (n > 2147483647 || n < -2147483648)) {
        throw new ConfigError(key, `must fit in a 32-bit integer; got ${value}`);
      }
      if (def.min !== undefined && n < def.min)
        throw new ConfigError(key, `must be >= ${def.min}; got ${value}`);
      if (def.max !== undefined && n > def.max)
        throw new ConfigError(key, `must be <= ${def.max}; got ${value}`);
      return value.trim();
    }
    case 'double':
      if (Number.isNaN(Number(value))) throw new ConfigError(key, `expected a number; got "${value}"`);
      return value.trim();
    case 'boolean': {
      const v = value.trim().toLowerCase();
      if (v !== 'true' && v !== 'false') throw new ConfigError(key, `expected true or false; got "${value}"`);
      return v;
    }
    default:
      if (def.oneOf !== undefined && !def.oneOf.includes(value.trim())) {
        throw new ConfigError(key, `must be one of ${def.oneOf.join(', ')}; got "${value}"`);
      }
      return value.trim();
  }
}

/** Where a broker config's effective value comes from (Kafka's ConfigSource names). */
export type BrokerConfigSource =
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG';

/**
 * Validated broker configuration: raw values by key plus typed accessors for what the broker uses.
 * Layers, highest precedence first (Kafka's DynamicBrokerConfig): this broker's dynamic configs, the
 * cluster-wide dynamic default, the static configuration (file and --override), the built-in defaults.
 * Readers always see the effective value; setDynamic (dynamic-broker-config.ts validated them) swaps the
 * dynamic layers in one step.
 */
export class BrokerConfig {
  /** The effective values: static values with the dynamic layers on top. */
  private values: Map<string, string>;
  /** File and overrides over the built-in defaults. */
  private readonly staticValues: ReadonlyMap<string, string>;
  private dynamicBroker: ReadonlyMap<string, string> = new Map();
  private dynamicDefault: ReadonlyMap<string, string> = new Map();
  private staticOnly: BrokerConfig | null = null;
  /** Keys explicitly set (file or override), for DescribeConfigs' source reporting. */
  readonly explicit: ReadonlySet<string>;

  private constructor(values: Map<string, string>, explicit: ReadonlySet<string>) {
    this.values = values;
    this.staticValues = new Map(values);
    this.explicit = explicit;
  }

  /**
   * Builds the configuration from a file's entries and command-line overrides.
   * Returns the config and the warnings to log: one per ignored or not-yet-effective key.
   */
  static from(
    file: RawConfig,
    overrides: RawConfig = new Map(),
  ): { config: BrokerConfig; warnings: string[] } {
    const merged = new Map<string, string>();
    const kraft = new Map<string, string>();
    const warnings = new Map<string, string>();
    const explicit = new Set<string>();
    for (const source of [file, overrides]) {
      for (const [key, value] of source) {
        if (ignoredKafkaKeys.has(key)) {
          warnings.set(key, `${key} is a Kafka setting Samsa does not use; ignored`);
          continue;
        }
        if (kraftControllerKeys.has(key)) {
          kraft.set(key, value.trim());
          continue;
        }
        const def = definitions[key] ?? listenerKeyDefinition(key);
        if (def === undefined) {
          throw new ConfigError(
            key,
            'unknown configuration key (see docs/configuration.md for the supported keys)',
          );
        }
        merged.set(key, validate(key, def, value));
        explicit.add(key);
      }
    }
    const out = [...warnings.values(), ...dropKraftSettings(merged, kraft)];
    for (const key of explicit) {
      const reason = noEffectYet.get(key);
      if (reason !== undefined)
        out.push(`${key}=${merged.get(key)} is accepted but has no effect yet (${reason})`);
    }
    for (const [key, def] of Object.entries(definitions)) {
      if (!merged.has(key) && def.default !== null) merged.set(key, def.default);
    }
    const config = new BrokerConfig(merged, explicit);
    config.check();
    return { config, warnings: out };
  }

  private check(): void {
    checkListeners(
      this.listeners(),
      this.advertisedListeners(),
      parseProtocolMap(this.string('listener.security.protocol.map')),
    );
    if (this.int('message.max.bytes') > this.int('socket.request.max.bytes')) {
      throw new ConfigError('message.max.bytes', 'must not exceed socket.request.max.bytes');
    }
    checkConsumerGroupConfig(this);
  }

  /**
   * Replaces the dynamic layers (already validated); returns the keys whose effective value changed.
   * An empty record removes a layer.
   */
  setDynamic(
    perBroker: Readonly<Record<string, string>>,
    clusterDefault: Readonly<Record<string, string>>,
  ): string[] {
    const next = new Map(this.staticValues);
    for (const [k, v] of Object.entries(clusterDefault)) next.set(k, v);
    for (const [k, v] of Object.entries(perBroker)) next.set(k, v);
    const changed = new Set<string>();
    for (const [k, v] of next) if (this.values.get(k) !== v) changed.add(k);
    for (const k of this.values.keys()) if (!next.has(k)) changed.add(k);
    this.values = next;
    this.dynamicBroker = new Map(Object.entries(perBroker));
    this.dynamicDefault = new Map(Object.entries(clusterDefault));
    return [...changed].sort();
  }

  /** This broker's dynamic configs (DYNAMIC_BROKER_CONFIG). */
  dynamicBrokerConfigs(): ReadonlyMap<string, string> {
    return this.dynamicBroker;
  }

  /** The cluster-wide dynamic default (DYNAMIC_DEFAULT_BROKER_CONFIG). */
  dynamicDefaultConfigs(): ReadonlyMap<string, string> {
    return this.dynamicDefault;
  }

  /** The value set in server.properties or --override, or null. */
  staticConfig(key: string): string | null {
    return this.explicit.has(key) ? (this.staticValues.get(key) ?? null) : null;
  }

  /** The built-in default, or null. */
  defaultConfig(key: string): string | null {
    return definitions[key]?.default ?? null;
  }

  /** Where `key`'s effective value comes from. */
  sourceOf(key: string): BrokerConfigSource {
    if (this.dynamicBroker.has(key)) return 'DYNAMIC_BROKER_CONFIG';
    if (this.dynamicDefault.has(key)) return 'DYNAMIC_DEFAULT_BROKER_CONFIG';
    if (this.explicit.has(key)) return 'STATIC_BROKER_CONFIG';
    return 'DEFAULT_CONFIG';
  }

  /** The same configuration without its dynamic layers (the static view, for synonyms). */
  withoutDynamic(): BrokerConfig {
    if (this.dynamicBroker.size === 0 && this.dynamicDefault.size === 0) return this;
    if (this.staticOnly === null)
      this.staticOnly = new BrokerConfig(new Map(this.staticValues), this.explicit);
    return this.staticOnly;
  }

  /** A copy with other dynamic layers, to check a change before it is made. */
  withDynamic(
    perBroker: Readonly<Record<string, string>>,
    clusterDefault: Readonly<Record<string, string>>,
  ): BrokerConfig {
    const c = new BrokerConfig(new Map(this.staticValues), this.explicit);
    c.setDynamic(perBroker, clusterDefault);
    return c;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }

  int(key: string): number {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`config ${key} has no value`);
    return Number(v);
  }

  /** A long config as a JS number; Long.MAX_VALUE maps to Number.MAX_SAFE_INTEGER. */
  long(key: string): number {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`config ${key} has no value`);
    return Math.min(Number(v), Number.MAX_SAFE_INTEGER);
  }

  bool(key: string): boolean {
    return this.values.get(key) === 'true';
  }

  string(key: string): string {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`config ${key} has no value`);
    return v;
  }

  list(key: string): string[] {
    const v = this.values.get(key);
    if (v === undefined || v === '') return [];
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  get nodeId(): number {
    return this.has('broker.id') && this.int('broker.id') >= 0 ? this.int('broker.id') : this.int('node.id');
  }

  /** The listeners to serve (controller listeners already dropped); checked at start-up. */
  listeners(): Listener[] {
    return this.list('listeners').map((s) => parseListener('listeners', s));
  }

  /**
   * What clients are told to connect to (Kafka's rules): advertised.listeners, else the listeners, where an
   * empty host (PLAINTEXT://:9092: every interface) advertises this machine's host name. The meta-addresses
   * 0.0.0.0 and :: cannot be connected to, so advertising them is refused.
   */
  advertisedListeners(): Listener[] {
    const explicit = this.has('advertised.listeners');
    const ls = explicit
      ? this.list('advertised.listeners').map((s) => parseListener('advertised.listeners', s))
      : this.listeners().map((l) => ({ ...l, host: l.host === '' ? hostname() : l.host }));
    for (const l of ls) {
      if (l.host === '0.0.0.0' || l.host === '::' || l.host === '') {
        throw new ConfigError(
          'advertised.listeners',
          explicit
            ? `${l.name}://${l.host}:${l.port} is not an address clients can connect to; advertise this host's name or IP`
            : `listeners binds ${l.name}://${l.host}:${l.port} (every interface) but clients cannot connect to ${l.host}: ` +
                `set advertised.listeners=${l.name}://<this host's name or IP>:${l.port}`,
        );
      }
    }
    return ls;
  }

  logDirs(): string[] {
    const dirs = this.list('log.dirs');
    return dirs.length > 0 ? dirs : [this.string('log.dir')];
  }

  /** log.retention.ms, else minutes, else hours (Kafka's precedence). */
  retentionMs(): number {
    if (this.has('log.retention.ms')) return this.long('log.retention.ms');
    if (this.has('log.retention.minutes')) {
      const m = this.int('log.retention.minutes');
      return m < 0 ? -1 : m * 60_000;
    }
    const h = this.int('log.retention.hours');
    return h < 0 ? -1 : h * 3_600_000;
  }

  rollMs(): number {
    if (this.has('log.roll.ms')) return this.long('log.roll.ms');
    return this.int('log.roll.hours') * 3_600_000;
  }

  flushIntervalMs(): number {
    if (this.has('log.flush.interval.ms')) return this.long('log.flush.interval.ms');
    return this.long('log.flush.scheduler.interval.ms');
  }
}

/** Parses `key=value` as given to --override. */
export function parseOverride(arg: string): [string, string] {
  const i = arg.indexOf('=');
  if (i <= 0) throw new ConfigError(arg, 'an override must look like key=value');
  return [arg.slice(0, i).trim(), arg.slice(i + 1)];
}

/** Kafka's GroupCoordinatorConfig checks of the KIP-848 keys (start-up refuses a configuration that breaks them). */
function checkConsumerGroupConfig(c: BrokerConfig): void {
  for (const [what, key] of [
    ['session.timeout.ms', 'group.consumer.session.timeout.ms'],
    ['heartbeat.interval.ms', 'group.consumer.heartbeat.interval.ms'],
  ] as const) {
    const min = `group.consumer.min.${what}`;
    const max = `group.consumer.max.${what}`;
    if (c.int(key) < c.int(min)) throw new ConfigError(key, `must be greater than or equal to ${min}`);
    if (c.int(key) > c.int(max)) throw new ConfigError(key, `must be less than or equal to ${max}`);
  }
  if (c.int('group.consumer.heartbeat.interval.ms') >= c.int('group.consumer.session.timeout.ms')) {
    throw new ConfigError(
      'group.consumer.heartbeat.interval.ms',
      'must be less than group.consumer.session.timeout.ms',
    );
  }
  const known = ['uniform', 'range'];
  for (const a of c.list('group.consumer.assignors')) {
    if (!known.includes(consumerAssignorName(a))) {
      throw new ConfigError(
        'group.consumer.assignors',
        `unknown assignor "${a}"; Samsa has ${known.join(', ')}`,
      );
    }
  }
  const policy = c.string('group.consumer.migration.policy');
  if (!(CONSUMER_MIGRATION_POLICIES as readonly string[]).includes(policy.trim().toLowerCase())) {
    throw new ConfigError(
      'group.consumer.migration.policy',
      `must be one of ${CONSUMER_MIGRATION_POLICIES.join(', ')}; got "${policy}"`,
    );
  }
  for (const p of c.list('group.coordinator.rebalance.protocols')) {
    if (!['classic', 'consumer', 'share', 'streams'].includes(p.trim().toLowerCase())) {
      throw new ConfigError('group.coordinator.rebalance.protocols', `unknown protocol "${p}"`);
    }
  }
}

/** Kafka's ConsumerGroupMigrationPolicy values. */
export const CONSUMER_MIGRATION_POLICIES = ['disabled', 'upgrade', 'downgrade', 'bidirectional'] as const;
export type ConsumerMigrationPolicy = (typeof CONSUMER_MIGRATION_POLICIES)[number];

/** group.consumer.migration.policy as a value (checked at start-up; case-insensitive as Kafka). */
export function consumerMigrationPolicy(c: BrokerConfig): ConsumerMigrationPolicy {
  const v = c.string('group.consumer.migration.policy').trim().toLowerCase();
  return (CONSUMER_MIGRATION_POLICIES as readonly string[]).includes(v)
    ? (v as ConsumerMigrationPolicy)
    : 'bidirectional';
}

/** An assignor's short name; Kafka's class names (org.apache.kafka.coordinator.group.assignor.UniformAssignor) too. */
export function consumerAssignorName(a: string): string {
  const name = a.trim();
  const m = /(?:^|\.)(Uniform|Range)Assignor$/.exec(name);
  return m === null ? name.toLowerCase() : (m[1] as string).toLowerCase();
}
