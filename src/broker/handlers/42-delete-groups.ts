// DeleteGroups (key 42), v0-2. Deletes groups nobody is a member of: their committed offsets and
// metadata get tombstones in __consumer_offsets, and each group's answer waits until its tombstones are
// committed. GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP while it has members,
// NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS per group as for the other group APIs.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { DeleteGroupsRequest } from '../../protocol/generated/delete-groups-request.js';
import type { DeleteGroupsResponseInput } from '../../protocol/generated/delete-groups-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const deleteGroups = defineHandler<DeleteGroupsRequest, DeleteGroupsResponseInput>({
  apiKey: ApiKey.DeleteGroups,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const groups = ctx.broker.groups;
    const errorCodes = await Promise.all(
      req.groupsNames.map((groupId) => {
        const denied = groupDenial(ctx, 'DELETE', groupId);
        return denied !== 0 ? denied : groups.deleteGroup(groupId);
      }),
    );
    return {
      throttleTimeMs: 0,
      results: req.groupsNames.map((groupId, i) => ({ groupId, errorCode: errorCodes[i] as number })),
    };
  },
});
