// The transaction coordinator's durable state: the internal topic __transaction_state (record format in
// records.ts), created on first use (FindCoordinator for a transactional id, or InitProducerId with one) with
// transaction.state.log.num.partitions partitions, replication factor transaction.state.log.replication.factor
// capped at the live brokers, min.insync.replicas transaction.state.log.min.isr capped at that factor,
// cleanup.policy=compact, uncompressed, segment.bytes transaction.state.log.segment.bytes (Kafka's
// TransactionStateManager.transactionTopicConfigs).
//
// write() appends one record as leader with acks=all and resolves once the high watermark passed it (the write
// is committed), or with the error of the append or of the wait (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS*,
// REQUEST_TIMED_OUT after writeTimeoutMs). A write that timed out may still be committed later, as in Kafka: the
// next load sees it.
//
// replay() reads a partition from its log start to its log end, yielding to the event loop between reads, and
// stops early once the caller says the load no longer applies.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
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
import type { TxnCoordinatorConfig } from './config.js';
import { decodeTxnRecord, type EncodedTxnRecord, type TxnRecord } from './records.js';

/** Bytes read per step while loading a partition. */
const loadReadBytes = 8 * 1024 * 1024;
/** Coordinator writes wait for the whole ISR. */
const REQUIRED_ACKS_ALL = -1;

/** What the coordinator needs of the cluster for __transaction_state (the broker provides it). */
export interface TxnTopicHost {
  /** Partitions of __transaction_state in the cluster; 0 while the topic does not exist. */
  partitionCount(): number;
  /** This broker's replica of partition `index` when it leads it. */
  leaderPartition(index: number): Partition | undefined;
  /** Creates the topic when it is missing; resolves with an error code (NONE once it exists). */
  createTopic(): Promise<number>;
  /** min.insync.replicas of __transaction_state (its override, else the broker's default). */
  minInsyncReplicas(): number;
}

/** The topic configs of __transaction_state for a replication factor. */
export function transactionTopicConfigs(
  c: TxnCoordinatorConfig,
  replicationFactor: number,
): Record<string, string> {
  return {
    'cleanup.policy': 'compact',
    'compression.type': 'uncompressed',
    'min.insync.replicas': String(Math.min(c.stateLogMinIsr, replicationFactor)),
    'segment.bytes': String(c.stateLogSegmentBytes),
  };
}

export class TxnStateLog {
  constructor(
    private readonly host: TxnTopicHost,
    private readonly config: TxnCoordinatorConfig,
    private readonly log: Logger,
  ) {}

  /** Appends the record to partition `index` and resolves once it is committed: NONE, or the raw error. */
  write(index: number, record: EncodedTxnRecord, now: number): Promise<number> {
    const partition = this.host.leaderPartition(index);
    if (partition === undefined) return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const batch = encodeRecordBatch({ records: [{ key: record.key, value: record.value }], timestamp: now });
    const minIsr = this.host.minInsyncReplicas();
    let errorCode: number;
    let errorMessage: string | null = null;
    let lastOffset = -1;
    try {
      const res = partition.appendAsLeader(batch, REQUIRED_ACKS_ALL, minIsr, now);
      errorCode = res.errorCode;
      errorMessage = res.errorMessage;
      lastOffset = res.lastOffset;
    } catch (err) {
      errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
      errorMessage = err instanceof Error ? err.message : String(err);
    }
    if (errorCode !== ErrorCode.NONE) {
      this.failed(partition, 'append', errorCode, errorMessage);
      return Promise.resolve(errorCode);
    }
    return partition.waitForHighWatermark(lastOffset, minIsr, this.config.writeTimeoutMs).then((err) => {
      if (err !== ErrorCode.NONE) this.failed(partition, 'commit', err, null);
      return err;
    });
  }

  private failed(
    partition: Partition,
    step: 'append' | 'commit',
    errorCode: number,
    error: string | null,
  ): void {
    const expected =
      errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
      errorCode === ErrorCode.NOT_ENOUGH_REPLICAS ||
      errorCode === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND ||
      errorCode === ErrorCode.REQUEST_TIMED_OUT;
    this.log[expected ? 'debug' : 'error'](
      step === 'append'
        ? 'write to the transaction state topic failed'
        : 'write to the transaction state topic not committed',
      { partition: partition.index, leaderEpoch: partition.leaderEpoch, errorCode, error },
    );
  }

  /**
   * Replays one partition in offset order from its log start to its log end. Stops (complete: false) when
   * current() turns false after a pause, or when the log cannot be read to its end.
   */
  async replay(
    partition: Partition,
    apply: (rec: TxnRecord) => void,
    current: () => boolean,
  ): Promise<{ records: number; complete: boolean }> {
    const log = partition.log;
    let count = 0;
    let offset = log.logStartOffset;
    const end = log.logEndOffset;
    while (offset < end) {
      const res = log.read(offset, loadReadBytes, end, true);
      if (res.errorCode !== ErrorCode.NONE || res.bytes === 0) {
        this.log.warn('transaction state partition could not be read to its end', {
          partition: partition.index,
          offset,
          logEndOffset: end,
          errorCode: res.errorCode,
        });
        return { records: count, complete: false };
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
              if (!current()) return { records: count, complete: false };
              records = decodeRecordsBody(body, 0, body.length, header.recordCount);
            }
          } catch (err) {
            this.log.warn('skipping an undecodable batch of the transaction state topic', {
              partition: partition.index,
              baseOffset: header.baseOffset,
              error: (err as Error).message,
            });
            continue;
          }
          for (const rec of records) {
            if (rec.key === null) continue;
            try {
              apply(decodeTxnRecord(rec.key, rec.value));
              count++;
            } catch (err) {
              this.log.warn('skipping an undecodable record of the transaction state topic', {
                partition: partition.index,
                offset: header.baseOffset + rec.offsetDelta,
                error: (err as Error).message,
              });
            }
          }
        }
      }
      if (offset === before) break;
      if (offset < end) {
        await yieldToEventLoop();
        if (!current()) return { records: count, complete: false };
      }
    }
    return { records: count, complete: true };
  }
}
