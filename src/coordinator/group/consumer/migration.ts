// Online migration between the classic and the consumer group protocol (KIP-848,
// group.consumer.migration.policy). Kafka converts a classic group with members into a consumer group
// when a consumer-protocol member joins it (the upgrade) and back when the last consumer-protocol
// member leaves (the downgrade). Samsa converts only empty groups so far; this module holds the checks
// Kafka's GroupMetadataManager.validateOnlineUpgrade makes, so a refused upgrade answers Kafka's
// GROUP_ID_NOT_FOUND message, and one Kafka would allow says that Samsa does not convert it yet.

import { decodeConsumerProtocolAssignment } from '../../../protocol/generated/consumer-protocol-assignment.js';
import { Reader } from '../../../protocol/reader.js';
import type { GroupCoordinatorConfig } from '../config.js';
import { migrationAllowed } from '../config.js';
import { type ClassicGroup, decodeSubscription } from '../group.js';
import type { Assignment } from './assignment.js';
import { type ConsumerMember, MemberState, newMember } from './group.js';

/** Why a ConsumerGroupHeartbeat joining a non-empty classic group cannot convert it (the error message). */
export function upgradeRefusal(
  classic: ClassicGroup,
  config: Pick<GroupCoordinatorConfig, 'consumerMigrationPolicy' | 'consumerMaxSize'>,
): string {
  const id = classic.groupId;
  if (!migrationAllowed(config.consumerMigrationPolicy, 'upgrade'))
    return `Cannot upgrade classic group ${id} to consumer group because online upgrade is disabled.`;
  if (!classic.usesConsumerProtocol())
    return `Cannot upgrade classic group ${id} to consumer group because the group does not use the consumer embedded protocol.`;
  if (classic.size > config.consumerMaxSize)
    return `Cannot upgrade classic group ${id} to consumer group because the group size exceeds the consumer group maximum size.`;
  return `Cannot upgrade classic group ${id} to consumer group: Samsa converts only empty groups (online upgrade of a group with members is not implemented).`;
}

/**
 * The classic group's members as members of a consumer group (Kafka's ConsumerGroup.fromClassicGroup): each
 * keeps its id, instance id, client, rebalance timeout, the subscription of its JoinGroup metadata and the
 * partitions of its SyncGroup assignment (topics unknown to `topicId` dropped); its epoch is the
 * generation, its state STABLE, and its session timeout and protocols become its classic metadata. Null
 * when a member's subscription or assignment is not a consumer-protocol one.
 */
export function consumerMembersFromClassic(
  classic: ClassicGroup,
  topicId: (name: string) => string | undefined,
): ConsumerMember[] | null {
  const out: ConsumerMember[] = [];
  for (const m of classic.members.values()) {
    const sub = decodeSubscription(m.metadata(classic.protocolName));
    const assigned = decodeAssignmentBytes(m.assignment, topicId);
    if (sub === null || assigned === null) return null;
    out.push({
      ...newMember(m.memberId),
      instanceId: m.groupInstanceId,
      rackId: sub.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: [...sub.topics],
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      memberEpoch: classic.generationId,
      previousMemberEpoch: classic.generationId,
      state: MemberState.STABLE,
      assignedPartitions: assigned,
      classicMemberMetadata: {
        sessionTimeoutMs: m.sessionTimeoutMs,
        supportedProtocols: m.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      },
    });
  }
  return out;
}

/** A ConsumerProtocolAssignment (int16 version + struct) as topic id -> partitions; null when malformed. */
export function decodeAssignmentBytes(
  bytes: Buffer,
  topicId: (name: string) => string | undefined,
): Assignment | null {
  const out: Assignment = new Map();
  if (bytes.length === 0) return out;
  try {
    const r = new Reader(bytes);
    const version = r.int16();
    if (version < 0) return null;
    for (const t of decodeConsumerProtocolAssignment(r, Math.min(version, 3)).assignedPartitions) {
      const id = topicId(t.topic);
      if (id === undefined || t.partitions.length === 0) continue;
      let set = out.get(id);
      if (set === undefined) {
        set = new Set();
        out.set(id, set);
      }
      for (const p of t.partitions) set.add(p);
    }
    return out;
  } catch {
    return null;
  }
}
