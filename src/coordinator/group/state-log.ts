// The group coordinator's durable state: the internal topic __consumer_offsets (record format in
// records.ts). The topic is created on first use with offsets.topic.num.partitions partitions,
// cleanup.policy=compact and segment.bytes=offsets.topic.segment.bytes. Writes are synchronous
// appends of one uncompressed record batch to the group's partition, after which the high
// watermark moves to the log end (one replica owns all it has), as a produce does.
// load() replays every partition from its log start offset when the broker starts.
//
// Until the log compacts, maybeRewrite() bounds it: once a partition has grown by
// max(rewriteRecordsMin, 2 x its live records) since its last rewrite, the live state (every
// committed offset and the last group metadata of its groups) is appended again, flushed, and the
// log start offset moved to the first of those copies; whole segments below it are deleted. A crash
// at any point replays to the same state: before the move the originals come first and the copies
// restate them; after it the copies are durable (flushed before the move).

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
/** Records per batch when a partition's live state is rewritten. */
const rewriteBatchRecords = 1000;

export class GroupStateLog {
  private topic: Topic | undefined;
  /** Per partition: the log end offset at which the next rewrite is due. */
  private readonly rewriteAt = new Map<number, number>();

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
      {
        'cleanup.policy': 'compact',
        'segment.bytes': String(this.config.offsetsTopicSegmentBytes),
        // The log does not compact yet; never delete its segments by age in the meantime.
        'retention.ms': '-1',
      },
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
    partition.log.highWatermark = partition.log.logEndOffset;
    partition.notifyWaiters();
    return ErrorCode.NONE;
  }

  /**
   * Rewrites the partition's live state when its log has grown enough since the last rewrite (or, at
   * start-up, when it holds more than twice the live records and over rewriteRecordsMin).
   */
  maybeRewrite(index: number, live: () => EncodedRecord[], now: number, startup = false): void {
    const partition = this.current()?.partitions[index];
    if (partition === undefined) return;
    const log = partition.log;
    const due = this.rewriteAt.get(index);
    if (due !== undefined && log.logEndOffset < due) return;
    const records = live();
    const slack = Math.max(this.config.stateRewriteRecordsMin, 2 * records.length);
    if (due === undefined && (!startup || log.logEndOffset - log.logStartOffset <= slack)) {
      this.rewriteAt.set(index, log.logEndOffset + slack);
      return;
    }
    const began = Date.now();
    const from = log.logEndOffset;
    const before = from - log.logStartOffset;
    let rewritten = false;
    try {
      for (let i = 0; i < records.length; i += rewriteBatchRecords) {
        const chunk = records.slice(i, i + rewriteBatchRecords);
        const batch = encodeRecordBatch({
          records: chunk.map((r) => ({ key: r.key, value: r.value })),
          timestamp: now,
        });
        const res = log.append(batch, partition.leaderEpoch, now);
        if (res.errorCode !== ErrorCode.NONE) throw new Error(res.errorMessage ?? `error ${res.errorCode}`);
        log.highWatermark = log.logEndOffset;
      }
      // The copies must be on disk before the originals stop being part of the log.
      log.flush(now);
      log.deleteRecordsBefore(from);
      rewritten = true;
    } catch (err) {
      // The copies restate the current state, so a failure half-way leaves a consistent log.
      this.log.error('rewriting an offsets topic partition failed', {
        partition: index,
        error: (err as Error).message,
      });
    }
    partition.notifyWaiters();
    this.rewriteAt.set(index, log.logEndOffset + slack);
    if (!rewritten) return;
    this.log.info('offsets topic partition rewritten to its live records', {
      partition: index,
      recordsBefore: before,
      liveRecords: records.length,
      logStartOffset: log.logStartOffset,
      ms: Date.now() - began,
    });
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
