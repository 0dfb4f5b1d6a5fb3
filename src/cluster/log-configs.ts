// The storage view of a topic's effective configuration: its overrides over the broker's defaults, as the
// partition log wants them (LogConfig). cleanup.policy without 'delete' (compact only) turns time and size
// retention off, as Kafka's UnifiedLog.deleteOldSegments does.

import type { BrokerConfig } from '../config/broker-config.js';
import { topicConfigValue } from '../config/topic-config.js';
import type { LogConfig } from '../storage/config.js';

export function logConfigFor(config: BrokerConfig, overrides: Readonly<Record<string, string>>): LogConfig {
  const v = (k: string): string => topicConfigValue(config, overrides, k);
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
