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
// Transactions (listTransactions, describeTransactions, describeProducers, abortTransaction): see their section.

import { ErrorCode } from '../protocol/errors.js';
import type { AlterPartitionReassignmentsResponse } from '../protocol/generated/alter-partition-reassignments-response.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { CreatePartitionsResponse } from '../protocol/generated/create-partitions-response.js';
import type { CreateTopicsResponse } from '../protocol/generated/create-topics-response.js';
import type { DeleteRecordsResponse } from '../protocol/generated/delete-records-response.js';
import type { DeleteTopicsResponse } from '../protocol/generated/delete-topics-response.js';
import type { DescribeConfigsResponse } from '../protocol/generated/describe-configs-response.js';
import type { DescribeLogDirsResponse } from '../protocol/generated/describe-log-dirs-response.js';
import type { DescribeProducersResponse } from '../protocol/generated/describe-producers-response.js';
import type { DescribeTransactionsResponse } from '../protocol/generated/describe-transactions-response.js';
import type { ElectLeadersResponse } from '../protocol/generated/elect-leaders-response.js';
import type { FindCoordinatorResponse } from '../protocol/generated/find-coordinator-response.js';
import type { IncrementalAlterConfigsResponse } from '../protocol/generated/incremental-alter-configs-response.js';
import type { ListPartitionReassignmentsResponse } from '../protocol/generated/list-partition-reassignments-response.js';
import type { ListTransactionsResponse } from '../protocol/generated/list-transactions-response.js';
import type { WriteTxnMarkersResponse } from '../protocol/generated/write-txn-markers-response.js';
import { type Cluster, check, KafkaError } from './cluster.js';
import type { KafkaConnection } from './connection.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, GROUP: 32 } as const;

/**
 * Where a config request goes: a BROKER resource naming a broker id to that broker (only it can describe or
 * alter its own dynamic configs, as Kafka's admin client routes them), anything else to the bootstrap broker.
 */
async function configRequest<T>(
  cluster: Cluster,
  resourceType: number,
  name: string,
  apiKey: number,
  body: unknown,
): Promise<T> {
  if (resourceType === ResourceType.BROKER && /^\d+$/.test(name)) {
    await cluster.brokers();
    return (await cluster.connection(Number(name))).request<T>(apiKey, body);
  }
  return cluster.request<T>(apiKey, body);
}

/** Kafka's ConfigSource names by wire id. */
export const ConfigSourceName: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
  7: 'CLIENT_METRICS_CONFIG',
  8: 'GROUP_CONFIG',
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
  const res = await configRequest<DescribeConfigsResponse>(
    cluster,
    resourceType,
    resourceName,
    ApiKey.DescribeConfigs,
    {
      resources: [{ resourceType, resourceName, configurationKeys: keys }],
      includeSynonyms: true,
      includeDocumentation: false,
    },
  );
  const r = res.results[0];
  if (r === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'empty DescribeConfigs response');
  check(r.errorCode, r.errorMessage);
  return r.configs.map((c) => ({
    name: c.name,
    value: c.value,
    readOnly: c.readOnly,
    // configSource 5 is DEFAULT_CONFIG (v0, with its isDefault flag, is gone since Kafka 4).
    isDefault: c.configSource === 5,
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
  const res = await configRequest<IncrementalAlterConfigsResponse>(
    cluster,
    resourceType,
    resourceName,
    ApiKey.IncrementalAlterConfigs,
    { resources: [{ resourceType, resourceName, configs }], validateOnly },
  );
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

// ---- Transactions (kafka-transactions.sh; src/cli/transactions.ts) ----
//   const node = await findTransactionCoordinator(cluster, 'tx-1');           // broker id
//   const open = await listTransactions(cluster, { durationFilterMs: 60_000 }); // every broker's listing
//   const [d] = await describeTransactions(cluster, ['tx-1']);                  // from the coordinator
//   const producers = await describeProducers(cluster, 'orders', 0);            // the leader's producer states
//   await abortTransaction(cluster, { topic: 'orders', partition: 0, producerId, producerEpoch, coordinatorEpoch });

/** FindCoordinator key types. */
export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;

/** The broker id of the coordinator of `key` (a group or a transactional id); its address is known afterwards. */
export async function findCoordinator(cluster: Cluster, keyType: number, key: string): Promise<number> {
  const res = await cluster.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, {
    key,
    keyType,
    coordinatorKeys: [key],
  });
  const c = res.coordinators[0] ?? res;
  check(c.errorCode, c.errorMessage);
  await cluster.brokers();
  return c.nodeId;
}

export function findTransactionCoordinator(cluster: Cluster, transactionalId: string): Promise<number> {
  return findCoordinator(cluster, CoordinatorType.TRANSACTION, transactionalId);
}

export interface TransactionListing {
  /** The broker (transaction coordinator) that listed it. */
  coordinatorId: number;
  transactionalId: string;
  producerId: number;
  /** Kafka's TransactionState name: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, ... */
  state: string;
}

/**
 * ListTransactions on every live broker (each lists the transactional ids it coordinates), as Kafka's admin
 * client does. Filters: states (empty = all), producer ids (empty = all), duration (ms; -1 = all, needs
 * ListTransactions v1), transactionalIdPattern: a regular expression the whole id must match (KIP-1152; sent
 * to brokers that serve ListTransactions v2, applied here to the answers of older ones).
 */
export async function listTransactions(
  cluster: Cluster,
  filters: {
    states?: string[];
    producerIds?: number[];
    durationFilterMs?: number;
    transactionalIdPattern?: string;
  } = {},
): Promise<TransactionListing[]> {
  const brokers = await cluster.brokers();
  const durationFilter = filters.durationFilterMs ?? -1;
  const pattern = filters.transactionalIdPattern ?? null;
  const wholeId = pattern === null || pattern === '' ? null : new RegExp(`^(?:${pattern})$`);
  const out: TransactionListing[] = [];
  for (const b of brokers.sort((x, y) => x.nodeId - y.nodeId)) {
    const conn = await cluster.connection(b.nodeId);
    if (durationFilter >= 0 && conn.version(ApiKey.ListTransactions) < 1) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `broker ${b.nodeId} does not filter transactions by duration (ListTransactions v1)`,
      );
    }
    const brokerFilters = conn.version(ApiKey.ListTransactions) >= 2;
    const res = await conn.request<ListTransactionsResponse>(ApiKey.ListTransactions, {
      stateFilters: filters.states ?? [],
      producerIdFilters: filters.producerIds ?? [],
      durationFilter,
      transactionalIdPattern: pattern,
    });
    check(res.errorCode, `ListTransactions on broker ${b.nodeId}`);
    for (const t of res.transactionStates) {
      if (!brokerFilters && wholeId !== null && !wholeId.test(t.transactionalId)) continue;
      out.push({
        coordinatorId: b.nodeId,
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        state: t.transactionState,
      });
    }
  }
  return out;
}

export interface TransactionDescription {
  coordinatorId: number;
  transactionalId: string;
  /** KafkaError code for this id (TRANSACTIONAL_ID_NOT_FOUND, COORDINATOR_NOT_AVAILABLE, ...); NONE when described. */
  errorCode: number;
  state: string;
  transactionTimeoutMs: number;
  /** -1 when no transaction is open. */
  transactionStartTimeMs: number;
  producerId: number;
  producerEpoch: number;
  partitions: TopicPartition[];
}

/** DescribeTransactions, each id asked of its coordinator. Per-id errors are in `errorCode`, not thrown. */
export async function describeTransactions(
  cluster: Cluster,
  transactionalIds: readonly string[],
): Promise<TransactionDescription[]> {
  const out: TransactionDescription[] = [];
  for (const transactionalId of transactionalIds) {
    const coordinatorId = await findTransactionCoordinator(cluster, transactionalId);
    const conn = await cluster.connection(coordinatorId);
    const res = await conn.request<DescribeTransactionsResponse>(ApiKey.DescribeTransactions, {
      transactionalIds: [transactionalId],
    });
    const s = res.transactionStates.find((x) => x.transactionalId === transactionalId);
    if (s === undefined)
      throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no description of '${transactionalId}'`);
    out.push({
      coordinatorId,
      transactionalId,
      errorCode: s.errorCode,
      state: s.transactionState,
      transactionTimeoutMs: s.transactionTimeoutMs,
      transactionStartTimeMs: s.transactionStartTimeMs,
      producerId: s.producerId,
      producerEpoch: s.producerEpoch,
      partitions: s.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))),
    });
  }
  return out;
}

export interface ProducerState {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  /** -1 when unknown (Kafka prints it as "None" / -1). */
  coordinatorEpoch: number;
  /** First offset of the producer's open transaction, -1 when none is open. */
  currentTxnStartOffset: number;
}

/** DescribeProducers for one partition, asked of its leader (or of broker `brokerId`, any replica). */
export async function describeProducers(
  cluster: Cluster,
  topic: string,
  partition: number,
  brokerId?: number,
): Promise<ProducerState[]> {
  let conn: KafkaConnection;
  if (brokerId === undefined) {
    await cluster.topic(topic, true);
    conn = await cluster.leaderFor(topic, partition);
  } else {
    await cluster.brokers();
    conn = await cluster.connection(brokerId);
  }
  const res = await conn.request<DescribeProducersResponse>(ApiKey.DescribeProducers, {
    topics: [{ name: topic, partitionIndexes: [partition] }],
  });
  const p = res.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partitionIndex === partition);
  if (p === undefined)
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no producer states for ${topic}-${partition}`);
  check(p.errorCode, p.errorMessage ?? `${topic}-${partition}`);
  return p.activeProducers.map((s) => ({
    producerId: s.producerId,
    producerEpoch: s.producerEpoch,
    lastSequence: s.lastSequence,
    lastTimestamp: s.lastTimestamp,
    coordinatorEpoch: s.coordinatorEpoch,
    currentTxnStartOffset: s.currentTxnStartOffset,
  }));
}

export interface AbortTransactionSpec extends TopicPartition {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
}

/**
 * Aborts a (hanging) transaction on one partition, as Kafka's Admin.abortTransaction: WriteTxnMarkers with an
 * abort marker for the producer, sent to the partition's leader.
 */
export async function abortTransaction(cluster: Cluster, spec: AbortTransactionSpec): Promise<void> {
  await cluster.topic(spec.topic, true);
  const conn = await cluster.leaderFor(spec.topic, spec.partition);
  const res = await conn.request<WriteTxnMarkersResponse>(ApiKey.WriteTxnMarkers, {
    markers: [
      {
        producerId: spec.producerId,
        producerEpoch: spec.producerEpoch,
        transactionResult: false,
        coordinatorEpoch: spec.coordinatorEpoch,
        topics: [{ name: spec.topic, partitionIndexes: [spec.partition] }],
      },
    ],
  });
  const p = res.markers[0]?.topics.find((t) => t.name === spec.topic)?.partitions[0];
  if (p === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'empty WriteTxnMarkers response');
  check(p.errorCode, `${spec.topic}-${spec.partition}`);
}
