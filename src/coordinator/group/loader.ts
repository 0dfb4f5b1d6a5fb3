// Which partitions of __consumer_offsets this coordinator owns, and their loading and unloading (Kafka's
// GroupMetadataManager ownedPartitions/loadingPartitions, keyed by partition and leader epoch as Kafka's
// coordinator runtime keys its loads). A group belongs to partition partitionFor(groupId); this broker
// coordinates it while it leads that partition, as the replica manager reports (LeadershipListener).
//
// States per partition index:
//   (absent)  not owned here: requests for its groups get NOT_COORDINATOR.
//   Loading   this broker leads it at `epoch` and replays its log from the log start into a fresh snapshot
//             (offsets, the last metadata of each group, tombstones delete; offsets of a transactional batch
//             pending for its producer until a marker commits or aborts them, txn-offsets.ts); requests for
//             its groups get COORDINATOR_LOAD_IN_PROGRESS.
//   Loaded    the snapshot is installed in the coordinator's maps; its groups are served.
//
// Transitions:
//   onElection(p @ e)   absent -> Loading(e); an empty log is Loaded at once (so a topic created by a group
//                       request serves that very request). Already Loading/Loaded at an older epoch: only the
//                       epoch moves (this broker led without a break, so its memory and its log agree); the
//                       same or a newer epoch: a stale event, ignored.
//   onResignation(p)    Loading/Loaded -> absent unless this broker leads p (again) right now: every group of p
//                       leaves memory; parked JoinGroup/SyncGroup requests answer NOT_COORDINATOR, timers stop,
//                       and the groups turn Dead, so writes still in flight apply nothing when they complete.
//   replay ends         installs the snapshot only if p is still in the very Loading state that started it: a
//                       load that finishes after an unload (or after an unload and a new election) is dropped.
//                       A log that cannot be read to its end is not half-installed: p goes back to absent
//                       (logged) until its next election.

import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { GroupMetadataValue } from '../../protocol/generated/group-metadata-value.js';
import { ConsumerGroupReplay } from './consumer/replay.js';
import type { GroupCoordinator } from './coordinator.js';
import { ClassicGroup } from './group.js';
import { ClassicMember } from './member.js';
import { OffsetStore } from './offsets.js';
import type { OffsetsTopicHost } from './state-log.js';
import { endTransaction, PendingTxnOffsets } from './txn-offsets.js';

/** A partition as the replica manager reports it. */
export interface ElectedPartition {
  index: number;
  leaderEpoch: number;
}

interface Ownership {
  state: 'loading' | 'loaded';
  epoch: number;
  /** Settles when the load ends (installed or dropped). */
  done: Promise<LoadStats | null>;
}

interface LoadStats {
  records: number;
  groups: number;
}

export class PartitionLoader {
  private readonly owned = new Map<number, Ownership>();

  constructor(
    private readonly c: GroupCoordinator,
    private readonly host: OffsetsTopicHost,
  ) {}

  private get log(): Logger {
    return this.c.log;
  }

  /** NONE when the partition is Loaded here, COORDINATOR_LOAD_IN_PROGRESS while Loading, else NOT_COORDINATOR. */
  status(index: number): number {
    const o = this.owned.get(index);
    if (o === undefined) return ErrorCode.NOT_COORDINATOR;
    return o.state === 'loading' ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  anyLoading(): boolean {
    for (const o of this.owned.values()) if (o.state === 'loading') return true;
    return false;
  }

  /** Start-up: loads every partition this broker leads; resolves when all are loaded. */
  async loadLed(): Promise<void> {
    const began = Date.now();
    const elected: ElectedPartition[] = [];
    for (let i = 0; i < this.host.partitionCount(); i++) {
      const p = this.host.leaderPartition(i);
      if (p !== undefined) elected.push({ index: i, leaderEpoch: p.leaderEpoch });
    }
    this.onElection(elected, true);
    const stats = await Promise.all([...this.owned.values()].map((o) => o.done));
    if (elected.length === 0) return;
    this.log.info('loaded consumer groups from the offsets topic', {
      partitions: elected.length,
      records: stats.reduce((n, s) => n + (s?.records ?? 0), 0),
      groups: this.c.groups.size,
      ms: Date.now() - began,
    });
  }

  onElection(partitions: readonly ElectedPartition[], quiet = false): void {
    if (!this.c.active) return;
    for (const { index, leaderEpoch } of partitions) {
      const o = this.owned.get(index);
      if (o !== undefined) {
        if (leaderEpoch > o.epoch) o.epoch = leaderEpoch;
        continue;
      }
      const partition = this.host.leaderPartition(index);
      if (partition === undefined) continue;
      const own: Ownership = { state: 'loading', epoch: leaderEpoch, done: Promise.resolve(null) };
      this.owned.set(index, own);
      if (partition.log.logStartOffset >= partition.log.logEndOffset) {
        own.state = 'loaded';
        own.done = Promise.resolve({ records: 0, groups: 0 });
        continue;
      }
      own.done = this.load(index, own, quiet);
    }
  }

  onResignation(partitions: readonly ElectedPartition[]): void {
    const indexes = new Set<number>();
    for (const { index } of partitions) {
      // A stale event: this broker leads the partition again by now.
      if (this.owned.has(index) && this.host.leaderPartition(index) === undefined) indexes.add(index);
    }
    if (indexes.size > 0) this.unload(indexes);
  }

  /** The coordinator stops: loads in flight are dropped, nothing is owned any more. */
  clear(): void {
    this.owned.clear();
  }

  private async load(index: number, own: Ownership, quiet: boolean): Promise<LoadStats | null> {
    const began = Date.now();
    const partition = this.host.leaderPartition(index);
    const current = (): boolean => this.c.active && this.owned.get(index) === own;
    if (partition === undefined) return null;
    const offsets = new OffsetStore();
    const pending = new PendingTxnOffsets();
    const groups = new Map<string, GroupMetadataValue | null>();
    const consumerGroups = new ConsumerGroupReplay();
    let result: { records: number; complete: boolean };
    try {
      result = await this.c.stateLog.replay(
        partition,
        {
          record: (rec, offset, txnProducerId) => {
            if (rec.kind === 'offset') {
              const { group, topic, partition: p, value } = rec;
              if (txnProducerId >= 0) {
                if (value === null) pending.remove(txnProducerId, group, topic, p);
                else pending.put(txnProducerId, group, topic, p, { ...value, recordOffset: offset });
              } else if (value === null) {
                offsets.delete(group, topic, p);
                pending.deleteKey(group, topic, p, offset);
              } else {
                offsets.put(group, topic, p, { ...value, recordOffset: offset });
              }
            } else if (rec.kind === 'group') {
              groups.set(rec.group, rec.value);
              if (rec.value !== null) consumerGroups.dropGroup(rec.group);
            } else if (rec.kind === 'consumer') {
              consumerGroups.apply(rec.record);
              // A consumer group record after a classic group's: the id is a consumer group now.
              if (rec.record.type === 3 && rec.record.value !== null) groups.delete(rec.record.groupId);
            }
          },
          marker: (producerId, commit) => {
            endTransaction(offsets, pending, producerId, commit, () => true);
          },
        },
        current,
      );
    } catch (err) {
      this.log.error('loading an offsets topic partition failed', { partition: index, error: err });
      result = { records: 0, complete: false };
    }
    if (!current()) {
      if (this.c.active) {
        this.log.info('dropped the load of an offsets topic partition: its leadership changed meanwhile', {
          partition: index,
          leaderEpoch: own.epoch,
        });
      }
      return null;
    }
    if (!result.complete) {
      this.owned.delete(index);
      this.log.error(
        'offsets topic partition not loaded: its groups are not served until it is elected again',
        {
          partition: index,
          leaderEpoch: own.epoch,
        },
      );
      return null;
    }
    const loadedGroups = this.install(own, offsets, pending, groups, consumerGroups);
    this.log[quiet ? 'debug' : 'info']('loaded consumer groups of an offsets topic partition', {
      partition: index,
      leaderEpoch: own.epoch,
      records: result.records,
      groups: loadedGroups,
      ms: Date.now() - began,
    });
    return { records: result.records, groups: loadedGroups };
  }

  /** Puts a loaded partition's groups and offsets in the coordinator's maps; members' sessions restart now. */
  private install(
    own: Ownership,
    offsets: OffsetStore,
    pending: PendingTxnOffsets,
    groups: ReadonlyMap<string, GroupMetadataValue | null>,
    consumerGroups: ConsumerGroupReplay,
  ): number {
    own.state = 'loaded';
    const now = Date.now();
    const installed: ClassicGroup[] = [];
    const consumerCount = consumerGroups.install(this.c);
    for (const [groupId, value] of groups) {
      if (value === null || this.c.groups.has(groupId)) continue;
      const group = restoreGroup(groupId, value, now);
      this.c.groups.set(groupId, group);
      this.c.metadataInLog.add(groupId);
      installed.push(group);
    }
    for (const groupId of offsets.groupIds()) {
      for (const o of offsets.all(groupId)) this.c.offsets.put(groupId, o.topic, o.partition, o.value);
    }
    // Offsets of transactions still open stay pending; their groups exist (Kafka loads them too).
    for (const groupId of pending.groupIds()) {
      for (const o of pending.all(groupId))
        this.c.txnOffsets.put(o.producerId, groupId, o.topic, o.partition, o.value);
    }
    for (const groupId of new Set([...offsets.groupIds(), ...pending.groupIds()])) {
      if (!this.c.groups.has(groupId) && !this.c.consumerGroups.has(groupId)) {
        const group = new ClassicGroup(groupId, now);
        this.c.groups.set(groupId, group);
        installed.push(group);
      }
    }
    for (const group of installed) {
      for (const m of group.members.values()) this.c.rebalancer.scheduleSession(group, m);
    }
    return installed.length + consumerCount;
  }

  /** Drops every group of the partitions from memory (Kafka's removeGroupsForPartition / onGroupUnloaded). */
  private unload(indexes: ReadonlySet<number>): void {
    const partitionOf = (groupId: string): number => this.c.stateLog.partitionFor(groupId);
    const counts = new Map<number, number>();
    for (const index of indexes) {
      this.owned.delete(index);
      counts.set(index, 0);
    }
    for (const group of [...this.c.groups.values()]) {
      const index = partitionOf(group.groupId);
      const n = counts.get(index);
      if (n === undefined) continue;
      counts.set(index, n + 1);
      this.c.rebalancer.shutdownGroup(group, ErrorCode.NOT_COORDINATOR);
      group.transitionTo('Dead');
      this.c.groups.delete(group.groupId);
    }
    for (const group of [...this.c.consumerGroups.values()]) {
      const index = partitionOf(group.groupId);
      const n = counts.get(index);
      if (n === undefined) continue;
      counts.set(index, n + 1);
      this.c.consumer.stopTimers(group);
      group.dead = true;
      this.c.consumerGroups.delete(group.groupId);
    }
    for (const groupId of [...this.c.offsets.groupIds()]) {
      if (indexes.has(partitionOf(groupId))) this.c.offsets.deleteGroup(groupId);
    }
    for (const groupId of [...this.c.txnOffsets.groupIds()]) {
      if (indexes.has(partitionOf(groupId))) this.c.txnOffsets.deleteGroup(groupId);
    }
    for (const groupId of [...this.c.metadataInLog]) {
      if (indexes.has(partitionOf(groupId))) this.c.metadataInLog.delete(groupId);
    }
    for (const [partition, groups] of counts) {
      this.log.info('unloaded consumer groups of an offsets topic partition', { partition, groups });
    }
  }
}

/** Rebuilds a group from its last GroupMetadataValue: Empty without members, else Stable. */
export function restoreGroup(groupId: string, value: GroupMetadataValue, now: number): ClassicGroup {
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
