// The transactional side of a Produce request (handler 00), KIP-890:
//   - Produce v12+ from a transaction version 2 producer (the finalized transaction.version is 2): the partitions
//     a transactional batch is written to join the producer's transaction implicitly; the leader asks the
//     coordinator to add them (txn-verification.ts, 'add') before appending.
//   - Produce v3-11 (a transaction version 1 producer, which added the partitions itself with AddPartitionsToTxn):
//     with transaction.partition.verification.enable (default true, as Kafka) the leader asks the coordinator
//     whether the partitions are in the producer's open transaction ('verify') before appending; a write to a
//     partition that is not is refused (INVALID_TXN_STATE, or TRANSACTION_ABORTABLE for v11), so it cannot open a
//     transaction nobody will end.
// Only the first transactional write of a transaction to a partition asks: once the partition has an open
// transaction for that producer id and epoch, it is known to the coordinator (Kafka's VerificationGuard sentinel).
// Each partition that asks gets a gate, a promise of its error code, which the produce handler awaits in the
// partition's append queue (so later writes to the partition stay behind it).
// Not done: Kafka's verification guard closing the window between a verification and the append (a coordinator
// abort in between could still leave the partition with an open transaction; the coordinator's markers for a
// later transaction of the producer, or its fencing, end it).

import type { TxnPartitions } from '../coordinator/txn/metadata.js';
import { ErrorCode } from '../protocol/errors.js';
import { BATCH_HEADER_BYTES, readBatchHeader, TRANSACTIONAL_FLAG_MASK } from '../protocol/records.js';
import type { Broker } from './broker.js';
import { txnVerifier } from './txn-verification.js';

/** One partition of a produce request, its topic resolved to a name. */
export interface ProducePartition {
  topic: string;
  index: number;
  records: Buffer | null;
}

/** The gate of each partition that must wait for the coordinator, keyed `${topic}\0${index}`. */
export type TxnGates = Map<string, Promise<number>>;

export function gateKey(topic: string, index: number): string {
  return `${topic}\u0000${index}`;
}

/**
 * Starts the coordinator checks a transactional produce needs; null when none is needed (not transactional,
 * verification disabled, or every partition already has the producer's transaction open).
 */
export function startTxnChecks(
  broker: Broker,
  apiVersion: number,
  transactionalId: string | null,
  partitions: readonly ProducePartition[],
): TxnGates | null {
  if (transactionalId === null || transactionalId === '') return null;
  const config = broker.transactions.config;
  const add = apiVersion >= 12 && config.transactionVersion >= 2;
  if (!add && !config.partitionVerification) return null;
  const asked: TxnPartitions = new Map();
  let producerId = -1;
  let producerEpoch = -1;
  for (const p of partitions) {
    if (p.records === null || p.records.length < BATCH_HEADER_BYTES) continue;
    const h = readBatchHeader(p.records, 0);
    if ((h.attributes & TRANSACTIONAL_FLAG_MASK) === 0 || h.producerId < 0) continue;
    const leader = broker.replicas.leaderFor(p.topic, p.index);
    if (typeof leader === 'number') continue; // answered NOT_LEADER / UNKNOWN by the append path
    const entry = leader.log.producerState.entry(h.producerId);
    if (entry !== undefined && entry.producerEpoch === h.producerEpoch && entry.currentTxnFirstOffset >= 0)
      continue;
    if (producerId < 0) {
      producerId = h.producerId;
      producerEpoch = h.producerEpoch;
    } else if (producerId !== h.producerId || producerEpoch !== h.producerEpoch) {
      continue; // one producer per request; the log refuses the odd batch on its own
    }
    const set = asked.get(p.topic) ?? new Set<number>();
    set.add(p.index);
    asked.set(p.topic, set);
  }
  if (asked.size === 0) return null;
  const verdict = txnVerifier(broker).check({
    transactionalId,
    producerId,
    producerEpoch,
    partitions: asked,
    mode: add ? 'add' : 'verify',
    abortableSupported: apiVersion >= 11,
  });
  const gates: TxnGates = new Map();
  for (const [topic, set] of asked) {
    for (const index of set) {
      gates.set(
        gateKey(topic, index),
        verdict.then((v) => v.get(topic)?.get(index) ?? ErrorCode.NONE),
      );
    }
  }
  return gates;
}

/** The message of a refused transactional write. */
export function gateMessage(code: number): string {
  switch (code) {
    case ErrorCode.INVALID_TXN_STATE:
    case ErrorCode.TRANSACTION_ABORTABLE:
      return 'The partition was not added to the transaction (verified with the transaction coordinator).';
    case ErrorCode.NOT_ENOUGH_REPLICAS:
      return 'Unable to verify the partition has been added to the transaction; retry.';
    default:
      return 'The transaction coordinator refused the transactional write.';
  }
}
