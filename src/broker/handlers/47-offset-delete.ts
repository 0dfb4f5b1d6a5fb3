// OffsetDelete (key 47), v0 (KIP-496). Removes committed offsets of a group for partitions it does
// not consume: refused per partition with GROUP_SUBSCRIBED_TO_TOPIC while a member subscribes to the
// topic, and for the whole request with NON_EMPTY_GROUP when an active group's protocol is not the
// consumer protocol (its subscriptions cannot be known). GROUP_ID_NOT_FOUND for an unknown group.
// Answered once the tombstones are committed to __consumer_offsets. ACLs as Kafka: DELETE on the group
// (GROUP_AUTHORIZATION_FAILED), READ on each topic (else TOPIC_AUTHORIZATION_FAILED on its partitions).

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { OffsetDeleteRequest } from '../../protocol/generated/offset-delete-request.js';
import type { OffsetDeleteResponseInput } from '../../protocol/generated/offset-delete-response.js';
import { deniedNames, groupDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const offsetDelete = defineHandler<OffsetDeleteRequest, OffsetDeleteResponseInput>({
  apiKey: ApiKey.OffsetDelete,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    // DELETE on the group (GROUP_AUTHORIZATION_FAILED), as Kafka checks first.
    const denied = groupDenial(ctx, 'DELETE', req.groupId);
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied, topics: [] };
    const refused = deniedNames(
      ctx,
      'READ',
      'TOPIC',
      req.topics.map((t) => t.name),
    );
    const allowed = req.topics.filter((t) => !refused.has(t.name));
    const res = await ctx.broker.groups.deleteOffsets(req.groupId, allowed);
    if (res.errorCode !== ErrorCode.NONE || refused.size === 0) {
      return { throttleTimeMs: 0, errorCode: res.errorCode, topics: res.topics };
    }
    const answers = req.topics
      .filter((t) => refused.has(t.name))
      .map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        })),
      }));
    return { throttleTimeMs: 0, errorCode: res.errorCode, topics: [...res.topics, ...answers] };
  },
});
