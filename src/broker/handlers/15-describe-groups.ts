// DescribeGroups (key 15), v0-6. State, protocol type, and members (client id, host, and — once
// the group is Stable — the chosen protocol, each member's subscription metadata and assignment).
// An unknown group is described as Dead with no error up to v5; v6 (KIP-1043) answers it
// GROUP_ID_NOT_FOUND with the message "Group <id> not found.", still Dead, as Kafka does. v3+ may ask for the
// authorized operations: with no ACLs every group operation is allowed. v4+ group.instance.id.
// Per group NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS when it is coordinated elsewhere or its
// partition of __consumer_offsets loads.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeGroupsRequest } from '../../protocol/generated/describe-groups-request.js';
import type { DescribeGroupsResponseInput } from '../../protocol/generated/describe-groups-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { AUTHORIZED_OPERATIONS_OMITTED, groupAuthorizedOperations } from '../authorized-operations.js';
import { defineHandler } from '../handler.js';

export const describeGroups = defineHandler<DescribeGroupsRequest, DescribeGroupsResponseInput>({
  apiKey: ApiKey.DescribeGroups,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 6,
  handle(ctx, req) {
    const asked = ctx.apiVersion >= 3 && req.includeAuthorizedOperations;
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((id) => {
        const denied = groupDenial(ctx, 'DESCRIBE', id);
        if (denied !== 0)
          return {
            groupId: id,
            errorCode: denied,
            errorMessage: null,
            groupState: '',
            protocolType: '',
            protocolData: '',
            members: [],
          };
        const ops = asked ? groupAuthorizedOperations(id, ctx) : AUTHORIZED_OPERATIONS_OMITTED;
        const d = ctx.broker.groups.describe(id);
        const unknown = d.errorCode === ErrorCode.NONE && d.groupState === 'Dead';
        if (unknown && ctx.apiVersion >= 6) {
          return {
            ...d,
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: `Group ${id} not found.`,
            authorizedOperations: ops,
          };
        }
        return { ...d, errorMessage: null, authorizedOperations: ops };
      }),
    };
  },
});
