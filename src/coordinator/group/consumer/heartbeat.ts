// ConsumerGroupHeartbeat (KIP-848): the whole consumer group protocol in one request (Kafka's
// GroupMetadataManager.consumerGroupHeartbeat). Each heartbeat, in one synchronous step:
//   1. checks the request (INVALID_REQUEST with Kafka's messages, UNSUPPORTED_ASSIGNOR,
//      INVALID_REGULAR_EXPRESSION) and the member: epoch 0 joins (a new member, or a static member taking
//      over its instance id: UNRELEASED_INSTANCE_ID while the previous one has not left with epoch -2),
//      epoch > 0 must match the member's (FENCED_MEMBER_EPOCH; the previous epoch is accepted when the
//      owned partitions are a subset of the assignment, the response with the new one may have been lost),
//      an unknown member gets UNKNOWN_MEMBER_ID, a static member under another id FENCED_INSTANCE_ID;
//      epoch -1 leaves, -2 (static members) leaves for now keeping its partitions until its session ends;
//   2. updates the member's subscription; a new member, a changed subscription, a regular expression that
//      resolves to other topics or a change of the subscribed topics' partition counts (the metadata hash)
//      bumps the group epoch;
//   3. when the group epoch is ahead of the assignment epoch, runs the group's assignor (the members' most
//      asked-for ServerAssignor, else group.consumer.assignors' first) for a new target assignment;
//   4. takes one reconciliation step for the member (reconcile.ts) and answers with its epoch and, when it
//      joined, sent its full state or its assignment changed, its assigned partitions.
// The records of every change (records.ts) are appended and the response goes out once they are committed
// (the write's error otherwise). The change is applied in memory at once: a write that fails leaves memory
// ahead of the log until the next load (Kafka reverts it; a member that then meets a new coordinator is
// fenced and rejoins).
//
// Online migration (convert.ts, classic.ts): a member joining a Stable classic group of the consumer embedded
// protocol converts it into a consumer group (group.consumer.migration.policy); its classic members stay and
// keep using JoinGroup/SyncGroup/Heartbeat. When a member leaves or is fenced and only classic members remain,
// the group converts back to a classic group and rebalances (removeOrDowngrade).
//
// Timers: a member's session (the group's consumer.session.timeout.ms, else group.consumer.session.timeout.ms;
// the group's configs are read when a member joins, consumer.heartbeat.interval.ms likewise) restarts with each heartbeat (a classic member's: the session timeout of its JoinGroup); when it ends
// the member is removed and the group epoch bumped. A member that must revoke partitions has its rebalance
// timeout to do so, or it is removed the same way.

import { ErrorCode } from '../../../protocol/errors.js';
import type { GroupCoordinator } from '../coordinator.js';
import { groupWriteError } from '../rebalance.js';
import { groupMetadataRecord as classicGroupRecord, type EncodedRecord } from '../records.js';
import { assignmentEquals, assignmentFromList, assignmentToList, isSubset } from './assignment.js';
import { downgradeToClassicGroup, upgradeToConsumerGroup } from './convert.js';
import {
  ConsumerGroup,
  type ConsumerMember,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  MemberState,
  newMember,
} from './group.js';
import {
  type ConsumerHeartbeatRequest,
  type ConsumerHeartbeatResult,
  fail,
  HeartbeatError,
  metadataChanged,
  newMemberId,
  requestProblem,
  sameCurrent,
} from './heartbeat-request.js';
import { downgradeRefusal, upgradeRefusal } from './migration.js';
import { reconcile } from './reconcile.js';
import {
  currentAssignmentRecord,
  groupMetadataRecord,
  memberMetadataRecord,
  targetMemberRecord,
} from './records.js';
import { assignorNames, bumpEpochAndAssign, sameNames } from './target.js';

export class ConsumerHeartbeats {
  constructor(private readonly c: GroupCoordinator) {}

  private get groups(): Map<string, ConsumerGroup> {
    return this.c.consumerGroups;
  }

  async heartbeat(req: ConsumerHeartbeatRequest): Promise<ConsumerHeartbeatResult> {
    const c = this.c;
    if (!c.config.consumerProtocolEnabled) {
      return fail(
        ErrorCode.UNSUPPORTED_VERSION,
        'The consumer group protocol is not enabled (group.coordinator.rebalance.protocols).',
      );
    }
    const problem = requestProblem(req, assignorNames(this.c));
    if (problem !== null) return fail(problem.errorCode, problem.message);
    const status = c.groupStatus(req.groupId);
    if (status !== ErrorCode.NONE) return fail(status);
    // A joining member reads the group's config overrides first (they apply from the next join on).
    const overrides = req.memberEpoch === 0 ? await this.groupConfigs(req.groupId) : null;
    const again = c.groupStatus(req.groupId);
    if (again !== ErrorCode.NONE) return fail(again);
    const records: EncodedRecord[] = [];
    let result: ConsumerHeartbeatResult;
    try {
      result =
        req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH
          ? this.leave(req, records)
          : this.joinOrHeartbeat(req, records, overrides);
    } catch (err) {
      if (!(err instanceof HeartbeatError)) throw err;
      // What changed in memory before the refusal (an upgrade) is still written.
      if (records.length > 0) void c.write(req.groupId, records, Date.now());
      c.log.info('consumer group heartbeat refused', {
        group: req.groupId,
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        errorCode: err.errorCode,
        reason: err.message,
      });
      return fail(err.errorCode, err.message);
    }
    c.log.debug('consumer group heartbeat', {
      group: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      owned: req.topicPartitions?.map((t) => t.partitions.join(',')).join(';') ?? null,
      answerEpoch: result.memberEpoch,
      assignment: result.assignment?.topicPartitions.map((t) => t.partitions.join(',')).join(';') ?? null,
    });
    if (records.length === 0) return result;
    const err = await c.write(req.groupId, records, Date.now());
    if (err !== ErrorCode.NONE) return fail(groupWriteError(err));
    return result;
  }

  private async groupConfigs(
    groupId: string,
  ): Promise<{ sessionTimeoutMs: number | null; heartbeatIntervalMs: number | null }> {
    let o: Record<string, string> = {};
    try {
      o = (await this.c.host.groupConfigs?.(groupId)) ?? {};
    } catch (err) {
      this.c.log.warn('group configs not read; the broker defaults apply', { group: groupId, error: err });
    }
    const num = (v: string | undefined): number | null => (v === undefined ? null : Number(v));
    return {
      sessionTimeoutMs: num(o['consumer.session.timeout.ms']),
      heartbeatIntervalMs: num(o['consumer.heartbeat.interval.ms']),
    };
  }

  /** The group for a heartbeat: created (or converted from an empty classic group) by a joining member. */
  private groupFor(groupId: string, create: boolean, records: EncodedRecord[]): ConsumerGroup {
    const c = this.c;
    const existing = this.groups.get(groupId);
    if (existing !== undefined) {
      if (existing.dead)
        throw new HeartbeatError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `Group ${groupId} is being deleted.`);
      return existing;
    }
    const classic = c.groups.get(groupId);
    if (
      classic !== undefined &&
      (!classic.is('Empty') || classic.size > 0 || classic.pendingMembers.size > 0)
    ) {
      // A classic group with members: converted online when the policy and its state allow (convert.ts).
      if (!create)
        throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
      const reason = upgradeRefusal(classic, c.config);
      if (reason === null) {
        const upgraded = upgradeToConsumerGroup(c, classic, records, Date.now());
        if (upgraded !== null) return upgraded;
      }
      const why =
        reason ??
        `Cannot upgrade classic group ${groupId} to consumer group: a member's metadata is malformed.`;
      c.log.info('classic group not converted to a consumer group', { group: groupId, reason: why });
      throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, why);
    }
    if (!create)
      throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${groupId} not found.`);
    if (classic !== undefined) {
      // An empty classic group (committed offsets only) becomes a consumer group; its offsets stay.
      c.groups.delete(groupId);
      if (c.metadataInLog.delete(groupId)) records.push(classicGroupRecord(groupId, null));
      c.log.info('empty classic group converted to a consumer group', { group: groupId });
    }
    const group = new ConsumerGroup(groupId);
    if (classic !== undefined) {
      group.adoptPendingCommits(classic);
      classic.successor = group;
    }
    this.groups.set(groupId, group);
    return group;
  }

  private joinOrHeartbeat(
    req: ConsumerHeartbeatRequest,
    records: EncodedRecord[],
    overrides: { sessionTimeoutMs: number | null; heartbeatIntervalMs: number | null } | null,
  ): ConsumerHeartbeatResult {
    const c = this.c;
    const now = Date.now();
    const joining = req.memberEpoch === 0;
    const group = this.groupFor(req.groupId, joining, records);
    if (overrides !== null) {
      group.sessionTimeoutMs = overrides.sessionTimeoutMs;
      group.heartbeatIntervalMs = overrides.heartbeatIntervalMs;
    }
    const owned = req.topicPartitions === null ? null : assignmentFromList(req.topicPartitions);
    let memberId = req.memberId;
    if (memberId === '') memberId = newMemberId();
    let before = group.member(memberId);
    let bump = false;
    let replaced = false;
    if (joining) {
      const stat = req.instanceId === null ? undefined : group.staticMember(req.instanceId);
      if (stat !== undefined && stat.memberId !== memberId) {
        if (stat.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          throw new HeartbeatError(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${req.instanceId} cannot join the group because the instance id is owned by ${stat.memberId} member.`,
          );
        }
        before = this.replaceStaticMember(group, stat, memberId, records);
        replaced = true;
      } else if (before === undefined) {
        if (group.members.size >= c.config.consumerMaxSize) {
          throw new HeartbeatError(
            ErrorCode.GROUP_MAX_SIZE_REACHED,
            `The consumer group has reached its maximum capacity of ${c.config.consumerMaxSize} members.`,
          );
        }
        bump = true;
      }
    } else {
      if (before === undefined) {
        throw new HeartbeatError(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${memberId} is not a member of group ${req.groupId}.`,
        );
      }
      if (req.instanceId !== null) this.checkStatic(group, req.instanceId, memberId);
      if (req.memberEpoch > before.memberEpoch) {
        throw new HeartbeatError(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a greater member epoch (${req.memberEpoch}) than the one known by the group coordinator (${before.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        );
      }
      if (
        req.memberEpoch < before.memberEpoch &&
        (req.memberEpoch !== before.previousMemberEpoch ||
          owned === null ||
          !isSubset(owned, before.assignedPartitions))
      ) {
        throw new HeartbeatError(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a smaller member epoch (${req.memberEpoch}) than the one known by the group coordinator (${before.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        );
      }
    }

    // 2. The subscription.
    const base = before ?? newMember(memberId);
    const regex =
      req.subscribedTopicRegex === null ? base.subscribedTopicRegex : req.subscribedTopicRegex || null;
    const updated: ConsumerMember = {
      ...base,
      instanceId: req.instanceId ?? base.instanceId,
      rackId: req.rackId ?? base.rackId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs >= 0 ? req.rebalanceTimeoutMs : base.rebalanceTimeoutMs,
      serverAssignor: req.serverAssignor ?? base.serverAssignor,
      subscribedTopicNames: req.subscribedTopicNames ?? base.subscribedTopicNames,
      subscribedTopicRegex: regex,
    };
    if (before !== undefined && before.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH)
      updated.memberEpoch = 0;
    const subscriptionChanged =
      before === undefined ||
      !sameNames(before.subscribedTopicNames, updated.subscribedTopicNames) ||
      before.subscribedTopicRegex !== updated.subscribedTopicRegex ||
      before.serverAssignor !== updated.serverAssignor;
    if (subscriptionChanged || replaced || metadataChanged(before, updated)) {
      records.push(memberMetadataRecord(group.groupId, memberId, updated));
    }
    group.updateMember(updated);

    // 3. The group epoch and the target assignment.
    bumpEpochAndAssign(c, group, bump || subscriptionChanged, records, now);

    // 4. One reconciliation step for this member.
    const current = group.member(memberId) as ConsumerMember;
    const next = reconcile(group, current, group.assignmentEpoch, group.target(memberId), owned);
    if (next !== current || before === undefined || updated.memberEpoch !== base.memberEpoch) {
      group.updateMember(next);
      if (before === undefined || !sameCurrent(before, next)) {
        records.push(currentAssignmentRecord(group.groupId, memberId, next));
      }
    }
    this.scheduleSession(group, memberId);
    this.scheduleRebalance(group, next);
    const fullRequest =
      req.rebalanceTimeoutMs !== -1 &&
      (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) &&
      req.topicPartitions !== null;
    const sendAssignment =
      joining ||
      fullRequest ||
      before === undefined ||
      !assignmentEquals(before.assignedPartitions, next.assignedPartitions);
    if (before === undefined) {
      c.log.info('consumer group member joined', {
        group: group.groupId,
        memberId,
        groupEpoch: group.groupEpoch,
      });
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId,
      memberEpoch: next.memberEpoch,
      heartbeatIntervalMs: group.heartbeatIntervalMs ?? c.config.consumerHeartbeatIntervalMs,
      assignment: sendAssignment ? { topicPartitions: assignmentToList(next.assignedPartitions) } : null,
    };
  }

  checkStatic(group: ConsumerGroup, instanceId: string, memberId: string): void {
    const id = group.staticMembers.get(instanceId);
    if (id === undefined) {
      throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${instanceId} is unknown.`);
    }
    if (id !== memberId) {
      throw new HeartbeatError(
        ErrorCode.FENCED_INSTANCE_ID,
        `Static member ${memberId} with instance id ${instanceId} is not the member owning the instance id (${id}).`,
      );
    }
  }

  /**
   * A static member rejoins under a new member id after leaving with epoch -2: the new id takes over its
   * subscription, target and current assignment (no rebalance); the old id's records are tombstoned.
   */
  replaceStaticMember(
    group: ConsumerGroup,
    old: ConsumerMember,
    memberId: string,
    records: EncodedRecord[],
  ): ConsumerMember {
    const target = group.target(old.memberId);
    this.removeMember(group, old.memberId, records);
    const taken: ConsumerMember = { ...old, memberId, memberEpoch: 0, previousMemberEpoch: 0 };
    group.updateMember(taken);
    group.targetAssignment.set(memberId, target);
    records.push(targetMemberRecord(group.groupId, memberId, target));
    this.c.log.info('static consumer group member replaced', {
      group: group.groupId,
      instanceId: old.instanceId,
      previousMemberId: old.memberId,
      memberId,
    });
    return { ...taken, subscribedTopicNames: [...taken.subscribedTopicNames] };
  }

  /** Epoch -1: the member leaves (its partitions are reassigned); -2: a static member leaves for now. */
  private leave(req: ConsumerHeartbeatRequest, records: EncodedRecord[]): ConsumerHeartbeatResult {
    const group = this.groups.get(req.groupId);
    if (group === undefined || group.dead) {
      throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
    }
    let member: ConsumerMember | undefined;
    if (req.instanceId !== null) {
      member = group.staticMember(req.instanceId);
      if (member === undefined) {
        throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
      }
      if (member.memberId !== req.memberId) this.checkStatic(group, req.instanceId, req.memberId);
    } else {
      member = group.member(req.memberId);
      if (member === undefined) {
        throw new HeartbeatError(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${req.memberId} is not a member of group ${req.groupId}.`,
        );
      }
    }
    const base = {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: req.memberId,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // Keeps its partitions (nobody else gets them) until it rejoins or its session ends.
      const left = {
        ...member,
        memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH,
        partitionsPendingRevocation: new Map(),
      };
      group.updateMember(left);
      this.clearRebalance(group, member.memberId);
      records.push(currentAssignmentRecord(group.groupId, member.memberId, left));
      this.c.log.info('static consumer group member left for now', {
        group: group.groupId,
        memberId: member.memberId,
      });
      return { ...base, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH };
    }
    this.c.log.info('consumer group member left', { group: group.groupId, memberId: member.memberId });
    this.removeOrDowngrade(group, member.memberId, records);
    return { ...base, memberEpoch: LEAVE_GROUP_MEMBER_EPOCH };
  }

  /** Removes a member and appends its tombstones (current and target assignment, metadata). */
  removeMember(group: ConsumerGroup, memberId: string, records: EncodedRecord[]): void {
    const t = group.timers.get(memberId);
    if (t !== undefined) {
      if (t.session !== null) clearTimeout(t.session);
      if (t.rebalance !== null) clearTimeout(t.rebalance);
      group.timers.delete(memberId);
    }
    if (group.removeMember(memberId) === undefined) return;
    records.push(
      currentAssignmentRecord(group.groupId, memberId, null),
      targetMemberRecord(group.groupId, memberId, null),
      memberMetadataRecord(group.groupId, memberId, null),
    );
  }

  /**
   * A member leaves or is fenced: when only classic members remain and the policy allows, the group turns
   * classic (convert.ts); else the member is removed and the group epoch bumped.
   */
  removeOrDowngrade(group: ConsumerGroup, memberId: string, records: EncodedRecord[]): void {
    const refusal = downgradeRefusal(group, memberId, this.c.config);
    const wasConsumer = group.member(memberId)?.classicMemberMetadata === null;
    if (refusal === null) {
      try {
        downgradeToClassicGroup(this.c, group, memberId, records, Date.now());
        return;
      } catch (err) {
        // No protocol all the classic members support (checked before anything changes): stays a consumer group.
        this.c.log.warn('consumer group not downgraded', { group: group.groupId, error: err });
      }
    }
    if (wasConsumer && [...group.members.values()].some((m) => m.classicMemberMetadata !== null)) {
      this.c.log.info('consumer group not downgraded', { group: group.groupId, reason: refusal });
    }
    this.removeMember(group, memberId, records);
    this.bumpEpoch(group, records);
  }

  bumpEpoch(group: ConsumerGroup, records: EncodedRecord[]): void {
    group.groupEpoch++;
    records.push(
      groupMetadataRecord(group.groupId, { epoch: group.groupEpoch, metadataHash: group.metadataHash }),
    );
  }

  /** A member is fenced (session or rebalance timeout): removed, the epoch bumped, written in the background. */
  fence(group: ConsumerGroup, memberId: string, reason: string): void {
    const c = this.c;
    if (!c.active || this.groups.get(group.groupId) !== group || group.dead || !group.members.has(memberId))
      return;
    const records: EncodedRecord[] = [];
    this.removeOrDowngrade(group, memberId, records);
    c.log.info(`consumer group member removed: ${reason}`, {
      group: group.groupId,
      memberId,
      groupEpoch: group.groupEpoch,
    });
    void c.write(group.groupId, records, Date.now()).then((err) => {
      if (err !== ErrorCode.NONE) {
        c.log.warn('the removal of a consumer group member was not committed', {
          group: group.groupId,
          memberId,
          errorCode: err,
        });
      }
    });
  }

  /** (Re)starts a member's session (also for members restored by a load). */
  scheduleSession(group: ConsumerGroup, memberId: string): void {
    const t = group.timers.get(memberId) ?? { session: null, rebalance: null };
    group.timers.set(memberId, t);
    if (t.session !== null) clearTimeout(t.session);
    t.session = setTimeout(
      () => this.fence(group, memberId, 'session timeout'),
      group.member(memberId)?.classicMemberMetadata?.sessionTimeoutMs ??
        group.sessionTimeoutMs ??
        this.c.config.consumerSessionTimeoutMs,
    );
    t.session.unref();
  }

  scheduleRebalance(group: ConsumerGroup, m: ConsumerMember): void {
    if (m.state !== MemberState.UNREVOKED_PARTITIONS) {
      this.clearRebalance(group, m.memberId);
      return;
    }
    const t = group.timers.get(m.memberId);
    if (t === undefined || t.rebalance !== null) return;
    const timeoutMs =
      m.rebalanceTimeoutMs > 0 ? m.rebalanceTimeoutMs : this.c.config.consumerSessionTimeoutMs;
    t.rebalance = setTimeout(() => {
      t.rebalance = null;
      const now = group.member(m.memberId);
      if (now?.state === MemberState.UNREVOKED_PARTITIONS)
        this.fence(group, m.memberId, 'partitions not revoked within the rebalance timeout');
    }, timeoutMs);
    t.rebalance.unref();
  }

  /**
   * A classic member told to rejoin (Heartbeat answered REBALANCE_IN_PROGRESS) must do so within its rebalance
   * timeout, or it is removed (Kafka's consumer group join timeout); its JoinGroup clears the timer.
   */
  scheduleJoinTimeout(group: ConsumerGroup, m: ConsumerMember): void {
    const t = group.timers.get(m.memberId);
    if (t === undefined || t.rebalance !== null) return;
    const epoch = m.memberEpoch;
    const timeoutMs =
      m.rebalanceTimeoutMs > 0 ? m.rebalanceTimeoutMs : this.c.config.consumerSessionTimeoutMs;
    t.rebalance = setTimeout(() => {
      t.rebalance = null;
      if (group.member(m.memberId)?.memberEpoch === epoch)
        this.fence(group, m.memberId, 'the classic member did not rejoin within its rebalance timeout');
    }, timeoutMs);
    t.rebalance.unref();
  }

  private clearRebalance(group: ConsumerGroup, memberId: string): void {
    const t = group.timers.get(memberId);
    if (t?.rebalance != null) {
      clearTimeout(t.rebalance);
      t.rebalance = null;
    }
  }

  /** Stops every timer of the group (unload, deletion, shutdown). */
  stopTimers(group: ConsumerGroup): void {
    for (const t of group.timers.values()) {
      if (t.session !== null) clearTimeout(t.session);
      if (t.rebalance !== null) clearTimeout(t.rebalance);
    }
    group.timers.clear();
  }
}

export type { ConsumerHeartbeatRequest, ConsumerHeartbeatResult } from './heartbeat-request.js';
