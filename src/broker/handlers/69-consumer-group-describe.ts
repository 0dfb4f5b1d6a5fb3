// ConsumerGroupDescribe (key 69), v0-1: KIP-848 consumer groups from the coordinator's memory (group and
// assignment epochs, assignor, each member's subscription, current and target assignment by topic id and
// name; v1 adds the member type, always "consumer" here). GROUP_ID_NOT_FOUND for an unknown group and for a
// classic one ("Group g is not a consumer group."), NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS as the
// other group APIs. Authorized operations when asked: with no ACLs every group operation (READ, DESCRIBE,
// DELETE), as DescribeGroups.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { ConsumerGroupDescribeRequest } from '../../protocol/generated/consumer-group-describe-request.js';
import type { ConsumerGroupDescribeResponseInput } from '../../protocol/generated/consumer-group-describe-response.js';
import { defineHandler } from '../handler.js';

const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const OPERATIONS_NOT_REQUESTED = -2147483648;

export const consumerGroupDescribe = defineHandler<
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponseInput
>({
  apiKey: ApiKey.ConsumerGroupDescribe,
  name: 'ConsumerGroupDescribe',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    const ops = req.includeAuthorizedOperations ? GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED;
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((id) => ({
        ...ctx.broker.groups.consumerAdmin.describe(id),
        authorizedOperations: ops,
      })),
    };
  },
});
