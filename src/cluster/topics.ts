// The broker's view of topics and partitions: the single owner of topic lifecycle (create,
// delete, add partitions, alter configs). Each change is persisted in the metadata store first,
// then applied to the in-memory view and the partition logs.

import type { BrokerConfig } from '../config/broker-config.js';
import { resolveTopicConfigs, topicConfigValue, validateTopicConfig } from '../config/topic-config.js';
import * as limits from '../limits.js';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { type LogConfig, validateLogConfig } from '../storage/config.js';
import type { LogManager } from '../storage/log-manager.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { type MetadataStore, newTopicId, type TopicRecord } from './metadata-store.js';

export class Partition {
  /** Long-poll fetches waiting for data on this partition. */
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly topic: Topic,
    readonly index: number,
    readonly log: PartitionLog,
    public leaderEpoch: number,
  ) {}

  addWaiter(fn: () => void): void {
    this.waiters.add(fn);
  }

  removeWaiter(fn: () => void): void {
    this.waiters.delete(fn);
  }

  /** Called after an append advanced the high watermark. */
  notifyWaiters(): void {
    if (this.waiters.size === 0) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }
}

export class Topic {
  readonly partitions: Partition[] = [];
  constructor(
    readonly name: string,
    readonly topicId: string,
    public configs: Record<string, string>,
  ) {}

  get isInternal(): boolean {
    return isInternalTopic(this.name);
  }
}

/**
 * Kafka's internal topics (Topic.INTERNAL_TOPICS): written only by the broker's coordinators, never deleted.
 * Any other name, even one starting with '__', is an ordinary topic, as in Kafka.
 */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set([
  '__consumer_offsets',
  '__transaction_state',
  '__share_group_state',
]);

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}

export interface TopicResult {
  errorCode: number;
  errorMessage: string | null;
  topic?: Topic;
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

export class TopicManager {
  private readonly byName = new Map<string, Topic>();
  private readonly byId = new Map<string, Topic>();

  constructor(
    private readonly config: BrokerConfig,
    private readonly store: MetadataStore,
    private readonly logs: LogManager,
    private readonly log: Logger,
  ) {}

  /** Opens the logs of every topic the metadata store knows. */
  load(): void {
    for (const rec of this.store.topics()) {
      const topic = new Topic(rec.name, rec.topicId, { ...rec.configs });
      const logConfig = this.logConfig(topic.configs);
      for (let i = 0; i < rec.partitions; i++) {
        const log = this.logs.getLog(rec.name, i) ?? this.logs.createLog(rec.name, i, logConfig);
        log.updateConfig(logConfig);
        topic.partitions.push(new Partition(topic, i, log, rec.leaderEpochs[i] ?? 0));
      }
      this.byName.set(topic.name, topic);
      this.byId.set(topic.topicId, topic);
    }
  }

  get(name: string): Topic | undefined {
    return this.byName.get(name);
  }

  getById(topicId: string): Topic | undefined {
    return this.byId.get(topicId);
  }

  all(): IterableIterator<Topic> {
    return this.byName.values();
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.byName.get(topic)?.partitions[index];
  }

  /**
   * The storage view of a topic's effective configs. cleanup.policy without 'delete' (compact only) turns
   * time and size retention off, as Kafka's UnifiedLog.deleteOldSegments does.
   */
  logConfig(overrides: Readonly<Record<string, string>>): LogConfig {
    const v = (k: string): string => topicConfigValue(this.config, overrides, k);
    const num = (k: string): number => Math.min(Number(v(k)), Number.MAX_SAFE_INTEGER);
    const policy = v('cleanup.policy')
      .split(',')
      .map((p) => p.trim());
    const compact = policy.includes('compact');
    const del = policy.includes('delete') || !compact;
    return {
      segmentBytes: num('segment.bytes'),
      // Kafka's LogConfig.maxSegmentMs: a compacted log rolls by max.compaction.lag.ms too, so records in the
      // active segment (never cleaned) become cleanable within the lag.
      segmentMs: compact ? Math.min(num('segment.ms'), num('max.compaction.lag.ms')) : num('segment.ms'),
      retentionMs: del ? num('retention.ms') : -1,
      retentionBytes: del ? num('retention.bytes') : -1,
      indexIntervalBytes: num('index.interval.bytes'),
      segmentIndexBytes: num('segment.index.bytes'),
      flushIntervalMessages: num('flush.messages'),
      flushIntervalMs: num('flush.ms'),
      messageTimestampType: v('message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
      fileDeleteDelayMs: num('file.delete.delay.ms'),
      maxMessageBytes: num('max.message.bytes'),
      cleanupPolicy: compact && del ? 'compact,delete' : compact ? 'compact' : 'delete',
      deleteRetentionMs: num('delete.retention.ms'),
      minCompactionLagMs: num('min.compaction.lag.ms'),
      maxCompactionLagMs: num('max.compaction.lag.ms'),
      minCleanableDirtyRatio: Number(v('min.cleanable.dirty.ratio')),
    };
  }

  describeConfigs(topic: Topic): ReturnType<typeof resolveTopicConfigs> {
    return resolveTopicConfigs(this.config, topic.configs);
  }

  create(
    name: string,
    numPartitions: number,
    replicationFactor: number,
    configs: Record<string, string>,
    validateOnly: boolean,
  ): TopicResult {
    const problem = topicNameProblem(name);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: problem };
    if (this.byName.has(name)) {
      return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` };
    }
    // Kafka refuses names that collide once '.' and '_' are treated alike (metric names).
    const collide = name.replace(/\./g, '_');
    for (const t of this.byName.keys()) {
      if (t.replace(/\./g, '_') === collide) {
        return {
          errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
          errorMessage: `Topic '${name}' collides with existing topic: ${t}`,
        };
      }
    }
    const partitions = numPartitions === -1 ? this.config.int('num.partitions') : numPartitions;
    if (partitions < 1 || partitions > limits.partitionsPerTopicMax) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Number of partitions must be between 1 and ${limits.partitionsPerTopicMax}; got ${partitions}.`,
      };
    }
    const rf = replicationFactor === -1 ? this.config.int('default.replication.factor') : replicationFactor;
    if (rf < 1 || rf > 1) {
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Replication factor: ${rf} larger than available brokers: 1.`,
      };
    }
    for (const [k, val] of Object.entries(configs)) {
      const err = validateTopicConfig(k, val);
      if (err !== null) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: err };
    }
    const logProblems = validateLogConfig(this.logConfig(configs));
    if (logProblems.length > 0)
      return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: logProblems.join('; ') };
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
    const rec: TopicRecord = {
      name,
      topicId: newTopicId(),
      partitions,
      leaderEpochs: new Array<number>(partitions).fill(0),
      configs,
    };
    this.store.putTopic(rec);
    const topic = new Topic(name, rec.topicId, { ...configs });
    const logConfig = this.logConfig(configs);
    for (let i = 0; i < partitions; i++) {
      topic.partitions.push(new Partition(topic, i, this.logs.createLog(name, i, logConfig), 0));
    }
    this.byName.set(name, topic);
    this.byId.set(topic.topicId, topic);
    this.log.info('topic created', { topic: name, topicId: topic.topicId, partitions, configs });
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  delete(name: string): TopicResult {
    const topic = this.byName.get(name);
    if (topic === undefined) {
      return {
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: 'This server does not host this topic.',
      };
    }
    if (!this.config.bool('delete.topic.enable')) {
      return { errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: 'Topic deletion is disabled.' };
    }
    this.store.removeTopic(name);
    this.byName.delete(name);
    this.byId.delete(topic.topicId);
    for (const p of topic.partitions) {
      p.notifyWaiters();
      this.logs.deleteLog(name, p.index);
    }
    this.log.info('topic deleted', { topic: name, topicId: topic.topicId });
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  addPartitions(name: string, count: number, validateOnly: boolean): TopicResult {
    const topic = this.byName.get(name);
    if (topic === undefined) {
      return {
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: 'This server does not host this topic.',
      };
    }
    const current = topic.partitions.length;
    if (count < current) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Topic currently has ${current} partitions, which is higher than the requested ${count}.`,
      };
    }
    if (count === current) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Topic already has ${current} partitions.`,
      };
    }
    if (count > limits.partitionsPerTopicMax) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `At most ${limits.partitionsPerTopicMax} partitions.`,
      };
    }
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
    const rec = this.record(topic);
    rec.partitions = count;
    rec.leaderEpochs = [...rec.leaderEpochs, ...new Array<number>(count - current).fill(0)];
    this.store.putTopic(rec);
    const logConfig = this.logConfig(topic.configs);
    for (let i = current; i < count; i++) {
      topic.partitions.push(new Partition(topic, i, this.logs.createLog(name, i, logConfig), 0));
    }
    this.log.info('partitions added', { topic: name, from: current, to: count });
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  /** Replaces (incremental=false) or patches the topic's config overrides; takes effect at once. */
  alterConfigs(
    name: string,
    changes: { key: string; value: string | null; op: 'set' | 'delete' }[],
    incremental: boolean,
    validateOnly: boolean,
  ): TopicResult {
    const topic = this.byName.get(name);
    if (topic === undefined) {
      return {
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: 'This server does not host this topic.',
      };
    }
    const next: Record<string, string> = incremental ? { ...topic.configs } : {};
    for (const c of changes) {
      const err = validateTopicConfig(c.key, c.value);
      if (err !== null) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: err };
      if (c.op === 'delete' || c.value === null) delete next[c.key];
      else next[c.key] = c.value.trim();
    }
    const logConfig = this.logConfig(next);
    const logProblems = validateLogConfig(logConfig);
    if (logProblems.length > 0)
      return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: logProblems.join('; ') };
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
    topic.configs = next;
    this.store.putTopic(this.record(topic));
    for (const p of topic.partitions) p.log.updateConfig(logConfig);
    this.log.info('topic configs altered', { topic: name, configs: next });
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  private record(topic: Topic): TopicRecord {
    return {
      name: topic.name,
      topicId: topic.topicId,
      partitions: topic.partitions.length,
      leaderEpochs: topic.partitions.map((p) => p.leaderEpoch),
      configs: { ...topic.configs },
    };
  }
}
