// Topic-level configuration: Kafka's topic config keys, each backed by a broker-level synonym
// that supplies its default (retention.ms <- log.retention.ms, ...). A topic stores only its
// overrides; the effective value is the override, else the broker's value, else Kafka's default.

import type { BrokerConfig, BrokerConfigSource } from './broker-config.js';

type Kind = 'int' | 'long' | 'boolean' | 'string' | 'list' | 'double';

export interface TopicConfigDefinition {
  kind: Kind;
  /** The broker key whose value is the default, or null when only the literal default applies. */
  synonym: string | null;
  default: string;
  min?: number;
  oneOf?: readonly string[];
}

const LONG_MAX = '9223372036854775807';

export const topicConfigDefinitions: Record<string, TopicConfigDefinition> = {
  'cleanup.policy': {
    kind: 'list',
    synonym: 'log.cleanup.policy',
    default: 'delete',
    oneOf: ['delete', 'compact'],
  },
  'compression.type': {
    kind: 'string',
    synonym: 'compression.type',
    default: 'producer',
    oneOf: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
  },
  'delete.retention.ms': {
    kind: 'long',
    synonym: 'log.cleaner.delete.retention.ms',
    default: '86400000',
    min: 0,
  },
  'file.delete.delay.ms': { kind: 'long', synonym: 'log.segment.delete.delay.ms', default: '60000', min: 0 },
  'flush.messages': { kind: 'long', synonym: 'log.flush.interval.messages', default: LONG_MAX, min: 1 },
  'flush.ms': { kind: 'long', synonym: 'log.flush.interval.ms', default: LONG_MAX, min: 0 },
  'index.interval.bytes': { kind: 'int', synonym: 'log.index.interval.bytes', default: '4096', min: 0 },
  'max.message.bytes': { kind: 'int', synonym: 'message.max.bytes', default: '1048588', min: 0 },
  'message.timestamp.type': {
    kind: 'string',
    synonym: 'log.message.timestamp.type',
    default: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
  },
  'message.timestamp.before.max.ms': {
    kind: 'long',
    synonym: 'log.message.timestamp.before.max.ms',
    default: LONG_MAX,
    min: 0,
  },
  'message.timestamp.after.max.ms': {
    kind: 'long',
    synonym: 'log.message.timestamp.after.max.ms',
    default: '3600000',
    min: 0,
  },
  'min.insync.replicas': { kind: 'int', synonym: 'min.insync.replicas', default: '1', min: 1 },
  'retention.bytes': { kind: 'long', synonym: 'log.retention.bytes', default: '-1', min: -1 },
  'retention.ms': { kind: 'long', synonym: 'log.retention.ms', default: '604800000', min: -1 },
  'segment.bytes': { kind: 'int', synonym: 'log.segment.bytes', default: '1073741824', min: 14 },
  'segment.ms': { kind: 'long', synonym: 'log.roll.ms', default: '604800000', min: 1 },
  'segment.index.bytes': { kind: 'int', synonym: 'log.index.size.max.bytes', default: '10485760', min: 4 },
  'min.compaction.lag.ms': {
    kind: 'long',
    synonym: 'log.cleaner.min.compaction.lag.ms',
    default: '0',
    min: 0,
  },
  'max.compaction.lag.ms': {
    kind: 'long',
    synonym: 'log.cleaner.max.compaction.lag.ms',
    default: LONG_MAX,
    min: 1,
  },
  'min.cleanable.dirty.ratio': {
    kind: 'double',
    synonym: 'log.cleaner.min.cleanable.ratio',
    default: '0.5',
    min: 0,
  },
  'unclean.leader.election.enable': { kind: 'boolean', synonym: null, default: 'false' },
  preallocate: { kind: 'boolean', synonym: null, default: 'false' },
};

/** Validates one topic config entry; returns an error message or null. */
export function validateTopicConfig(key: string, value: string | null): string | null {
  const def = topicConfigDefinitions[key];
  if (def === undefined) return `Unknown topic config name: ${key}`;
  if (value === null) return null;
  const v = value.trim();
  switch (def.kind) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(v))
        return `Invalid value ${value} for configuration ${key}: Not a number of type ${def.kind.toUpperCase()}`;
      if (def.min !== undefined && Number(v) < def.min) {
        return `Invalid value ${value} for configuration ${key}: Value must be at least ${def.min}`;
      }
      if (def.kind === 'int' && Math.abs(Number(v)) > 2147483647) {
        return `Invalid value ${value} for configuration ${key}: Not a number of type INT`;
      }
      return null;
    }
    case 'double':
      return Number.isNaN(Number(v)) ? `Invalid value ${value} for configuration ${key}: Not a number` : null;
    case 'boolean':
      return v === 'true' || v === 'false'
        ? null
        : `Invalid value ${value} for configuration ${key}: Expected true or false`;
    case 'list':
      if (def.oneOf !== undefined) {
        const parts = v.split(',').map((s) => s.trim());
        for (const p of parts) {
          if (!def.oneOf.includes(p))
            return `Invalid value ${value} for configuration ${key}: must be among ${def.oneOf.join(', ')}`;
        }
      }
      return null;
    default:
      if (def.oneOf !== undefined && !def.oneOf.includes(v)) {
        return `Invalid value ${value} for configuration ${key}: String must be one of: ${def.oneOf.join(', ')}`;
      }
      return null;
  }
}

export type ConfigSource = 'TOPIC_CONFIG' | BrokerConfigSource;

export interface ResolvedConfig {
  name: string;
  value: string;
  source: ConfigSource;
  synonyms: { name: string; value: string; source: ConfigSource }[];
}

/** The broker-side default of a topic config (broker synonym or literal default). */
export function brokerDefault(
  broker: BrokerConfig,
  key: string,
): { value: string; source: ConfigSource; brokerKey: string | null } {
  const def = topicConfigDefinitions[key];
  if (def === undefined) throw new Error(`unknown topic config ${key}`);
  if (def.synonym !== null) {
    if (def.synonym === 'log.retention.ms') {
      return {
        value: String(broker.retentionMs()),
        source: sourceOf(broker, ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']),
        brokerKey: 'log.retention.ms',
      };
    }
    if (def.synonym === 'log.roll.ms') {
      return {
        value: String(broker.rollMs()),
        source: sourceOf(broker, ['log.roll.ms', 'log.roll.hours']),
        brokerKey: 'log.roll.ms',
      };
    }
    if (def.synonym === 'log.flush.interval.ms') {
      const v = broker.flushIntervalMs();
      return {
        value: v >= Number.MAX_SAFE_INTEGER ? LONG_MAX : String(v),
        source: sourceOf(broker, ['log.flush.interval.ms']),
        brokerKey: def.synonym,
      };
    }
    const v = broker.get(def.synonym);
    if (v !== null) return { value: v, source: sourceOf(broker, [def.synonym]), brokerKey: def.synonym };
  }
  return { value: def.default, source: 'DEFAULT_CONFIG', brokerKey: null };
}

/** The highest-precedence source among a broker key's synonyms. */
function sourceOf(broker: BrokerConfig, keys: string[]): BrokerConfigSource {
  const order: BrokerConfigSource[] = [
    'DYNAMIC_BROKER_CONFIG',
    'DYNAMIC_DEFAULT_BROKER_CONFIG',
    'STATIC_BROKER_CONFIG',
    'DEFAULT_CONFIG',
  ];
  const found = new Set(keys.map((k) => broker.sourceOf(k)));
  return order.find((s) => found.has(s)) ?? 'DEFAULT_CONFIG';
}

/** Every topic config with its effective value and where it came from. */
export function resolveTopicConfigs(
  broker: BrokerConfig,
  overrides: Readonly<Record<string, string>>,
): ResolvedConfig[] {
  const out: ResolvedConfig[] = [];
  for (const key of Object.keys(topicConfigDefinitions).sort()) {
    const base = brokerDefault(broker, key);
    const synonyms: ResolvedConfig['synonyms'] = [];
    const override = overrides[key];
    if (override !== undefined) synonyms.push({ name: key, value: override, source: 'TOPIC_CONFIG' });
    if (base.brokerKey !== null) {
      // Kafka's order: this broker's dynamic value, the cluster-wide dynamic default, the static value.
      const k = base.brokerKey;
      const perBroker = broker.dynamicBrokerConfigs().get(k);
      if (perBroker !== undefined)
        synonyms.push({ name: k, value: perBroker, source: 'DYNAMIC_BROKER_CONFIG' });
      const clusterDefault = broker.dynamicDefaultConfigs().get(k);
      if (clusterDefault !== undefined) {
        synonyms.push({ name: k, value: clusterDefault, source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' });
      }
      const stat = brokerDefault(broker.withoutDynamic(), key);
      if (stat.source === 'STATIC_BROKER_CONFIG')
        synonyms.push({ name: k, value: stat.value, source: stat.source });
    }
    synonyms.push({
      name: base.brokerKey ?? key,
      value: topicConfigDefinitions[key]?.default ?? base.value,
      source: 'DEFAULT_CONFIG',
    });
    out.push(
      override !== undefined
        ? { name: key, value: override, source: 'TOPIC_CONFIG', synonyms }
        : { name: key, value: base.value, source: base.source, synonyms },
    );
  }
  return out;
}

/** The effective value of one topic config. */
export function topicConfigValue(
  broker: BrokerConfig,
  overrides: Readonly<Record<string, string>>,
  key: string,
): string {
  return overrides[key] ?? brokerDefault(broker, key).value;
}
