// The transaction coordinator's settings, read once from the broker configuration (Kafka's keys and defaults).

import type { BrokerConfig } from '../../config/broker-config.js';

export interface TxnCoordinatorConfig {
  /** transaction.state.log.num.partitions: partitions of __transaction_state when it is created. */
  stateLogPartitions: number;
  /** transaction.state.log.replication.factor (capped at the live brokers when the topic is created). */
  stateLogReplicationFactor: number;
  /** transaction.state.log.min.isr (capped at the replication factor the topic gets). */
  stateLogMinIsr: number;
  /** transaction.state.log.segment.bytes. */
  stateLogSegmentBytes: number;
  /** transaction.max.timeout.ms: the longest transaction timeout a producer may ask for. */
  maxTimeoutMs: number;
  /** transactional.id.expiration.ms: an id idle (no transaction) this long is removed. */
  idExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms. */
  abortTimedOutIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms. */
  removeExpiredIntervalMs: number;
  /**
   * transaction.version: the finalized level of Kafka's feature (2: KIP-890 part 2, clients bump the epoch at every
   * EndTxn and add partitions implicitly with Produce v12; 1 or 0: explicit AddPartitionsToTxn).
   */
  transactionVersion: number;
  /** transaction.partition.verification.enable: a transactional produce is verified with the coordinator. */
  partitionVerification: boolean;
  /** How long a write to __transaction_state may take to be committed (Kafka: request.timeout.ms). */
  writeTimeoutMs: number;
}

export function txnCoordinatorConfig(c: BrokerConfig, writeTimeoutMs: number): TxnCoordinatorConfig {
  return {
    stateLogPartitions: c.int('transaction.state.log.num.partitions'),
    stateLogReplicationFactor: c.int('transaction.state.log.replication.factor'),
    stateLogMinIsr: c.int('transaction.state.log.min.isr'),
    stateLogSegmentBytes: c.int('transaction.state.log.segment.bytes'),
    maxTimeoutMs: c.int('transaction.max.timeout.ms'),
    idExpirationMs: c.int('transactional.id.expiration.ms'),
    abortTimedOutIntervalMs: c.int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    removeExpiredIntervalMs: c.int('transaction.remove.expired.transaction.cleanup.interval.ms'),
    transactionVersion: c.int('transaction.version'),
    partitionVerification: c.bool('transaction.partition.verification.enable'),
    writeTimeoutMs,
  };
}
