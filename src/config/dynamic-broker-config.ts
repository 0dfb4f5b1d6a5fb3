// Dynamic broker configs (Kafka's DynamicBrokerConfig): the BROKER config resource of AlterConfigs /
// IncrementalAlterConfigs, per broker (resource name = the broker id) or cluster-wide (resource name '').
// Only keys Kafka lets change at runtime are accepted, and of those only the ones Samsa applies at runtime
// (or already accepts and ignores, like the thread counts); the rest are refused with Kafka's messages.
// Persisted by the cluster's metadata backend (ZooKeeper /config/brokers/<id> and /config/brokers/<default>,
// or the single node's metadata store) and applied by BrokerConfig.setDynamic.
//
// Applied at runtime: the log.* topic defaults (every topic without its own override picks the new value up
// at once), message.max.bytes, min.insync.replicas, compression.type, max.connections,
// max.connections.per.ip, max.connection.creation.rate (and per broker listener.name.<l>.max.connection.creation.rate).
// Accepted and ignored (as in server.properties): num.io.threads,
// num.network.threads, num.replica.fetchers, num.recovery.threads.per.data.dir, log.cleaner.threads.
// Per broker only, the TLS key and trust stores (RELOADABLE_SSL_KEY): the listeners' certificates are reloaded
// (src/security/tls-reload.ts).

import { ErrorCode } from '../protocol/errors.js';
import { type BrokerConfig, ConfigError, validateBrokerValue } from './broker-config.js';
import { isSensitiveKey } from './security-config.js';

/** The entity name Kafka uses for the cluster-wide default (ZooKeeper's /config/brokers/<default>). */
export const DEFAULT_BROKER_ENTITY = '<default>';

/** Kafka-dynamic keys Samsa applies at runtime (DynamicLogConfig, SocketServer, LogCleaner). */
export const appliedDynamicKeys: ReadonlySet<string> = new Set([
  'log.segment.bytes',
  'log.roll.ms',
  'log.index.size.max.bytes',
  'log.index.interval.bytes',
  'log.flush.interval.messages',
  'log.flush.interval.ms',
  'log.retention.bytes',
  'log.retention.ms',
  'log.cleanup.policy',
  'log.cleaner.delete.retention.ms',
  'log.cleaner.min.compaction.lag.ms',
  'log.cleaner.max.compaction.lag.ms',
  'log.cleaner.min.cleanable.ratio',
  'log.segment.delete.delay.ms',
  'log.message.timestamp.type',
  'log.message.timestamp.before.max.ms',
  'log.message.timestamp.after.max.ms',
  'message.max.bytes',
  'min.insync.replicas',
  'compression.type',
  'max.connections',
  'max.connections.per.ip',
  'max.connection.creation.rate',
]);

/** A listener's own connection creation rate (per broker only, as Kafka's listener configs). */
export const LISTENER_CONNECTION_RATE_KEY = /^listener\.name\.[a-z0-9_]+\.max\.connection\.creation\.rate$/;

/**
 * Kafka's reconfigurable SSL keys (DynamicBrokerConfig.ReconfigurableSslConfigs), plain or listener-prefixed:
 * altering one (per broker) reloads the TLS listeners' certificates and trusted CAs.
 */
export const RELOADABLE_SSL_KEY =
  /^(listener\.name\.[a-z0-9_]+\.)?ssl\.(keystore\.(type|location|password|key|certificate\.chain)|key\.password|truststore\.(type|location|password|certificates))$/;

/** Kafka-dynamic thread counts Samsa has no use for: stored and described, no effect (as statically). */
export const ignoredDynamicKeys: ReadonlySet<string> = new Set([
  'num.io.threads',
  'num.network.threads',
  'num.replica.fetchers',
  'num.recovery.threads.per.data.dir',
  'log.cleaner.threads',
]);

/** Kafka's per-broker-only dynamic keys (listener configs): refused at the cluster-wide level with Kafka's message. */
const perBrokerOnly =
  /^(listeners|advertised\.listeners|listener\.security\.protocol\.map|listener\.name\..*|ssl\..*|sasl\..*)$/;

/** Kafka's brokerConfigSynonyms: the keys that set the same thing, in precedence order. */
export function brokerConfigSynonyms(name: string): string[] {
  switch (name) {
    case 'log.roll.ms':
    case 'log.roll.hours':
      return ['log.roll.ms', 'log.roll.hours'];
    case 'log.flush.interval.ms':
      return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'];
    case 'log.retention.ms':
    case 'log.retention.minutes':
    case 'log.retention.hours':
      return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
    default:
      return [name];
  }
}

/** Whether Kafka (and Samsa) let `key` change at runtime; DescribeConfigs' readOnly is its negation. */
export function isDynamicBrokerKey(key: string): boolean {
  return (
    RELOADABLE_SSL_KEY.test(key) ||
    LISTENER_CONNECTION_RATE_KEY.test(key) ||
    brokerConfigSynonyms(key).some((k) => appliedDynamicKeys.has(k) || ignoredDynamicKeys.has(k))
  );
}

/** Scala's Set(...) rendering, as Kafka's messages print key sets. */
function scalaSet(keys: readonly string[]): string {
  return `Set(${keys.join(', ')})`;
}

export interface ConfigProblem {
  errorCode: number;
  errorMessage: string;
}

/**
 * Checks the complete new dynamic config set of a BROKER resource (per broker when `brokerId` is a number,
 * the cluster-wide default when null) and returns it normalized, or the problem as Kafka reports it
 * (ZkAdminManager: INVALID_REQUEST "Invalid config value for resource ...: <reason>").
 */
export function validateDynamicBrokerConfigs(
  brokerId: number | null,
  next: Readonly<Record<string, string>>,
): { configs: Record<string, string> } | { problem: ConfigProblem } {
  const resource = `ConfigResource(type=BROKER, name='${brokerId === null ? '' : String(brokerId)}')`;
  const refuse = (why: string): { problem: ConfigProblem } => ({
    problem: {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Invalid config value for resource ${resource}: ${why}`,
    },
  });
  const keys = Object.keys(next).sort();
  if (brokerId === null) {
    const perBroker = keys.filter((k) => perBrokerOnly.test(k));
    if (perBroker.length > 0) {
      return refuse(
        `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(perBroker)}`,
      );
    }
  }
  const notDynamic = keys.filter(
    (k) =>
      !appliedDynamicKeys.has(k) &&
      !ignoredDynamicKeys.has(k) &&
      !RELOADABLE_SSL_KEY.test(k) &&
      !LISTENER_CONNECTION_RATE_KEY.test(k),
  );
  if (notDynamic.length > 0) {
    const kafkaDynamicHere = notDynamic.filter((k) => perBrokerOnly.test(k));
    return refuse(
      `Cannot update these configs dynamically: ${scalaSet(notDynamic)}` +
        (kafkaDynamicHere.length > 0
          ? ' (Samsa binds its listeners at start-up: change server.properties)'
          : ''),
    );
  }
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = next[k] as string;
    if (ignoredDynamicKeys.has(k)) {
      if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || Number(v) > 2147483647) {
        return refuse(`Invalid value ${v} for configuration ${k}: Value must be at least 1`);
      }
      out[k] = v.trim();
      continue;
    }
    try {
      out[k] = validateBrokerValue(k, v);
    } catch (err) {
      const why = err instanceof ConfigError ? err.message.slice(k.length + 2) : String(err);
      return refuse(`Invalid value ${isSensitiveKey(k) ? '[hidden]' : v} for configuration ${k}: ${why}`);
    }
  }
  return { configs: out };
}

/**
 * Checks the effective configuration that the new dynamic layers would give (cross-key rules of
 * BrokerConfig.check that a dynamic key takes part in); returns the problem or null.
 */
export function effectiveConfigProblem(effective: BrokerConfig): string | null {
  if (effective.int('message.max.bytes') > effective.int('socket.request.max.bytes')) {
    return `message.max.bytes (${effective.int('message.max.bytes')}) must not exceed socket.request.max.bytes (${effective.int('socket.request.max.bytes')})`;
  }
  return null;
}

/**
 * Reads a stored dynamic config set leniently (start-up, notifications): keys that are not dynamic or whose
 * value is invalid (written by another Kafka-compatible tool, edited by hand) are dropped with a reason each,
 * as Kafka logs and ignores them.
 */
export function loadDynamicBrokerConfigs(
  brokerId: number | null,
  stored: Readonly<Record<string, string>>,
): { configs: Record<string, string>; dropped: string[] } {
  const configs: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(stored)) {
    const r = validateDynamicBrokerConfigs(brokerId, { [k]: v });
    if ('problem' in r) dropped.push(r.problem.errorMessage);
    else Object.assign(configs, r.configs);
  }
  return { configs, dropped };
}
