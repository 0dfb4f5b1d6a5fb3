// The group coordinator of this broker: the single owner of the consumer groups and committed offsets of
// the __consumer_offsets partitions this broker leads (Kafka's GroupCoordinator and GroupMetadataManager,
// classic protocol). The rebalance protocol lives in join.ts and rebalance.ts, the group state machine in
// group.ts, committed offsets in commits.ts, partition ownership in loader.ts, the durable state in
// __consumer_offsets (state-log.ts, records.ts). KIP-848 consumer groups (ConsumerGroupHeartbeat: the broker
// assigns, members reconcile) live in consumer/ and in `consumerGroups`; a group id is either kind, never both
// (a group with members converts online between them: consumer/convert.ts; classic members of a consumer group:
// consumer/classic.ts).
//
// Ownership. Group G belongs to partition partitionFor(G) of __consumer_offsets and is coordinated by that
// partition's leader. The replica manager reports leadership changes (onElection / onResignation, wired in
// broker.ts) and loader.ts loads the partition from its log or unloads its groups. Every request passes
// groupStatus() first: NOT_COORDINATOR when the partition is not owned here, COORDINATOR_LOAD_IN_PROGRESS
// while it loads, each API answering as Kafka's does (Heartbeat says NONE and SyncGroup REBALANCE_IN_PROGRESS
// while loading; ListGroups lists the loaded groups and reports COORDINATOR_LOAD_IN_PROGRESS). On a single
// node the local controller makes this broker leader of every partition, so start() loads them all before
// the broker listens.
//
// Writes complete when committed. One owner per piece of state, which computes, appends, and changes
// memory or answers only once the write is committed (Kafka's append callbacks):
//   - OffsetCommit: validated, appended; the offsets enter memory and the response goes out when the write
//     commits. Until then they are pending on the group: OffsetFetch does not show them, retention leaves the
//     group alone, a DeleteGroups tombstones them too.
//   - SyncGroup from the leader: the assignment is written with the group's metadata while the group stays
//     CompletingRebalance and every member's SyncGroup stays parked. When the write completes the group is
//     checked again: same generation, still CompletingRebalance -> assignments handed out, Stable (or, if
//     the write failed, the mapped error to every parked SyncGroup and a new rebalance); moved on meanwhile
//     (a member joined or left, a session expired, the partition was unloaded) -> nothing, since what moved
//     it has already answered the parked requests (REBALANCE_IN_PROGRESS, NOT_COORDINATOR), as Kafka.
//   - A static member rejoining a stable group under a new member id: the replacement is applied and
//     written, its JoinGroup answered when the write completes; a failed write reverts it (as Kafka).
//   - DeleteGroups: the empty group turns Dead (requests for it get COORDINATOR_NOT_AVAILABLE), its
//     tombstones are written, and once committed it leaves memory; a failed write brings it back as it was.
//   - OffsetDelete: tombstones written, the offsets leave memory once committed.
//   - TxnOffsetCommit: validated, appended as the producer's transactional batch, answered once committed;
//     its offsets are pending from the append on and enter memory (or are dropped) only when the
//     transaction's marker is replicated: completeTransaction (txn-offsets.ts).
//   - A group emptied at the end of a join phase, and offsets retention: written in the background, nobody
//     waits (Kafka's behaviour).
// A write not committed within offsets.commit.timeout.ms answers COORDINATOR_NOT_AVAILABLE; its record may
// still commit later, and then the next load of the partition sees it (as in Kafka). Completions check that
// their group is still the one registered (isLive) before they touch it.
//
// Life cycle: start() loads what this broker leads; stop() answers every parked JoinGroup/SyncGroup with
// NOT_COORDINATOR and clears all timers, before the listener drains. Offsets retention runs every
// offsets.retention.check.interval.ms.

import type { BrokerConfig } from '../../config/broker-config.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  type CommitRequest,
  type FetchedOffset,
  OffsetCommits,
  type TopicErrors,
  type TxnCommitRequest,
} from './commits.js';
import { type GroupCoordinatorConfig, groupCoordinatorConfig } from './config.js';
import { ConsumerGroupAdmin } from './consumer/admin.js';
import { ClassicProtocolMembers } from './consumer/classic.js';
import type { ConsumerGroup, ConsumerGroupState } from './consumer/group.js';
import {
  type ConsumerHeartbeatRequest,
  type ConsumerHeartbeatResult,
  ConsumerHeartbeats,
} from './consumer/heartbeat.js';
import { ClassicGroup, type GroupState } from './group.js';
import { Joiner } from './join.js';
import { type ElectedPartition, PartitionLoader } from './loader.js';
import type { JoinResult, SyncResult } from './member.js';
import { EMPTY_BYTES } from './member.js';
import { OffsetStore } from './offsets.js';
import {
  groupWriteError,
  type JoinRequest,
  type LeaveResult,
  type MemberIdentity,
  Rebalancer,
  type SyncRequest,
} from './rebalance.js';
import { type EncodedRecord, groupMetadataRecord, offsetCommitRecord } from './records.js';
import { GroupStateLog, type OffsetsTopicHost, type WriteOptions } from './state-log.js';
import { endTransaction, PendingTxnOffsets } from './txn-offsets.js';

export type {
  CommitRequest,
  FetchedOffset,
  PartitionError,
  TopicErrors,
  TxnCommitRequest,
} from './commits.js';
export { commitWriteError } from './commits.js';

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: GroupState | ConsumerGroupState;
  groupType: string;
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  /** The groups of the loaded partitions (and nothing else). */
  readonly groups = new Map<string, ClassicGroup>();
  /** The KIP-848 consumer groups of the loaded partitions (a group id is in one map or the other). */
  readonly consumerGroups = new Map<string, ConsumerGroup>();
  /** ConsumerGroupHeartbeat (consumer/heartbeat.ts). */
  readonly consumer: ConsumerHeartbeats;
  /** JoinGroup/SyncGroup/Heartbeat/LeaveGroup of classic members in consumer groups (consumer/classic.ts). */
  readonly classicMembers: ClassicProtocolMembers;
  /** Describe, list, delete and offsets retention of consumer groups (consumer/admin.ts). */
  readonly consumerAdmin: ConsumerGroupAdmin;
  /** Their committed offsets. */
  readonly offsets = new OffsetStore();
  /** Offsets committed in transactions that have not ended yet (txn-offsets.ts). */
  readonly txnOffsets = new PendingTxnOffsets();
  /** Groups that may have a metadata record in the log: removing one writes its tombstone. */
  readonly metadataInLog = new Set<string>();
  readonly stateLog: GroupStateLog;
  readonly rebalancer: Rebalancer;
  private readonly joiner: Joiner;
  private readonly commits: OffsetCommits;
  private readonly loader: PartitionLoader;
  active = false;
  private retentionTimer: NodeJS.Timeout | null = null;

  constructor(
    brokerConfig: BrokerConfig,
    readonly host: OffsetsTopicHost,
    readonly log: Logger,
  ) {
    this.config = groupCoordinatorConfig(brokerConfig);
    this.stateLog = new GroupStateLog(host, this.config, log);
    this.rebalancer = new Rebalancer(this);
    this.joiner = new Joiner(this, this.rebalancer);
    this.commits = new OffsetCommits(this);
    this.loader = new PartitionLoader(this, host);
    this.consumer = new ConsumerHeartbeats(this);
    this.classicMembers = new ClassicProtocolMembers(this);
    this.consumerAdmin = new ConsumerGroupAdmin(this);
  }

  // ---- life cycle and ownership ---------------------------------------------------------------

  /** Loads every partition of __consumer_offsets this broker leads; resolves when they are loaded. */
  async start(): Promise<void> {
    this.active = true;
    this.retentionTimer = setInterval(
      () => this.cleanupExpired(Date.now()),
      this.config.offsetsRetentionCheckIntervalMs,
    );
    this.retentionTimer.unref();
    await this.loader.loadLed();
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    this.loader.clear();
    for (const group of this.groups.values()) this.rebalancer.shutdownGroup(group, ErrorCode.NOT_COORDINATOR);
    for (const group of this.consumerGroups.values()) this.consumer.stopTimers(group);
  }

  /** This broker became leader of these __consumer_offsets partitions: load them. */
  onElection(partitions: readonly ElectedPartition[]): void {
    this.loader.onElection(partitions);
  }

  /** This broker stopped leading these __consumer_offsets partitions (follower, or removed): unload them. */
  onResignation(partitions: readonly ElectedPartition[]): void {
    this.loader.onResignation(partitions);
  }

  /**
   * Kafka's validateGroupStatus: NONE when this broker coordinates the group now, COORDINATOR_LOAD_IN_PROGRESS
   * while its partition loads, else NOT_COORDINATOR. The first group request creates __consumer_offsets when
   * it is missing, as FindCoordinator does (at once on a single node).
   */
  groupStatus(groupId: string): number {
    if (!this.active) return ErrorCode.NOT_COORDINATOR;
    if (this.host.partitionCount() === 0) {
      this.host.createTopic();
      if (this.host.partitionCount() === 0) return ErrorCode.NOT_COORDINATOR;
    }
    return this.loader.status(this.stateLog.partitionFor(groupId));
  }

  /** The group that replaced this one by online migrations (convert.ts), else the group itself. */
  latest(group: ClassicGroup | ConsumerGroup): ClassicGroup | ConsumerGroup {
    let g = group;
    while (g.successor !== null) g = g.successor;
    return g;
  }

  /** Whether the group is still the one registered (not unloaded, removed or replaced meanwhile). */
  isLive(group: ClassicGroup | ConsumerGroup): boolean {
    if (!this.active) return false;
    return (this.groups.get(group.groupId) ?? this.consumerGroups.get(group.groupId)) === group;
  }

  // ---- the consumer group protocol (consumer/) -----------------------------------------------

  consumerGroupHeartbeat(req: ConsumerHeartbeatRequest): Promise<ConsumerHeartbeatResult> {
    return this.consumer.heartbeat(req);
  }

  // ---- the rebalance protocol (join.ts, rebalance.ts) ----------------------------------------

  join(req: JoinRequest): Promise<JoinResult> {
    const cfg = this.config;
    const consumerGroup = this.classicMembersGroup(req.groupId);
    if (
      consumerGroup !== undefined &&
      req.sessionTimeoutMs >= cfg.minSessionTimeoutMs &&
      req.sessionTimeoutMs <= cfg.maxSessionTimeoutMs
    )
      return this.classicMembers.join(consumerGroup, req);
    return this.joiner.join(req);
  }

  sync(req: SyncRequest): Promise<SyncResult> {
    const consumerGroup = this.classicMembersGroup(req.groupId);
    if (consumerGroup !== undefined) return Promise.resolve(this.classicMembers.sync(consumerGroup, req));
    return this.rebalancer.sync(req);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const consumerGroup = this.classicMembersGroup(groupId);
    if (consumerGroup !== undefined)
      return this.classicMembers.heartbeat(consumerGroup, memberId, groupInstanceId, generationId);
    return this.rebalancer.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leave(groupId: string, members: readonly MemberIdentity[]): LeaveResult | Promise<LeaveResult> {
    const consumerGroup = this.classicMembersGroup(groupId);
    if (consumerGroup !== undefined) return this.classicMembers.leave(consumerGroup, members);
    return this.rebalancer.leave(groupId, members);
  }

  /**
   * The consumer group (with members) a classic-protocol request for this id goes to (consumer/classic.ts);
   * undefined when the classic path answers (no such group, an empty one, not coordinated here).
   */
  private classicMembersGroup(groupId: string): ConsumerGroup | undefined {
    if (groupId === '' || this.groupStatus(groupId) !== ErrorCode.NONE) return undefined;
    const group = this.consumerGroups.get(groupId);
    return group === undefined || group.dead || group.members.size === 0 ? undefined : group;
  }

  // ---- committed offsets (commits.ts) --------------------------------------------------------

  commit(req: CommitRequest): Promise<TopicErrors[]> {
    return this.commits.commit(req);
  }

  /** OffsetFetch; requireStable (v7+) answers UNSTABLE_OFFSET_COMMIT where a transaction has a pending offset. */
  fetch(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
    requireStable = false,
    member?: { memberId: string | null; memberEpoch: number },
  ): { errorCode: number; topics: { name: string; partitions: FetchedOffset[] }[] } {
    return this.commits.fetch(groupId, topics, requireStable, member);
  }

  txnCommit(req: TxnCommitRequest): Promise<TopicErrors[]> {
    return this.commits.txnCommit(req);
  }

  /**
   * The producer's transaction ended with a marker now replicated on this __consumer_offsets partition
   * (called by the WriteTxnMarkers handler): its pending offsets in every group of the partition are committed
   * or dropped. Nothing to do for a partition not loaded here: a load replays the marker from the log (one
   * loading now reads to the log end as it gets there, so it sees this marker too).
   */
  completeTransaction(offsetsPartition: number, producerId: number, commit: boolean): void {
    if (!this.active || this.loader.status(offsetsPartition) !== ErrorCode.NONE) return;
    const groupIds = endTransaction(
      this.offsets,
      this.txnOffsets,
      producerId,
      commit,
      (groupId) => this.stateLog.partitionFor(groupId) === offsetsPartition,
    );
    if (groupIds.length === 0) return;
    this.log.debug('transactional offsets ended', {
      partition: offsetsPartition,
      producerId,
      commit,
      groupIds,
    });
    if (commit) return;
    for (const groupId of groupIds) {
      const group = this.groups.get(groupId);
      if (group !== undefined) this.maybeDropUnused(group);
    }
  }

  deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: { partitionIndex: number }[] }[],
  ): Promise<{ errorCode: number; topics: TopicErrors[] }> {
    return this.commits.deleteOffsets(groupId, topics);
  }

  cleanupExpired(now: number): void {
    this.commits.cleanupExpired(now);
    this.consumerAdmin.cleanupExpired(now);
  }

  // ---- the group registry and its writes ----------------------------------------------------

  createGroup(groupId: string): ClassicGroup {
    const group = new ClassicGroup(groupId, Date.now());
    this.groups.set(groupId, group);
    return group;
  }

  /** Forgets a group that never held anything (e.g. a join that was refused). */
  maybeDropUnused(group: ClassicGroup | ConsumerGroup): void {
    if (!(group instanceof ClassicGroup)) return;
    if (
      group.is('Empty') &&
      group.generationId === 0 &&
      group.size === 0 &&
      group.pendingMembers.size === 0 &&
      !group.hasPendingCommits() &&
      !this.offsets.hasOffsets(group.groupId) &&
      !this.txnOffsets.hasGroup(group.groupId) &&
      !this.metadataInLog.has(group.groupId) &&
      this.groups.get(group.groupId) === group
    ) {
      this.groups.delete(group.groupId);
    }
  }

  /**
   * Writes the group's metadata record (assignment: the leader's, else each member's current) and resolves
   * once it is committed, with NONE or the write's error (unmapped: see groupWriteError).
   */
  storeGroup(group: ClassicGroup, assignment?: ReadonlyMap<string, Buffer>): Promise<number> {
    // Counted from the append on: a record that did not commit may still be in the log.
    this.metadataInLog.add(group.groupId);
    return this.write(group.groupId, [this.groupRecord(group, assignment)], Date.now());
  }

  /** The group's metadata record (assignment: the given one, else each member's current). */
  groupRecord(group: ClassicGroup, assignment?: ReadonlyMap<string, Buffer>): EncodedRecord {
    const value = {
      protocolType: group.protocolType,
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestamp: group.stateTimestamp,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(group.protocolName),
        assignment: assignment?.get(m.memberId) ?? m.assignment,
      })),
    };
    return groupMetadataRecord(group.groupId, value);
  }

  /** Appends a group's records to __consumer_offsets; resolves once committed (state-log.ts). */
  write(
    groupId: string,
    records: readonly EncodedRecord[],
    now: number,
    opts?: WriteOptions,
  ): Promise<number> {
    return this.stateLog.write(groupId, records, now, opts);
  }

  /**
   * Removes a group from memory at once (offsets retention) and returns the tombstones its removal needs in
   * the log: its remaining offsets and its metadata.
   */
  forgetGroup(group: ClassicGroup): EncodedRecord[] {
    const records = this.tombstones(group);
    this.rebalancer.shutdownGroup(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    group.transitionTo('Dead');
    this.groups.delete(group.groupId);
    this.offsets.deleteGroup(group.groupId);
    this.txnOffsets.deleteGroup(group.groupId);
    this.metadataInLog.delete(group.groupId);
    return records;
  }

  /** Tombstones for every offset of the group (committed, in flight or in a transaction) and its metadata. */
  private tombstones(group: ClassicGroup): EncodedRecord[] {
    const keys = new Map<string, { topic: string; partition: number }>();
    const id = group.groupId;
    for (const o of [...this.offsets.all(id), ...group.pendingCommitPartitions(), ...this.txnOffsets.all(id)])
      keys.set(`${o.topic}\u0000${o.partition}`, o);
    const records = [...keys.values()].map((o) =>
      offsetCommitRecord(group.groupId, o.topic, o.partition, null),
    );
    if (this.metadataInLog.has(group.groupId)) records.push(groupMetadataRecord(group.groupId, null));
    return records;
  }

  // ---- DescribeGroups / ListGroups / DeleteGroups -------------------------------------------

  describe(groupId: string): GroupDescription {
    const status = this.groupStatus(groupId);
    const consumerGroup = status === ErrorCode.NONE ? this.consumerGroups.get(groupId) : undefined;
    if (consumerGroup !== undefined) return this.consumerAdmin.describeAsClassic(consumerGroup);
    const group = status === ErrorCode.NONE ? this.groups.get(groupId) : undefined;
    if (group === undefined || group.is('Dead')) {
      return {
        errorCode: status,
        groupId,
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
      };
    }
    // Metadata and assignments are only meaningful once the generation is settled.
    const stable = group.is('Stable');
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType,
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadata(group.protocolName) : EMPTY_BYTES,
        memberAssignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /**
   * The groups of the loaded partitions. errorCode: COORDINATOR_NOT_AVAILABLE when stopped,
   * COORDINATOR_LOAD_IN_PROGRESS while a partition loads (its groups are not listed yet), as Kafka.
   */
  list(
    statesFilter: readonly string[],
    typesFilter: readonly string[],
  ): { errorCode: number; groups: ListedGroup[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out: ListedGroup[] = [];
    for (const g of this.groups.values()) {
      if (g.is('Dead')) continue;
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has('classic')) continue;
      out.push({
        groupId: g.groupId,
        protocolType: g.protocolType,
        groupState: g.state,
        groupType: 'classic',
      });
    }
    out.push(...this.consumerAdmin.list(states, types));
    const errorCode = this.loader.anyLoading() ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
    return { errorCode, groups: out };
  }

  /** DeleteGroups for one group: resolves once its tombstones are committed (or with the error). */
  async deleteGroup(groupId: string): Promise<number> {
    const status = this.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return status;
    const consumerGroup = this.consumerGroups.get(groupId);
    if (consumerGroup !== undefined) return this.consumerAdmin.deleteGroup(consumerGroup);
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    const records = this.tombstones(group);
    const emptySince = group.stateTimestamp;
    this.rebalancer.shutdownGroup(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    group.transitionTo('Dead');
    const err = await this.write(groupId, records, Date.now());
    if (!this.isLive(group)) return err === ErrorCode.NONE ? ErrorCode.NONE : groupWriteError(err);
    if (err !== ErrorCode.NONE) {
      // Not deleted: the group is back as it was (Empty, its offsets untouched).
      this.groups.set(groupId, reviveEmpty(group, emptySince));
      return groupWriteError(err);
    }
    this.groups.delete(groupId);
    this.offsets.deleteGroup(groupId);
    this.txnOffsets.deleteGroup(groupId);
    this.metadataInLog.delete(groupId);
    this.log.info('group deleted', { group: groupId });
    return ErrorCode.NONE;
  }
}

/** An Empty group whose deletion failed, as it was before it turned Dead. */
function reviveEmpty(dead: ClassicGroup, emptySince: number): ClassicGroup {
  const group = new ClassicGroup(dead.groupId, emptySince);
  group.generationId = dead.generationId;
  group.protocolType = dead.protocolType;
  group.subscribedTopics = dead.subscribedTopics;
  group.restoreState('Empty', emptySince);
  return group;
}
