// Admin requests on a Cluster (client/cluster.ts), for the CLI, the perf tools and tests. Each function
// sends one request to the bootstrap broker (the only broker of a single-node cluster; Kafka routes these
// to the controller, which Samsa's broker also is) and throws KafkaError for an error code.
//
//   await createTopic(cluster, 'orders', { partitions: 3, configs: { 'retention.ms': '60000' } });
//   await deleteTopic(cluster, 'orders');
//   await createPartitions(cluster, 'orders', 6);
//   const configs = await describeConfigs(cluster, ResourceType.TOPIC, 'orders');   // [{ name, value, source, ... }]
//   await alterConfigs(cluster, ResourceType.TOPIC, 'orders', { set: { 'retention.ms': '1000' }, delete: [] });
//   const sizes = await logDirSizes(cluster, ['orders']);   // Map 'orders' -> Map partition -> bytes
//   const low = await deleteRecords(cluster, 'orders', 0, 100);   // new log start offset
//   const errs = await alterPartitionReassignments(cluster, [{ topic: 'orders', partition: 0, replicas: [2, 3] }]);
//   const moving = await listPartitionReassignments(cluster, null);   // [{ topic, partition, replicas, adding, removing }]
//   const results = await electLeaders(cluster, ElectionType.PREFERRED, null);   // [{ topic, partition, errorCode, message }]
// The last three go to the active controller (Cluster.controllerRequest), as Kafka's admin client sends them.

import { ErrorCode } from '../protocol/errors.js';
import type { AlterPartitionReassignmentsResponse } from '../protocol/generated/alter-partition-reassignments-response.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { CreatePartitionsResponse } from '../protocol/generated/create-partitions-response.js';
import type { CreateTopicsResponse } from '../protocol/generated/create-topics-response.js';
import type { DeleteRecordsResponse } from '../protocol/generated/delete-records-response.js';
import type { DeleteTopicsResponse } from '../protocol/generated/delete-topics-response.js';
import type { DescribeConfigsResponse } from '../protocol/generated/describe-configs-response.js';
import type { DescribeLogDirsResponse } from '../protocol/generated/describe-log-dirs-response.js';
import type { ElectLeadersResponse } from '../protocol/generated/elect-leaders-response.js';
import type { IncrementalAlterConfigsResponse } from '../protocol/generated/incremental-alter-configs-response.js';
import type { ListPartitionReassignmentsResponse } from '../protocol/generated/list-partition-reassignments-response.js';
import { type Cluster, check, KafkaError } from './cluster.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Kafka's ConfigSource names by wire id. */
export const ConfigSourceName: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
};

export interface CreateTopicOptions {
  /** -1 = the broker's num.partitions. */
  partitions?: number;
  /** -1 = the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
  validateOnly?: boolean;
  timeoutMs?: number;
}

export async function createTopic(
  cluster: Cluster,
  name: string,
  opts: CreateTopicOptions = {},
): Promise<{ topicId: string; partitions: number }> {
  const res = await cluster.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
    topics: [
      {
        name,
        numPartitions: opts.partitions ?? -1,
        replicationFactor: opts.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(opts.configs ?? {}).map(([k, v]) => ({ name: k, value: v })),
      },
    ],
    timeoutMs: opts.timeoutMs ?? 30_000,
    validateOnly: opts.validateOnly ?? false,
  });
  const t = res.topics[0];
  if (t === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'empty CreateTopics response');
  check(t.errorCode, t.errorMessage);
  return { topicId: t.topicId, partitions: t.numPartitions };
}

export async function deleteTopic(cluster: Cluster, name: string, timeoutMs = 30_000): Promise<void> {
  const res = await cluster.request<DeleteTopicsResponse>(ApiKey.DeleteTopics, {
    topicNames: [name],
    topics: [{ name, topicId: '0'.repeat(32) }],
    timeoutMs,
  });
  const t = res.responses[0];
  if (t === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'empty DeleteTopics response');
  check(t.errorCode, t.errorMessage);
}

export async function createPartitions(
  cluster: Cluster,
  name: string,
  count: number,
  validateOnly = false,
): Promise<void> {
  const res = await cluster.request<CreatePartitionsResponse>(ApiKey.CreatePartitions, {
    topics: [{ name, count, assignments: null }],
    timeoutMs: 30_000,
    validateOnly,
  });
  const t = res.results[0];
  if (t === undefined)
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'empty CreatePartitions response');
  check(t.errorCode, t.errorMessage);
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  /** Kafka's source name, e.g. DYNAMIC_TOPIC_CONFIG. */
  source: string;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: string }[];
}

export async function describeConfigs(
  cluster: Cluster,
  resourceType: number,
  resourceName: string,
  keys: string[] | null = null,
): Promise<ConfigEntry[]> {
  const res = await cluster.request<DescribeConfigsResponse>(ApiKey.DescribeConfigs, {
    resources: [{ resourceType, resourceName, configurationKeys: keys }],
    includeSynonyms: true,
    includeDocumentation: false,
  });
  const r = res.results[0];
  if (r === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'empty DescribeConfigs response');
  check(r.errorCode, r.errorMessage);
  return r.configs.map((c) => ({
    name: c.name,
    value: c.value,
    readOnly: c.readOnly,
    // v1+ replaced isDefault with configSource (5 = DEFAULT_CONFIG).
    isDefault: c.isDefault || c.configSource === 5,
    source: ConfigSourceName[c.configSource] ?? String(c.configSource),
    isSensitive: c.isSensitive,
    synonyms: c.synonyms.map((s) => ({
      name: s.name,
      value: s.value,
      source: ConfigSourceName[s.source] ?? String(s.source),
    })),
  }));
}

/** IncrementalAlterConfigs: SET for `set`, DELETE (back to the default) for `delete`. */
export async function alterConfigs(
  cluster: Cluster,
  resourceType: number,
  resourceName: string,
  changes: { set?: Record<string, string>; delete?: string[] },
  validateOnly = false,
): Promise<void> {
  const configs = [
    ...Object.entries(changes.set ?? {}).map(([name, value]) => ({ name, configOperation: 0, value })),
    ...(changes.delete ?? []).map((name) => ({ name, configOperation: 1, value: null })),
  ];
  const res = await cluster.request<IncrementalAlterConfigsResponse>(ApiKey.IncrementalAlterConfigs, {
    resources: [{ resourceType, resourceName, configs }],
    validateOnly,
  });
  const r = res.responses[0];
  if (r === undefined)
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'empty IncrementalAlterConfigs response');
  check(r.errorCode, r.errorMessage);
}

/** Size on disk of each partition of the given topics (null = all), summed over log dirs. */
export async function logDirSizes(
  cluster: Cluster,
  topics: string[] | null,
): Promise<Map<string, Map<number, number>>> {
  const meta = topics === null ? null : await cluster.metadata(topics);
  const res = await cluster.request<DescribeLogDirsResponse>(ApiKey.DescribeLogDirs, {
    topics:
      meta === null
        ? null
        : meta.map((t) => ({ topic: t.name, partitions: t.partitions.map((p) => p.partition) })),
  });
  check(res.errorCode);
  const out = new Map<string, Map<number, number>>();
  for (const dir of res.results) {
    if (dir.errorCode !== ErrorCode.NONE) continue;
    for (const t of dir.topics) {
      const m = out.get(t.name) ?? new Map<number, number>();
      for (const p of t.partitions) m.set(p.partitionIndex, (m.get(p.partitionIndex) ?? 0) + p.partitionSize);
      out.set(t.name, m);
    }
  }
  return out;
}

/** DeleteRecords: moves the partition's log start offset to `before` (-1 = the high watermark). */
export async function deleteRecords(
  cluster: Cluster,
  topic: string,
  partition: number,
  before: number,
): Promise<number> {
  const conn = await cluster.leaderFor(topic, partition);
  const res = await conn.request<DeleteRecordsResponse>(ApiKey.DeleteRecords, {
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset: before }] }],
    timeoutMs: 30_000,
  });
  const p = res.topics[0]?.partitions[0];
  if (p === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'empty DeleteRecords response');
  check(p.errorCode, `${topic}-${partition} offset ${before}`);
  return p.lowWatermark;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Groups topic-partitions by topic, in first-seen order. */
function byTopic<T extends TopicPartition>(parts: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const p of parts) {
    const list = out.get(p.topic) ?? [];
    list.push(p);
    out.set(p.topic, list);
  }
  return out;
}

/**
 * AlterPartitionReassignments on the controller: moves each partition to `replicas`, or cancels its move in
 * progress (`replicas` null). Returns the partitions that were refused, `topic-partition` -> KafkaError.
 */
export async function alterPartitionReassignments(
  cluster: Cluster,
  moves: readonly (TopicPartition & { replicas: number[] | null })[],
  timeoutMs = 30_000,
): Promise<Map<string, KafkaError>> {
  const res = await cluster.controllerRequest<AlterPartitionReassignmentsResponse>(
    ApiKey.AlterPartitionReassignments,
    {
      timeoutMs,
      topics: [...byTopic(moves)].map(([name, ps]) => ({
        name,
        partitions: ps.map((p) => ({ partitionIndex: p.partition, replicas: p.replicas })),
      })),
    },
    timeoutMs,
  );
  check(res.errorCode, res.errorMessage);
  const errors = new Map<string, KafkaError>();
  for (const t of res.responses) {
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE)
        errors.set(`${t.name}-${p.partitionIndex}`, new KafkaError(p.errorCode, p.errorMessage));
    }
  }
  return errors;
}

export interface PartitionReassignment extends TopicPartition {
  /** The replica set while moving: targets and originals. */
  replicas: number[];
  adding: number[];
  removing: number[];
}

/** ListPartitionReassignments on the controller: the moves in progress (of `partitions`, or all when null). */
export async function listPartitionReassignments(
  cluster: Cluster,
  partitions: readonly TopicPartition[] | null,
  timeoutMs = 30_000,
): Promise<PartitionReassignment[]> {
  const res = await cluster.controllerRequest<ListPartitionReassignmentsResponse>(
    ApiKey.ListPartitionReassignments,
    {
      timeoutMs,
      topics:
        partitions === null
          ? null
          : [...byTopic(partitions)].map(([name, ps]) => ({
              name,
              partitionIndexes: ps.map((p) => p.partition),
            })),
    },
    timeoutMs,
  );
  check(res.errorCode, res.errorMessage);
  return res.topics.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.name,
      partition: p.partitionIndex,
      replicas: p.replicas,
      adding: p.addingReplicas,
      removing: p.removingReplicas,
    })),
  );
}

/** ElectLeaders election types. */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

/** ElectLeaders on the controller, for `partitions` (null: every partition); one result per partition. */
export async function electLeaders(
  cluster: Cluster,
  electionType: number,
  partitions: readonly TopicPartition[] | null,
  timeoutMs = 30_000,
): Promise<(TopicPartition & { errorCode: number; message: string | null })[]> {
  const res = await cluster.controllerRequest<ElectLeadersResponse>(
    ApiKey.ElectLeaders,
    {
      electionType,
      timeoutMs,
      topicPartitions:
        partitions === null
          ? null
          : [...byTopic(partitions)].map(([topic, ps]) => ({
              topic,
              partitions: ps.map((p) => p.partition),
            })),
    },
    timeoutMs,
  );
  check(res.errorCode);
  return res.replicaElectionResults.flatMap((t) =>
    t.partitionResult.map((p) => ({
      topic: t.topic,
      partition: p.partitionId,
      errorCode: p.errorCode,
      message: p.errorMessage,
    })),
  );
}
