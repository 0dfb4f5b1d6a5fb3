// Storage configuration of one partition log. Field names are Kafka's topic config keys in camelCase
// (segment.bytes -> segmentBytes); defaults are Kafka's. The broker maps server.properties (log.segment.bytes,
// log.retention.ms/hours/minutes, ...) and per-topic configs onto this type.

export type TimestampTypeName = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  /** segment.bytes: roll the active segment when an append would take it past this size. */
  segmentBytes: number;
  /** segment.ms: roll when the active segment's first batch is this much older than the incoming one. */
  segmentMs: number;
  /** retention.ms: delete segments whose newest record is older than this; -1 keeps forever. */
  retentionMs: number;
  /** retention.bytes: delete oldest segments while the log is larger than this; -1 means no limit. */
  retentionBytes: number;
  /** index.interval.bytes: bytes of batches between two offset-index entries. */
  indexIntervalBytes: number;
  /** segment.index.bytes: the offset index's capacity (entries = this / 8); a full index rolls the segment. */
  segmentIndexBytes: number;
  /** flush.messages: fsync once this many messages are unflushed (1 = fsync before every ack). */
  flushIntervalMessages: number;
  /** flush.ms: fsync when the oldest unflushed data is this old (run by the LogManager's timer). */
  flushIntervalMs: number;
  /** message.timestamp.type. */
  messageTimestampType: TimestampTypeName;
  /** file.delete.delay.ms: how long a deleted segment or partition lingers before its files are removed. */
  fileDeleteDelayMs: number;
  /** max.message.bytes: the largest batch accepted (enforced by the broker before append). */
  maxMessageBytes: number;
  /** cleanup.policy: 'delete' (retention), 'compact' (the log cleaner, cleaner.ts) or both. */
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  /** delete.retention.ms: how long a tombstone outlives the first cleaning of its batch (compacted topics). */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: a record stays uncompacted at least this long after it was written. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: a dirty record older than this makes its log cleanable whatever the dirty ratio. */
  maxCompactionLagMs: number;
  /** min.cleanable.dirty.ratio: dirty bytes / (clean + dirty bytes) above which a log is worth cleaning. */
  minCleanableDirtyRatio: number;
}

export const defaultLogConfig: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushIntervalMs: Number.MAX_SAFE_INTEGER,
  messageTimestampType: 'CreateTime',
  fileDeleteDelayMs: 60_000,
  maxMessageBytes: 1024 * 1024 + 12,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableDirtyRatio: 0.5,
});

/** cleanup.policy includes compact: the log cleaner (cleaner.ts) works on this log. */
export function compacts(config: LogConfig): boolean {
  return config.cleanupPolicy !== 'delete';
}

/** Defaults overlaid with the given values (undefined values are ignored). */
export function logConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  const out: LogConfig = { ...defaultLogConfig };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

/**
 * Checks a config and returns problems in operator terms (Kafka key names, the value seen, the fix).
 * Empty when the config is usable.
 */
export function validateLogConfig(c: LogConfig): string[] {
  const problems: string[] = [];
  const intAtLeast = (key: string, v: number, min: number): void => {
    if (!Number.isSafeInteger(v) || v < min) problems.push(`${key} must be an integer >= ${min}; got ${v}`);
  };
  intAtLeast('segment.bytes', c.segmentBytes, 14);
  if (c.segmentBytes > 2147483647)
    problems.push(`segment.bytes must be <= 2147483647; got ${c.segmentBytes}`);
  intAtLeast('segment.ms', c.segmentMs, 1);
  intAtLeast('retention.ms', c.retentionMs, -1);
  intAtLeast('retention.bytes', c.retentionBytes, -1);
  intAtLeast('index.interval.bytes', c.indexIntervalBytes, 0);
  // Kafka allows 4, an index that cannot hold one 8-byte entry; Samsa asks for room for one.
  intAtLeast('segment.index.bytes', c.segmentIndexBytes, 8);
  intAtLeast('flush.messages', c.flushIntervalMessages, 1);
  intAtLeast('flush.ms', c.flushIntervalMs, 0);
  intAtLeast('file.delete.delay.ms', c.fileDeleteDelayMs, 0);
  intAtLeast('max.message.bytes', c.maxMessageBytes, 0);
  if (c.messageTimestampType !== 'CreateTime' && c.messageTimestampType !== 'LogAppendTime') {
    problems.push(
      `message.timestamp.type must be CreateTime or LogAppendTime; got ${c.messageTimestampType}`,
    );
  }
  intAtLeast('delete.retention.ms', c.deleteRetentionMs, 0);
  intAtLeast('min.compaction.lag.ms', c.minCompactionLagMs, 0);
  intAtLeast('max.compaction.lag.ms', c.maxCompactionLagMs, 1);
  if (!(c.minCleanableDirtyRatio >= 0 && c.minCleanableDirtyRatio <= 1)) {
    problems.push(`min.cleanable.dirty.ratio must be between 0 and 1; got ${c.minCleanableDirtyRatio}`);
  }
  if (!['delete', 'compact', 'compact,delete'].includes(c.cleanupPolicy)) {
    problems.push(`cleanup.policy must be delete, compact or compact,delete; got ${c.cleanupPolicy}`);
  }
  return problems;
}
