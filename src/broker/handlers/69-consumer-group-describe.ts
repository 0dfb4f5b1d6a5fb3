// ConsumerGroupDescribe (key 69), v0-1: KIP-848 consumer groups from the coordinator's memory (group and
// assignment epochs, assignor, each member's subscription, current and target assignment by topic id and
// name; v1 adds the member type, always "consumer" here). GROUP_ID_NOT_FOUND for an unknown group and for a
// classic one ("Group g is not a consumer group."), NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS as the
// other group APIs. DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED for it. Authorized operations when
// asked, from the ACLs (with no authorizer every group operation: READ, DESCRIBE, DELETE), as DescribeGroups.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { ConsumerGroupDescribeRequest } from '../../protocol/generated/consumer-group-describe-request.js';
import type { ConsumerGroupDescribeResponseInput } from '../../protocol/generated/consumer-group-describe-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { AUTHORIZED_OPERATIONS_OMITTED, groupAuthorizedOperations } from '../authorized-operations.js';
import { defineHandler } from '../handler.js';

export const consumerGroupDescribe = defineHandler<
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponseInput
>({
  apiKey: ApiKey.ConsumerGroupDescribe,
  name: 'ConsumerGroupDescribe',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((id) => {
        const denied = groupDenial(ctx, 'DESCRIBE', id);
        if (denied !== 0) {
          return {
            groupId: id,
            errorCode: denied,
            errorMessage: null,
            authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
          };
        }
        return {
          ...ctx.broker.groups.consumerAdmin.describe(id),
          authorizedOperations: req.includeAuthorizedOperations
            ? groupAuthorizedOperations(id, ctx)
            : AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    };
  },
});
