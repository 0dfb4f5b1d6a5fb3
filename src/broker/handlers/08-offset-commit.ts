// OffsetCommit (key 8), v2-9 (v0-1 were dropped by Kafka 4, KIP-896). Commits are validated against
// the group (generation, member, static instance; generation -1 commits are accepted for groups
// nobody consumes in), appended to __consumer_offsets as one batch and answered once that write is
// committed (offsets.commit.timeout.ms, else COORDINATOR_NOT_AVAILABLE), then served from memory by
// OffsetFetch. NOT_COORDINATOR when another broker coordinates the group, COORDINATOR_LOAD_IN_PROGRESS
// while its partition of __consumer_offsets loads. Per partition: UNKNOWN_TOPIC_OR_PARTITION for a partition that does
// not exist, OFFSET_METADATA_TOO_LARGE beyond offset.metadata.max.bytes. v2-4 may set a retention
// time for the commit; v6+ carries the leader epoch; v7+ group.instance.id; v9 answers an unknown
// group with GROUP_ID_NOT_FOUND.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { OffsetCommitRequest } from '../../protocol/generated/offset-commit-request.js';
import type { OffsetCommitResponseInput } from '../../protocol/generated/offset-commit-response.js';
import { commitDenials } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const offsetCommit = defineHandler<OffsetCommitRequest, OffsetCommitResponseInput>({
  apiKey: ApiKey.OffsetCommit,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 9,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const refused = commitDenials(ctx, req.groupId, req.topics);
    if (refused.allowed.length === 0 && refused.answers.length > 0)
      return { throttleTimeMs: 0, topics: refused.answers };
    const topics = await ctx.broker.groups.commit({
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
    return { throttleTimeMs: 0, topics: [...topics, ...refused.answers] };
  },
});
