// Committed offsets of a group, by topic name, whatever version the coordinator speaks: OffsetCommit and
// OffsetFetch v10 (KIP-848) name topics by id only, so names are mapped to ids through the cluster's metadata
// before the request and back after it (a fetch of every offset may name topics this client has not looked
// up yet: one Metadata request for all topics then). Used by GroupConsumer and `samsa groups`.
//
//   const c = await fetchCommitted(cluster, conn, 'g', [{ name: 't', partitionIndexes: [0] }]); // null = all
//   c.errorCode; c.offsets: [{ topic, partition, offset, leaderEpoch, metadata, errorCode }]
//   const errs = await commitOffsets(cluster, conn, { groupId, generationIdOrMemberEpoch: -1, memberId: '',
//     topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5 }] }] });

import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { OffsetCommitResponse } from '../protocol/generated/offset-commit-response.js';
import type { OffsetFetchResponse } from '../protocol/generated/offset-fetch-response.js';
import type { Cluster } from './cluster.js';
import type { KafkaConnection } from './connection.js';

/** The first OffsetCommit / OffsetFetch version that names topics by id. */
export const TOPIC_ID_VERSION = 10;
const ZERO_UUID = '0'.repeat(32);

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

/** Topic ids for names (ZERO_UUID for a topic the cluster does not know: the broker answers UNKNOWN_TOPIC_ID). */
async function idsFor(cluster: Cluster, names: string[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const name of names) {
    const id = await cluster.topic(name).then(
      (t) => t.topicId,
      () => ZERO_UUID,
    );
    ids.set(name, id);
  }
  return ids;
}

/** The name of a topic id, asking for all topics' metadata once when the cache does not know it. */
async function nameFor(cluster: Cluster, topicId: string): Promise<string | undefined> {
  const known = cluster.topicNameById(topicId);
  if (known !== undefined) return known;
  await cluster.metadata(null);
  return cluster.topicNameById(topicId);
}

export async function fetchCommitted(
  cluster: Cluster,
  conn: KafkaConnection,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
  requireStable = false,
): Promise<{ errorCode: number; offsets: CommittedOffset[] }> {
  const v = conn.version(ApiKey.OffsetFetch);
  const ids =
    v >= TOPIC_ID_VERSION && topics !== null
      ? await idsFor(
          cluster,
          topics.map((t) => t.name),
        )
      : null;
  const withIds = topics?.map((t) => ({ ...t, topicId: ids?.get(t.name) ?? ZERO_UUID })) ?? null;
  const res = await conn.request<OffsetFetchResponse>(ApiKey.OffsetFetch, {
    groupId,
    topics: withIds,
    groups: [{ groupId, memberId: null, memberEpoch: -1, topics: withIds }],
    requireStable,
  });
  const group = res.groups[0];
  const errorCode = v >= 8 ? (group?.errorCode ?? ErrorCode.NONE) : res.errorCode;
  const offsets: CommittedOffset[] = [];
  const topicsOut: {
    name: string;
    topicId?: string;
    partitions: OffsetFetchResponse['topics'][number]['partitions'];
  }[] = v >= 8 ? (group?.topics ?? []) : res.topics;
  for (const t of topicsOut) {
    let name: string | undefined = t.name;
    if (v >= TOPIC_ID_VERSION) {
      const topicId = t.topicId ?? ZERO_UUID;
      const asked = withIds?.find((w) => w.topicId === topicId)?.name;
      name = asked ?? (await nameFor(cluster, topicId));
    }
    if (name === undefined) continue; // deleted since: nothing to name it by
    for (const p of t.partitions) {
      offsets.push({
        topic: name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.metadata,
        errorCode: p.errorCode,
      });
    }
  }
  return { errorCode, offsets };
}

export interface CommitRequest {
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId?: string | null;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch?: number;
      committedMetadata?: string | null;
    }[];
  }[];
}

/** Commits; answers each partition's error code by topic name. */
export async function commitOffsets(
  cluster: Cluster,
  conn: KafkaConnection,
  req: CommitRequest,
): Promise<{ topic: string; partition: number; errorCode: number }[]> {
  const v = conn.version(ApiKey.OffsetCommit);
  const ids =
    v >= TOPIC_ID_VERSION
      ? await idsFor(
          cluster,
          req.topics.map((t) => t.name),
        )
      : null;
  const res = await conn.request<OffsetCommitResponse>(ApiKey.OffsetCommit, {
    groupId: req.groupId,
    generationIdOrMemberEpoch: req.generationIdOrMemberEpoch,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
    retentionTimeMs: -1,
    topics: req.topics.map((t) => ({
      name: t.name,
      topicId: ids?.get(t.name) ?? ZERO_UUID,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        committedOffset: p.committedOffset,
        committedLeaderEpoch: p.committedLeaderEpoch ?? -1,
        committedMetadata: p.committedMetadata ?? '',
      })),
    })),
  });
  const out: { topic: string; partition: number; errorCode: number }[] = [];
  for (const t of res.topics) {
    const name =
      v >= TOPIC_ID_VERSION
        ? ([...(ids ?? [])].find(([, id]) => id === t.topicId)?.[0] ?? t.topicId)
        : t.name;
    for (const p of t.partitions)
      out.push({ topic: name, partition: p.partitionIndex, errorCode: p.errorCode });
  }
  return out;
}
