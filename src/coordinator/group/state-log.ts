// The group coordinator's durable state: the internal topic __consumer_offsets (record format in
// records.ts). The topic is created on first use with offsets.topic.num.partitions partitions,
// cleanup.policy=compact and segment.bytes=offsets.topic.segment.bytes; the log cleaner keeps the last
// record of each key (and drops tombstones after delete.retention.ms), which is exactly the state a load
// rebuilds, so the topic stays bounded by the number of live offsets and groups.
//
// write() appends one uncompressed record batch to the group's partition as leader with acks=all
// semantics: refused at once with NOT_ENOUGH_REPLICAS while the ISR is smaller than the topic's
// min.insync.replicas, else it resolves once the high watermark passed the batch (the write is committed)
// or with NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS_AFTER_APPEND or REQUEST_TIMED_OUT after
// offsets.commit.timeout.ms (partition.ts waitForHighWatermark). The append itself happens before write()
// returns, so records reach the log in the order write() is called. A write that timed out may still be
// committed later (as in Kafka): the caller answered with an error and the next load sees the record.
// A transactional write (TxnOffsetCommit) is one transactional batch with the producer's id and epoch,
// appended with origin 'coordinator': no duplicate or sequence checks, so its baseSequence is 0 every time as
// Kafka's coordinator writes it; an older epoch than the partition knows is refused (INVALID_PRODUCER_EPOCH).
//
// replay() reads one partition from its log start offset to its log end and hands every record to the
// caller, with its offset and, for a transactional batch, its producer id; a transaction marker (control
// batch) is handed over as such. It yields to the event loop between reads and stops early once the
// caller says the load no longer applies (the partition was unloaded or re-elected meanwhile). It reads
// to the log end as it is when it gets there, so a marker appended while the partition loads (the only
// write that can happen then) is replayed too.

import type { Partition } from '../../cluster/partition.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import { encodeRecordBatch } from '../../protocol/records.js';
import { replayPartition } from '../replay.js';
import type { GroupCoordinatorConfig } from './config.js';
import { decodeStateRecord, type EncodedRecord, partitionForGroup, type StateRecord } from './records.js';

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
/** Coordinator writes wait for the whole ISR (Kafka's offsets.commit.required.acks default). */
const REQUIRED_ACKS_ALL = -1;

/** A write's options: a transactional batch, and a callback once appended (with the batch's base offset). */
export interface WriteOptions {
  txn?: { producerId: number; producerEpoch: number };
  onAppended?: (baseOffset: number) => void;
}

/** What replay() hands over: each record with its offset and producer id (-1 unless transactional). */
export interface ReplaySink {
  record(rec: StateRecord, offset: number, txnProducerId: number): void;
  /** A transaction marker (control batch) of this producer: commit or abort. */
  marker(producerId: number, commit: boolean): void;
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
  /** min.insync.replicas of __consumer_offsets (its override, else the broker's default). */
  minInsyncReplicas(): number;
  /** A topic's id and partition count (consumer groups assign by topic id). */
  topic(name: string): { topicId: string; partitions: number } | undefined;
  /** A topic's name by id. */
  topicName(topicId: string): string | undefined;
  /** Every topic's name (regular expression subscriptions match against them). */
  topicNames(): string[];
  /** A group's config overrides (GROUP resource: consumer.session.timeout.ms, consumer.heartbeat.interval.ms). */
  groupConfigs?(groupId: string): Promise<Record<string, string>>;
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

  /**
   * Appends the records to the group's partition and resolves once they are committed: NONE, or the
   * error of the append or of the wait (Kafka's codes, mapped for clients by the caller). Failures are
   * logged here.
   */
  write(
    groupId: string,
    records: readonly EncodedRecord[],
    now: number,
    opts: WriteOptions = {},
  ): Promise<number> {
    if (records.length === 0) return Promise.resolve(ErrorCode.NONE);
    const count = this.host.partitionCount();
    if (count === 0) return Promise.resolve(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const partition = this.host.leaderPartition(partitionForGroup(groupId, count));
    if (partition === undefined) return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const txn = opts.txn;
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value })),
      timestamp: now,
      ...(txn === undefined
        ? {}
        : {
            producerId: txn.producerId,
            producerEpoch: txn.producerEpoch,
            baseSequence: 0,
            isTransactional: true,
          }),
    });
    const minIsr = this.host.minInsyncReplicas();
    let errorCode: number;
    let errorMessage: string | null = null;
    let lastOffset = -1;
    let baseOffset = -1;
    try {
      const res = partition.appendAsLeader(batch, REQUIRED_ACKS_ALL, minIsr, now, { origin: 'coordinator' });
      errorCode = res.errorCode;
      errorMessage = res.errorMessage;
      lastOffset = res.lastOffset;
      baseOffset = res.baseOffset;
    } catch (err) {
      errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
      errorMessage = err instanceof Error ? err.message : String(err);
    }
    if (errorCode !== ErrorCode.NONE) {
      this.failed(groupId, partition, 'append', errorCode, errorMessage);
      return Promise.resolve(errorCode);
    }
    opts.onAppended?.(baseOffset);
    return partition
      .waitForHighWatermark(lastOffset, minIsr, this.config.offsetCommitTimeoutMs)
      .then((err) => {
        if (err !== ErrorCode.NONE) this.failed(groupId, partition, 'commit', err, null);
        return err;
      });
  }

  private failed(
    groupId: string,
    partition: Partition,
    step: 'append' | 'commit',
    errorCode: number,
    error: string | null,
  ): void {
    // What the cluster's state explains (leadership moved, too few replicas, a storage error that the
    // log reported when it began) is not logged per write; anything else is.
    const expected =
      errorCode === ErrorCode.KAFKA_STORAGE_ERROR ||
      errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
      errorCode === ErrorCode.NOT_ENOUGH_REPLICAS ||
      errorCode === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND ||
      errorCode === ErrorCode.REQUEST_TIMED_OUT;
    this.log[expected ? 'debug' : 'error'](
      step === 'append' ? 'write to the offsets topic failed' : 'write to the offsets topic not committed',
      { group: groupId, partition: partition.index, leaderEpoch: partition.leaderEpoch, errorCode, error },
    );
  }

  /**
   * Replays one partition in offset order from its log start to its log end, handing each record and
   * marker to the sink. Stops (complete: false) when current() turns false after a pause, or when the log
   * cannot be read to its end.
   */
  async replay(
    partition: Partition,
    sink: ReplaySink,
    current: () => boolean,
  ): Promise<{ records: number; complete: boolean }> {
    return replayPartition(
      partition,
      {
        topic: 'offsets topic',
        toLiveEnd: true,
        record: (key, value, offset, txnProducerId) =>
          sink.record(decodeStateRecord(key, value), offset, txnProducerId),
        marker: (producerId, commit) => sink.marker(producerId, commit),
      },
      current,
      this.log,
    );
  }
}

/**
 * The error a client sees for a failed write to __consumer_offsets (Kafka's mapping in GroupMetadataManager's
 * storeOffsets / storeGroup callbacks): not enough replicas or a write not committed within
 * offsets.commit.timeout.ms -> COORDINATOR_NOT_AVAILABLE (the client finds its coordinator again and retries);
 * leadership or the log dir lost -> NOT_COORDINATOR; a record too large -> `tooLarge`, which differs by API.
 */
export function clientWriteError(errorCode: number, tooLarge: number): number {
  switch (errorCode) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return tooLarge;
    default:
      return errorCode;
  }
}
