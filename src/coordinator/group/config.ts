// The group coordinator's settings, read once from the broker configuration (Kafka's keys).

import {
  type BrokerConfig,
  type ConsumerMigrationPolicy,
  consumerAssignorName,
  consumerMigrationPolicy,
} from '../../config/broker-config.js';

export interface GroupCoordinatorConfig {
  /** offsets.topic.num.partitions: partitions of __consumer_offsets when it is created. */
  offsetsTopicPartitions: number;
  /** offsets.topic.segment.bytes: segment.bytes of __consumer_offsets. */
  offsetsTopicSegmentBytes: number;
  /** offsets.retention.minutes, in ms: how long offsets of an empty group are kept. */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms. */
  offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes: longest metadata string of a commit. */
  offsetMetadataMaxBytes: number;
  /** group.initial.rebalance.delay.ms. */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms. */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.max.size. */
  maxSize: number;
  /** How long a new member's JoinGroup may stay parked before it is dropped (Kafka: 5 minutes). */
  newMemberJoinTimeoutMs: number;
  /** offsets.commit.timeout.ms: how long a write to __consumer_offsets may take to be committed. */
  offsetCommitTimeoutMs: number;
  /** KIP-848 consumer groups: group.consumer.session.timeout.ms / heartbeat.interval.ms. */
  consumerSessionTimeoutMs: number;
  consumerHeartbeatIntervalMs: number;
  /** group.consumer.assignors: the broker-side assignors, the first the default. */
  consumerAssignors: string[];
  /** group.consumer.max.size. */
  consumerMaxSize: number;
  /** group.consumer.migration.policy: which online conversions of a non-empty group are allowed. */
  consumerMigrationPolicy: ConsumerMigrationPolicy;
  /** Whether group.coordinator.rebalance.protocols lists consumer (ConsumerGroupHeartbeat served). */
  consumerProtocolEnabled: boolean;
}

export function groupCoordinatorConfig(c: BrokerConfig): GroupCoordinatorConfig {
  return {
    offsetsTopicPartitions: c.int('offsets.topic.num.partitions'),
    offsetsTopicSegmentBytes: c.int('offsets.topic.segment.bytes'),
    offsetsRetentionMs: c.int('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: c.long('offsets.retention.check.interval.ms'),
    offsetMetadataMaxBytes: c.int('offset.metadata.max.bytes'),
    initialRebalanceDelayMs: c.int('group.initial.rebalance.delay.ms'),
    minSessionTimeoutMs: c.int('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: c.int('group.max.session.timeout.ms'),
    maxSize: c.int('group.max.size'),
    newMemberJoinTimeoutMs: 5 * 60_000,
    offsetCommitTimeoutMs: c.int('offsets.commit.timeout.ms'),
    consumerSessionTimeoutMs: c.int('group.consumer.session.timeout.ms'),
    consumerHeartbeatIntervalMs: c.int('group.consumer.heartbeat.interval.ms'),
    // Kafka also takes class names; the short names are what members send as ServerAssignor.
    consumerAssignors: c.list('group.consumer.assignors').map(consumerAssignorName),
    consumerMaxSize: c.int('group.consumer.max.size'),
    consumerMigrationPolicy: consumerMigrationPolicy(c),
    consumerProtocolEnabled: c
      .list('group.coordinator.rebalance.protocols')
      .some((p) => p.trim().toLowerCase() === 'consumer'),
  };
}

/** Kafka's ConsumerGroupMigrationPolicy.isUpgradeEnabled / isDowngradeEnabled. */
export function migrationAllowed(
  policy: ConsumerMigrationPolicy,
  direction: 'upgrade' | 'downgrade',
): boolean {
  return policy === 'bidirectional' || policy === direction;
}
