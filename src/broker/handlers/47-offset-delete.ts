// OffsetDelete (key 47), v0 (KIP-496). Removes committed offsets of a group for partitions it does
// not consume: refused per partition with GROUP_SUBSCRIBED_TO_TOPIC while a member subscribes to the
// topic, and for the whole request with NON_EMPTY_GROUP when an active group's protocol is not the
// consumer protocol (its subscriptions cannot be known). GROUP_ID_NOT_FOUND for an unknown group.
// Answered once the tombstones are committed to __consumer_offsets.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { OffsetDeleteRequest } from '../../protocol/generated/offset-delete-request.js';
import type { OffsetDeleteResponseInput } from '../../protocol/generated/offset-delete-response.js';
import { groupDenial } from '../../security/authorizer.js';
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
    const res = await ctx.broker.groups.deleteOffsets(req.groupId, req.topics);
    return { throttleTimeMs: 0, errorCode: res.errorCode, topics: res.topics };
  },
});
