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

import type { Partition } from '../../cluster/partition.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import { encodeRecordBatch } from '../../protocol/records.js';
import { replayPartition } from '../replay.js';
import type { TxnCoordinatorConfig } from './config.js';
import { decodeTxnRecord, type EncodedTxnRecord, type TxnRecord } from './records.js';

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
    return replayPartition(
      partition,
      {
        topic: 'transaction state topic',
        toLiveEnd: false,
        record: (key, value) => apply(decodeTxnRecord(key, value)),
      },
      current,
      this.log,
    );
  }
}
