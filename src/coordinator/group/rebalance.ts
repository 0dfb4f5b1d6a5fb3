// The classic rebalance protocol once members are in: the join phase (when it completes, the next
// generation), SyncGroup, Heartbeat, LeaveGroup, and the timers that drive them (Kafka's
// GroupMetadataManager for classic groups; states are described in group.ts, JoinGroup's admission
// rules in join.ts).
//
// Every entry point and every timer callback runs to completion on the event loop. A transition that
// needs the group's record in __consumer_offsets (the leader's assignment) appends it and completes when
// the write is committed, after checking that the group is still where it was (coordinator.ts). Parked
// JoinGroup/SyncGroup requests are callbacks on the member, answered exactly once; a parked request that
// is superseded, fenced or whose member is removed is answered with an error at once, because a
// connection answers in request order. Timers are unref'd: a session expiration per member, a join-phase
// timer and a sync timer per group, an expiration per pending member id. No polling.

import * as limits from '../../limits.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { GroupCoordinator } from './coordinator.js';
import type { ClassicGroup } from './group.js';
import {
  type ClassicMember,
  EMPTY_BYTES,
  type JoinResult,
  joinError,
  type Protocol,
  type SyncResult,
  syncError,
} from './member.js';
import { clientWriteError } from './state-log.js';

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** v4+: a new dynamic member first gets its id with MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** v9+: the leader of a stable group rejoining as a static member may skip the assignment (KIP-814). */
  supportsSkippingAssignment: boolean;
  reason: string | null;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
  reason: string | null;
}

export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

const nullIfEmpty = (s: string): string | null => (s === '' ? null : s);

export class Rebalancer {
  constructor(private readonly c: GroupCoordinator) {}

  private get log(): Logger {
    return this.c.log;
  }

  // ---- the join phase -----------------------------------------------------------------------

  maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
    else this.maybeCompleteJoinPhase(group);
  }

  /** Completes the join phase early when everyone is in, except during the initial delay. */
  maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined() && group.previousState !== 'Empty') {
      this.completeJoin(group);
    }
  }

  prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('CompletingRebalance'))
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.clearSyncTimer(group);
    const initial = group.is('Empty');
    group.transitionTo('PreparingRebalance');
    this.log.info('preparing to rebalance group', {
      group: group.groupId,
      generationId: group.generationId,
      members: group.size,
      reason,
    });
    if (initial) {
      const delay = this.c.config.initialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0);
      this.setJoinTimer(group, delay, () => this.tryCompleteInitialRebalance(group, delay, remaining));
    } else if (group.hasAllMembersJoined()) {
      this.completeJoin(group);
    } else {
      this.setJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
    }
  }

  private tryCompleteInitialRebalance(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelay = Math.min(this.c.config.initialRebalanceDelayMs, remainingMs);
      const nextRemaining = Math.max(remainingMs - delayMs, 0);
      this.setJoinTimer(group, nextDelay, () =>
        this.tryCompleteInitialRebalance(group, nextDelay, nextRemaining),
      );
    } else {
      this.completeJoin(group);
    }
  }

  /** Ends the join phase: drops dynamic members that did not rejoin, starts the next generation. */
  private completeJoin(group: ClassicGroup): void {
    this.clearJoinTimer(group);
    const dropped: string[] = [];
    for (const m of [...group.members.values()]) {
      if (!m.isAwaitingJoin && !m.isStatic) {
        this.clearSession(m);
        m.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
        group.remove(m.memberId);
        dropped.push(m.memberId);
      }
    }
    if (dropped.length > 0) {
      this.log.info('removed members that did not rejoin in time', {
        group: group.groupId,
        members: dropped,
      });
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that did not rejoin are left: wait for them or for their sessions to end.
      this.log.warn('group could not complete its rebalance because no member rejoined', {
        group: group.groupId,
      });
      this.setJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
      return;
    }
    if (group.size > 0 && group.candidateProtocols().size === 0) {
      // The members left share no protocol (e.g. a static member came back with other protocols).
      // No generation can be formed: fail every join with INCONSISTENT_GROUP_PROTOCOL and start
      // over from an empty group; the first member to rejoin defines the protocols again.
      this.log.warn('members share no protocol; failing the rebalance', {
        group: group.groupId,
        members: group.size,
      });
      for (const m of [...group.members.values()]) {
        this.clearSession(m);
        m.completeJoin(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, m.memberId));
        group.remove(m.memberId);
      }
    }
    group.initNextGeneration(Date.now());
    if (group.is('Empty')) {
      this.log.info('group is now empty', { group: group.groupId, generationId: group.generationId });
      void this.c.storeGroup(group).then((err) => {
        // The previous generation stays on disk; with no members in this one that is harmless.
        if (err !== ErrorCode.NONE)
          this.log.warn('failed to write the empty group', { group: group.groupId, errorCode: err });
      });
      return;
    }
    this.log.info('group stabilized', {
      group: group.groupId,
      generationId: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      members: group.size,
    });
    const all = memberList(group);
    for (const m of group.members.values()) {
      m.completeJoin({
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocolType: nullIfEmpty(group.protocolType),
        protocolName: group.protocolName,
        leader: group.leaderId ?? '',
        memberId: m.memberId,
        members: group.isLeader(m.memberId) ? all : [],
        skipAssignment: false,
      });
      this.scheduleSession(group, m);
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
    }
    const generationId = group.generationId;
    this.clearSyncTimer(group);
    group.syncTimer = setTimeout(
      () => this.expirePendingSync(group, generationId),
      group.rebalanceTimeoutMs(),
    );
    group.syncTimer.unref();
  }

  /** Members that got their JoinGroup response but never sent SyncGroup are removed. */
  private expirePendingSync(group: ClassicGroup, generationId: number): void {
    group.syncTimer = null;
    if (!this.isLive(group) || generationId !== group.generationId) return;
    if (!(group.is('CompletingRebalance') || group.is('Stable')) || group.pendingSyncMembers.size === 0)
      return;
    const ids = [...group.pendingSyncMembers];
    for (const id of ids) {
      const m = group.member(id);
      if (m === undefined) continue;
      this.clearSession(m);
      m.completeJoin(joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''));
      group.remove(id);
    }
    this.prepareRebalance(group, `removing ${ids.join(', ')} on pending sync request expiration`);
  }

  // ---- SyncGroup ----------------------------------------------------------------------------

  sync(req: SyncRequest): Promise<SyncResult> {
    return new Promise((respond) => {
      const now = this.decideSync(req, respond);
      if (now !== null) respond(now);
    });
  }

  /** The immediate answer, or null when the request is parked until the leader's assignment. */
  private decideSync(req: SyncRequest, respond: (r: SyncResult) => void): SyncResult | null {
    if (req.groupId === '') return syncError(ErrorCode.INVALID_GROUP_ID);
    const status = this.c.groupStatus(req.groupId);
    // A loading coordinator has lost the rebalance in progress: the member starts over with JoinGroup.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
    if (status !== ErrorCode.NONE) return syncError(status);
    const group = this.c.groups.get(req.groupId);
    if (group === undefined) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is('Dead')) return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const problem = group.validateMember(req.memberId, req.groupInstanceId);
    if (problem !== null) return syncError(ErrorCode[problem]);
    if (req.generationId !== group.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    const inconsistent = (mine: string | null, theirs: string | null): boolean =>
      theirs !== null && mine !== null && mine !== '' && mine !== theirs;
    if (
      inconsistent(group.protocolType, req.protocolType) ||
      inconsistent(group.protocolName, req.protocolName)
    ) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const member = group.member(req.memberId) as ClassicMember;
    switch (group.state) {
      case 'PreparingRebalance':
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'CompletingRebalance':
        member.completeSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.syncWaiter = respond;
        this.removePendingSyncMember(group, member.memberId);
        if (group.isLeader(member.memberId)) this.completeSync(group, req.assignments);
        return null;
      case 'Stable':
        this.removePendingSyncMember(group, member.memberId);
        this.scheduleSession(group, member);
        return {
          errorCode: ErrorCode.NONE,
          protocolType: nullIfEmpty(group.protocolType),
          protocolName: group.protocolName,
          assignment: member.assignment,
        };
      default:
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    }
  }

  /**
   * The leader's assignment: written to __consumer_offsets; once committed, handed to every member: Stable.
   * Meanwhile the group stays CompletingRebalance with the members' SyncGroup requests parked.
   */
  private completeSync(group: ClassicGroup, assignments: SyncRequest['assignments']): void {
    const assignment = new Map<string, Buffer>();
    for (const a of assignments) assignment.set(a.memberId, a.assignment);
    const missing: string[] = [];
    for (const id of group.members.keys()) {
      if (!assignment.has(id)) {
        assignment.set(id, EMPTY_BYTES);
        missing.push(id);
      }
    }
    if (missing.length > 0) {
      this.log.warn('leader sent no assignment for some members; they get an empty one', {
        group: group.groupId,
        generationId: group.generationId,
        members: missing,
      });
    }
    const generationId = group.generationId;
    void this.c.storeGroup(group, assignment).then((err) => {
      // Moved on meanwhile (a member joined or left, a session expired, the partition was unloaded): what
      // moved it has answered the parked syncs already; this write's outcome changes nothing (Kafka).
      if (!this.c.isLive(group) || !group.is('CompletingRebalance') || group.generationId !== generationId)
        return;
      if (err !== ErrorCode.NONE) {
        this.resetAndPropagateAssignmentError(group, groupWriteError(err));
        this.maybePrepareRebalanceOrCompleteJoin(
          group,
          `error ${err} storing the assignment of generation ${group.generationId}`,
        );
        return;
      }
      for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_BYTES;
      this.propagateAssignment(group, ErrorCode.NONE);
      group.transitionTo('Stable');
      this.log.info('assignment received from the leader; group is stable', {
        group: group.groupId,
        generationId: group.generationId,
        leader: group.leaderId,
      });
    });
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.clearSyncTimer(group);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const m of group.members.values()) {
      if (!m.isAwaitingSync) continue;
      m.completeSync({
        errorCode,
        protocolType: ok ? nullIfEmpty(group.protocolType) : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      // Sessions that ran out while the member waited for the leader start again from now.
      this.scheduleSession(group, m);
    }
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY_BYTES;
    this.propagateAssignment(group, errorCode);
  }

  // ---- Heartbeat ----------------------------------------------------------------------------

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const status = this.c.groupStatus(groupId);
    // Kafka answers blindly while the group loads; the member's next heartbeat finds it loaded.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
    if (status !== ErrorCode.NONE) return status;
    const group = this.c.groups.get(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const problem = group.validateMember(memberId, groupInstanceId);
    if (problem !== null) return ErrorCode[problem];
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (group.is('Empty')) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.scheduleSession(group, group.member(memberId) as ClassicMember);
    return group.is('PreparingRebalance') ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** Marks a member alive (an offset commit of the current generation counts as a heartbeat). */
  touch(group: ClassicGroup, member: ClassicMember): void {
    this.scheduleSession(group, member);
  }

  // ---- LeaveGroup ---------------------------------------------------------------------------

  leave(groupId: string, members: readonly MemberIdentity[]): LeaveResult {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const status = this.c.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return { errorCode: status, members: [] };
    const group = this.c.groups.get(groupId);
    const out: LeaveResult['members'] = [];
    const result = (m: MemberIdentity, errorCode: number) =>
      out.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    if (group === undefined) {
      for (const m of members) result(m, ErrorCode.UNKNOWN_MEMBER_ID);
      return { errorCode: ErrorCode.NONE, members: out };
    }
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const left: string[] = [];
    for (const m of members) {
      const why = m.reason ?? 'not provided';
      if (m.memberId === '') {
        // Administrative removal of a static member by its instance id.
        const id = m.groupInstanceId === null ? undefined : group.staticMemberId(m.groupInstanceId);
        if (id === undefined) {
          result(m, ErrorCode.UNKNOWN_MEMBER_ID);
          continue;
        }
        this.removeLeavingMember(group, group.member(id) as ClassicMember, why);
        left.push(id);
        result(m, ErrorCode.NONE);
      } else if (group.isPending(m.memberId)) {
        this.removePendingMember(group, m.memberId);
        this.log.info('pending member left the group', { group: groupId, memberId: m.memberId, reason: why });
        left.push(m.memberId);
        result(m, ErrorCode.NONE);
      } else {
        const problem = group.validateMember(m.memberId, m.groupInstanceId);
        if (problem !== null) {
          result(m, ErrorCode[problem]);
          continue;
        }
        this.removeLeavingMember(group, group.member(m.memberId) as ClassicMember, why);
        left.push(m.memberId);
        result(m, ErrorCode.NONE);
      }
    }
    if (left.length > 0) {
      const reason = `explicit LeaveGroup request for (${left.join(', ')}) members`;
      if (group.is('Stable') || group.is('CompletingRebalance'))
        this.maybePrepareRebalanceOrCompleteJoin(group, reason);
      else if (group.is('PreparingRebalance')) this.maybeCompleteJoinPhase(group);
    }
    this.c.maybeDropUnused(group);
    return { errorCode: ErrorCode.NONE, members: out };
  }

  private removeLeavingMember(group: ClassicGroup, member: ClassicMember, reason: string): void {
    this.clearSession(member);
    this.log.info('member left the group', {
      group: group.groupId,
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      reason,
    });
    member.completeJoin(joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''));
    member.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
  }

  // ---- sessions and timers ------------------------------------------------------------------

  removeMemberAndUpdateGroup(group: ClassicGroup, member: ClassicMember, reason: string): void {
    this.clearSession(member);
    // A parked JoinGroup gets UNKNOWN_MEMBER_ID so a still-running client rejoins.
    member.completeJoin(joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''));
    member.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
    if (group.is('Stable') || group.is('CompletingRebalance'))
      this.maybePrepareRebalanceOrCompleteJoin(group, reason);
    else if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  scheduleSession(group: ClassicGroup, member: ClassicMember, timeoutMs = member.sessionTimeoutMs): void {
    if (member.sessionTimer !== null) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => this.onSessionExpired(group, member), timeoutMs);
    member.sessionTimer.unref();
  }

  clearSession(member: ClassicMember): void {
    if (member.sessionTimer !== null) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
  }

  private onSessionExpired(group: ClassicGroup, member: ClassicMember): void {
    member.sessionTimer = null;
    if (!this.isLive(group) || group.member(member.memberId) !== member || group.is('Dead')) return;
    // Members parked in a rebalance need no heartbeat (except new ones, bounded by the join timeout).
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
    this.log.info('member session expired; removing it from the group', {
      group: group.groupId,
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      sessionTimeoutMs: member.sessionTimeoutMs,
    });
    this.removeMemberAndUpdateGroup(
      group,
      member,
      `removing member ${member.memberId} on heartbeat expiration`,
    );
    this.c.maybeDropUnused(group);
  }

  /** Remembers a member id handed out with MEMBER_ID_REQUIRED; false when too many are pending. */
  addPendingMember(group: ClassicGroup, memberId: string, sessionTimeoutMs: number): boolean {
    if (group.pendingMembers.size >= Math.min(this.c.config.maxSize, limits.groupPendingMembersMax))
      return false;
    // The member must come back with this id within its session timeout.
    const timer = setTimeout(() => this.expirePendingMember(group, memberId), sessionTimeoutMs);
    timer.unref();
    group.pendingMembers.set(memberId, timer);
    return true;
  }

  removePendingMember(group: ClassicGroup, memberId: string): void {
    const timer = group.pendingMembers.get(memberId);
    if (timer === undefined) return;
    clearTimeout(timer);
    group.pendingMembers.delete(memberId);
  }

  private expirePendingMember(group: ClassicGroup, memberId: string): void {
    if (!group.pendingMembers.delete(memberId) || !this.isLive(group)) return;
    this.log.debug('pending member expired', { group: group.groupId, memberId });
    if (group.is('PreparingRebalance')) this.maybeCompleteJoinPhase(group);
    this.c.maybeDropUnused(group);
  }

  private setJoinTimer(group: ClassicGroup, ms: number, fn: () => void): void {
    this.clearJoinTimer(group);
    group.joinTimer = setTimeout(() => {
      group.joinTimer = null;
      if (this.isLive(group) && group.is('PreparingRebalance')) fn();
    }, ms);
    group.joinTimer.unref();
  }

  private clearJoinTimer(group: ClassicGroup): void {
    if (group.joinTimer !== null) clearTimeout(group.joinTimer);
    group.joinTimer = null;
  }

  private clearSyncTimer(group: ClassicGroup): void {
    if (group.syncTimer !== null) clearTimeout(group.syncTimer);
    group.syncTimer = null;
  }

  private isLive(group: ClassicGroup): boolean {
    return this.c.isLive(group);
  }

  /** Stops every timer of a group and answers its parked requests (shutdown, deletion). */
  shutdownGroup(group: ClassicGroup, errorCode: number): void {
    this.clearJoinTimer(group);
    this.clearSyncTimer(group);
    for (const t of group.pendingMembers.values()) clearTimeout(t);
    group.pendingMembers.clear();
    for (const m of group.members.values()) {
      this.clearSession(m);
      m.completeJoin(joinError(errorCode, m.memberId));
      m.completeSync(syncError(errorCode));
    }
  }
}

/** The current generation as a JoinGroup answer (the leader's includes every member's metadata). */
export function currentJoinResult(
  group: ClassicGroup,
  member: ClassicMember,
  includeMembers: boolean,
): JoinResult {
  return {
    errorCode: ErrorCode.NONE,
    generationId: group.generationId,
    protocolType: nullIfEmpty(group.protocolType),
    protocolName: group.protocolName,
    leader: group.leaderId ?? '',
    memberId: member.memberId,
    members: includeMembers ? memberList(group) : [],
    skipAssignment: false,
  };
}

function memberList(group: ClassicGroup): JoinResult['members'] {
  return [...group.members.values()].map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    metadata: m.metadata(group.protocolName),
  }));
}

/** Kafka's mapping of a failed group-metadata write to the error the client sees. */
export function groupWriteError(errorCode: number): number {
  return clientWriteError(errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
}
