// LeaveGroup (key 13), v0-5. v0-2 name one member; v3+ a batch of members, each answered on its
// own (a static member may be removed by group.instance.id alone, with an empty member id); v5+
// a reason per member. A member leaving a stable group starts a rebalance at once instead of
// waiting for its session to time out. NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS (whole request)
// when the group is coordinated elsewhere or its partition of __consumer_offsets loads.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { LeaveGroupRequest } from '../../protocol/generated/leave-group-request.js';
import type { LeaveGroupResponseInput } from '../../protocol/generated/leave-group-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const leaveGroup = defineHandler<LeaveGroupRequest, LeaveGroupResponseInput>({
  apiKey: ApiKey.LeaveGroup,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const denied = groupDenial(ctx, 'READ', req.groupId);
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied, members: [] };
    const members =
      v >= 3
        ? req.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            reason: m.reason,
          }))
        : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
    const res = await ctx.broker.groups.leave(req.groupId, members);
    if (v >= 3) return { throttleTimeMs: 0, errorCode: res.errorCode, members: res.members };
    // One member: its error is the response's.
    const errorCode =
      res.errorCode !== ErrorCode.NONE ? res.errorCode : (res.members[0]?.errorCode ?? ErrorCode.NONE);
    return { throttleTimeMs: 0, errorCode };
  },
});
