// CreatePartitions (key 37), v0-3. Grows a topic to `count` partitions, the new ones placed by the
// cluster (continuing the topic's assignment) or by the request's explicit replica lists.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { CreatePartitionsRequest } from '../../protocol/generated/create-partitions-request.js';
import type { CreatePartitionsResponseInput } from '../../protocol/generated/create-partitions-response.js';
import { defineHandler } from '../handler.js';

export const createPartitions = defineHandler<CreatePartitionsRequest, CreatePartitionsResponseInput>({
  apiKey: ApiKey.CreatePartitions,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req) {
    const results = await ctx.broker.admin.createPartitions(
      req.topics.map((t) => ({
        name: t.name,
        count: t.count,
        assignments: t.assignments === null ? null : t.assignments.map((a) => a.brokerIds),
      })),
      req.validateOnly,
      Math.max(0, req.timeoutMs),
    );
    return {
      throttleTimeMs: 0,
      results: results.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage })),
    };
  },
});
