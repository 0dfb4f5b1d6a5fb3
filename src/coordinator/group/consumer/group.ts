// A consumer group of the KIP-848 protocol (Kafka's ConsumerGroup / ConsumerGroupMember): members,
// the group epoch, the target assignment and each member's current assignment. The data and the rules
// that need no clock or I/O live here; heartbeat.ts drives it (timers, writes).
//
// Three epochs say how far a change has travelled:
//   group epoch       bumped when the group's membership or subscriptions change, or when the
//                     partition counts of the subscribed topics change (the metadata hash);
//   assignment epoch  the group epoch the target assignment was computed for; it catches up at once,
//                     on the next heartbeat after a bump, when the broker-side assignor runs;
//   member epoch      each member's; it reaches the assignment epoch when the member has converged
//                     (reconcile.ts: revoke what it must give away, then take what is free).
// The group's state follows (Kafka's ConsumerGroupState): Empty without members, Assigning while the
// group epoch is ahead of the assignment epoch, Reconciling while a member is behind the assignment
// epoch or not STABLE, else Stable. Dead: being deleted (DeleteGroups) or unloaded.
//
// Partition ownership: a partition belongs to the member that has it assigned or pending revocation; a
// partition of a member's target is handed to it only when nobody else owns it (owners).

import { ErrorCode } from '../../../protocol/errors.js';
import type { ClassicGroup } from '../group.js';
import { type Assignment, assignmentSize, emptyAssignment } from './assignment.js';

/** Kafka's MemberState (the byte written in ConsumerGroupCurrentMemberAssignmentValue.State). */
export const MemberState = {
  STABLE: 0,
  UNREVOKED_PARTITIONS: 1,
  UNRELEASED_PARTITIONS: 2,
  UNKNOWN: 127,
} as const;

export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';

export interface ConsumerMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
  memberEpoch: number;
  previousMemberEpoch: number;
  state: number;
  assignedPartitions: Assignment;
  partitionsPendingRevocation: Assignment;
  /** A member of the classic protocol in this consumer group (KIP-848 migration); null for a consumer-protocol one. */
  classicMemberMetadata: ClassicMemberMetadata | null;
}

/** What a classic member brought (ConsumerGroupMemberMetadataValue.ClassicMemberMetadata). */
export interface ClassicMemberMetadata {
  sessionTimeoutMs: number;
  supportedProtocols: { name: string; metadata: Buffer }[];
}

export function newMember(memberId: string): ConsumerMember {
  return {
    memberId,
    instanceId: null,
    rackId: null,
    clientId: '',
    clientHost: '',
    subscribedTopicNames: [],
    subscribedTopicRegex: null,
    rebalanceTimeoutMs: -1,
    serverAssignor: null,
    memberEpoch: 0,
    previousMemberEpoch: 0,
    state: MemberState.STABLE,
    assignedPartitions: emptyAssignment(),
    partitionsPendingRevocation: emptyAssignment(),
    classicMemberMetadata: null,
  };
}

/** Timers of a member (not part of its records). */
interface MemberTimers {
  session: NodeJS.Timeout | null;
  rebalance: NodeJS.Timeout | null;
}

const key = (topicId: string, partition: number): string => `${topicId}:${partition}`;

export class ConsumerGroup {
  groupEpoch = 0;
  /** Hash of the subscribed topics' ids and partition counts when the group epoch last moved. */
  metadataHash = 0;
  assignmentEpoch = 0;
  dead = false;
  /** The group's consumer.session.timeout.ms / consumer.heartbeat.interval.ms overrides (read at each join). */
  sessionTimeoutMs: number | null = null;
  heartbeatIntervalMs: number | null = null;
  readonly members = new Map<string, ConsumerMember>();
  /** instance id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** member id -> its target assignment. */
  readonly targetAssignment = new Map<string, Assignment>();
  /** Regular expression -> topics it resolved to (ConsumerGroupRegularExpression records). */
  readonly resolvedRegexes = new Map<string, { topics: string[]; version: number; timestamp: number }>();
  readonly timers = new Map<string, MemberTimers>();
  /** "topicId:partition" -> member id of its current owner. */
  private readonly owners = new Map<string, string>();
  private readonly pendingCommits = new Map<string, { topic: string; partition: number; writes: number }>();
  /** The classic group this one was converted into (online migration): commits in flight complete there. */
  successor: ClassicGroup | null = null;

  constructor(readonly groupId: string) {}

  get state(): ConsumerGroupState {
    if (this.dead) return 'Dead';
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== MemberState.STABLE) return 'Reconciling';
    }
    return 'Stable';
  }

  /** Whether the group is in this state (the classic group's test, for code shared by both kinds). */
  is(state: ConsumerGroupState): boolean {
    return this.state === state;
  }

  member(memberId: string): ConsumerMember | undefined {
    return this.members.get(memberId);
  }

  staticMember(instanceId: string): ConsumerMember | undefined {
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  target(memberId: string): Assignment {
    return this.targetAssignment.get(memberId) ?? emptyAssignment();
  }

  /** The member that owns the partition now (assigned or pending revocation), if another than `except`. */
  ownerOf(topicId: string, partition: number): string | undefined {
    return this.owners.get(key(topicId, partition));
  }

  /** Adds or replaces a member and keeps the ownership map in step with its current assignment. */
  updateMember(m: ConsumerMember): void {
    const old = this.members.get(m.memberId);
    if (old !== undefined) this.releaseOwnership(old);
    this.members.set(m.memberId, m);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
    for (const a of [m.assignedPartitions, m.partitionsPendingRevocation]) {
      for (const [t, ps] of a) for (const p of ps) this.owners.set(key(t, p), m.memberId);
    }
  }

  removeMember(memberId: string): ConsumerMember | undefined {
    const m = this.members.get(memberId);
    if (m === undefined) return undefined;
    this.releaseOwnership(m);
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    if (m.instanceId !== null && this.staticMembers.get(m.instanceId) === memberId) {
      this.staticMembers.delete(m.instanceId);
    }
    return m;
  }

  private releaseOwnership(m: ConsumerMember): void {
    for (const a of [m.assignedPartitions, m.partitionsPendingRevocation]) {
      for (const [t, ps] of a) {
        for (const p of ps) if (this.owners.get(key(t, p)) === m.memberId) this.owners.delete(key(t, p));
      }
    }
  }

  /** The assignor most members asked for (ServerAssignor), else the broker's default (Kafka's choice). */
  preferredAssignor(defaultAssignor: string): string {
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    }
    let best = defaultAssignor;
    let n = 0;
    for (const [name, v] of votes) {
      if (v > n) {
        best = name;
        n = v;
      }
    }
    return best;
  }

  /** The topic names subscribed by name, and the regular expressions in use. */
  subscriptions(): { names: Set<string>; regexes: Set<string> } {
    const names = new Set<string>();
    const regexes = new Set<string>();
    for (const m of this.members.values()) {
      for (const t of m.subscribedTopicNames) names.add(t);
      if (m.subscribedTopicRegex !== null) regexes.add(m.subscribedTopicRegex);
    }
    return { names, regexes };
  }

  /** Topics a member consumes: its names and what its regular expression resolved to. */
  memberTopics(m: ConsumerMember): Set<string> {
    const out = new Set(m.subscribedTopicNames);
    if (m.subscribedTopicRegex !== null) {
      for (const t of this.resolvedRegexes.get(m.subscribedTopicRegex)?.topics ?? []) out.add(t);
    }
    return out;
  }

  /** Whether a member consumes the topic (OffsetDelete refuses its offsets, retention keeps them). */
  isSubscribedToTopic(topic: string): boolean {
    for (const m of this.members.values()) if (this.memberTopics(m).has(topic)) return true;
    return false;
  }

  assignedCount(memberId: string): number {
    const m = this.members.get(memberId);
    return m === undefined ? 0 : assignmentSize(m.assignedPartitions);
  }

  // ---- offset commits (Kafka's ConsumerGroup.validateOffsetCommit / validateOffsetFetch) --------

  /**
   * NONE, or the error of a commit: member epoch -1 is accepted when the group has no members (a commit
   * without group management); a transactional commit without member and epoch is accepted; else the member
   * must exist (UNKNOWN_MEMBER_ID), use OffsetCommit v9+ (UNSUPPORTED_VERSION) and carry its current epoch
   * (STALE_MEMBER_EPOCH); a classic member's generation must be its epoch (ILLEGAL_GENERATION).
   */
  validateOffsetCommit(
    memberId: string,
    memberEpoch: number,
    apiVersion: number,
    transactional: boolean,
  ): number {
    if (this.dead) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (memberEpoch < 0 && this.members.size === 0) return ErrorCode.NONE;
    if (transactional && memberEpoch === -1 && memberId === '') return ErrorCode.NONE;
    const m = this.members.get(memberId);
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    // A classic member commits with its generation (= its member epoch), at any version.
    if (m.classicMemberMetadata !== null)
      return memberEpoch === m.memberEpoch ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    if (!transactional && apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (memberEpoch !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** OffsetFetch v9+: without member id and with epoch -1 anyone may read; else the member's epoch. */
  validateOffsetFetch(memberId: string | null, memberEpoch: number): number {
    if ((memberId === null || memberId === '') && memberEpoch < 0) return ErrorCode.NONE;
    const m = memberId === null ? undefined : this.members.get(memberId);
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  // Commits in flight, as ClassicGroup tracks them (a deletion tombstones them too).
  addPendingCommit(topic: string, partition: number): void {
    const k = `${topic}\u0000${partition}`;
    const p = this.pendingCommits.get(k);
    if (p === undefined) this.pendingCommits.set(k, { topic, partition, writes: 1 });
    else p.writes++;
  }

  removePendingCommit(topic: string, partition: number): void {
    const k = `${topic}\u0000${partition}`;
    const p = this.pendingCommits.get(k);
    if (p !== undefined && --p.writes === 0) this.pendingCommits.delete(k);
  }

  hasPendingCommits(): boolean {
    return this.pendingCommits.size > 0;
  }

  pendingCommitPartitions(): { topic: string; partition: number }[] {
    return [...this.pendingCommits.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  pendingCommitWrites(): { topic: string; partition: number; writes: number }[] {
    return [...this.pendingCommits.values()].map((p) => ({ ...p }));
  }

  /** Takes over the commits in flight of the group this one replaces (online migration). */
  adoptPendingCommits(from: {
    pendingCommitWrites(): { topic: string; partition: number; writes: number }[];
  }): void {
    for (const p of from.pendingCommitWrites())
      for (let i = 0; i < p.writes; i++) this.addPendingCommit(p.topic, p.partition);
  }
}
