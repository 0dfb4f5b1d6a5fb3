// Consumer groups (KIP-848) seen by the admin APIs: ConsumerGroupDescribe (69), DescribeGroups and
// ListGroups (answered for consumer groups as Kafka does), DeleteGroups, offsets retention, and the
// conversion of an empty consumer group back to a classic one when a JoinGroup comes for its id.
//
// DescribeGroups on a consumer group: protocol type "consumer", protocol data the group's assignor, each
// member's metadata a ConsumerProtocolSubscription v3 (its subscribed topic names, member epoch as
// generation, rack) and its assignment a ConsumerProtocolAssignment v3 of its current partitions (Kafka's
// ConsumerGroup.asDescribedGroup), so classic admin tools show consumer groups too.

import { ErrorCode } from '../../../protocol/errors.js';
import type { ConsumerGroupDescribeResponseDescribedGroupInput } from '../../../protocol/generated/consumer-group-describe-response.js';
import { encodeConsumerProtocolAssignment } from '../../../protocol/generated/consumer-protocol-assignment.js';
import { encodeConsumerProtocolSubscription } from '../../../protocol/generated/consumer-protocol-subscription.js';
import { Writer } from '../../../protocol/writer.js';
import type { GroupCoordinator, GroupDescription, ListedGroup } from '../coordinator.js';
import { CONSUMER_PROTOCOL_TYPE } from '../group.js';
import { groupWriteError } from '../rebalance.js';
import { type EncodedRecord, offsetCommitRecord } from '../records.js';
import { type Assignment, assignmentToList } from './assignment.js';
import type { ConsumerGroup, ConsumerMember } from './group.js';
import {
  groupMetadataRecord,
  partitionMetadataTombstone,
  regexRecord,
  targetMetadataRecord,
} from './records.js';

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
const MEMBER_TYPE_CLASSIC = 0;
const MEMBER_TYPE_CONSUMER = 1;

export class ConsumerGroupAdmin {
  constructor(private readonly c: GroupCoordinator) {}

  private assignorOf(group: ConsumerGroup): string {
    return group.preferredAssignor(this.c.config.consumerAssignors[0] ?? 'uniform');
  }

  private named(a: Assignment): { topicId: string; topicName: string; partitions: number[] }[] {
    const out: { topicId: string; topicName: string; partitions: number[] }[] = [];
    for (const t of assignmentToList(a)) {
      const name = this.c.host.topicName(t.topicId);
      if (name !== undefined) out.push({ ...t, topicName: name });
    }
    return out;
  }

  /** ConsumerGroupDescribe for one group (Kafka's answers for unknown and classic groups). */
  describe(groupId: string): ConsumerGroupDescribeResponseDescribedGroupInput {
    const status = this.c.groupStatus(groupId);
    const base = { groupId, authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
    if (status !== ErrorCode.NONE) return { ...base, errorCode: status };
    const group = this.c.consumerGroups.get(groupId);
    if (group === undefined || group.dead) {
      const classic = this.c.groups.get(groupId);
      const errorMessage =
        classic !== undefined && !classic.is('Dead')
          ? `Group ${groupId} is not a consumer group.`
          : `Group ${groupId} not found.`;
      return { ...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage };
    }
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: this.assignorOf(group),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: { topicPartitions: this.named(m.assignedPartitions) },
        targetAssignment: { topicPartitions: this.named(group.target(m.memberId)) },
        memberType: m.classicMemberMetadata === null ? MEMBER_TYPE_CONSUMER : MEMBER_TYPE_CLASSIC,
      })),
    };
  }

  /** DescribeGroups' view of a consumer group. */
  describeAsClassic(group: ConsumerGroup): GroupDescription {
    if (group.dead) {
      return {
        errorCode: ErrorCode.NONE,
        groupId: group.groupId,
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      groupId: group.groupId,
      groupState: group.state,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolData: this.assignorOf(group),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.instanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: this.subscriptionBytes(m),
        memberAssignment: this.assignmentBytes(m.assignedPartitions),
      })),
    };
  }

  private subscriptionBytes(m: ConsumerMember): Buffer {
    const w = new Writer(64);
    w.int16(3);
    encodeConsumerProtocolSubscription(w, 3, {
      topics: [...m.subscribedTopicNames].sort(),
      userData: null,
      ownedPartitions: [],
      generationId: m.memberEpoch,
      rackId: m.rackId,
    });
    return w.toBuffer();
  }

  private assignmentBytes(a: Assignment): Buffer {
    const w = new Writer(64);
    w.int16(3);
    encodeConsumerProtocolAssignment(w, 3, {
      assignedPartitions: this.named(a).map((t) => ({ topic: t.topicName, partitions: t.partitions })),
      userData: null,
    });
    return w.toBuffer();
  }

  /** ListGroups entries (states and types lower-cased filters, empty = all). */
  list(states: ReadonlySet<string>, types: ReadonlySet<string>): ListedGroup[] {
    const out: ListedGroup[] = [];
    if (types.size > 0 && !types.has('consumer')) return out;
    for (const g of this.c.consumerGroups.values()) {
      if (g.dead) continue;
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      out.push({
        groupId: g.groupId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        groupState: g.state,
        groupType: 'consumer',
      });
    }
    return out;
  }

  /** Tombstones of an empty group: its assignment metadata, regular expressions and metadata (Kafka's order). */
  groupTombstones(group: ConsumerGroup): EncodedRecord[] {
    const id = group.groupId;
    return [
      ...[...group.resolvedRegexes.keys()].map((r) => regexRecord(id, r, null)),
      targetMetadataRecord(id, null, 0),
      partitionMetadataTombstone(id),
      groupMetadataRecord(id, null),
    ];
  }

  private offsetTombstones(group: ConsumerGroup): EncodedRecord[] {
    const c = this.c;
    const id = group.groupId;
    const keys = new Map<string, { topic: string; partition: number }>();
    for (const o of [...c.offsets.all(id), ...group.pendingCommitPartitions(), ...c.txnOffsets.all(id)])
      keys.set(`${o.topic}\u0000${o.partition}`, o);
    return [...keys.values()].map((o) => offsetCommitRecord(id, o.topic, o.partition, null));
  }

  /** DeleteGroups: an empty consumer group and its offsets, answered once the tombstones are committed. */
  async deleteGroup(group: ConsumerGroup): Promise<number> {
    const c = this.c;
    if (group.dead) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    const records = [...this.offsetTombstones(group), ...this.groupTombstones(group)];
    group.dead = true;
    const err = await c.write(group.groupId, records, Date.now());
    if (c.consumerGroups.get(group.groupId) !== group)
      return err === ErrorCode.NONE ? err : groupWriteError(err);
    if (err !== ErrorCode.NONE) {
      group.dead = false;
      return groupWriteError(err);
    }
    this.forget(group);
    c.log.info('group deleted', { group: group.groupId });
    return ErrorCode.NONE;
  }

  private forget(group: ConsumerGroup): void {
    const c = this.c;
    c.consumer.stopTimers(group);
    c.consumerGroups.delete(group.groupId);
    c.offsets.deleteGroup(group.groupId);
    c.txnOffsets.deleteGroup(group.groupId);
  }

  /**
   * A JoinGroup for the id of an empty consumer group: it is dropped (its records tombstoned, its offsets kept)
   * so the classic group takes over. One with members takes the JoinGroup as a classic member (classic.ts);
   * here a dead one or one with commits in flight refuses (INCONSISTENT_GROUP_PROTOCOL).
   */
  yieldToClassic(groupId: string): number {
    const c = this.c;
    const group = c.consumerGroups.get(groupId);
    if (group === undefined) return ErrorCode.NONE;
    if (group.dead || group.members.size > 0 || group.hasPendingCommits())
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    c.consumer.stopTimers(group);
    c.consumerGroups.delete(groupId);
    void c.write(groupId, this.groupTombstones(group), Date.now());
    c.log.info('empty consumer group converted to a classic group', { group: groupId });
    return ErrorCode.NONE;
  }

  /**
   * Offsets retention for consumer groups (Kafka's ConsumerGroup offset expiration): offsets of topics no
   * member consumes expire offsets.retention.minutes after their commit; an empty group left without offsets
   * is deleted. Tombstones are written in the background.
   */
  cleanupExpired(now: number): void {
    const c = this.c;
    const retentionMs = c.config.offsetsRetentionMs;
    for (const group of [...c.consumerGroups.values()]) {
      if (group.dead || group.hasPendingCommits()) continue;
      const id = group.groupId;
      const records: EncodedRecord[] = [];
      for (const o of c.offsets.all(id)) {
        if (c.txnOffsets.has(id, o.topic, o.partition)) continue;
        const expired =
          !c.host.partitionExists(o.topic, o.partition) ||
          (!group.isSubscribedToTopic(o.topic) &&
            (o.value.expireTimestamp >= 0
              ? o.value.expireTimestamp
              : o.value.commitTimestamp + retentionMs) <= now);
        if (!expired) continue;
        c.offsets.delete(id, o.topic, o.partition);
        records.push(offsetCommitRecord(id, o.topic, o.partition, null));
      }
      if (group.members.size === 0 && !c.offsets.hasOffsets(id) && !c.txnOffsets.hasGroup(id)) {
        records.push(...this.groupTombstones(group));
        group.dead = true;
        this.forget(group);
      }
      if (records.length > 0) void c.write(id, records, now);
    }
  }
}
