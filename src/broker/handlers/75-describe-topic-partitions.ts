// DescribeTopicPartitions (key 75), v0 (KIP-966): topics and their partitions, paged. The Java admin client's
// describeTopics uses it in place of Metadata when the broker serves it.
//
// As Kafka's DescribeTopicPartitionsRequestHandler: the named topics (all topics when the list is empty) from
// the cursor's topic on, deduplicated and sorted by name, answer at most
// max(min(max.request.partition.size.limit, responsePartitionLimit), 1) partitions. The cursor's partition
// index is where its topic starts. When the budget runs out inside a topic, nextCursor points at its next
// partition; when it runs out on a topic boundary, at partition 0 of the next topic. A named topic that does not
// exist answers UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION when the name is not valid) and uses none of
// the budget; a cursor naming a topic missing from the list, or a negative partition, is INVALID_REQUEST for
// every topic. ACLs, as Kafka: a named topic the principal may not DESCRIBE answers TOPIC_AUTHORIZATION_FAILED
// (whether or not it exists), after the others and using none of the budget; a request for all topics lists only
// the describable ones. Every topic answered carries its authorized operations (authorized-operations.ts). Samsa has no ELR
// (KIP-966's eligible leader replicas): those lists are empty, as Kafka answers without them.

import { topicNameProblem } from '../../cluster/admin.js';
import { isInternalTopic, ZERO_UUID } from '../../cluster/metadata-cache.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeTopicPartitionsRequest } from '../../protocol/generated/describe-topic-partitions-request.js';
import type { DescribeTopicPartitionsResponseInput } from '../../protocol/generated/describe-topic-partitions-response.js';
import { authorize, authorizedNames } from '../../security/authorizer.js';
import { topicAuthorizedOperations } from '../authorized-operations.js';
import { defineHandler } from '../handler.js';
import { describePartition } from './03-metadata.js';

type TopicOut = NonNullable<DescribeTopicPartitionsResponseInput['topics']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

export const describeTopicPartitions = defineHandler<
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponseInput
>({
  apiKey: ApiKey.DescribeTopicPartitions,
  name: 'DescribeTopicPartitions',
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const broker = ctx.broker;
    const cache = broker.metadataCache;
    const fetchAll = req.topics.length === 0;
    const cursor = req.cursor;
    const cursorTopic = cursor?.topicName ?? '';
    const names = new Set<string>();
    if (fetchAll) {
      for (const t of authorizedNames(ctx, 'DESCRIBE', 'TOPIC', cache.topics(), (t) => t.name)) {
        if (t.name >= cursorTopic) names.add(t.name);
      }
    } else {
      for (const t of req.topics) if (t.name >= cursorTopic) names.add(t.name);
    }
    if (cursor !== null && ((!fetchAll && !names.has(cursor.topicName)) || cursor.partitionIndex < 0)) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          errorCode: ErrorCode.INVALID_REQUEST,
          name: t.name,
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
        })),
        nextCursor: null,
      };
    }
    const limit = Math.max(
      Math.min(broker.config.int('max.request.partition.size.limit'), req.responsePartitionLimit),
      1,
    );
    let remaining = limit;
    const topics: TopicOut[] = [];
    const refused: TopicOut[] = [];
    if (!fetchAll) {
      for (const name of [...names].sort()) {
        if (authorize(ctx, 'DESCRIBE', 'TOPIC', name)) continue;
        names.delete(name);
        refused.push({
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          name,
          topicId: ZERO_UUID,
          isInternal: isInternalTopic(name),
          partitions: [],
        });
      }
    }
    let nextCursor: { topicName: string; partitionIndex: number } | null = null;
    for (const name of [...names].sort()) {
      if (remaining === 0) {
        // The budget ended on a topic boundary: the next page starts with this topic.
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const topic = cache.topic(name);
      if (topic === undefined) {
        if (!fetchAll) {
          topics.push({
            errorCode:
              topicNameProblem(name) === null
                ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                : ErrorCode.INVALID_TOPIC_EXCEPTION,
            name,
            topicId: ZERO_UUID,
            isInternal: isInternalTopic(name),
            partitions: [],
          });
        }
        continue;
      }
      const start = name === cursorTopic && cursor !== null ? cursor.partitionIndex : 0;
      const count = topic.partitions.length;
      const upper = Math.min(count, start + remaining);
      const partitions: PartitionOut[] = [];
      for (let i = start; i < upper; i++) {
        const p = topic.partitions[i];
        if (p === undefined) continue;
        const { leaderUp: _, ...d } = describePartition(broker, p);
        partitions.push({ errorCode: ErrorCode.NONE, ...d, eligibleLeaderReplicas: [], lastKnownElr: [] });
      }
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: topic.topicId,
        isInternal: isInternalTopic(name),
        partitions,
      });
      if (upper < count) {
        nextCursor = { topicName: name, partitionIndex: upper };
        break;
      }
      remaining -= partitions.length;
    }
    for (const t of topics) t.topicAuthorizedOperations = topicAuthorizedOperations(t.name ?? '', ctx);
    return { throttleTimeMs: 0, topics: [...topics, ...refused], nextCursor };
  },
});
