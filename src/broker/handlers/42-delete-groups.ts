// DeleteGroups (key 42), v0-3. Deletes groups nobody is a member of: their committed offsets and
// metadata get tombstones in __consumer_offsets, and each group's answer waits until its tombstones are
// committed. GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP while it has members,
// NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS per group as for the other group APIs. v3 adds a per-group
// ErrorMessage: the cause of any error, in words (null on success).

import { ErrorCode, errorName } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DeleteGroupsRequest } from '../../protocol/generated/delete-groups-request.js';
import type { DeleteGroupsResponseInput } from '../../protocol/generated/delete-groups-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

/** Why a group was not deleted, for v3's ErrorMessage. */
export function deleteErrorMessage(groupId: string, errorCode: number): string | null {
  switch (errorCode) {
    case ErrorCode.NONE:
      return null;
    case ErrorCode.GROUP_ID_NOT_FOUND:
      return `Group ${groupId} not found.`;
    case ErrorCode.NON_EMPTY_GROUP:
      return `Group ${groupId} still has members; stop its consumers first.`;
    case ErrorCode.NOT_COORDINATOR:
      return `This broker is not the coordinator of group ${groupId}.`;
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
      return `The coordinator of group ${groupId} is still loading its offsets partition.`;
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      return `The coordinator of group ${groupId} could not write the deletion to __consumer_offsets.`;
    default:
      return `Deleting group ${groupId} failed: ${errorName(errorCode)}.`;
  }
}

export const deleteGroups = defineHandler<DeleteGroupsRequest, DeleteGroupsResponseInput>({
  apiKey: ApiKey.DeleteGroups,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 3,
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
      results: req.groupsNames.map((groupId, i) => {
        const errorCode = errorCodes[i] as number;
        return { groupId, errorCode, errorMessage: deleteErrorMessage(groupId, errorCode) };
      }),
    };
  },
});
