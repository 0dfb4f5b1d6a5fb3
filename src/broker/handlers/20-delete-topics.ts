// DeleteTopics (key 20), v1-6. v6 names topics by name or by id. Deleting closes the partition
// logs and removes their directories in the background.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DeleteTopicsRequest } from '../../protocol/generated/delete-topics-request.js';
import type { DeleteTopicsResponseInput } from '../../protocol/generated/delete-topics-response.js';
import { defineHandler } from '../handler.js';

const ZERO_UUID = '0'.repeat(32);

export const deleteTopics = defineHandler<DeleteTopicsRequest, DeleteTopicsResponseInput>({
  apiKey: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 1,
  maxVersion: 6,
  handle(ctx, req) {
    const broker = ctx.broker;
    const targets: { name: string | null; topicId: string }[] =
      ctx.apiVersion >= 6
        ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : req.topicNames.map((n) => ({ name: n, topicId: ZERO_UUID }));
    return {
      throttleTimeMs: 0,
      responses: targets.map((t) => {
        const topic = t.name !== null ? broker.topics.get(t.name) : broker.topics.getById(t.topicId);
        if (topic === undefined) {
          return {
            name: t.name,
            topicId: t.topicId,
            errorCode: t.name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'This server does not host this topic.',
          };
        }
        if (topic.isInternal) {
          return {
            name: topic.name,
            topicId: topic.topicId,
            errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
            errorMessage: 'Internal topics cannot be deleted',
          };
        }
        const res = broker.topics.delete(topic.name);
        return {
          name: topic.name,
          topicId: topic.topicId,
          errorCode: res.errorCode,
          errorMessage: res.errorMessage,
        };
      }),
    };
  },
});
