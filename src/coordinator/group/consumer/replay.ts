// Rebuilding consumer groups (KIP-848) from __consumer_offsets while a partition loads (loader.ts): the
// last record per key wins, a tombstone deletes its key, and a ConsumerGroupMetadata tombstone deletes
// the group (Kafka writes it last when a group goes). A classic GroupMetadata record for the same id
// after them means the group turned classic (and the other way round): the loader drops the other kind.
// Members come back with their subscription, current and target assignment and epochs; their sessions
// start again when the partition is installed.

import type { GroupCoordinator } from '../coordinator.js';
import type { Assignment } from './assignment.js';
import { ConsumerGroup, newMember } from './group.js';
import {
  type ConsumerGroupRecord,
  type CurrentAssignment,
  type MemberMetadata,
  RecordType,
} from './records.js';

interface GroupSnapshot {
  epoch: number;
  metadataHash: number;
  assignmentEpoch: number;
  members: Map<string, MemberMetadata>;
  current: Map<string, CurrentAssignment>;
  targets: Map<string, Assignment>;
  regexes: Map<string, { topics: string[]; version: number; timestamp: number }>;
  /** A ConsumerGroupMetadata record was seen (members without one are leftovers). */
  hasMetadata: boolean;
}

export class ConsumerGroupReplay {
  readonly groups = new Map<string, GroupSnapshot>();

  private snapshot(groupId: string): GroupSnapshot {
    let g = this.groups.get(groupId);
    if (g === undefined) {
      g = {
        epoch: 0,
        metadataHash: 0,
        assignmentEpoch: 0,
        members: new Map(),
        current: new Map(),
        targets: new Map(),
        regexes: new Map(),
        hasMetadata: false,
      };
      this.groups.set(groupId, g);
    }
    return g;
  }

  /** A classic group record for this id came later: the consumer group is gone. */
  dropGroup(groupId: string): void {
    this.groups.delete(groupId);
  }

  apply(rec: ConsumerGroupRecord): void {
    switch (rec.type) {
      case RecordType.GroupMetadata:
        if (rec.value === null) {
          this.groups.delete(rec.groupId);
        } else {
          const g = this.snapshot(rec.groupId);
          g.epoch = rec.value.epoch;
          g.metadataHash = rec.value.metadataHash;
          g.hasMetadata = true;
        }
        return;
      case RecordType.PartitionMetadata:
        return;
      case RecordType.MemberMetadata:
        if (rec.value === null) this.groups.get(rec.groupId)?.members.delete(rec.memberId);
        else this.snapshot(rec.groupId).members.set(rec.memberId, rec.value);
        return;
      case RecordType.TargetAssignmentMetadata:
        if (rec.value !== null) this.snapshot(rec.groupId).assignmentEpoch = rec.value.assignmentEpoch;
        return;
      case RecordType.TargetAssignmentMember:
        if (rec.value === null) this.groups.get(rec.groupId)?.targets.delete(rec.memberId);
        else this.snapshot(rec.groupId).targets.set(rec.memberId, rec.value);
        return;
      case RecordType.CurrentMemberAssignment:
        if (rec.value === null) this.groups.get(rec.groupId)?.current.delete(rec.memberId);
        else this.snapshot(rec.groupId).current.set(rec.memberId, rec.value);
        return;
      case RecordType.RegularExpression:
        if (rec.value === null) this.groups.get(rec.groupId)?.regexes.delete(rec.regex);
        else this.snapshot(rec.groupId).regexes.set(rec.regex, rec.value);
        return;
    }
  }

  /** Puts the rebuilt groups in the coordinator (skipping ids it already has); returns how many. */
  install(c: GroupCoordinator): number {
    let n = 0;
    for (const [groupId, s] of this.groups) {
      if (!s.hasMetadata || c.consumerGroups.has(groupId) || c.groups.has(groupId)) continue;
      const group = new ConsumerGroup(groupId);
      group.groupEpoch = s.epoch;
      group.metadataHash = s.metadataHash;
      group.assignmentEpoch = s.assignmentEpoch;
      for (const [regex, v] of s.regexes) group.resolvedRegexes.set(regex, v);
      for (const [memberId, meta] of s.members) {
        const current = s.current.get(memberId);
        group.updateMember({ ...newMember(memberId), ...meta, ...(current ?? {}) });
        group.targetAssignment.set(memberId, s.targets.get(memberId) ?? new Map());
      }
      c.consumerGroups.set(groupId, group);
      for (const memberId of group.members.keys()) c.consumer.scheduleSession(group, memberId);
      n++;
    }
    return n;
  }
}
