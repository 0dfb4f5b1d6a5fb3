// CreatePartitions (key 37), v0-3. Grows a topic to `count` partitions; manual assignments must
// place the new partitions on this node.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { CreatePartitionsRequest } from '../../protocol/generated/create-partitions-request.js';
import type { CreatePartitionsResponseInput } from '../../protocol/generated/create-partitions-response.js';
import { defineHandler } from '../handler.js';

export const createPartitions = defineHandler<CreatePartitionsRequest, CreatePartitionsResponseInput>({
  apiKey: ApiKey.CreatePartitions,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, req) {
    const broker = ctx.broker;
    return {
      throttleTimeMs: 0,
      results: req.topics.map((t) => {
        if (t.assignments?.some((a) => a.brokerIds.some((id) => id !== broker.nodeId))) {
          return {
            name: t.name,
            errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            errorMessage: 'Unknown broker in the assignment',
          };
        }
        const res = broker.topics.addPartitions(t.name, t.count, req.validateOnly);
        return { name: t.name, errorCode: res.errorCode, errorMessage: res.errorMessage };
      }),
    };
  },
});
