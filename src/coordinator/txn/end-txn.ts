// What EndTxn, the partition leaders' verification and the producer checks of the other requests do with a transactional id's state, as pure decisions
// (Kafka's TransactionCoordinator.handleEndTransaction / handleVerifyPartitionsInTransaction); the coordinator
// (coordinator.ts) acts on them.
//
// Transaction version 1 (EndTxn v0-4): the request's producer id and epoch are the id's current ones; Ongoing
// moves to Prepare*; a retried EndTxn of a completed transaction with the same outcome answers NONE.
//
// Transaction version 2 (EndTxn v5, KIP-890 part 2): the end bumps the epoch, so a producer's request may carry
// the epoch before the bump (a retry of an end that was written) and the state decides what the epoch must be:
//   Ongoing, Empty          the current epoch
//   PrepareCommit/Abort     the epoch before the bump (a retry: CONCURRENT_TRANSACTIONS until complete)
//   CompleteCommit/Abort    the epoch before the bump (a retry: NONE), or the current one (a new end), or the last
//                           epoch of the previous producer id when the bump exhausted it (a retry after the rotation)
// anything else is PRODUCER_FENCED. An abort of a transaction that added no partition (Empty, Complete*) is
// written too (it bumps the epoch); a commit of one is INVALID_TXN_STATE, as Kafka.

import { ErrorCode } from '../../protocol/errors.js';
import {
  EPOCH_MAX,
  isEpochExhausted,
  NO_PRODUCER_EPOCH,
  type TransactionMetadata,
  type TxnPartitions,
} from './metadata.js';
import { TxnState } from './records.js';

export type EndDecision =
  | { kind: 'error'; errorCode: number }
  /** A retry of an end already written: NONE, with the id and epoch the producer continues with. */
  | { kind: 'done' }
  /** Write Prepare*; `newId` when a TV2 bump exhausts the epoch (a new producer id must be allocated first). */
  | { kind: 'prepare'; newId: boolean };

const fail = (errorCode: number): EndDecision => ({ kind: 'error', errorCode });

/** EndTxn v0-4 (Kafka's TV_0/TV_1 path): the producer must be the id's current one. */
export function decideEndV1(
  md: TransactionMetadata | undefined,
  producerId: number,
  producerEpoch: number,
  commit: boolean,
): EndDecision {
  if (md === undefined || md.producerId !== producerId) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  if (md.producerEpoch !== producerEpoch) return fail(ErrorCode.PRODUCER_FENCED);
  if (md.pending) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  switch (md.state) {
    case TxnState.Ongoing:
      return { kind: 'prepare', newId: false };
    case TxnState.CompleteCommit:
      return commit ? { kind: 'done' } : fail(ErrorCode.INVALID_TXN_STATE);
    case TxnState.CompleteAbort:
      return commit ? fail(ErrorCode.INVALID_TXN_STATE) : { kind: 'done' };
    case TxnState.PrepareCommit:
      return fail(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
    case TxnState.PrepareAbort:
      return fail(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
    case TxnState.Empty:
      return fail(ErrorCode.INVALID_TXN_STATE);
    default:
      return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  }
}

/** EndTxn v5 (TV_2): the epoch is bumped by the end; retries carry the epoch before it. */
export function decideEndV2(
  md: TransactionMetadata | undefined,
  producerId: number,
  producerEpoch: number,
  commit: boolean,
): EndDecision {
  if (md === undefined) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  // A retry after the bump rotated the producer id: the old id at its last epoch, the new one at epoch 0.
  const retryOnOverflow =
    md.producerId !== producerId &&
    md.prevProducerId === producerId &&
    producerEpoch === EPOCH_MAX - 1 &&
    md.producerEpoch === 0;
  const retryOnEpochBump = md.producerId === producerId && md.producerEpoch === producerEpoch + 1;
  if (md.producerId !== producerId && !retryOnOverflow) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  let validEpoch: boolean;
  switch (md.state) {
    case TxnState.PrepareCommit:
    case TxnState.PrepareAbort:
      validEpoch = retryOnEpochBump;
      break;
    case TxnState.CompleteCommit:
    case TxnState.CompleteAbort:
      validEpoch = retryOnEpochBump || retryOnOverflow || producerEpoch === md.producerEpoch;
      break;
    default:
      validEpoch = producerEpoch === md.producerEpoch;
  }
  if (!validEpoch) return fail(ErrorCode.PRODUCER_FENCED);
  if (md.pending) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  const isRetry = retryOnEpochBump || retryOnOverflow;
  const prepare: EndDecision = { kind: 'prepare', newId: isEpochExhausted(md.producerEpoch) };
  switch (md.state) {
    case TxnState.Ongoing:
      return prepare;
    case TxnState.CompleteCommit:
      if (commit) return isRetry ? { kind: 'done' } : fail(ErrorCode.INVALID_TXN_STATE);
      return isRetry ? fail(ErrorCode.INVALID_TXN_STATE) : prepare;
    case TxnState.CompleteAbort:
      if (!commit) return isRetry ? { kind: 'done' } : prepare;
      return fail(ErrorCode.INVALID_TXN_STATE);
    case TxnState.PrepareCommit:
      return fail(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
    case TxnState.PrepareAbort:
      return fail(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
    case TxnState.Empty:
      return commit ? fail(ErrorCode.INVALID_TXN_STATE) : prepare;
    default:
      return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
  }
}

/**
 * AddPartitionsToTxn v4+ with verifyOnly (KIP-890 part 1): whether each partition is in the producer's open
 * transaction. One error for all (the producer is not the id's current one, or the transaction is ending), else
 * per partition NONE or TRANSACTION_ABORTABLE (not added: the producer skipped AddPartitionsToTxn, or its
 * transaction was aborted meanwhile). The pending state is not checked, as Kafka.
 */
export function verifyPartitions(
  md: TransactionMetadata | undefined,
  producerId: number,
  producerEpoch: number,
  partitions: TxnPartitions,
): number | Map<string, Map<number, number>> {
  if (md === undefined || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
  if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
  if (md.state === TxnState.PrepareCommit || md.state === TxnState.PrepareAbort)
    return ErrorCode.CONCURRENT_TRANSACTIONS;
  const ongoing = md.state === TxnState.Ongoing;
  const out = new Map<string, Map<number, number>>();
  for (const [topic, set] of partitions) {
    const mine = md.partitions.get(topic);
    const codes = new Map<number, number>();
    for (const p of set)
      codes.set(p, ongoing && mine?.has(p) === true ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE);
    out.set(topic, codes);
  }
  return out;
}

/** The producer of a request is the id's current one: INVALID_PRODUCER_ID_MAPPING or PRODUCER_FENCED otherwise. */
export function checkProducer(
  md: TransactionMetadata | undefined,
  producerId: number,
  producerEpoch: number,
): number {
  if (md === undefined || md.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
  if (md.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
  return ErrorCode.NONE;
}

/**
 * Kafka's isValidProducerId: the id and epoch a producer says it has may re-initialize it when the id has no epoch
 * yet, when they are its current producer id, or its previous one at an exhausted epoch (a retried rotation).
 */
export function validProducerId(
  md: TransactionMetadata,
  expected: { producerId: number; producerEpoch: number },
): boolean {
  return (
    md.producerEpoch === NO_PRODUCER_EPOCH ||
    expected.producerId === md.producerId ||
    (expected.producerId === md.prevProducerId && isEpochExhausted(expected.producerEpoch))
  );
}
