// The group coordinator's durable state: the internal topic __consumer_offsets (record format in
// records.ts). The topic is created on first use with offsets.topic.num.partitions partitions and
// Kafka's configs for it (GroupCoordinatorConfig / groupMetadataTopicConfigs): cleanup.policy=compact,
// compression.type=producer, segment.bytes=offsets.topic.segment.bytes. Writes are synchronous
// appends of one uncompressed record batch to the group's partition, after which the high
// watermark moves to the log end (one replica owns all it has), as a produce does.
// load() replays every partition from its log start offset when the broker starts.
//
// The log cleaner (storage/cleaner.ts) keeps the topic bounded: below the active segment only the
// latest record of each key stays (an offset commit's key is group/topic/partition, a group's
// metadata key is the group), and tombstones go after delete.retention.ms. Replaying a compacted
// partition gives the same state as replaying it whole, since only superseded records are removed.

import type { Topic, TopicManager } from '../../cluster/topics.js';
import type { Logger } from '../../logger.js';
import { decompress } from '../../protocol/compression.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  compressionOf,
  type DecodedRecord,
  decodeRecords,
  decodeRecordsBody,
  encodeRecordBatch,
  isControl,
  iterateBatches,
  LOG_OVERHEAD,
  RECORDS_OFFSET,
} from '../../protocol/records.js';
import type { GroupCoordinatorConfig } from './config.js';
import {
  decodeStateRecord,
  type EncodedRecord,
  OFFSETS_TOPIC,
  partitionForGroup,
  type StateRecord,
} from './records.js';

/** Bytes read per step while loading a partition. */
const loadReadBytes = 8 * 1024 * 1024;

/**
 * The topic configs of __consumer_offsets, Kafka's (GroupCoordinatorService.groupMetadataTopicConfigs): the
 * coordinator writes uncompressed batches (offsets.topic.compression.codec's default) and the log keeps them so.
 */
export function offsetsTopicConfigs(config: GroupCoordinatorConfig): Record<string, string> {
  return {
    'cleanup.policy': 'compact',
    'compression.type': 'producer',
    'segment.bytes': String(config.offsetsTopicSegmentBytes),
  };
}

export class GroupStateLog {
  private topic: Topic | undefined;

  constructor(
    private readonly topics: TopicManager,
    private readonly config: GroupCoordinatorConfig,
    private readonly log: Logger,
  ) {}

  /** Partitions of __consumer_offsets: the topic's own count once it exists. */
  partitionCount(): number {
    return this.current()?.partitions.length ?? this.config.offsetsTopicPartitions;
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount());
  }

  private current(): Topic | undefined {
    // The topic object is replaced if someone deletes and recreates it: look it up each time.
    if (this.topic === undefined || this.topics.get(OFFSETS_TOPIC) !== this.topic) {
      this.topic = this.topics.get(OFFSETS_TOPIC);
    }
    return this.topic;
  }

  /** The topic, created when missing; undefined when it cannot be created. */
  ensureTopic(): Topic | undefined {
    const existing = this.current();
    if (existing !== undefined) return existing;
    const res = this.topics.create(
      OFFSETS_TOPIC,
      this.config.offsetsTopicPartitions,
      1,
      offsetsTopicConfigs(this.config),
      false,
    );
    if (res.topic === undefined) {
      this.log.error('cannot create the offsets topic', { topic: OFFSETS_TOPIC, error: res.errorMessage });
      return undefined;
    }
    this.topic = res.topic;
    return res.topic;
  }

  /**
   * Appends the records to the group's partition. Returns Kafka's error code for the caller's
   * response (NONE on success); a failure of the log is logged here.
   */
  append(groupId: string, records: readonly EncodedRecord[], now: number): number {
    if (records.length === 0) return ErrorCode.NONE;
    const topic = this.ensureTopic();
    if (topic === undefined) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const partition = topic.partitions[partitionForGroup(groupId, topic.partitions.length)];
    if (partition === undefined) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value })),
      timestamp: now,
    });
    let errorCode: number;
    let errorMessage: string | null = null;
    try {
      const res = partition.log.append(batch, partition.leaderEpoch, now);
      errorCode = res.errorCode;
      errorMessage = res.errorMessage;
    } catch (err) {
      errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
      errorMessage = err instanceof Error ? err.message : String(err);
    }
    if (errorCode !== ErrorCode.NONE) {
      this.log.error('write to the offsets topic failed', {
        group: groupId,
        partition: partition.index,
        errorCode,
        error: errorMessage,
      });
      return errorCode;
    }
    partition.log.highWatermark = partition.log.logEndOffset;
    partition.notifyWaiters();
    return ErrorCode.NONE;
  }

  /**
   * Brokers before compaction created the topic with retention.ms=-1 and without compression.type (a stopgap
   * that kept every segment); with cleanup.policy=compact alone retention is off anyway. Such a topic gets
   * Kafka's configs back, once, at start-up. Configs someone set by hand are left alone.
   */
  upgradeConfigs(): void {
    const topic = this.current();
    if (topic === undefined) return;
    const c = topic.configs;
    const keys = Object.keys(c).sort().join(',');
    if (keys !== 'cleanup.policy,retention.ms,segment.bytes' || c['retention.ms'] !== '-1') return;
    if (c['cleanup.policy'] !== 'compact') return;
    const wanted = { ...offsetsTopicConfigs(this.config), 'segment.bytes': c['segment.bytes']! };
    const res = this.topics.alterConfigs(
      OFFSETS_TOPIC,
      Object.entries(wanted).map(([key, value]) => ({ key, value, op: 'set' as const })),
      false,
      false,
    );
    if (res.errorCode !== ErrorCode.NONE) {
      this.log.warn('could not replace the configs of the offsets topic', { error: res.errorMessage });
    } else {
      this.log.info('offsets topic configs upgraded: retention.ms=-1 dropped, compacted by the log cleaner', {
        configs: wanted,
      });
    }
  }

  /** Replays every partition in offset order, calling apply for each record. */
  async load(apply: (rec: StateRecord) => void): Promise<{ records: number; partitions: number }> {
    const topic = this.current();
    if (topic === undefined) return { records: 0, partitions: 0 };
    let count = 0;
    for (const partition of topic.partitions) {
      const log = partition.log;
      let offset = log.logStartOffset;
      const end = log.logEndOffset;
      while (offset < end) {
        // Never released to the read pool: everything kept is copied out by decodeStateRecord.
        const res = log.read(offset, loadReadBytes, end, true);
        if (res.errorCode !== ErrorCode.NONE || res.bytes === 0) {
          this.log.warn('offsets topic partition could not be read to its end', {
            partition: partition.index,
            offset,
            logEndOffset: end,
            errorCode: res.errorCode,
          });
          break;
        }
        const before = offset;
        for (const chunk of res.chunks) {
          for (const { pos, header } of iterateBatches(chunk)) {
            const next = header.baseOffset + header.lastOffsetDelta + 1;
            if (next <= offset) continue;
            offset = next;
            if (isControl(header.attributes)) continue;
            const batch = chunk.subarray(pos, pos + LOG_OVERHEAD + header.batchLength);
            let records: DecodedRecord[];
            try {
              const codec = compressionOf(header.attributes);
              if (codec === 0) records = decodeRecords(batch).records;
              else {
                const body = await decompress(codec, batch.subarray(RECORDS_OFFSET));
                records = decodeRecordsBody(body, 0, body.length, header.recordCount);
              }
            } catch (err) {
              this.log.warn('skipping an undecodable batch of the offsets topic', {
                partition: partition.index,
                baseOffset: header.baseOffset,
                error: (err as Error).message,
              });
              continue;
            }
            for (const rec of records) {
              if (rec.key === null) continue;
              try {
                apply(decodeStateRecord(rec.key, rec.value));
                count++;
              } catch (err) {
                this.log.warn('skipping an undecodable record of the offsets topic', {
                  partition: partition.index,
                  offset: header.baseOffset + rec.offsetDelta,
                  error: (err as Error).message,
                });
              }
            }
          }
        }
        if (offset === before) break;
      }
    }
    return { records: count, partitions: topic.partitions.length };
  }
}
