// Heartbeat (key 12), v0-4. Keeps a member's session alive and tells it when a rebalance started
// (REBALANCE_IN_PROGRESS). Errors: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID (v3+
// carries group.instance.id), COORDINATOR_NOT_AVAILABLE for a group being deleted, NOT_COORDINATOR
// when another broker coordinates the group; NONE while its partition of __consumer_offsets loads (as
// Kafka: the member's next heartbeat finds it loaded).

import { ApiKey } from '../../protocol/generated/apis.js';
import type { HeartbeatRequest } from '../../protocol/generated/heartbeat-request.js';
import type { HeartbeatResponseInput } from '../../protocol/generated/heartbeat-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const heartbeat = defineHandler<HeartbeatRequest, HeartbeatResponseInput>({
  apiKey: ApiKey.Heartbeat,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req) {
    const denied = groupDenial(ctx, 'READ', req.groupId);
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied };
    const errorCode = ctx.broker.groups.heartbeat(
      req.groupId,
      req.memberId,
      ctx.apiVersion >= 3 ? req.groupInstanceId : null,
      req.generationId,
    );
    return { throttleTimeMs: 0, errorCode };
  },
});
