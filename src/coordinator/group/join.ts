// JoinGroup: who may join and how (Kafka's classicGroupJoin). A request is either answered at once
// (an error, MEMBER_ID_REQUIRED, the current generation for a member that changed nothing) or
// parked on its member until the join phase completes (rebalance.ts decides when).
//
//   unknown member id, dynamic, v4+  -> a new id, remembered as pending, MEMBER_ID_REQUIRED
//   unknown member id, dynamic, v0-3 -> added at once, rebalance
//   unknown member id, static        -> added, or replaces (fences) the instance's previous id;
//                                       a stable group whose protocol does not change keeps its
//                                       assignment without a rebalance
//   known member id                  -> rejoins: rebalance unless nothing changed (a follower with
//                                       the same metadata gets the current generation back)

import { ErrorCode } from '../../protocol/errors.js';
import type { GroupCoordinator } from './coordinator.js';
import type { ClassicGroup } from './group.js';
import { ClassicMember, type JoinResult, joinError, syncError } from './member.js';
import { currentJoinResult, groupWriteError, type JoinRequest, type Rebalancer } from './rebalance.js';

type Respond = (r: JoinResult) => void;

export class Joiner {
  constructor(
    private readonly c: GroupCoordinator,
    private readonly r: Rebalancer,
  ) {}

  join(request: JoinRequest): Promise<JoinResult> {
    // A protocol listed twice counts once, at its first (most preferred) position.
    const seen = new Set<string>();
    const protocols = request.protocols.filter((p) => !seen.has(p.name) && seen.add(p.name) !== undefined);
    const req = { ...request, protocols };
    return new Promise((respond) => {
      const now = this.decide(req, respond);
      if (now !== null) respond(now);
    });
  }

  /** The immediate answer, or null when the request is parked on its member. */
  private decide(req: JoinRequest, respond: Respond): JoinResult | null {
    const cfg = this.c.config;
    if (req.groupId === '') return joinError(ErrorCode.INVALID_GROUP_ID, req.memberId);
    const status = this.c.groupStatus(req.groupId);
    if (status !== ErrorCode.NONE) return joinError(status, req.memberId);
    if (req.sessionTimeoutMs < cfg.minSessionTimeoutMs || req.sessionTimeoutMs > cfg.maxSessionTimeoutMs) {
      return joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId);
    }
    // A consumer group (KIP-848) of this id: an empty one turns classic, a live one refuses.
    const consumerGroupError = this.c.consumerAdmin.yieldToClassic(req.groupId);
    if (consumerGroupError !== ErrorCode.NONE) return joinError(consumerGroupError, req.memberId);
    const isUnknown = req.memberId === '';
    let group = this.c.groups.get(req.groupId);
    if (group === undefined) {
      if (!isUnknown) return joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId);
      group = this.c.createGroup(req.groupId);
    }
    let result: JoinResult | null;
    if (!this.acceptJoiningMember(group, req.memberId)) {
      // In PreparingRebalance an existing member that has not rejoined yet is dropped when the group
      // is full, so the last to rejoin make room (Kafka's answer to a lowered group.max.size).
      const member = group.member(req.memberId);
      if (member !== undefined)
        this.r.removeMemberAndUpdateGroup(group, member, 'the group is at group.max.size');
      this.c.log.info('join refused: group is full', {
        group: group.groupId,
        maxSize: cfg.maxSize,
        client: req.clientId,
      });
      result = joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, '');
    } else if (isUnknown) {
      result = this.joinNewMember(group, req, respond);
    } else {
      result = this.joinExistingMember(group, req, respond);
    }
    this.c.maybeDropUnused(group);
    return result;
  }

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.c.config.maxSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return group.member(memberId)?.isAwaitingJoin === true || group.numAwaitingJoin() < max;
      default:
        return group.has(memberId) || group.size < max;
    }
  }

  private joinNewMember(group: ClassicGroup, req: JoinRequest, respond: Respond): JoinResult | null {
    if (group.is('Dead')) return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, '');
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, '');
    }
    const newMemberId = group.newMemberId(req.clientId, req.groupInstanceId);
    if (req.groupInstanceId !== null) {
      const existing = group.staticMemberId(req.groupInstanceId);
      if (existing === undefined) return this.addMemberAndRebalance(group, req, newMemberId, respond);
      return this.replaceStaticMember(group, req, existing, newMemberId, respond);
    }
    if (!req.requireKnownMemberId) return this.addMemberAndRebalance(group, req, newMemberId, respond);
    if (!this.r.addPendingMember(group, newMemberId, req.sessionTimeoutMs)) {
      return joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, '');
    }
    return joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId);
  }

  private joinExistingMember(group: ClassicGroup, req: JoinRequest, respond: Respond): JoinResult | null {
    const memberId = req.memberId;
    if (group.is('Dead')) return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId);
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId);
    }
    if (group.isPending(memberId)) {
      // Pending ids are only handed to dynamic members.
      if (req.groupInstanceId !== null) return joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId);
      return this.addMemberAndRebalance(group, req, memberId, respond);
    }
    const problem = group.validateMember(memberId, req.groupInstanceId);
    if (problem !== null) {
      if (problem === 'FENCED_INSTANCE_ID') {
        this.c.log.info('join from a fenced static member', {
          group: group.groupId,
          memberId,
          groupInstanceId: req.groupInstanceId,
        });
      }
      return joinError(ErrorCode[problem], memberId);
    }
    const member = group.member(memberId) as ClassicMember;
    const reason = `member ${memberId} rejoined (client reason: ${req.reason ?? 'not provided'})`;
    switch (group.state) {
      case 'CompletingRebalance':
        // Same metadata: it probably missed the JoinGroup response; hand it the current generation.
        if (member.matches(req.protocols)) return currentJoinResult(group, member, group.isLeader(memberId));
        break;
      case 'Stable':
        // The leader rejoining forces a rebalance (e.g. topic metadata changed); so does new metadata.
        if (!group.isLeader(memberId) && member.matches(req.protocols))
          return currentJoinResult(group, member, false);
        break;
      case 'PreparingRebalance':
        break;
      default:
        return joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId);
    }
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    // A second JoinGroup supersedes the first; the first still needs its answer.
    member.completeJoin(joinError(ErrorCode.REBALANCE_IN_PROGRESS, memberId));
    member.joinWaiter = respond;
    this.r.maybePrepareRebalanceOrCompleteJoin(group, reason);
    return null;
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    req: JoinRequest,
    memberId: string,
    respond: Respond,
  ): null {
    const member = new ClassicMember(
      memberId,
      req.groupInstanceId,
      req.clientId,
      req.clientHost,
      req.rebalanceTimeoutMs,
      req.sessionTimeoutMs,
      req.protocolType,
      req.protocols,
    );
    member.isNew = true;
    // A member joining during the initial delayed rebalance extends the delay.
    if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true;
    this.r.removePendingMember(group, memberId);
    group.add(member);
    member.joinWaiter = respond;
    // A parked new member cannot heartbeat; it is dropped if the join phase outlasts this.
    this.r.scheduleSession(group, member, this.c.config.newMemberJoinTimeoutMs);
    this.r.maybePrepareRebalanceOrCompleteJoin(
      group,
      `adding new member ${memberId} with group instance id ${req.groupInstanceId ?? 'null'} (client reason: ${req.reason ?? 'not provided'})`,
    );
    return null;
  }

  /** A known static member joined with an unknown member id: the new id replaces (fences) the old. */
  private replaceStaticMember(
    group: ClassicGroup,
    req: JoinRequest,
    oldMemberId: string,
    newMemberId: string,
    respond: Respond,
  ): JoinResult | null {
    const instanceId = req.groupInstanceId as string;
    const currentLeader = group.leaderId;
    const member = group.member(oldMemberId) as ClassicMember;
    member.completeJoin(joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    member.completeSync(syncError(ErrorCode.FENCED_INSTANCE_ID));
    group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    const old = {
      protocols: member.protocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    this.r.scheduleSession(group, member);
    this.c.log.info('static member rejoined with a new member id', {
      group: group.groupId,
      groupInstanceId: instanceId,
      oldMemberId,
      memberId: newMemberId,
      state: group.state,
    });
    const reason = `static member ${instanceId} rejoined as ${newMemberId}`;
    if (group.is('Stable') && group.protocolName === group.selectProtocol()) {
      // Same protocol: no rebalance, just persist the new member id; answered once that is committed.
      void this.c.storeGroup(group).then((err) => {
        // Reverted only while the new id is still the instance's (else a later join replaced it again).
        const ours = this.c.isLive(group) && group.staticMemberId(instanceId) === newMemberId;
        if (err !== ErrorCode.NONE) {
          if (ours) {
            member.protocols = old.protocols;
            member.rebalanceTimeoutMs = old.rebalanceTimeoutMs;
            member.sessionTimeoutMs = old.sessionTimeoutMs;
            group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
            this.r.scheduleSession(group, member);
          }
          respond({
            ...currentJoinResult(group, member, false),
            errorCode: groupWriteError(err),
            memberId: '',
            leader: currentLeader ?? '',
          });
          return;
        }
        if (!ours) {
          // Fenced, removed or unloaded while the write was in flight.
          const holder = group.staticMemberId(instanceId);
          const errorCode = !this.c.isLive(group)
            ? ErrorCode.NOT_COORDINATOR
            : holder === undefined
              ? ErrorCode.UNKNOWN_MEMBER_ID
              : ErrorCode.FENCED_INSTANCE_ID;
          respond(joinError(errorCode, newMemberId));
          return;
        }
        if (req.supportsSkippingAssignment) {
          const isLeader = group.isLeader(newMemberId);
          respond({ ...currentJoinResult(group, member, isLeader), skipAssignment: isLeader });
          return;
        }
        // Older clients get the old leader id, so a returning leader does not compute an assignment
        // that a stable group would never hand out.
        respond({ ...currentJoinResult(group, member, false), leader: currentLeader ?? '' });
      });
      return null;
    }
    member.joinWaiter = respond;
    switch (group.state) {
      case 'Stable':
        this.r.maybePrepareRebalanceOrCompleteJoin(group, `${reason} with a change of protocol`);
        break;
      case 'CompletingRebalance':
        // The leader may be assigning to the old member id: rebalance so the new id gets an assignment.
        this.r.prepareRebalance(group, reason);
        break;
      case 'PreparingRebalance':
        this.r.maybeCompleteJoinPhase(group);
        break;
      default:
        throw new Error(`group ${group.groupId}: static member in state ${group.state}`);
    }
    return null;
  }
}
