// Topic administration as the admin APIs see it (CreateTopics, DeleteTopics, CreatePartitions,
// AlterConfigs) and the producer-id blocks, whatever keeps the cluster's metadata: the local controller
// of a single node (local-controller.ts) or ZooKeeper (zk/zk-admin.ts). The checks every backend applies
// the same way are here: topic names, partition counts, replication factors, explicit assignments and
// configs, with Kafka's error codes and messages.

import type { BrokerConfig } from '../config/broker-config.js';
import {
  effectiveConfigProblem,
  RELOADABLE_SSL_KEY,
  validateDynamicBrokerConfigs,
} from '../config/dynamic-broker-config.js';
import { validateGroupConfigs } from '../config/group-config.js';
import { validateTopicConfig } from '../config/topic-config.js';
import * as limits from '../limits.js';
import { ErrorCode } from '../protocol/errors.js';
import type { AclEntry, ResourcePattern } from '../security/acl.js';
import { tlsReloadProblem } from '../security/tls-reload.js';
import { validateLogConfig } from '../storage/config.js';
import { AssignmentError, assignReplicas, type BrokerRack } from './assignment.js';
import { logConfigFor } from './log-configs.js';

export interface CreateTopicSpec {
  name: string;
  /** -1: num.partitions (or the explicit assignment's size). */
  numPartitions: number;
  /** -1: default.replication.factor (or the explicit assignment's). */
  replicationFactor: number;
  /** Explicit replica lists by partition; empty to let the cluster choose. */
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: Record<string, string>;
}

export interface TopicOutcome {
  name: string;
  errorCode: number;
  errorMessage: string | null;
  topicId?: string;
  numPartitions?: number;
  replicationFactor?: number;
}

export interface ConfigChange {
  key: string;
  value: string | null;
  op: 'set' | 'delete';
}

export interface ConfigOutcome {
  errorCode: number;
  errorMessage: string | null;
}

/** An entity's config set after a request's changes (non-incremental: the changes replace the set). */
export function mergeConfigChanges(
  current: Readonly<Record<string, string>>,
  changes: readonly ConfigChange[],
  incremental: boolean,
): Record<string, string> {
  const next: Record<string, string> = incremental ? { ...current } : {};
  for (const c of changes) {
    if (c.op === 'delete' || c.value === null) delete next[c.key];
    else next[c.key] = c.value;
  }
  return next;
}

/** The new dynamic config set of a BROKER entity, checked against the keys and the effective configuration. */
export function planBrokerConfigs(
  config: BrokerConfig,
  brokerId: number | null,
  current: Readonly<Record<string, string>>,
  changes: readonly ConfigChange[],
  incremental: boolean,
): { configs: Record<string, string> } | { refused: ConfigOutcome } {
  const checked = validateDynamicBrokerConfigs(brokerId, mergeConfigChanges(current, changes, incremental));
  if ('problem' in checked) return { refused: checked.problem };
  const perBroker = brokerId === null ? Object.fromEntries(config.dynamicBrokerConfigs()) : checked.configs;
  const clusterDefault =
    brokerId === null ? checked.configs : Object.fromEntries(config.dynamicDefaultConfigs());
  const next = config.withDynamic(perBroker, clusterDefault);
  const problem =
    effectiveConfigProblem(next) ??
    // New TLS material (even under the same file name) must load before it is stored.
    (changes.some((c) => RELOADABLE_SSL_KEY.test(c.key)) ? tlsReloadProblem(config, next) : null);
  if (problem !== null) return { refused: { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem } };
  return checked;
}

/** The new config overrides of a GROUP entity, checked. */
export function planGroupConfigs(
  config: BrokerConfig,
  current: Readonly<Record<string, string>>,
  changes: readonly ConfigChange[],
  incremental: boolean,
): { configs: Record<string, string> } | { refused: ConfigOutcome } {
  const checked = validateGroupConfigs(config, mergeConfigChanges(current, changes, incremental));
  return 'problem' in checked ? { refused: checked.problem } : checked;
}

export interface CreatePartitionsSpec {
  name: string;
  count: number;
  /** Replica lists for the new partitions only, or null to let the cluster choose. */
  assignments: number[][] | null;
}

/** What the admin APIs ask of the cluster's metadata. Every call resolves; failures are error codes. */
export interface ClusterAdmin {
  createTopics(specs: CreateTopicSpec[], validateOnly: boolean, timeoutMs: number): Promise<TopicOutcome[]>;
  deleteTopics(names: string[], timeoutMs: number): Promise<TopicOutcome[]>;
  createPartitions(
    specs: CreatePartitionsSpec[],
    validateOnly: boolean,
    timeoutMs: number,
  ): Promise<TopicOutcome[]>;
  alterTopicConfigs(
    name: string,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<TopicOutcome>;
  /**
   * BROKER resource: this broker's dynamic configs (brokerId = this broker's id) or the cluster-wide default
   * (null). Checked (dynamic-broker-config.ts), persisted, then applied by every broker it concerns.
   */
  alterBrokerConfigs(
    brokerId: number | null,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<ConfigOutcome>;
  /** GROUP resource (KIP-848 group configs): checked (group-config.ts) and persisted. */
  alterGroupConfigs(
    group: string,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<ConfigOutcome>;
  /** A group's config overrides ({} for none). */
  groupConfigs(group: string): Promise<Record<string, string>>;
  /** The groups that have config overrides (ListConfigResources), sorted. */
  configuredGroups(): Promise<string[]>;
  /** Reserves a block of producer ids unique in the cluster; resolves with its first id. */
  allocateProducerIds(count: number): Promise<number>;
  /**
   * USER entities (Kafka's /config/users/<user>): configs by key, SCRAM credentials under the mechanism's name
   * ("SCRAM-SHA-256": "salt=...,stored_key=...,server_key=...,iterations=..."). {} for none.
   */
  userConfigs(user: string): Promise<Record<string, string>>;
  /** Every user entity with configs. */
  userNames(): Promise<string[]>;
  /**
   * Replaces a user's configs (empty removes the entity); every broker's SCRAM credentials follow (this one's
   * before the promise resolves).
   */
  putUserConfigs(user: string, configs: Record<string, string>): Promise<void>;
  /**
   * Replaces a client quota entity's quota values (security/client-quotas.ts; its entity path, e.g.
   * "users/alice/clients/<default>"); other keys of the entity (a user's SCRAM credentials) are kept. Every broker's
   * quota cache follows (this one's before the promise resolves).
   */
  putQuotaConfigs(path: string, quotas: Record<string, string>): Promise<void>;
  /**
   * Replaces a resource pattern's ACLs with update(current) (Kafka's /kafka-acl znodes in ZooKeeper, retried
   * when another broker changed them meanwhile); every broker's authorizer follows (this one's before the
   * promise resolves). Rejects when the change could not be stored.
   */
  updateAcls(pattern: ResourcePattern, update: (current: AclEntry[]) => AclEntry[]): Promise<void>;
}

const legalTopicName = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules; returns the reason a name is invalid, or null. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > limits.topicNameLengthMax) {
    return `Topic name is illegal, it can't be longer than ${limits.topicNameLengthMax} characters`;
  }
  if (!legalTopicName.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

export function outcome(name: string, errorCode: number, errorMessage: string | null = null): TopicOutcome {
  return { name, errorCode, errorMessage };
}

/** A topic to create, checked and with its replicas chosen. */
export interface PlannedTopic {
  name: string;
  /** Replica list per partition. */
  assignment: number[][];
  configs: Record<string, string>;
}

/** Validates a CreateTopics entry against the live brokers and existing names; plans its replica assignment. */
export function planTopic(
  spec: CreateTopicSpec,
  config: BrokerConfig,
  existing: Iterable<string>,
  liveBrokers: readonly BrokerRack[],
): PlannedTopic | TopicOutcome {
  const name = spec.name;
  const problem = topicNameProblem(name);
  if (problem !== null) return outcome(name, ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  const collide = name.replace(/\./g, '_');
  for (const t of existing) {
    if (t === name) return outcome(name, ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    if (t.replace(/\./g, '_') === collide) {
      return outcome(
        name,
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `Topic '${name}' collides with existing topic: ${t}`,
      );
    }
  }
  for (const [k, v] of Object.entries(spec.configs)) {
    const err = validateTopicConfig(k, v);
    if (err !== null) return outcome(name, ErrorCode.INVALID_CONFIG, err);
  }
  const logProblems = validateLogConfig(logConfigFor(config, spec.configs));
  if (logProblems.length > 0) return outcome(name, ErrorCode.INVALID_CONFIG, logProblems.join('; '));
  const live = new Set(liveBrokers.map((b) => b.id));
  if (spec.assignments.length > 0) {
    if (spec.numPartitions !== -1 || spec.replicationFactor !== -1) {
      return outcome(
        name,
        ErrorCode.INVALID_REQUEST,
        'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
      );
    }
    const sorted = [...spec.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
    const assignment: number[][] = [];
    for (let i = 0; i < sorted.length; i++) {
      const a = sorted[i] as { partitionIndex: number; brokerIds: number[] };
      if (a.partitionIndex !== i) {
        return outcome(
          name,
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          'Partitions should be a consecutive 0-based integer sequence',
        );
      }
      const err = replicaListProblem(
        a.brokerIds,
        live,
        (sorted[0] as { brokerIds: number[] }).brokerIds.length,
      );
      if (err !== null) return outcome(name, ErrorCode.INVALID_REPLICA_ASSIGNMENT, err);
      assignment.push([...a.brokerIds]);
    }
    if (assignment.length > limits.partitionsPerTopicMax) {
      return outcome(
        name,
        ErrorCode.INVALID_PARTITIONS,
        `At most ${limits.partitionsPerTopicMax} partitions.`,
      );
    }
    return { name, assignment, configs: spec.configs };
  }
  const partitions = spec.numPartitions === -1 ? config.int('num.partitions') : spec.numPartitions;
  if (partitions < 1 || partitions > limits.partitionsPerTopicMax) {
    return outcome(
      name,
      ErrorCode.INVALID_PARTITIONS,
      `Number of partitions must be between 1 and ${limits.partitionsPerTopicMax}; got ${partitions}.`,
    );
  }
  const rf =
    spec.replicationFactor === -1 ? config.int('default.replication.factor') : spec.replicationFactor;
  if (rf < 1)
    return outcome(name, ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
  try {
    return { name, assignment: assignReplicas(liveBrokers, partitions, rf), configs: spec.configs };
  } catch (err) {
    return outcome(
      name,
      ErrorCode.INVALID_REPLICATION_FACTOR,
      err instanceof AssignmentError ? err.message : String(err),
    );
  }
}

/** Checks one explicit replica list: known live brokers, no duplicates, the same size as the others. */
export function replicaListProblem(
  ids: readonly number[],
  live: ReadonlySet<number>,
  expectedSize: number,
): string | null {
  if (ids.length === 0) return 'Replica list must not be empty.';
  if (new Set(ids).size !== ids.length)
    return `Duplicate brokers not allowed in replica assignment: ${ids.join(', ')}.`;
  if (ids.length !== expectedSize) return 'All partitions should have the same number of replicas.';
  const unknown = ids.filter((id) => !live.has(id));
  if (unknown.length > 0) return `Unknown broker(s) in replica assignment: ${unknown.join(', ')}.`;
  return null;
}

/** Checks a CreatePartitions entry; returns the replica lists of the new partitions or an outcome. */
export function planPartitions(
  spec: CreatePartitionsSpec,
  current: readonly (readonly number[])[],
  liveBrokers: readonly BrokerRack[],
): number[][] | TopicOutcome {
  const name = spec.name;
  const n = current.length;
  if (spec.count < n) {
    return outcome(
      name,
      ErrorCode.INVALID_PARTITIONS,
      `Topic currently has ${n} partitions, which is higher than the requested ${spec.count}.`,
    );
  }
  if (spec.count === n)
    return outcome(name, ErrorCode.INVALID_PARTITIONS, `Topic already has ${n} partitions.`);
  if (spec.count > limits.partitionsPerTopicMax) {
    return outcome(name, ErrorCode.INVALID_PARTITIONS, `At most ${limits.partitionsPerTopicMax} partitions.`);
  }
  const rf = current[0]?.length ?? 1;
  const live = new Set(liveBrokers.map((b) => b.id));
  if (spec.assignments !== null) {
    if (spec.assignments.length !== spec.count - n) {
      return outcome(
        name,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Increasing the number of partitions by ${spec.count - n} but ${spec.assignments.length} assignments provided.`,
      );
    }
    for (const ids of spec.assignments) {
      const err = replicaListProblem(ids, live, rf);
      if (err !== null) return outcome(name, ErrorCode.INVALID_REPLICA_ASSIGNMENT, err);
    }
    return spec.assignments.map((a) => [...a]);
  }
  try {
    // Kafka continues the existing assignment's pattern: the first new partition is led by the broker after
    // the leader of partition 0 (AdminZkClient.createPartitions uses its start index).
    const ids = [...live].sort((a, b) => a - b);
    const leader0 = current[0]?.[0];
    const startIndex = leader0 === undefined ? undefined : Math.max(0, ids.indexOf(leader0));
    return assignReplicas(liveBrokers, spec.count - n, rf, {
      ...(startIndex === undefined ? {} : { startIndex }),
      firstPartition: n,
    });
  } catch (err) {
    return outcome(
      name,
      ErrorCode.INVALID_REPLICATION_FACTOR,
      err instanceof AssignmentError ? err.message : String(err),
    );
  }
}

/** Applies config changes to a topic's overrides: the new overrides, or the refusal of an invalid change. */
export function applyConfigChanges(
  name: string,
  current: Readonly<Record<string, string>>,
  changes: readonly ConfigChange[],
  incremental: boolean,
  config: BrokerConfig,
): { configs: Record<string, string> } | { refused: TopicOutcome } {
  const next: Record<string, string> = incremental ? { ...current } : {};
  for (const c of changes) {
    const err = validateTopicConfig(c.key, c.value);
    if (err !== null) return { refused: outcome(name, ErrorCode.INVALID_CONFIG, err) };
    if (c.op === 'delete' || c.value === null) delete next[c.key];
    else next[c.key] = c.value.trim();
  }
  const logProblems = validateLogConfig(logConfigFor(config, next));
  if (logProblems.length > 0)
    return { refused: outcome(name, ErrorCode.INVALID_CONFIG, logProblems.join('; ')) };
  return { configs: next };
}
