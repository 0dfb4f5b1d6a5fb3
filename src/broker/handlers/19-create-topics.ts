// CreateTopics (key 19), v2-7. num_partitions / replication_factor of -1 take the broker defaults
// (KIP-464). Manual replica assignments must place every partition on this node. v5+ returns the
// topic's effective configs; v7 returns the topic id.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { CreateTopicsRequest } from '../../protocol/generated/create-topics-request.js';
import type { CreateTopicsResponseInput } from '../../protocol/generated/create-topics-response.js';
import { defineHandler } from '../handler.js';
import { configSourceCode } from './32-describe-configs.js';

const ZERO_UUID = '0'.repeat(32);

export const createTopics = defineHandler<CreateTopicsRequest, CreateTopicsResponseInput>({
  apiKey: ApiKey.CreateTopics,
  name: 'CreateTopics',
  minVersion: 2,
  maxVersion: 7,
  handle(ctx, req) {
    const broker = ctx.broker;
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => {
        const fail = (errorCode: number, errorMessage: string) => ({
          name: t.name,
          topicId: ZERO_UUID,
          errorCode,
          errorMessage,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        });
        if ((seen.get(t.name) ?? 0) > 1)
          return fail(ErrorCode.INVALID_REQUEST, 'Duplicate topic in the request');
        let numPartitions = t.numPartitions;
        let replicationFactor = t.replicationFactor;
        if (t.assignments.length > 0) {
          if (numPartitions !== -1 || replicationFactor !== -1) {
            return fail(
              ErrorCode.INVALID_REQUEST,
              'Both numPartitions or replicationFactor and replicasAssignments were set.',
            );
          }
          for (const a of t.assignments) {
            if (a.brokerIds.some((id) => id !== broker.nodeId)) {
              return fail(
                ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                `Unknown broker in the assignment of partition ${a.partitionIndex}`,
              );
            }
          }
          numPartitions = t.assignments.length;
          replicationFactor = t.assignments[0]?.brokerIds.length ?? 1;
        }
        const configs: Record<string, string> = {};
        for (const c of t.configs) {
          if (c.value !== null) configs[c.name] = c.value;
        }
        const res = broker.topics.create(t.name, numPartitions, replicationFactor, configs, req.validateOnly);
        if (res.errorCode !== ErrorCode.NONE) {
          if (res.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
            broker.log.warn('create topic refused', {
              client: ctx.clientAddress,
              topic: t.name,
              error: res.errorMessage,
            });
          }
          return fail(res.errorCode, res.errorMessage ?? '');
        }
        const topic = res.topic ?? broker.topics.get(t.name);
        const resolved = topic !== undefined ? broker.topics.describeConfigs(topic) : [];
        return {
          name: t.name,
          topicId: topic?.topicId ?? ZERO_UUID,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions:
            topic?.partitions.length ??
            (numPartitions === -1 ? broker.config.int('num.partitions') : numPartitions),
          replicationFactor: 1,
          configs: resolved.map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: false,
            configSource: configSourceCode(c.source),
            isSensitive: false,
          })),
        };
      }),
    };
  },
});
