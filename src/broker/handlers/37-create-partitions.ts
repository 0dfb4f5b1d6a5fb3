// CreatePartitions (key 37), v0-3. Grows a topic to `count` partitions, the new ones placed by the
// cluster (continuing the topic's assignment) or by the request's explicit replica lists.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { CreatePartitionsRequest } from '../../protocol/generated/create-partitions-request.js';
import type { CreatePartitionsResponseInput } from '../../protocol/generated/create-partitions-response.js';
import { deniedNames } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const createPartitions = defineHandler<CreatePartitionsRequest, CreatePartitionsResponseInput>({
  apiKey: ApiKey.CreatePartitions,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req) {
    // ALTER on each topic (TOPIC_AUTHORIZATION_FAILED for the others), as Kafka checks.
    const denied = deniedNames(
      ctx,
      'ALTER',
      'TOPIC',
      req.topics.map((t) => t.name),
    );
    const refused = req.topics
      .filter((t) => denied.has(t.name))
      .map((t) => ({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null }));
    const allowed = req.topics.filter((t) => !denied.has(t.name));
    if (allowed.length === 0) return { throttleTimeMs: 0, results: refused };
    const results = await ctx.broker.admin.createPartitions(
      allowed.map((t) => ({
        name: t.name,
        count: t.count,
        assignments: t.assignments === null ? null : t.assignments.map((a) => a.brokerIds),
      })),
      req.validateOnly,
      Math.max(0, req.timeoutMs),
    );
    return {
      throttleTimeMs: 0,
      results: [
        ...results.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage })),
        ...refused,
      ],
    };
  },
});
