// SyncGroup (key 14), v0-5. The second phase of a classic rebalance: the leader sends every
// member's assignment, which is written to __consumer_offsets and handed to each member once the write
// is committed; followers' requests are parked until then (a failed write answers them all with the
// mapped error, e.g. COORDINATOR_NOT_AVAILABLE, and the group rebalances). REBALANCE_IN_PROGRESS while
// the group's partition of __consumer_offsets loads (the rebalance is lost; the member rejoins),
// NOT_COORDINATOR when another broker coordinates the group. In a stable group the member's current assignment is returned.
// v3+ carries group.instance.id; v5+ protocol type and name, checked against the group's.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { SyncGroupRequest } from '../../protocol/generated/sync-group-request.js';
import type { SyncGroupResponseInput } from '../../protocol/generated/sync-group-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const syncGroup = defineHandler<SyncGroupRequest, SyncGroupResponseInput>({
  apiKey: ApiKey.SyncGroup,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const denied = groupDenial(ctx, 'READ', req.groupId);
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied, assignment: Buffer.alloc(0) };
    const res = await ctx.broker.groups.sync({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: v >= 3 ? req.groupInstanceId : null,
      protocolType: v >= 5 ? req.protocolType : null,
      protocolName: v >= 5 ? req.protocolName : null,
      assignments: req.assignments.map((a) => ({
        memberId: a.memberId,
        assignment: Buffer.from(a.assignment),
      })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: res.errorCode,
      protocolType: res.protocolType,
      protocolName: res.protocolName,
      assignment: res.assignment,
    };
  },
});
