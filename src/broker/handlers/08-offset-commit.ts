// OffsetCommit (key 8), v2-10 (v0-1 were dropped by Kafka 4, KIP-896). Commits are validated against
// the group (generation, member, static instance; generation -1 commits are accepted for groups
// nobody consumes in), appended to __consumer_offsets as one batch and answered once that write is
// committed (offsets.commit.timeout.ms, else COORDINATOR_NOT_AVAILABLE), then served from memory by
// OffsetFetch. NOT_COORDINATOR when another broker coordinates the group, COORDINATOR_LOAD_IN_PROGRESS
// while its partition of __consumer_offsets loads. Per partition: UNKNOWN_TOPIC_OR_PARTITION for a partition that does
// not exist, OFFSET_METADATA_TOO_LARGE beyond offset.metadata.max.bytes. v2-4 may set a retention
// time for the commit; v6+ carries the leader epoch; v7+ group.instance.id; v9 answers an unknown
// group with GROUP_ID_NOT_FOUND. A KIP-848 consumer group checks the member epoch instead of the generation
// (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID; UNSUPPORTED_VERSION below v9 for its members). v10 (KIP-848) names
// topics by id only: the coordinator keeps offsets by name, so each id is mapped to its name through this
// broker's metadata; an id it does not know gets UNKNOWN_TOPIC_ID on every partition (and is not committed),
// and the answer names topics by id again.

import { ZERO_UUID } from '../../cluster/metadata-cache.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { OffsetCommitRequest } from '../../protocol/generated/offset-commit-request.js';
import type { OffsetCommitResponseInput } from '../../protocol/generated/offset-commit-response.js';
import { commitDenials } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const offsetCommit = defineHandler<OffsetCommitRequest, OffsetCommitResponseInput>({
  apiKey: ApiKey.OffsetCommit,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 10,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const cache = ctx.broker.metadataCache;
    type TopicOut = {
      name: string;
      topicId: string;
      partitions: { partitionIndex: number; errorCode: number }[];
    };
    const unknownIds: TopicOut[] = [];
    const requested = req.topics.flatMap((t) => {
      if (v < 10) return [t];
      const name = cache.topicById(t.topicId)?.name;
      if (name !== undefined) return [{ ...t, name }];
      unknownIds.push({
        name: '',
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
        })),
      });
      return [];
    });
    // READ on the group and on each topic (security/authorizer.ts); v10 answers with the ids asked for.
    const refused = commitDenials(ctx, req.groupId, requested);
    const idOf = new Map(v >= 10 ? req.topics.map((t) => [cache.topicById(t.topicId)?.name, t.topicId]) : []);
    const refusedOut: TopicOut[] = refused.answers.map((t) => ({
      ...t,
      topicId: idOf.get(t.name) ?? ZERO_UUID,
    }));
    // Nothing left to commit (every id unknown or refused): answered without the coordinator, as Kafka does.
    if (refused.allowed.length === 0 && unknownIds.length + refusedOut.length > 0)
      return { throttleTimeMs: 0, topics: [...refusedOut, ...unknownIds] };
    const committed = await ctx.broker.groups.commit({
      groupId: req.groupId,
      generationId: req.generationIdOrMemberEpoch,
      memberId: req.memberId,
      groupInstanceId: v >= 7 ? req.groupInstanceId : null,
      retentionTimeMs: v <= 4 ? req.retentionTimeMs : -1,
      apiVersion: v,
      topics: refused.allowed.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
          committedMetadata: p.committedMetadata,
        })),
      })),
    });
    const topics: TopicOut[] = committed.map((t) => ({ ...t, topicId: idOf.get(t.name) ?? ZERO_UUID }));
    return { throttleTimeMs: 0, topics: [...topics, ...refusedOut, ...unknownIds] };
  },
});
