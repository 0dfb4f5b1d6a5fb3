// The records of the internal topic __transaction_state, in Apache Kafka's format (TransactionLog.scala), so a
// data folder reads the same to Kafka's tools (kafka-dump-log --transaction-log-decoder) as to Samsa.
//
// Every record is keyed by the transactional id; its value is the transaction's state after a transition:
//
//   key    int16 version 0, TransactionLogKey   { transactionalId: string }
//   value  int16 version 0, TransactionLogValue { producerId: int64, producerEpoch: int16,
//          transactionTimeoutMs: int32, transactionStatus: int8, transactionPartitions: [{ topic, partitionIds }]
//          (null unless the state carries partitions), transactionLastUpdateTimestampMs: int64,
//          transactionStartTimestampMs: int64 }
//          version 1 (written when the finalized transaction.version is 2, as Kafka) is flexible and adds the
//          tagged fields previousProducerId (0), nextProducerId (1), clientTransactionVersion (2) and
//          nextProducerEpoch (3)
//   a null value is a tombstone: the transactional id expired.
//
// Records are written as uncompressed v2 record batches, one record per transition, to partition
// abs(javaHashCode(transactionalId)) % partitions; the last record of each key is the state, which is what a load
// replays (state-log.ts) and what compaction keeps.

import {
  decodeTransactionLogKey,
  encodeTransactionLogKey,
} from '../../protocol/generated/transaction-log-key.js';
import {
  decodeTransactionLogValue,
  encodeTransactionLogValue,
} from '../../protocol/generated/transaction-log-value.js';
import { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import { partitionForGroup } from '../group/records.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

const KEY_VERSION = 0;
const VALUE_VERSION_MAX = 1;

/** Kafka's TransactionState ids, as stored in transactionStatus. */
export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

/** Kafka's state names, as DescribeTransactions / ListTransactions report them (TransactionState.stateName). */
const STATE_NAMES: readonly string[] = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
];

export function stateName(s: TxnState): string {
  return STATE_NAMES[s] ?? 'Unknown';
}

/** The state of a name given in a ListTransactions filter, or undefined for an unknown one. */
export function stateByName(name: string): TxnState | undefined {
  const i = STATE_NAMES.indexOf(name);
  return i < 0 ? undefined : (i as TxnState);
}

/** The __transaction_state partition of a transactional id (Kafka's Utils.abs(hashCode) % partitions). */
export function partitionForTransactionalId(transactionalId: string, partitions: number): number {
  return partitionForGroup(transactionalId, partitions);
}

/** A topic and the partition indexes of it that belong to a transaction. */
export interface TxnTopicPartitions {
  topic: string;
  partitionIds: number[];
}

/** What a TransactionLogValue holds. */
export interface TxnLogValue {
  producerId: number;
  producerEpoch: number;
  transactionTimeoutMs: number;
  state: TxnState;
  partitions: TxnTopicPartitions[];
  lastUpdateTimestampMs: number;
  /** -1 when no transaction is open. */
  startTimestampMs: number;
  /** Version 1 (transaction version 2) fields: -1, -1, 0 when absent. */
  previousProducerId?: number;
  nextProducerId?: number;
  clientTransactionVersion?: number;
}

export interface EncodedTxnRecord {
  key: Buffer;
  value: Buffer | null;
}

/** The record of a transition; `valueVersion` 1 when the finalized transaction.version is 2 or more, else 0. */
export function transactionLogRecord(
  transactionalId: string,
  value: TxnLogValue | null,
  valueVersion = 0,
): EncodedTxnRecord {
  const k = new Writer(8 + transactionalId.length * 3);
  k.int16(KEY_VERSION);
  encodeTransactionLogKey(k, KEY_VERSION, { transactionalId });
  if (value === null) return { key: k.toBuffer(), value: null };
  const v = new Writer(64);
  v.int16(valueVersion);
  // Kafka writes the partitions only for the states that carry them (Empty and Complete* have none).
  encodeTransactionLogValue(v, valueVersion, {
    producerId: value.producerId,
    producerEpoch: value.producerEpoch,
    transactionTimeoutMs: value.transactionTimeoutMs,
    transactionStatus: value.state,
    transactionPartitions: value.partitions.length === 0 ? null : value.partitions,
    transactionLastUpdateTimestampMs: value.lastUpdateTimestampMs,
    transactionStartTimestampMs: value.startTimestampMs,
    previousProducerId: value.previousProducerId ?? -1,
    nextProducerId: value.nextProducerId ?? -1,
    nextProducerEpoch: (value.nextProducerId ?? -1) >= 0 ? 0 : -1,
    clientTransactionVersion: value.clientTransactionVersion ?? 0,
  });
  return { key: k.toBuffer(), value: v.toBuffer() };
}

export type TxnRecord =
  | { kind: 'txn'; transactionalId: string; value: TxnLogValue | null }
  | { kind: 'other'; keyVersion: number };

/** Decodes one record of __transaction_state; throws ProtocolDecodeError on malformed bytes. */
export function decodeTxnRecord(key: Buffer, value: Buffer | null): TxnRecord {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (keyVersion !== KEY_VERSION) return { kind: 'other', keyVersion };
  const { transactionalId } = decodeTransactionLogKey(kr, keyVersion);
  if (value === null) return { kind: 'txn', transactionalId, value: null };
  const vr = new Reader(value);
  const version = vr.int16();
  if (version < 0 || version > VALUE_VERSION_MAX) return { kind: 'other', keyVersion };
  const v = decodeTransactionLogValue(vr, version);
  const state = v.transactionStatus;
  if (state < 0 || state > TxnState.PrepareEpochFence) return { kind: 'other', keyVersion };
  return {
    kind: 'txn',
    transactionalId,
    value: {
      producerId: v.producerId,
      producerEpoch: v.producerEpoch,
      transactionTimeoutMs: v.transactionTimeoutMs,
      state: state as TxnState,
      partitions: (v.transactionPartitions ?? []).map((p) => ({
        topic: p.topic,
        partitionIds: p.partitionIds,
      })),
      lastUpdateTimestampMs: v.transactionLastUpdateTimestampMs,
      startTimestampMs: v.transactionStartTimestampMs,
      previousProducerId: v.previousProducerId,
      nextProducerId: v.nextProducerId,
      clientTransactionVersion: v.clientTransactionVersion,
    },
  };
}
