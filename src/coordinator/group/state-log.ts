// The group coordinator's durable state: the internal topic __consumer_offsets (record format in
// records.ts). The topic is created on first use with offsets.topic.num.partitions partitions,
// cleanup.policy=compact and segment.bytes=offsets.topic.segment.bytes. Writes are synchronous
// appends of one uncompressed record batch to the group's partition, after which the high
// watermark moves to the log end (one replica owns all it has), as a produce does.
// load() replays every partition from its log start offset when the broker starts.
//
// The log cleaner (storage/cleaner.ts) keeps the topic bounded: below the active segment only the
// latest record of each key stays (an offset commit's key is group/topic/partition, a group's
// metadata key is the group), and tombstones go after delete.retention.ms. Replaying a compacted
// partition gives the same state as replaying it whole, since only superseded records are removed.

import type { Partition } from '../../cluster/partition.js';
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
import { decodeStateRecord, type EncodedRecord, partitionForGroup, type StateRecord } from './records.js';

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

/** What the coordinator needs of the cluster for __consumer_offsets (the broker provides it). */
export interface OffsetsTopicHost {
  /** Partitions of __consumer_offsets in the cluster; 0 while the topic does not exist. */
  partitionCount(): number;
  /** This broker's replica of partition `index` when it leads it. */
  leaderPartition(index: number): Partition | undefined;
  /** Whether the cluster has this partition (offsets of unknown partitions are refused or expired). */
  partitionExists(topic: string, partition: number): boolean;
  /** Starts creating the topic when it is missing (done at once on a single node, later in a cluster). */
  createTopic(): void;
}

export class GroupStateLog {
  constructor(
    private readonly host: OffsetsTopicHost,
    private readonly config: GroupCoordinatorConfig,
    private readonly log: Logger,
  ) {}

  /** Partitions of __consumer_offsets: the topic's own count once it exists. */
  partitionCount(): number {
    const n = this.host.partitionCount();
    return n > 0 ? n : this.config.offsetsTopicPartitions;
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount());
  }

  /** The local leader replicas of the topic's partitions (undefined where another broker leads). */
  private partitions(): (Partition | undefined)[] {
    return Array.from({ length: this.host.partitionCount() }, (_, i) => this.host.leaderPartition(i));
  }

  /**
   * Appends the records to the group's partition. Returns Kafka's error code for the caller's
   * response (NONE on success); a failure of the log is logged here.
   */
  append(groupId: string, records: readonly EncodedRecord[], now: number): number {
    if (records.length === 0) return ErrorCode.NONE;
    if (this.host.partitionCount() === 0) this.host.createTopic();
    const count = this.host.partitionCount();
    if (count === 0) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const partition = this.host.leaderPartition(partitionForGroup(groupId, count));
    if (partition === undefined) return ErrorCode.NOT_COORDINATOR;
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value })),
      timestamp: now,
    });
    let errorCode: number;
    let errorMessage: string | null = null;
    try {
      const res = partition.appendAsLeader(batch, 1, 1, now);
      errorCode = res.errorCode;
      errorMessage = res.errorMessage;
    } catch (err) {
      errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
      errorMessage = err instanceof Error ? err.message : String(err);
    }
    if (errorCode !== ErrorCode.NONE) {
      // Storage errors were logged by the log itself when they began (not once per commit).
      const level = errorCode === ErrorCode.KAFKA_STORAGE_ERROR ? 'debug' : 'error';
      this.log[level]('write to the offsets topic failed', {
        group: groupId,
        partition: partition.index,
        errorCode,
        error: errorMessage,
      });
      return errorCode;
    }
    return ErrorCode.NONE;
  }

  /** Replays every partition in offset order, calling apply for each record. */
  async load(apply: (rec: StateRecord) => void): Promise<{ records: number; partitions: number }> {
    const partitions = this.partitions();
    let count = 0;
    for (const partition of partitions) {
      if (partition === undefined) continue;
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
    return { records: count, partitions: partitions.length };
  }
}
