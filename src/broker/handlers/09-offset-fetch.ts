// OffsetFetch (key 9), v1-10 (v0 read ZooKeeper offsets; Kafka 4 dropped it). Answered from the
// coordinator's memory. A partition without a committed offset reads as offset -1 with no error;
// a null topic list (v2+) asks for every committed offset of the group. v5+ returns the leader
// epoch; v7 requireStable: a partition with an offset pending in an open transaction (TxnOffsetCommit)
// answers UNSTABLE_OFFSET_COMMIT instead of the committed offset, so the client retries; v8+ several groups per
// request; v9 member id/epoch: checked for KIP-848 consumer groups (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH), ignored
// for classic ones; v10 (KIP-848) names topics by id only: the coordinator keeps offsets by name, so ids are
// mapped through this broker's metadata; an unknown id answers UNKNOWN_TOPIC_ID on each of its partitions, and
// fetching every offset of the group leaves out topics that no longer exist (no id to name them by), as Kafka does.
// Only committed writes are visible (a commit still waiting for its replicas is not). NOT_COORDINATOR
// when another broker coordinates the group, COORDINATOR_LOAD_IN_PROGRESS while its partition of
// __consumer_offsets loads.
//
// ACLs, as Kafka's KafkaApis: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED for the group) and DESCRIBE on
// each named topic (else TOPIC_AUTHORIZATION_FAILED on each of its partitions); fetching every offset of the group
// leaves out the topics the principal may not describe, silently.

import { ZERO_UUID } from '../../cluster/metadata-cache.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { OffsetFetchRequest } from '../../protocol/generated/offset-fetch-request.js';
import type { OffsetFetchResponseInput } from '../../protocol/generated/offset-fetch-response.js';
import { authorizedNames, deniedNames, groupDenial } from '../../security/authorizer.js';
import { defineHandler, type RequestContext } from '../handler.js';

type Member = { memberId: string | null; memberEpoch: number } | undefined;

/** A refused partition: TOPIC_AUTHORIZATION_FAILED with the empty offset. */
function deniedPartition(partitionIndex: number) {
  return {
    partitionIndex,
    committedOffset: -1,
    committedLeaderEpoch: -1,
    metadata: '',
    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  };
}

/** One group's offsets by topic name, after the topic DESCRIBE checks (the group's were made by the caller). */
function authorizedFetch(
  ctx: RequestContext,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
  requireStable: boolean,
  member: Member,
) {
  const groups = ctx.broker.groups;
  if (topics === null) {
    const res = groups.fetch(groupId, null, requireStable, member);
    if (res.errorCode !== ErrorCode.NONE) return res;
    return {
      errorCode: res.errorCode,
      topics: authorizedNames(ctx, 'DESCRIBE', 'TOPIC', res.topics, (t) => t.name),
    };
  }
  const denied = deniedNames(
    ctx,
    'DESCRIBE',
    'TOPIC',
    topics.map((t) => t.name),
  );
  if (denied.size === 0) return groups.fetch(groupId, topics, requireStable, member);
  const res = groups.fetch(
    groupId,
    topics.filter((t) => !denied.has(t.name)),
    requireStable,
    member,
  );
  if (res.errorCode !== ErrorCode.NONE) return res;
  const refused = topics
    .filter((t) => denied.has(t.name))
    .map((t) => ({ name: t.name, partitions: t.partitionIndexes.map(deniedPartition) }));
  return { errorCode: res.errorCode, topics: [...res.topics, ...refused] };
}

/** One group of a v10 request: topic ids in and out, names for the coordinator. */
function fetchByTopicId(
  ctx: RequestContext,
  groupId: string,
  topics: { topicId: string; partitionIndexes: number[] }[] | null,
  requireStable: boolean,
  member: Member,
) {
  const cache = ctx.broker.metadataCache;
  const unknown: { topicId: string; partitionIndexes: number[] }[] = [];
  let byName: { name: string; partitionIndexes: number[] }[] | null = null;
  if (topics !== null) {
    byName = [];
    for (const t of topics) {
      const name = cache.topicById(t.topicId)?.name;
      if (name === undefined) unknown.push(t);
      else byName.push({ name, partitionIndexes: t.partitionIndexes });
    }
  }
  const res =
    byName !== null && byName.length === 0
      ? { errorCode: ErrorCode.NONE, topics: [] }
      : authorizedFetch(ctx, groupId, byName, requireStable, member);
  if (res.errorCode !== ErrorCode.NONE) return { groupId, errorCode: res.errorCode, topics: [] };
  const found = res.topics.flatMap((t) => {
    const topicId = cache.topic(t.name)?.topicId ?? ZERO_UUID;
    // Fetching all: a topic deleted since its offsets were committed has no id to be named by.
    return topicId === ZERO_UUID ? [] : [{ ...t, topicId }];
  });
  const failed = unknown.map((t) => ({
    name: '',
    topicId: t.topicId,
    partitions: t.partitionIndexes.map((partitionIndex) => ({
      partitionIndex,
      committedOffset: -1,
      committedLeaderEpoch: -1,
      metadata: '',
      errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
    })),
  }));
  return { groupId, errorCode: ErrorCode.NONE, topics: [...found, ...failed] };
}

export const offsetFetch = defineHandler<OffsetFetchRequest, OffsetFetchResponseInput>({
  apiKey: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 10,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    if (v >= 8) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((g) => {
          const denied = groupDenial(ctx, 'DESCRIBE', g.groupId);
          if (denied !== 0) return { groupId: g.groupId, errorCode: denied, topics: [] };
          const member = v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : undefined;
          if (v < 10) {
            const res = authorizedFetch(ctx, g.groupId, g.topics, req.requireStable, member);
            return { groupId: g.groupId, errorCode: res.errorCode, topics: res.topics };
          }
          return fetchByTopicId(ctx, g.groupId, g.topics, req.requireStable, member);
        }),
      };
    }
    const denied = groupDenial(ctx, 'DESCRIBE', req.groupId);
    const res =
      denied !== 0
        ? { errorCode: denied, topics: [] }
        : authorizedFetch(
            ctx,
            req.groupId,
            v >= 2 ? req.topics : (req.topics ?? []),
            req.requireStable,
            undefined,
          );
    if (v < 2 && res.errorCode !== ErrorCode.NONE) {
      // v1 has no top-level error: every requested partition carries it.
      return {
        throttleTimeMs: 0,
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: res.errorCode,
          })),
        })),
      };
    }
    return { throttleTimeMs: 0, errorCode: res.errorCode, topics: res.topics };
  },
});
