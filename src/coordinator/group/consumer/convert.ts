// The online conversions of a group with members between the classic and the consumer protocol (KIP-848,
// Kafka's GroupMetadataManager.convertToConsumerGroup / convertToClassicGroup), applied to the coordinator:
// the registry (a group id is in one map or the other), the timers and the records. The coordinator owns
// the state; the caller appends the records with the rest of its request's and answers once they commit.
//
//   upgrade    a ConsumerGroupHeartbeat joins a Stable classic group of the consumer embedded protocol:
//              the classic group's metadata is tombstoned and the consumer group's records written (each
//              member with its classic metadata, its current assignment as its target, the group epoch and
//              the assignment epoch the generation). The joining member then bumps the epoch and the
//              broker-side assignor computes the new target; the classic members learn it by a Heartbeat
//              answered REBALANCE_IN_PROGRESS and rejoin (classic.ts).
//   downgrade  the last member of the consumer protocol leaves (or is fenced) and every remaining member
//              is a classic one: the consumer group's records are tombstoned and the classic group's
//              metadata written (Stable, generation = group epoch, each member's target as its assignment),
//              then a rebalance starts so the members rejoin and the leader assigns again.
// Records replay to the same state after a restart: the later kind's records win (loader.ts, replay.ts).

import { ErrorCode } from '../../../protocol/errors.js';
import type { GroupCoordinator } from '../coordinator.js';
import type { ClassicGroup } from '../group.js';
import { groupMetadataRecord as classicGroupRecord, type EncodedRecord } from '../records.js';
import { type ConsumerGroup, ConsumerGroup as Group } from './group.js';
import { classicGroupFromConsumer, consumerMembersFromClassic } from './migration.js';
import {
  currentAssignmentRecord,
  groupMetadataRecord,
  memberMetadataRecord,
  targetMemberRecord,
  targetMetadataRecord,
} from './records.js';
import { subscribedTopics } from './target.js';

/**
 * Converts a Stable classic group (checked by upgradeRefusal) into a consumer group; null (nothing changed)
 * when a member's subscription or assignment is not a consumer-protocol one.
 */
export function upgradeToConsumerGroup(
  c: GroupCoordinator,
  classic: ClassicGroup,
  records: EncodedRecord[],
  now: number,
): ConsumerGroup | null {
  const members = consumerMembersFromClassic(classic, (name) => c.host.topic(name)?.topicId);
  if (members === null) return null;
  const id = classic.groupId;
  c.rebalancer.shutdownGroup(classic, ErrorCode.REBALANCE_IN_PROGRESS);
  classic.transitionTo('Dead', now);
  c.groups.delete(id);
  c.metadataInLog.delete(id);
  records.push(classicGroupRecord(id, null));
  const group = new Group(id);
  group.groupEpoch = classic.generationId;
  group.assignmentEpoch = classic.generationId;
  for (const m of members) {
    group.updateMember(m);
    const target = new Map([...m.assignedPartitions].map(([t, ps]) => [t, new Set(ps)]));
    group.targetAssignment.set(m.memberId, target);
    records.push(
      memberMetadataRecord(id, m.memberId, m),
      targetMemberRecord(id, m.memberId, target),
      currentAssignmentRecord(id, m.memberId, m),
    );
  }
  group.metadataHash = subscribedTopics(c, group).hash;
  records.push(
    groupMetadataRecord(id, { epoch: group.groupEpoch, metadataHash: group.metadataHash }),
    targetMetadataRecord(id, group.assignmentEpoch, now),
  );
  group.adoptPendingCommits(classic);
  classic.successor = group;
  c.consumerGroups.set(id, group);
  for (const m of members) c.consumer.scheduleSession(group, m.memberId);
  c.log.info('classic group upgraded to a consumer group', {
    group: id,
    generationId: classic.generationId,
    members: members.length,
  });
  return group;
}

/**
 * Converts a consumer group whose member `leavingMemberId` leaves (checked by downgradeRefusal) into a classic
 * group of its classic members, and starts a rebalance of it.
 */
export function downgradeToClassicGroup(
  c: GroupCoordinator,
  group: ConsumerGroup,
  leavingMemberId: string,
  records: EncodedRecord[],
  now: number,
): ClassicGroup {
  const id = group.groupId;
  const classic = classicGroupFromConsumer(group, leavingMemberId, (t) => c.host.topicName(t), now);
  for (const memberId of [...group.members.keys()]) c.consumer.removeMember(group, memberId, records);
  records.push(...c.consumerAdmin.groupTombstones(group));
  c.consumer.stopTimers(group);
  group.dead = true;
  c.consumerGroups.delete(id);
  classic.adoptPendingCommits(group);
  group.successor = classic;
  c.groups.set(id, classic);
  c.metadataInLog.add(id);
  records.push(c.groupRecord(classic));
  for (const m of classic.members.values()) c.rebalancer.scheduleSession(classic, m);
  c.log.info('consumer group downgraded to a classic group', {
    group: id,
    generationId: classic.generationId,
    members: classic.size,
    leavingMemberId,
  });
  c.rebalancer.prepareRebalance(classic, `downgrade of consumer group ${id} to a classic group`);
  return classic;
}
