// Group configs (KIP-848, Kafka's GroupConfig): the GROUP config resource (type 32) of DescribeConfigs,
// AlterConfigs and IncrementalAlterConfigs. A group stores only its overrides; the default of each key is the
// broker's group.consumer.* synonym. The values are persisted and described; KIP-848 consumer groups read them
// when a member joins (src/coordinator/group/consumer/heartbeat.ts); classic groups take their session timeout
// from JoinGroup, as in Kafka.

import { ErrorCode } from '../protocol/errors.js';
import type { BrokerConfig, BrokerConfigSource } from './broker-config.js';

export const groupConfigDefinitions: Record<string, { synonym: string; min: string; max: string }> = {
  'consumer.session.timeout.ms': {
    synonym: 'group.consumer.session.timeout.ms',
    min: 'group.consumer.min.session.timeout.ms',
    max: 'group.consumer.max.session.timeout.ms',
  },
  'consumer.heartbeat.interval.ms': {
    synonym: 'group.consumer.heartbeat.interval.ms',
    min: 'group.consumer.min.heartbeat.interval.ms',
    max: 'group.consumer.max.heartbeat.interval.ms',
  },
};

export type GroupConfigSource = 'GROUP_CONFIG' | BrokerConfigSource;

/**
 * Checks a group's complete new override set (Kafka's GroupConfig.validate) and returns it normalized, or
 * INVALID_CONFIG with Kafka's message.
 */
export function validateGroupConfigs(
  config: BrokerConfig,
  next: Readonly<Record<string, string>>,
): { configs: Record<string, string> } | { problem: { errorCode: number; errorMessage: string } } {
  const refuse = (errorMessage: string) => ({
    problem: { errorCode: ErrorCode.INVALID_CONFIG, errorMessage },
  });
  const out: Record<string, string> = {};
  for (const [k, raw] of Object.entries(next)) {
    const def = groupConfigDefinitions[k];
    if (def === undefined) return refuse(`Unknown group config name: ${k}`);
    const v = raw.trim();
    if (!/^-?\d+$/.test(v) || Math.abs(Number(v)) > 2147483647) {
      return refuse(`Invalid value ${raw} for configuration ${k}: Not a number of type INT`);
    }
    if (Number(v) < config.int(def.min)) {
      return refuse(`${k} must be greater than or equal to ${def.min}`);
    }
    if (Number(v) > config.int(def.max)) return refuse(`${k} must be less than or equal to ${def.max}`);
    out[k] = v;
  }
  const session = Number(
    out['consumer.session.timeout.ms'] ?? config.int('group.consumer.session.timeout.ms'),
  );
  const heartbeat = Number(
    out['consumer.heartbeat.interval.ms'] ?? config.int('group.consumer.heartbeat.interval.ms'),
  );
  if (heartbeat >= session) {
    return refuse('consumer.heartbeat.interval.ms must be less than consumer.session.timeout.ms');
  }
  return { configs: out };
}

export interface ResolvedGroupConfig {
  name: string;
  value: string;
  source: GroupConfigSource;
  synonyms: { name: string; value: string; source: GroupConfigSource }[];
}

/** Every group config with its effective value: the group's override, else the broker's synonym. */
export function resolveGroupConfigs(
  config: BrokerConfig,
  overrides: Readonly<Record<string, string>>,
): ResolvedGroupConfig[] {
  return Object.entries(groupConfigDefinitions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, def]) => {
      const brokerSource = config.sourceOf(def.synonym);
      const synonyms: ResolvedGroupConfig['synonyms'] = [];
      const override = overrides[name];
      if (override !== undefined) synonyms.push({ name, value: override, source: 'GROUP_CONFIG' });
      synonyms.push({ name: def.synonym, value: config.string(def.synonym), source: brokerSource });
      return override !== undefined
        ? { name, value: override, source: 'GROUP_CONFIG' as const, synonyms }
        : { name, value: config.string(def.synonym), source: brokerSource, synonyms };
    });
}
