// A classic consumer group (Kafka's ClassicGroup): members, generation, protocol, leader and the
// state of its rebalance. This file holds the data and the rules that need no clock or I/O; the
// coordinator (coordinator.ts) drives the transitions, its timers and the writes to the log.
//
// States (the classic rebalance protocol):
//
//   Empty                The group has no members. It may still have committed offsets (and a
//                        generation, if it had members before). A JoinGroup moves it to
//                        PreparingRebalance; the first such rebalance waits
//                        group.initial.rebalance.delay.ms (extended while new members keep
//                        arriving, up to the rebalance timeout) so a starting fleet joins at once.
//   PreparingRebalance   Members are (re)joining. Every known member must send JoinGroup before
//                        the rebalance timeout; their requests are parked. When all have joined
//                        (or at the timeout, dropping the dynamic members that did not) the
//                        generation increments, a protocol is chosen by vote and every parked
//                        JoinGroup is answered (the leader also gets every member's metadata):
//                        -> CompletingRebalance, or -> Empty when nobody is left.
//   CompletingRebalance  Waiting for the leader's SyncGroup with the assignment. Followers' syncs
//                        are parked. The leader's sync is written to __consumer_offsets, then
//                        every parked sync gets its assignment: -> Stable. A join with changed
//                        metadata, a leave or an expired session goes back to PreparingRebalance
//                        (parked syncs get REBALANCE_IN_PROGRESS).
//   Stable               Assignment handed out; members heartbeat. A member joining or leaving,
//                        the leader rejoining, changed metadata or an expired session:
//                        -> PreparingRebalance.
//   Dead                 The group is being removed (DeleteGroups, or empty with all offsets
//                        expired). Nothing leaves this state; requests get COORDINATOR_NOT_AVAILABLE.
//
// Pending members: a dynamic member's first JoinGroup (v4+) only gets a member id
// (MEMBER_ID_REQUIRED) and the id is remembered as pending until it joins with it or its session
// timeout passes; a rebalance waits for pending members too.

import { randomUUID } from 'node:crypto';
import type { ConsumerProtocolSubscription } from '../../protocol/generated/consumer-protocol-subscription.js';
import { decodeConsumerProtocolSubscription } from '../../protocol/generated/consumer-protocol-subscription.js';
import { Reader } from '../../protocol/reader.js';
import type { ConsumerGroup } from './consumer/group.js';
import type { ClassicMember, Protocol } from './member.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

const validPreviousStates: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'],
};

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export class ClassicGroup {
  private _state: GroupState = 'Empty';
  private _previousState: GroupState = 'Empty';
  /** When the group entered its current state (written as currentStateTimestamp). */
  stateTimestamp: number;
  generationId = 0;
  /** Empty string: none (a group that only stores offsets). */
  protocolType = '';
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Members in join order (Map keeps insertion order: the next leader is the oldest member). */
  readonly members = new Map<string, ClassicMember>();
  /** groupInstanceId -> memberId. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, with their expiration timers. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** Members of this generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** A new member joined during the initial delayed rebalance (extends the delay). */
  newMemberAdded = false;
  /** Topics the members subscribe to (consumer protocol), null when unknown. */
  subscribedTopics: Set<string> | null = null;
  joinTimer: NodeJS.Timeout | null = null;
  syncTimer: NodeJS.Timeout | null = null;
  /** Offset commits appended and not yet committed, per topic-partition (Kafka's pendingOffsetCommits). */
  private readonly pendingCommits = new Map<string, { topic: string; partition: number; writes: number }>();
  /** The consumer group this one was converted into (online migration): commits in flight complete there. */
  successor: ConsumerGroup | null = null;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.stateTimestamp = now;
  }

  get state(): GroupState {
    return this._state;
  }

  get previousState(): GroupState {
    return this._previousState;
  }

  is(state: GroupState): boolean {
    return this._state === state;
  }

  transitionTo(state: GroupState, now = Date.now()): void {
    if (!validPreviousStates[state].includes(this._state)) {
      throw new Error(`group ${this.groupId}: illegal transition ${this._state} -> ${state}`);
    }
    this._previousState = this._state;
    this._state = state;
    this.stateTimestamp = now;
  }

  /** Sets the state of a group read back from __consumer_offsets (Empty or Stable). */
  restoreState(state: 'Empty' | 'Stable', stateTimestamp: number): void {
    this._state = state;
    this._previousState = state;
    this.stateTimestamp = stateTimestamp;
  }

  canRebalance(): boolean {
    return this._state === 'Stable' || this._state === 'CompletingRebalance' || this._state === 'Empty';
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  member(memberId: string): ClassicMember | undefined {
    return this.members.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  isPending(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  newMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.numAwaitingJoin() === this.members.size && this.pendingMembers.size === 0;
  }

  /** The longest rebalance timeout of the members: how long a join phase may take. */
  rebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }

  add(member: ClassicMember): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`group ${this.groupId}: static member ${member.groupInstanceId} is already a member`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  /** Removes a member from the maps (waiters and timers are the caller's business). */
  remove(memberId: string): void {
    const m = this.members.get(memberId);
    if (m !== undefined) {
      this.members.delete(memberId);
      if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) {
        this.staticMembers.delete(m.groupInstanceId);
      }
    }
    if (this.leaderId === memberId) {
      const next = this.members.keys().next();
      this.leaderId = next.done === true ? null : next.value;
    }
    this.pendingSyncMembers.delete(memberId);
  }

  /**
   * Moves a static member to a new member id; the old id's parked requests are the caller's to
   * fence. Returns the member (same object, new id).
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicMember {
    const m = this.members.get(oldMemberId);
    if (m === undefined) throw new Error(`group ${this.groupId}: no member ${oldMemberId} to replace`);
    const rebuilt = new Map<string, ClassicMember>();
    for (const [id, x] of this.members) rebuilt.set(id === oldMemberId ? newMemberId : id, x);
    this.members.clear();
    for (const [id, x] of rebuilt) this.members.set(id, x);
    m.memberId = newMemberId;
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    this.pendingSyncMembers.delete(oldMemberId);
    return m;
  }

  /**
   * Kafka's validateMember: a static member's instance id must map to this member id
   * (else FENCED_INSTANCE_ID, or UNKNOWN_MEMBER_ID when the instance is unknown); a dynamic member
   * must exist. Returns the error name or null.
   */
  validateMember(
    memberId: string,
    groupInstanceId: string | null,
  ): 'UNKNOWN_MEMBER_ID' | 'FENCED_INSTANCE_ID' | null {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) return 'UNKNOWN_MEMBER_ID';
      if (existing !== memberId) return 'FENCED_INSTANCE_ID';
      return null;
    }
    return this.members.has(memberId) ? null : 'UNKNOWN_MEMBER_ID';
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    const counts = new Map<string, number>();
    for (const m of this.members.values()) {
      // Each name once per member, however often a request listed it.
      for (const name of new Set(m.protocols.map((p) => p.name)))
        counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const out = new Set<string>();
    for (const [name, n] of counts) if (n === this.members.size) out.add(name);
    return out;
  }

  /** Whether a joining member's protocols fit the group (else INCONSISTENT_GROUP_PROTOCOL). */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this._state === 'Empty') return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const candidates = this.candidateProtocols();
    return protocols.some((p) => candidates.has(p.name));
  }

  /** Each member votes for its most preferred protocol among those all support; most votes wins. */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      if (v !== undefined) votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best: string | undefined;
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    if (best === undefined) throw new Error(`group ${this.groupId}: no protocol supported by all members`);
    return best;
  }

  /** Advances to the next generation at the end of a join phase. */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', now);
    }
    this.pendingSyncMembers.clear();
  }

  /** If the leader did not rejoin, hand leadership to a member that did. False when none did. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** The union of the consumer-protocol subscriptions, or null when it cannot be known. */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.protocolName === null) {
      return this.members.size === 0 ? new Set() : null;
    }
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const sub = decodeSubscription(m.metadata(this.protocolName));
      if (sub === null) return null;
      for (const t of sub.topics) topics.add(t);
    }
    return topics;
  }

  /** Whether offsets of this topic are in use (OffsetDelete refuses them, retention keeps them). */
  isSubscribedToTopic(topic: string): boolean {
    if (this.members.size === 0) return false;
    if (this.subscribedTopics === null) return true;
    return this.subscribedTopics.has(topic);
  }

  usesConsumerProtocol(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  addPendingCommit(topic: string, partition: number): void {
    const key = `${topic}\u0000${partition}`;
    const p = this.pendingCommits.get(key);
    if (p === undefined) this.pendingCommits.set(key, { topic, partition, writes: 1 });
    else p.writes++;
  }

  removePendingCommit(topic: string, partition: number): void {
    const key = `${topic}\u0000${partition}`;
    const p = this.pendingCommits.get(key);
    if (p === undefined) return;
    if (--p.writes === 0) this.pendingCommits.delete(key);
  }

  hasPendingCommits(): boolean {
    return this.pendingCommits.size > 0;
  }

  /** The topic-partitions with a commit in flight (a deletion tombstones them too). */
  pendingCommitPartitions(): { topic: string; partition: number }[] {
    return [...this.pendingCommits.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Takes over the commits in flight of the group this one replaces (online migration). */
  adoptPendingCommits(from: ConsumerGroup): void {
    for (const p of from.pendingCommitWrites())
      for (let i = 0; i < p.writes; i++) this.addPendingCommit(p.topic, p.partition);
  }

  /** The commits in flight with their count of writes (handed to the group that replaces this one). */
  pendingCommitWrites(): { topic: string; partition: number; writes: number }[] {
    return [...this.pendingCommits.values()].map((p) => ({ ...p }));
  }
}

/** Decodes a consumer-protocol subscription (int16 version + struct); null when malformed. */
export function decodeSubscription(bytes: Buffer): ConsumerProtocolSubscription | null {
  try {
    const r = new Reader(bytes);
    const version = r.int16();
    if (version < 0) return null;
    return decodeConsumerProtocolSubscription(r, Math.min(version, 3));
  } catch {
    return null;
  }
}
