// Member reconciliation of the consumer group protocol (what Kafka's CurrentAssignmentBuilder does): one
// step of a member's current assignment towards its target, taken on each of its heartbeats.
//
// States (MemberState):
//   STABLE                 the member has its whole target at the assignment epoch. A newer assignment
//                          epoch: take the next step.
//   UNREVOKED_PARTITIONS   the member must give up partitions first; it stays at its epoch and keeps only
//                          the partitions of its target it already had. A partition counts as revoked once
//                          the member's heartbeat no longer reports it as owned (TopicPartitions); until the
//                          heartbeat reports an owned set without them nothing moves (null: unchanged).
//   UNRELEASED_PARTITIONS  the member is at the assignment epoch and has taken every partition of its target
//                          nobody else owns; it waits for the others' previous owners to revoke them and takes
//                          them on a later heartbeat.
// Revoke before assign: a partition of the target is handed over only when no other member owns it
// (ConsumerGroup.ownerOf), and a member that has partitions to revoke gets nothing new until it has.

import { type Assignment, addPartition, assignmentHas, emptyAssignment, intersects } from './assignment.js';
import { type ConsumerGroup, type ConsumerMember, MemberState } from './group.js';

/** The member after one step (the same object when nothing changes). */
export function reconcile(
  group: ConsumerGroup,
  member: ConsumerMember,
  targetEpoch: number,
  target: Assignment,
  owned: Assignment | null,
): ConsumerMember {
  switch (member.state) {
    case MemberState.STABLE:
      if (member.memberEpoch === targetEpoch) return member;
      return nextStep(group, member, targetEpoch, target);
    case MemberState.UNREVOKED_PARTITIONS:
      if (owned === null || intersects(owned, member.partitionsPendingRevocation)) return member;
      return nextStep(group, member, targetEpoch, target);
    default:
      return nextStep(group, member, targetEpoch, target);
  }
}

function nextStep(
  group: ConsumerGroup,
  member: ConsumerMember,
  targetEpoch: number,
  target: Assignment,
): ConsumerMember {
  const assigned = emptyAssignment();
  const revoke = emptyAssignment();
  for (const [t, ps] of member.assignedPartitions) {
    for (const p of ps) addPartition(assignmentHas(target, t, p) ? assigned : revoke, t, p);
  }
  if (revoke.size > 0) {
    return {
      ...member,
      state: MemberState.UNREVOKED_PARTITIONS,
      assignedPartitions: assigned,
      partitionsPendingRevocation: revoke,
    };
  }
  let unreleased = false;
  for (const [t, ps] of target) {
    for (const p of ps) {
      if (assignmentHas(assigned, t, p)) continue;
      const owner = group.ownerOf(t, p);
      if (owner === undefined || owner === member.memberId) addPartition(assigned, t, p);
      else unreleased = true;
    }
  }
  return {
    ...member,
    state: unreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE,
    previousMemberEpoch: member.memberEpoch !== targetEpoch ? member.memberEpoch : member.previousMemberEpoch,
    memberEpoch: targetEpoch,
    assignedPartitions: assigned,
    partitionsPendingRevocation: emptyAssignment(),
  };
}
