// Committed offsets: OffsetCommit, OffsetFetch, OffsetDelete and offsets retention (Kafka's
// GroupMetadataManager storeOffsets/getOffsets/cleanupGroupMetadata). The offsets in memory (offsets.ts)
// are what __consumer_offsets holds once committed: a commit is appended, and only when the write is
// committed (the high watermark passed it) does its value enter memory and the response go out, so
// OffsetFetch never shows an offset a failover could lose. Writes complete in the order they were
// appended (the high watermark only moves forward and its waiters wake in the order they parked), so
// applying each on completion replays the log's order; a transaction's marker may complete in between, so
// every value keeps its record's offset and the newer record wins (OffsetStore.putIfNewer).
//
// TxnOffsetCommit shares the checks and the record building; its offsets are pending for the producer from
// the append on and enter memory only when the transaction's marker commits them (txn-offsets.ts). OffsetFetch
// with require_stable answers UNSTABLE_OFFSET_COMMIT for partitions with such pending offsets.

import { ErrorCode } from '../../protocol/errors.js';
import type { GroupCoordinator } from './coordinator.js';
import { expiredOffsets } from './offsets.js';
import { type EncodedRecord, type OffsetAndMetadata, offsetCommitRecord } from './records.js';
import { clientWriteError } from './state-log.js';

/** Who commits: the member and generation (all unset for a commit without group management). */
interface Committer {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

interface CommitTopic {
  name: string;
  partitions: {
    partitionIndex: number;
    committedOffset: number;
    committedLeaderEpoch: number;
    committedMetadata: string | null;
  }[];
}

export interface CommitRequest extends Committer {
  /** v2-4 retention_time_ms; -1 for the broker's retention. */
  retentionTimeMs: number;
  /** v9+ answers an unknown group with GROUP_ID_NOT_FOUND instead of ILLEGAL_GENERATION. */
  apiVersion: number;
  topics: CommitTopic[];
}

/** TxnOffsetCommit: offsets committed inside the producer's transaction (v0-2 carry no member/generation). */
export interface TxnCommitRequest extends Committer {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  topics: CommitTopic[];
}

/** An offset that passed the checks, its record and its place in the response. */
interface AcceptedOffset {
  topic: string;
  partition: number;
  value: OffsetAndMetadata;
  out: PartitionError;
}

export interface PartitionError {
  partitionIndex: number;
  errorCode: number;
}

export interface TopicErrors {
  name: string;
  partitions: PartitionError[];
}

/** Records of one batch are numbered from its base offset, in the order they were written. */
function setRecordOffsets(accepted: readonly AcceptedOffset[], baseOffset: number): void {
  accepted.forEach((a, i) => {
    a.value.recordOffset = baseOffset + i;
  });
}

export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export class OffsetCommits {
  constructor(private readonly c: GroupCoordinator) {}

  // ---- OffsetCommit -------------------------------------------------------------------------

  async commit(req: CommitRequest): Promise<TopicErrors[]> {
    const c = this.c;
    const now = Date.now();
    const status = c.groupStatus(req.groupId);
    const unknownGroup = req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
    // A KIP-848 consumer group checks the member epoch (generationIdOrMemberEpoch) instead.
    const consumerGroup = c.consumerGroups.get(req.groupId);
    const groupError =
      status !== ErrorCode.NONE
        ? status
        : consumerGroup !== undefined
          ? consumerGroup.validateOffsetCommit(req.memberId, req.generationId, req.apiVersion, false)
          : this.validateCommit(req, false, unknownGroup);
    const { out, records, accepted } = this.accept(
      req.groupId,
      groupError,
      req.topics,
      now,
      req.retentionTimeMs,
    );
    if (records.length === 0) return out;
    // As Kafka: the (simple) group exists from its first commit on; its pending commit keeps it.
    const group = consumerGroup ?? c.groups.get(req.groupId) ?? c.createGroup(req.groupId);
    for (const a of accepted) group.addPendingCommit(a.topic, a.partition);
    const err = await c.write(req.groupId, records, now, {
      onAppended: (baseOffset) => setRecordOffsets(accepted, baseOffset),
    });
    // A group converted meanwhile (online migration) handed its commits in flight to its successor.
    const current = c.latest(group);
    for (const a of accepted) current.removePendingCommit(a.topic, a.partition);
    // A group being deleted (Dead, still registered) takes the value too: its deletion's tombstones come
    // later in the log and remove it, or the deletion fails and the group keeps it. A group that left
    // memory (unloaded, or removed by retention) takes nothing: whoever loads the partition reads the log.
    const live = c.isLive(current);
    if (err !== ErrorCode.NONE) {
      for (const a of accepted) a.out.errorCode = commitWriteError(err);
      if (live) c.maybeDropUnused(current);
    } else if (live) {
      // A transaction's commit of a newer record may have completed first (txn-offsets.ts).
      for (const a of accepted) c.offsets.putIfNewer(req.groupId, a.topic, a.partition, a.value);
    }
    return out;
  }

  /**
   * TxnOffsetCommit (Kafka's commitTransactionalOffsets): checked as OffsetCommit (v3+ member and generation;
   * without them any group state is accepted, as older clients send none), appended as one transactional batch
   * of the producer and answered once committed. The offsets are pending from the append on (txn-offsets.ts)
   * until the transaction's marker ends them; a failed append leaves nothing pending.
   */
  async txnCommit(req: TxnCommitRequest): Promise<TopicErrors[]> {
    const c = this.c;
    const now = Date.now();
    // Kafka refuses an empty group id here (older Kafka accepted it for OffsetCommit only).
    const status = req.groupId === '' ? ErrorCode.INVALID_GROUP_ID : c.groupStatus(req.groupId);
    const consumerGroup = c.consumerGroups.get(req.groupId);
    const groupError =
      status !== ErrorCode.NONE
        ? status
        : (this.producerProblem(req) ??
          (consumerGroup !== undefined
            ? consumerGroup.validateOffsetCommit(req.memberId, req.generationId, 9, true)
            : this.validateCommit(req, true, ErrorCode.ILLEGAL_GENERATION)));
    const { out, records, accepted } = this.accept(req.groupId, groupError, req.topics, now, -1);
    if (records.length === 0) return out;
    const group = consumerGroup ?? c.groups.get(req.groupId) ?? c.createGroup(req.groupId);
    const err = await c.write(req.groupId, records, now, {
      txn: { producerId: req.producerId, producerEpoch: req.producerEpoch },
      onAppended: (baseOffset) => {
        setRecordOffsets(accepted, baseOffset);
        for (const a of accepted)
          c.txnOffsets.put(req.producerId, req.groupId, a.topic, a.partition, a.value);
      },
    });
    if (err !== ErrorCode.NONE) {
      for (const a of accepted) a.out.errorCode = commitWriteError(err);
      const current = c.latest(group);
      if (c.isLive(current)) c.maybeDropUnused(current);
    }
    return out;
  }

  /** A transactional commit needs a producer id and epoch (Kafka's batch builder refuses the batch without). */
  private producerProblem(req: TxnCommitRequest): number | null {
    const code =
      req.producerId < 0
        ? ErrorCode.INVALID_PRODUCER_ID_MAPPING
        : req.producerEpoch < 0
          ? ErrorCode.INVALID_PRODUCER_EPOCH
          : null;
    if (code !== null) {
      this.c.log.warn('TxnOffsetCommit refused: no valid producer id and epoch', {
        group: req.groupId,
        transactionalId: req.transactionalId,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
      });
    }
    return code;
  }

  /** The per-partition checks of a commit and the records of the offsets that pass them. */
  private accept(
    groupId: string,
    groupError: number,
    topics: readonly CommitTopic[],
    now: number,
    retentionTimeMs: number,
  ): { out: TopicErrors[]; records: EncodedRecord[]; accepted: AcceptedOffset[] } {
    const c = this.c;
    const out: TopicErrors[] = [];
    const records: EncodedRecord[] = [];
    const accepted: AcceptedOffset[] = [];
    for (const t of topics) {
      const partitions: PartitionError[] = [];
      out.push({ name: t.name, partitions });
      for (const p of t.partitions) {
        const res: PartitionError = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
        partitions.push(res);
        if (!c.host.partitionExists(t.name, p.partitionIndex))
          res.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (groupError !== ErrorCode.NONE) res.errorCode = groupError;
        else if (
          p.committedMetadata !== null &&
          p.committedMetadata.length > c.config.offsetMetadataMaxBytes
        ) {
          res.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        } else {
          const value: OffsetAndMetadata = {
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata ?? '',
            commitTimestamp: now,
            expireTimestamp: retentionTimeMs >= 0 ? now + retentionTimeMs : -1,
            recordOffset: -1,
          };
          records.push(offsetCommitRecord(groupId, t.name, p.partitionIndex, value));
          accepted.push({ topic: t.name, partition: p.partitionIndex, value, out: res });
        }
      }
    }
    return { out, records, accepted };
  }

  /**
   * Kafka's ClassicGroup.validateOffsetCommit; generation -1 commits may create a (simple) group. A
   * transactional commit without member and generation (TxnOffsetCommit v0-2) is accepted whatever the state.
   */
  private validateCommit(req: Committer, transactional: boolean, unknownGroup: number): number {
    const group = this.c.groups.get(req.groupId);
    if (group === undefined) return req.generationId < 0 ? ErrorCode.NONE : unknownGroup;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (req.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (req.generationId >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      const problem = group.validateMember(req.memberId, req.groupInstanceId);
      if (problem !== null) return ErrorCode[problem];
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!transactional && !group.is('Empty')) {
      // Commits without member and generation are only accepted while nobody consumes.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member has the new generation's JoinGroup response but not its assignment yet.
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.member(req.memberId);
    if (member !== undefined) this.c.rebalancer.touch(group, member);
    return ErrorCode.NONE;
  }

  // ---- OffsetFetch --------------------------------------------------------------------------

  /**
   * Committed offsets of a group; topics null means all of them. Unknown ones read as -1. With requireStable a
   * partition with an offset pending in a transaction answers UNSTABLE_OFFSET_COMMIT (the client retries).
   */
  fetch(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
    requireStable: boolean,
    member?: { memberId: string | null; memberEpoch: number },
  ): { errorCode: number; topics: { name: string; partitions: FetchedOffset[] }[] } {
    const status = this.c.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return { errorCode: status, topics: [] };
    // OffsetFetch v9+ from a member of a KIP-848 consumer group: its member epoch must be current.
    const consumerGroup = this.c.consumerGroups.get(groupId);
    if (consumerGroup !== undefined && member !== undefined) {
      const err = consumerGroup.validateOffsetFetch(member.memberId, member.memberEpoch);
      if (err !== ErrorCode.NONE) return { errorCode: err, topics: [] };
    }
    // A group being deleted reads as having no offsets (Kafka's getOffsets for a Dead group).
    const dead = this.c.groups.get(groupId)?.is('Dead') === true || consumerGroup?.dead === true;
    const found = (topic: string, partitionIndex: number): FetchedOffset => {
      const unstable = requireStable && !dead && this.c.txnOffsets.has(groupId, topic, partitionIndex);
      const v = dead || unstable ? undefined : this.c.offsets.get(groupId, topic, partitionIndex);
      return v === undefined
        ? {
            partitionIndex,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: unstable ? ErrorCode.UNSTABLE_OFFSET_COMMIT : ErrorCode.NONE,
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
      for (const o of dead ? [] : this.c.offsets.all(groupId)) {
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

  // ---- OffsetDelete -------------------------------------------------------------------------

  /** OffsetDelete: removes offsets the group does not consume any more, once the tombstones are committed. */
  async deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: { partitionIndex: number }[] }[],
  ): Promise<{ errorCode: number; topics: TopicErrors[] }> {
    const c = this.c;
    const status = c.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return { errorCode: status, topics: [] };
    const consumerGroup = c.consumerGroups.get(groupId);
    const classic = consumerGroup === undefined ? c.groups.get(groupId) : undefined;
    const group = consumerGroup ?? classic;
    if (group === undefined || group.is('Dead'))
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    if (classic !== undefined && !classic.is('Empty') && !classic.usesConsumerProtocol())
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    const subscribed = (topic: string): boolean =>
      classic !== undefined
        ? !classic.is('Empty') && classic.isSubscribedToTopic(topic)
        : consumerGroup?.isSubscribedToTopic(topic) === true;
    const records: EncodedRecord[] = [];
    const deleted: { topic: string; partition: number }[] = [];
    const out: TopicErrors[] = topics.map((t) => {
      return {
        name: t.name,
        partitions: t.partitions.map(({ partitionIndex }) => {
          if (!c.host.partitionExists(t.name, partitionIndex)) {
            return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          }
          if (subscribed(t.name)) {
            return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
          }
          if (c.offsets.get(groupId, t.name, partitionIndex) !== undefined) {
            records.push(offsetCommitRecord(groupId, t.name, partitionIndex, null));
            deleted.push({ topic: t.name, partition: partitionIndex });
          }
          return { partitionIndex, errorCode: ErrorCode.NONE };
        }),
      };
    });
    if (records.length === 0) return { errorCode: ErrorCode.NONE, topics: out };
    let baseOffset = -1;
    const err = await c.write(groupId, records, Date.now(), {
      onAppended: (offset) => {
        baseOffset = offset;
      },
    });
    if (err !== ErrorCode.NONE) return { errorCode: commitWriteError(err), topics: [] };
    if (c.isLive(c.latest(group))) {
      // What older records put there goes: offsets and transactions' pending ones (as a load replays it).
      deleted.forEach((d, i) => {
        c.offsets.deleteIfOlder(groupId, d.topic, d.partition, baseOffset + i);
        c.txnOffsets.deleteKey(groupId, d.topic, d.partition, baseOffset + i);
      });
    }
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  // ---- retention ----------------------------------------------------------------------------

  /**
   * Offsets retention (Kafka's cleanupGroupMetadata): removes expired offsets and offsets of deleted
   * partitions, then empty groups left without any, from memory at once and from the log by tombstones
   * written in the background. Nobody waits for these writes: a tombstone that does not commit leaves an
   * expired offset in the log, which the next load brings back and the next check expires again. Groups
   * with a commit in flight wait for the next check; an offset pending in a transaction keeps its
   * topic-partition's offset and its group (Kafka's cleanupExpiredOffsets).
   */
  cleanupExpired(now: number): void {
    const c = this.c;
    if (!c.active) return;
    let removedOffsets = 0;
    let removedGroups = 0;
    for (const group of [...c.groups.values()]) {
      if (group.is('Dead') || group.hasPendingCommits()) continue;
      const all = c.offsets.all(group.groupId);
      const inTxn = (o: { topic: string; partition: number }): boolean =>
        c.txnOffsets.has(group.groupId, o.topic, o.partition);
      const expired = expiredOffsets(group, all, c.config.offsetsRetentionMs, now).filter((o) => !inTxn(o));
      // Offsets of partitions that no longer exist (a deleted topic) go too, as Kafka drops them.
      for (const o of all) {
        if (!c.host.partitionExists(o.topic, o.partition) && !expired.includes(o) && !inTxn(o))
          expired.push(o);
      }
      const records = expired.map((o) => offsetCommitRecord(group.groupId, o.topic, o.partition, null));
      for (const o of expired) c.offsets.delete(group.groupId, o.topic, o.partition);
      removedOffsets += expired.length;
      if (
        group.is('Empty') &&
        group.pendingMembers.size === 0 &&
        !c.offsets.hasOffsets(group.groupId) &&
        !c.txnOffsets.hasGroup(group.groupId)
      ) {
        records.push(...c.forgetGroup(group));
        removedGroups++;
      }
      if (records.length > 0) {
        void c.write(group.groupId, records, now).then((err) => {
          if (err !== ErrorCode.NONE) {
            c.log.warn('expired offsets were removed from memory but their tombstones were not committed', {
              group: group.groupId,
              errorCode: err,
            });
          }
        });
      }
    }
    if (removedOffsets > 0 || removedGroups > 0) {
      c.log.info('removed expired offsets and empty groups', {
        offsets: removedOffsets,
        groups: removedGroups,
      });
    }
  }
}

/** The error a client sees for a failed offsets write (a record too large: INVALID_COMMIT_OFFSET_SIZE). */
export function commitWriteError(errorCode: number): number {
  return clientWriteError(errorCode, ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
}
