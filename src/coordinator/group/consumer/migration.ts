// Online migration between the classic and the consumer group protocol (KIP-848,
// group.consumer.migration.policy): the checks Kafka's GroupMetadataManager.validateOnlineUpgrade /
// validateOnlineDowngrade make and the conversions of the members (ConsumerGroup.fromClassicGroup,
// ClassicGroup.fromConsumerGroup). convert.ts applies them to the coordinator (records, timers).

import {
  decodeConsumerProtocolAssignment,
  encodeConsumerProtocolAssignment,
} from '../../../protocol/generated/consumer-protocol-assignment.js';
import { Reader } from '../../../protocol/reader.js';
import { Writer } from '../../../protocol/writer.js';
import type { GroupCoordinatorConfig } from '../config.js';
import { migrationAllowed } from '../config.js';
import { ClassicGroup, CONSUMER_PROTOCOL_TYPE, decodeSubscription } from '../group.js';
import { ClassicMember } from '../member.js';
import type { Assignment } from './assignment.js';
import { type ConsumerGroup, type ConsumerMember, MemberState, newMember } from './group.js';

/**
 * Why a ConsumerGroupHeartbeat joining a non-empty classic group cannot convert it (the error message), or
 * null when it can: the policy allows upgrades, the group is Stable, uses the consumer embedded protocol,
 * and fits group.consumer.max.size.
 */
export function upgradeRefusal(
  classic: ClassicGroup,
  config: Pick<GroupCoordinatorConfig, 'consumerMigrationPolicy' | 'consumerMaxSize'>,
): string | null {
  const id = classic.groupId;
  if (!migrationAllowed(config.consumerMigrationPolicy, 'upgrade'))
    return `Cannot upgrade classic group ${id} to consumer group because online upgrade is disabled.`;
  if (!classic.usesConsumerProtocol())
    return `Cannot upgrade classic group ${id} to consumer group because the group does not use the consumer embedded protocol.`;
  if (classic.size > config.consumerMaxSize)
    return `Cannot upgrade classic group ${id} to consumer group because the group size exceeds the consumer group maximum size.`;
  if (!classic.is('Stable'))
    return `Cannot upgrade classic group ${id} to consumer group because the group is not stable (${classic.state}).`;
  return null;
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

/**
 * Why a consumer group whose member `leavingMemberId` leaves cannot become a classic group (Kafka's
 * validateOnlineDowngrade); null when it can: the policy allows downgrades, every other member is a
 * classic one (at least one remains) and they fit group.max.size.
 */
export function downgradeRefusal(
  group: ConsumerGroup,
  leavingMemberId: string,
  config: Pick<GroupCoordinatorConfig, 'consumerMigrationPolicy' | 'maxSize'>,
): string | null {
  const id = group.groupId;
  if (!migrationAllowed(config.consumerMigrationPolicy, 'downgrade'))
    return `Cannot downgrade consumer group ${id} to classic group because the online downgrade is disabled.`;
  const rest = [...group.members.values()].filter((m) => m.memberId !== leavingMemberId);
  if (rest.length === 0 || rest.some((m) => m.classicMemberMetadata === null))
    return `Consumer group ${id} keeps members of the consumer protocol (or none).`;
  if (rest.length > config.maxSize)
    return `Cannot downgrade consumer group ${id} to classic group because its group size is greater than classic group max size.`;
  return null;
}

/**
 * The classic group that replaces a consumer group whose last consumer-protocol member leaves (Kafka's
 * ClassicGroup.fromConsumerGroup): Stable, generation = the group epoch, the classic members in the
 * consumer group's order (the first the leader), the protocol they vote for, and as each member's
 * assignment its target assignment, encoded in the ConsumerProtocolAssignment version of its metadata.
 * The caller then starts a rebalance. Topics unknown to `topicName` are left out.
 */
export function classicGroupFromConsumer(
  group: ConsumerGroup,
  leavingMemberId: string,
  topicName: (topicId: string) => string | undefined,
  now: number,
): ClassicGroup {
  const classic = new ClassicGroup(group.groupId, now);
  for (const m of group.members.values()) {
    const meta = m.classicMemberMetadata;
    if (m.memberId === leavingMemberId || meta === null) continue;
    classic.add(
      new ClassicMember(
        m.memberId,
        m.instanceId,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeoutMs,
        meta.sessionTimeoutMs,
        CONSUMER_PROTOCOL_TYPE,
        meta.supportedProtocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      ),
    );
  }
  classic.generationId = group.groupEpoch;
  classic.restoreState('Stable', now);
  classic.protocolName = classic.selectProtocol();
  classic.subscribedTopics = classic.computeSubscribedTopics();
  for (const member of classic.members.values()) {
    const metadata = member.metadata(classic.protocolName);
    const version = metadata.length >= 2 ? Math.max(0, Math.min(metadata.readInt16BE(0), 3)) : 0;
    member.assignment = assignmentBytes(group.target(member.memberId), topicName, version);
  }
  return classic;
}

/** An assignment as ConsumerProtocolAssignment bytes of this version (topics unknown to `topicName` left out). */
export function assignmentBytes(
  a: Assignment,
  topicName: (id: string) => string | undefined,
  version: number,
): Buffer {
  const assignedPartitions: { topic: string; partitions: number[] }[] = [];
  for (const [id, ps] of a) {
    const topic = topicName(id);
    if (topic !== undefined) assignedPartitions.push({ topic, partitions: [...ps].sort((x, y) => x - y) });
  }
  const w = new Writer(64);
  w.int16(version);
  encodeConsumerProtocolAssignment(w, version, { assignedPartitions, userData: null });
  return w.toBuffer();
}
