// DeleteGroups (key 42), v0-2. Deletes groups nobody is a member of: their committed offsets and
// metadata get tombstones in __consumer_offsets. GROUP_ID_NOT_FOUND for an unknown group,
// NON_EMPTY_GROUP while it has members.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { DeleteGroupsRequest } from '../../protocol/generated/delete-groups-request.js';
import type { DeleteGroupsResponseInput } from '../../protocol/generated/delete-groups-response.js';
import { defineHandler } from '../handler.js';

export const deleteGroups = defineHandler<DeleteGroupsRequest, DeleteGroupsResponseInput>({
  apiKey: ApiKey.DeleteGroups,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, req) {
    return {
      throttleTimeMs: 0,
      results: req.groupsNames.map((groupId) => ({
        groupId,
        errorCode: ctx.broker.groups.deleteGroup(groupId),
      })),
    };
  },
});
