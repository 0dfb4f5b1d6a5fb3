// Members of the classic protocol in a consumer group (KIP-848 online migration; Kafka's
// GroupMetadataManager.classicGroupJoinToConsumerGroup and its Sync/Heartbeat/Leave siblings). A classic
// consumer keeps speaking JoinGroup/SyncGroup/Heartbeat/LeaveGroup; the broker assigns for it:
//
//   JoinGroup   (answered at once, once its records commit) a dynamic member without id first gets one
//               with MEMBER_ID_REQUIRED (v4+); the member's subscription and classic metadata (protocols,
//               session timeout) are recorded, a changed subscription bumps the group epoch, the assignor
//               runs when the epoch is ahead, and the member reconciles with the partitions its JoinGroup
//               says it owns (ConsumerProtocolSubscription.ownedPartitions: an eager client has revoked them
//               all, a cooperative one lists what it keeps). The answer: generation = its member epoch, the
//               first protocol it offered, no leader (it is a follower, nothing to assign).
//   SyncGroup   its current assignment as a ConsumerProtocolAssignment (the version of its subscription);
//               REBALANCE_IN_PROGRESS when the group epoch moved past its epoch meanwhile (it must rejoin).
//   Heartbeat   restarts its session (the JoinGroup's session timeout); REBALANCE_IN_PROGRESS when it must
//               rejoin: the group epoch is past its epoch, it has partitions to revoke, or partitions it
//               waits for have been released; it then has its rebalance timeout to rejoin or is removed.
//   LeaveGroup  removes it (its partitions go to the others at the next assignment); when only classic
//               members remain the group may turn classic again (convert.ts).
// Generation and member id mismatches answer ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID as
// for classic groups; a consumer-protocol member using these APIs gets UNKNOWN_MEMBER_ID.

import { ErrorCode } from '../../../protocol/errors.js';
import type { GroupCoordinator } from '../coordinator.js';
import { CONSUMER_PROTOCOL_TYPE, decodeSubscription } from '../group.js';
import { type JoinResult, joinError, type SyncResult, syncError } from '../member.js';
import {
  groupWriteError,
  type JoinRequest,
  type LeaveResult,
  type MemberIdentity,
  type SyncRequest,
} from '../rebalance.js';
import type { EncodedRecord } from '../records.js';
import { type Assignment, addPartition, assignmentHas } from './assignment.js';
import { type ConsumerGroup, type ConsumerMember, MemberState, newMember } from './group.js';
import { HeartbeatError, newMemberId, sameCurrent } from './heartbeat-request.js';
import { assignmentBytes } from './migration.js';
import { reconcile } from './reconcile.js';
import { currentAssignmentRecord, memberMetadataRecord } from './records.js';
import { bumpEpochAndAssign, sameNames } from './target.js';

export class ClassicProtocolMembers {
  constructor(private readonly c: GroupCoordinator) {}

  /** JoinGroup of a classic member to a (non-empty) consumer group. */
  async join(group: ConsumerGroup, request: JoinRequest): Promise<JoinResult> {
    const c = this.c;
    const records: EncodedRecord[] = [];
    let result: JoinResult;
    try {
      result = this.decideJoin(group, request, records);
    } catch (err) {
      if (!(err instanceof HeartbeatError)) throw err;
      c.log.info('join of a classic member to a consumer group refused', {
        group: group.groupId,
        memberId: request.memberId,
        errorCode: err.errorCode,
        reason: err.message,
      });
      if (records.length > 0) void c.write(group.groupId, records, Date.now());
      return joinError(err.errorCode, request.memberId);
    }
    if (records.length === 0) return result;
    const err = await c.write(group.groupId, records, Date.now());
    if (err !== ErrorCode.NONE) return joinError(groupWriteError(err), request.memberId);
    return result;
  }

  private decideJoin(group: ConsumerGroup, request: JoinRequest, records: EncodedRecord[]): JoinResult {
    const c = this.c;
    const seen = new Set<string>();
    const protocols = request.protocols.filter((p) => !seen.has(p.name) && seen.add(p.name) !== undefined);
    const sub = protocols.length === 0 ? null : decodeSubscription(protocols[0]!.metadata);
    if (request.protocolType !== CONSUMER_PROTOCOL_TYPE || sub === null) {
      throw new HeartbeatError(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        'A classic member of a consumer group must use the consumer embedded protocol.',
      );
    }
    // Its protocols must meet those every other classic member supports (Kafka's supportsClassicProtocols).
    const common = commonProtocols(group, request.memberId);
    if (common !== null && !protocols.some((p) => common.has(p.name))) {
      throw new HeartbeatError(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        'The member supports none of the protocols of the classic members of the group.',
      );
    }
    const unknown = request.memberId === '';
    const memberId = unknown ? newMemberId() : request.memberId;
    let before = group.member(memberId);
    if (before === undefined && group.members.size >= c.config.consumerMaxSize) {
      throw new HeartbeatError(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${c.config.consumerMaxSize} members.`,
      );
    }
    if (unknown && request.groupInstanceId === null && request.requireKnownMemberId) {
      return joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId);
    }
    if (request.groupInstanceId !== null) {
      const stat = group.staticMember(request.groupInstanceId);
      if (stat !== undefined && stat.memberId !== memberId) {
        if (!unknown) {
          throw new HeartbeatError(
            ErrorCode.FENCED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${request.groupInstanceId} is not the member owning the instance id.`,
          );
        }
        before = c.consumer.replaceStaticMember(group, stat, memberId, records);
      }
    }
    if (before !== undefined && before.classicMemberMetadata === null && before.memberEpoch >= 0) {
      throw new HeartbeatError(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${memberId} uses the consumer protocol (ConsumerGroupHeartbeat).`,
      );
    }
    const now = Date.now();
    const base = before ?? newMember(memberId);
    const updated: ConsumerMember = {
      ...base,
      instanceId: request.groupInstanceId ?? base.instanceId,
      rackId: sub.rackId ?? base.rackId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      serverAssignor: null,
      subscribedTopicNames: [...sub.topics],
      subscribedTopicRegex: null,
      memberEpoch: Math.max(0, base.memberEpoch),
      classicMemberMetadata: {
        sessionTimeoutMs: request.sessionTimeoutMs,
        supportedProtocols: protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      },
    };
    const subscriptionChanged =
      before === undefined || !sameNames(before.subscribedTopicNames, updated.subscribedTopicNames);
    records.push(memberMetadataRecord(group.groupId, memberId, updated));
    group.updateMember(updated);
    bumpEpochAndAssign(c, group, subscriptionChanged, records, now);

    // Reconcile with what the member says it owns: revocations it has made complete at once.
    const owned: Assignment = new Map();
    for (const t of sub.ownedPartitions) {
      const id = c.host.topic(t.topic)?.topicId;
      if (id !== undefined) for (const p of t.partitions) addPartition(owned, id, p);
    }
    let next = group.member(memberId) as ConsumerMember;
    for (let i = 0; i < 3; i++) {
      const step = reconcile(group, next, group.assignmentEpoch, group.target(memberId), owned);
      if (step === next) break;
      next = step;
      group.updateMember(next);
    }
    if (before === undefined || !sameCurrent(before, next))
      records.push(currentAssignmentRecord(group.groupId, memberId, next));
    c.consumer.scheduleSession(group, memberId);
    c.consumer.scheduleRebalance(group, next);
    c.log.info('classic member joined a consumer group', {
      group: group.groupId,
      memberId,
      memberEpoch: next.memberEpoch,
      groupEpoch: group.groupEpoch,
      state: next.state,
    });
    return {
      errorCode: ErrorCode.NONE,
      generationId: next.memberEpoch,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: protocols[0]!.name,
      leader: '',
      memberId,
      members: [],
      skipAssignment: false,
    };
  }

  /** The classic member of a request, or the error it gets (Kafka's validateConsumerGroupMember). */
  private classicMember(
    group: ConsumerGroup,
    memberId: string,
    instanceId: string | null,
    generationId: number,
  ): ConsumerMember | number {
    let m: ConsumerMember | undefined;
    if (instanceId === null) {
      m = group.member(memberId);
    } else {
      m = group.staticMember(instanceId);
      if (m !== undefined && m.memberId !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    if (m === undefined || m.classicMemberMetadata === null) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== m.memberEpoch) return ErrorCode.ILLEGAL_GENERATION;
    return m;
  }

  sync(group: ConsumerGroup, req: SyncRequest): SyncResult {
    const m = this.classicMember(group, req.memberId, req.groupInstanceId, req.generationId);
    if (typeof m === 'number') return syncError(m);
    const protocols = m.classicMemberMetadata?.supportedProtocols ?? [];
    const protocol =
      req.protocolName === null ? protocols[0] : protocols.find((p) => p.name === req.protocolName);
    if ((req.protocolType !== null && req.protocolType !== CONSUMER_PROTOCOL_TYPE) || protocol === undefined)
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    if (m.memberEpoch < group.groupEpoch && m.state !== MemberState.UNREVOKED_PARTITIONS)
      return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
    this.c.consumer.scheduleSession(group, m.memberId);
    const version =
      protocol.metadata.length >= 2 ? Math.max(0, Math.min(protocol.metadata.readInt16BE(0), 3)) : 0;
    return {
      errorCode: ErrorCode.NONE,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: protocol.name,
      assignment: assignmentBytes(m.assignedPartitions, (t) => this.c.host.topicName(t), version),
    };
  }

  heartbeat(group: ConsumerGroup, memberId: string, instanceId: string | null, generationId: number): number {
    const m = this.classicMember(group, memberId, instanceId, generationId);
    if (typeof m === 'number') return m;
    this.c.consumer.scheduleSession(group, m.memberId);
    const rejoin =
      m.memberEpoch < group.groupEpoch ||
      m.state === MemberState.UNREVOKED_PARTITIONS ||
      (m.state === MemberState.UNRELEASED_PARTITIONS && !waitingOnUnreleased(group, m));
    if (!rejoin) return ErrorCode.NONE;
    this.c.consumer.scheduleJoinTimeout(group, m);
    return ErrorCode.REBALANCE_IN_PROGRESS;
  }

  /** LeaveGroup for members of a consumer group (classic ones, or static ones removed by instance id). */
  async leave(group: ConsumerGroup, members: readonly MemberIdentity[]): Promise<LeaveResult> {
    const c = this.c;
    const out: LeaveResult['members'] = [];
    const records: EncodedRecord[] = [];
    for (const req of members) {
      const answer = (errorCode: number) =>
        out.push({ memberId: req.memberId, groupInstanceId: req.groupInstanceId, errorCode });
      if (!c.isLive(group)) {
        answer(ErrorCode.UNKNOWN_MEMBER_ID);
        continue;
      }
      let m: ConsumerMember | undefined;
      if (req.groupInstanceId !== null) {
        m = group.staticMember(req.groupInstanceId);
        if (m !== undefined && req.memberId !== '' && m.memberId !== req.memberId) {
          answer(ErrorCode.FENCED_INSTANCE_ID);
          continue;
        }
      } else {
        m = group.member(req.memberId);
      }
      if (m === undefined) {
        answer(ErrorCode.UNKNOWN_MEMBER_ID);
        continue;
      }
      c.log.info('member left the consumer group (LeaveGroup)', {
        group: group.groupId,
        memberId: m.memberId,
        reason: req.reason ?? 'not provided',
      });
      c.consumer.removeOrDowngrade(group, m.memberId, records);
      answer(ErrorCode.NONE);
    }
    if (records.length > 0) {
      const err = await c.write(group.groupId, records, Date.now());
      if (err !== ErrorCode.NONE) return { errorCode: groupWriteError(err), members: [] };
    }
    return { errorCode: ErrorCode.NONE, members: out };
  }
}

/** Whether a partition of the member's target it does not have yet is still owned by another member. */
function waitingOnUnreleased(group: ConsumerGroup, m: ConsumerMember): boolean {
  for (const [t, ps] of group.target(m.memberId)) {
    for (const p of ps) {
      if (assignmentHas(m.assignedPartitions, t, p)) continue;
      const owner = group.ownerOf(t, p);
      if (owner !== undefined && owner !== m.memberId) return true;
    }
  }
  return false;
}

/** The protocol names every classic member (except `exceptId`) supports; null when there is none. */
function commonProtocols(group: ConsumerGroup, exceptId: string): Set<string> | null {
  let common: Set<string> | null = null;
  for (const m of group.members.values()) {
    if (m.memberId === exceptId || m.classicMemberMetadata === null) continue;
    const names = new Set(m.classicMemberMetadata.supportedProtocols.map((p) => p.name));
    common = common === null ? names : new Set([...common].filter((n: string) => names.has(n)));
  }
  return common;
}
