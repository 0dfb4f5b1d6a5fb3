// The group coordinator of this broker: the single owner of every consumer group and of the
// committed offsets. A one-node cluster coordinates every group, so FindCoordinator always answers
// with this node. The rebalance protocol lives in rebalance.ts, the state machine in group.ts, the
// durable state in __consumer_offsets (state-log.ts, records.ts).
//
// Life cycle: start() replays __consumer_offsets (if it exists) before the broker listens; groups
// come back Empty or Stable with their members, whose sessions restart from then. stop() answers
// every parked JoinGroup/SyncGroup with NOT_COORDINATOR and clears all timers, before the listener
// drains. Offsets retention runs every offsets.retention.check.interval.ms.

import type { BrokerConfig } from '../../config/broker-config.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type {
  GroupMetadataValue,
  GroupMetadataValueInput,
} from '../../protocol/generated/group-metadata-value.js';
import { type GroupCoordinatorConfig, groupCoordinatorConfig } from './config.js';
import { ClassicGroup, type GroupState } from './group.js';
import { Joiner } from './join.js';
import type { JoinResult, SyncResult } from './member.js';
import { ClassicMember, EMPTY_BYTES } from './member.js';
import { expiredOffsets, OffsetStore } from './offsets.js';
import {
  type JoinRequest,
  type LeaveResult,
  type MemberIdentity,
  Rebalancer,
  type SyncRequest,
} from './rebalance.js';
import {
  type EncodedRecord,
  groupMetadataRecord,
  type OffsetAndMetadata,
  offsetCommitRecord,
} from './records.js';
import { GroupStateLog, type OffsetsTopicHost } from './state-log.js';

export interface CommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** v2-4 retention_time_ms; -1 for the broker's retention. */
  retentionTimeMs: number;
  /** v9+ answers an unknown group with GROUP_ID_NOT_FOUND instead of ILLEGAL_GENERATION. */
  apiVersion: number;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }[];
  }[];
}

export interface PartitionError {
  partitionIndex: number;
  errorCode: number;
}

export interface TopicErrors {
  name: string;
  partitions: PartitionError[];
}

export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

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
  groupState: GroupState;
  groupType: string;
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  readonly groups = new Map<string, ClassicGroup>();
  readonly offsets = new OffsetStore();
  readonly stateLog: GroupStateLog;
  readonly rebalancer: Rebalancer;
  private readonly joiner: Joiner;
  active = false;
  /**
   * The last GroupMetadataValue written per group (what a restart would load; mid-rebalance it differs
   * from the group in memory). Removing a group needs a tombstone exactly when it is here.
   */
  private readonly persisted = new Map<string, GroupMetadataValueInput>();
  private retentionTimer: NodeJS.Timeout | null = null;

  constructor(
    brokerConfig: BrokerConfig,
    private readonly host: OffsetsTopicHost,
    readonly log: Logger,
  ) {
    this.config = groupCoordinatorConfig(brokerConfig);
    this.stateLog = new GroupStateLog(host, this.config, log);
    this.rebalancer = new Rebalancer(this);
    this.joiner = new Joiner(this, this.rebalancer);
  }

  // ---- life cycle ---------------------------------------------------------------------------

  async start(): Promise<void> {
    const began = Date.now();
    const loadedGroups = new Map<string, GroupMetadataValue | null>();
    const { records, partitions } = await this.stateLog.load((rec) => {
      if (rec.kind === 'offset') {
        if (rec.value === null) this.offsets.delete(rec.group, rec.topic, rec.partition);
        else this.offsets.put(rec.group, rec.topic, rec.partition, rec.value);
      } else if (rec.kind === 'group') {
        loadedGroups.set(rec.group, rec.value);
      }
    });
    const now = Date.now();
    for (const [groupId, value] of loadedGroups) {
      if (value === null) continue;
      this.groups.set(groupId, restoreGroup(groupId, value, now));
      this.persisted.set(groupId, value);
    }
    for (const groupId of this.offsets.groupIds()) {
      if (!this.groups.has(groupId)) this.groups.set(groupId, new ClassicGroup(groupId, now));
    }
    this.active = true;
    for (const group of this.groups.values()) {
      for (const m of group.members.values()) this.rebalancer.scheduleSession(group, m);
    }
    this.retentionTimer = setInterval(
      () => this.cleanupExpired(Date.now()),
      this.config.offsetsRetentionCheckIntervalMs,
    );
    this.retentionTimer.unref();
    if (partitions > 0) {
      this.log.info('loaded consumer groups from the offsets topic', {
        partitions,
        records,
        groups: this.groups.size,
        ms: Date.now() - began,
      });
    }
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    for (const group of this.groups.values()) this.rebalancer.shutdownGroup(group, ErrorCode.NOT_COORDINATOR);
  }

  // ---- the rebalance protocol (join.ts, rebalance.ts) ----------------------------------------

  join(req: JoinRequest): Promise<JoinResult> {
    return this.joiner.join(req);
  }

  sync(req: SyncRequest): Promise<SyncResult> {
    return this.rebalancer.sync(req);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    return this.rebalancer.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leave(groupId: string, members: readonly MemberIdentity[]): LeaveResult {
    return this.rebalancer.leave(groupId, members);
  }

  // ---- the group registry -------------------------------------------------------------------

  createGroup(groupId: string): ClassicGroup {
    const group = new ClassicGroup(groupId, Date.now());
    this.groups.set(groupId, group);
    return group;
  }

  /** Forgets a group that never held anything (e.g. a join that was refused). */
  maybeDropUnused(group: ClassicGroup): void {
    if (
      group.is('Empty') &&
      group.generationId === 0 &&
      group.size === 0 &&
      group.pendingMembers.size === 0 &&
      !this.offsets.hasOffsets(group.groupId) &&
      !this.persisted.has(group.groupId) &&
      this.groups.get(group.groupId) === group
    ) {
      this.groups.delete(group.groupId);
    }
  }

  /** Writes the group's metadata record (assignment: the leader's, else each member's current). */
  storeGroup(group: ClassicGroup, assignment?: ReadonlyMap<string, Buffer>): number {
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
    const err = this.write(group.groupId, [groupMetadataRecord(group.groupId, value)], Date.now());
    if (err === ErrorCode.NONE) this.persisted.set(group.groupId, value);
    return err;
  }

  /** Appends a group's records to __consumer_offsets. Returns Kafka's error code. */
  private write(groupId: string, records: readonly EncodedRecord[], now: number): number {
    return this.stateLog.append(groupId, records, now);
  }

  /** Tombstones every offset and the metadata of an empty group, then forgets it. */
  private deleteGroupState(group: ClassicGroup): number {
    const records: EncodedRecord[] = this.offsets
      .all(group.groupId)
      .map((o) => offsetCommitRecord(group.groupId, o.topic, o.partition, null));
    if (this.persisted.has(group.groupId)) records.push(groupMetadataRecord(group.groupId, null));
    const err = this.write(group.groupId, records, Date.now());
    if (err !== ErrorCode.NONE) return err;
    this.rebalancer.shutdownGroup(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    this.offsets.deleteGroup(group.groupId);
    group.transitionTo('Dead');
    this.groups.delete(group.groupId);
    this.persisted.delete(group.groupId);
    return ErrorCode.NONE;
  }

  // ---- OffsetCommit / OffsetFetch / OffsetDelete --------------------------------------------

  commit(req: CommitRequest): TopicErrors[] {
    const now = Date.now();
    const groupError = this.validateCommit(req);
    const out: TopicErrors[] = [];
    const records: EncodedRecord[] = [];
    const accepted: { topic: string; partition: number; value: OffsetAndMetadata; out: PartitionError }[] =
      [];
    for (const t of req.topics) {
      const partitions: PartitionError[] = [];
      out.push({ name: t.name, partitions });
      for (const p of t.partitions) {
        const res: PartitionError = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
        partitions.push(res);
        if (!this.host.partitionExists(t.name, p.partitionIndex))
          res.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (groupError !== ErrorCode.NONE) res.errorCode = groupError;
        else if (
          p.committedMetadata !== null &&
          p.committedMetadata.length > this.config.offsetMetadataMaxBytes
        ) {
          res.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        } else {
          const value: OffsetAndMetadata = {
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata ?? '',
            commitTimestamp: now,
            expireTimestamp: req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : -1,
          };
          records.push(offsetCommitRecord(req.groupId, t.name, p.partitionIndex, value));
          accepted.push({ topic: t.name, partition: p.partitionIndex, value, out: res });
        }
      }
    }
    if (records.length > 0) {
      const err = this.write(req.groupId, records, now);
      if (err !== ErrorCode.NONE) {
        for (const a of accepted) a.out.errorCode = commitWriteError(err);
      } else {
        for (const a of accepted) this.offsets.put(req.groupId, a.topic, a.partition, a.value);
        if (!this.groups.has(req.groupId)) this.createGroup(req.groupId);
      }
    }
    return out;
  }

  /** Kafka's ClassicGroup.validateOffsetCommit; creates the (simple) group for generation -1 commits. */
  private validateCommit(req: CommitRequest): number {
    if (!this.active) return ErrorCode.NOT_COORDINATOR;
    const group = this.groups.get(req.groupId);
    if (group === undefined) {
      if (req.generationId < 0) return ErrorCode.NONE;
      return req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
    }
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (req.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (req.generationId >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      const problem = group.validateMember(req.memberId, req.groupInstanceId);
      if (problem !== null) return ErrorCode[problem];
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is('Empty')) {
      // Commits without member and generation are only accepted while nobody consumes.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member has the new generation's JoinGroup response but not its assignment yet.
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.member(req.memberId);
    if (member !== undefined) this.rebalancer.touch(group, member);
    return ErrorCode.NONE;
  }

  /** Committed offsets of a group; topics null means all of them. Unknown ones read as -1. */
  fetch(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
  ): { errorCode: number; topics: { name: string; partitions: FetchedOffset[] }[] } {
    if (!this.active) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    const found = (topic: string, partitionIndex: number): FetchedOffset => {
      const v = this.offsets.get(groupId, topic, partitionIndex);
      return v === undefined
        ? {
            partitionIndex,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: ErrorCode.NONE,
          }
        : {
            partitionIndex,
            committedOffset: v.offset,
            committedLeaderEpoch: v.leaderEpoch,
            metadata: v.metadata,
            errorCode: ErrorCode.NONE,
          };
    };
    if (topics === null) {
      const byTopic = new Map<string, FetchedOffset[]>();
      for (const o of this.offsets.all(groupId)) {
        let list = byTopic.get(o.topic);
        if (list === undefined) {
          list = [];
          byTopic.set(o.topic, list);
        }
        list.push(found(o.topic, o.partition));
      }
      return {
        errorCode: ErrorCode.NONE,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => found(t.name, p)),
      })),
    };
  }

  /** OffsetDelete: removes offsets the group does not consume any more. */
  deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: { partitionIndex: number }[] }[],
  ): { errorCode: number; topics: TopicErrors[] } {
    if (!this.active) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead'))
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    if (!group.is('Empty') && !group.usesConsumerProtocol())
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    const records: EncodedRecord[] = [];
    const deleted: { topic: string; partition: number }[] = [];
    const out: TopicErrors[] = topics.map((t) => {
      return {
        name: t.name,
        partitions: t.partitions.map(({ partitionIndex }) => {
          if (!this.host.partitionExists(t.name, partitionIndex)) {
            return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          }
          if (!group.is('Empty') && group.isSubscribedToTopic(t.name)) {
            return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
          }
          if (this.offsets.get(groupId, t.name, partitionIndex) !== undefined) {
            records.push(offsetCommitRecord(groupId, t.name, partitionIndex, null));
            deleted.push({ topic: t.name, partition: partitionIndex });
          }
          return { partitionIndex, errorCode: ErrorCode.NONE };
        }),
      };
    });
    const err = this.write(groupId, records, Date.now());
    if (err !== ErrorCode.NONE) return { errorCode: commitWriteError(err), topics: [] };
    for (const d of deleted) this.offsets.delete(groupId, d.topic, d.partition);
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  /**
   * Offsets retention: tombstones expired offsets and offsets of deleted partitions, then removes
   * empty groups left without any.
   */
  cleanupExpired(now: number): void {
    if (!this.active) return;
    let removedOffsets = 0;
    let removedGroups = 0;
    for (const group of [...this.groups.values()]) {
      const all = this.offsets.all(group.groupId);
      const expired = expiredOffsets(group, all, this.config.offsetsRetentionMs, now);
      // Offsets of partitions that no longer exist (a deleted topic) go too, as Kafka drops them.
      for (const o of all) {
        if (!this.host.partitionExists(o.topic, o.partition) && !expired.includes(o)) expired.push(o);
      }
      if (expired.length > 0) {
        const records = expired.map((o) => offsetCommitRecord(group.groupId, o.topic, o.partition, null));
        if (this.write(group.groupId, records, now) !== ErrorCode.NONE) continue;
        for (const o of expired) this.offsets.delete(group.groupId, o.topic, o.partition);
        removedOffsets += expired.length;
      }
      if (group.is('Empty') && group.pendingMembers.size === 0 && !this.offsets.hasOffsets(group.groupId)) {
        if (this.deleteGroupState(group) === ErrorCode.NONE) removedGroups++;
      }
    }
    if (removedOffsets > 0 || removedGroups > 0) {
      this.log.info('removed expired offsets and empty groups', {
        offsets: removedOffsets,
        groups: removedGroups,
      });
    }
  }

  // ---- DescribeGroups / ListGroups / DeleteGroups -------------------------------------------

  describe(groupId: string): GroupDescription {
    const group = this.active ? this.groups.get(groupId) : undefined;
    if (!this.active || group === undefined || group.is('Dead')) {
      return {
        errorCode: this.active ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR,
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

  list(statesFilter: readonly string[], typesFilter: readonly string[]): ListedGroup[] {
    if (!this.active) return [];
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
    return out;
  }

  deleteGroup(groupId: string): number {
    if (!this.active) return ErrorCode.NOT_COORDINATOR;
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    const err = this.deleteGroupState(group);
    if (err !== ErrorCode.NONE) return commitWriteError(err);
    this.log.info('group deleted', { group: groupId });
    return ErrorCode.NONE;
  }
}

/** Rebuilds a group from its last GroupMetadataValue: Empty without members, else Stable. */
function restoreGroup(groupId: string, value: GroupMetadataValue, now: number): ClassicGroup {
  const group = new ClassicGroup(groupId, now);
  group.generationId = value.generation;
  group.protocolType = value.protocolType;
  group.protocolName = value.members.length > 0 ? value.protocol : null;
  for (const m of value.members) {
    const protocols = value.protocol === null ? [] : [{ name: value.protocol, metadata: m.subscription }];
    const member = new ClassicMember(
      m.memberId,
      m.groupInstanceId,
      m.clientId,
      m.clientHost,
      m.rebalanceTimeout >= 0 ? m.rebalanceTimeout : m.sessionTimeout,
      m.sessionTimeout,
      value.protocolType,
      protocols,
    );
    member.assignment = m.assignment;
    group.add(member);
  }
  if (value.leader !== null && group.has(value.leader)) group.leaderId = value.leader;
  group.protocolType = value.protocolType;
  group.restoreState(value.members.length > 0 ? 'Stable' : 'Empty', value.currentStateTimestamp);
  group.subscribedTopics = group.computeSubscribedTopics();
  return group;
}

/** Kafka's mapping of a failed offsets write to the error the client sees. */
export function commitWriteError(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return errorCode;
  }
}
