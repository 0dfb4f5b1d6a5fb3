// DeleteTopics (key 20), v1-6. v6 names topics by name or by id. The admin backend deletes the topic on
// every replica (a single node closes the partition logs and removes their directories in the background;
// a cluster marks the topic for deletion and the controller stops and deletes every replica); the answer
// waits (up to timeout_ms) until this broker's metadata no longer has the topic. Kafka's internal topics
// cannot be deleted.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DeleteTopicsRequest } from '../../protocol/generated/delete-topics-request.js';
import type { DeleteTopicsResponseInput } from '../../protocol/generated/delete-topics-response.js';
import { deniedNames } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

const ZERO_UUID = '0'.repeat(32);

export const deleteTopics = defineHandler<DeleteTopicsRequest, DeleteTopicsResponseInput>({
  apiKey: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 1,
  maxVersion: 6,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const cache = broker.metadataCache;
    const targets: { name: string | null; topicId: string }[] =
      ctx.apiVersion >= 6
        ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : req.topicNames.map((n) => ({ name: n, topicId: ZERO_UUID }));
    const resolved = targets.map((t) => (t.name !== null ? cache.topic(t.name) : cache.topicById(t.topicId)));
    const names = resolved.flatMap((t) => (t === undefined ? [] : [t.name]));
    const denied = deniedNames(ctx, 'DELETE', 'TOPIC', names);
    const results = new Map(
      (
        await broker.admin.deleteTopics(
          [...new Set(names.filter((n) => !denied.has(n)))],
          Math.max(0, req.timeoutMs),
        )
      ).map((r) => [r.name, r]),
    );
    return {
      throttleTimeMs: 0,
      responses: targets.map((t, i) => {
        const topic = resolved[i];
        if (topic === undefined) {
          return {
            name: t.name,
            topicId: t.topicId,
            errorCode: t.name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'This server does not host this topic.',
          };
        }
        const res = results.get(topic.name);
        if (denied.has(topic.name))
          return {
            name: topic.name,
            topicId: topic.topicId,
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: 'Authorization failed.',
          };
        return {
          name: topic.name,
          topicId: topic.topicId,
          errorCode: res?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR,
          errorMessage: res?.errorMessage ?? null,
        };
      }),
    };
  },
});
