// CreateTopics (key 19), v2-7. num_partitions / replication_factor of -1 take the broker defaults
// (KIP-464); explicit replica assignments name live brokers. The cluster's admin backend (ClusterAdmin:
// the local controller, or ZooKeeper) creates the topic; in a cluster the answer waits (up to timeout_ms)
// until this broker's metadata shows the topic's leaders. v5+ returns the topic's effective configs; v7 the
// topic id.

import { resolveTopicConfigs } from '../../config/topic-config.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { CreateTopicsRequest } from '../../protocol/generated/create-topics-request.js';
import type { CreateTopicsResponseInput } from '../../protocol/generated/create-topics-response.js';
import { mayCreateTopic } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';
import { configSourceCode } from './32-describe-configs.js';

const ZERO_UUID = '0'.repeat(32);

export const createTopics = defineHandler<CreateTopicsRequest, CreateTopicsResponseInput>({
  apiKey: ApiKey.CreateTopics,
  name: 'CreateTopics',
  minVersion: 2,
  maxVersion: 7,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const fail = (name: string, errorCode: number, errorMessage: string | null) => ({
      name,
      topicId: ZERO_UUID,
      errorCode,
      errorMessage,
      numPartitions: -1,
      replicationFactor: -1,
      configs: null,
    });
    const denied = new Set(req.topics.filter((t) => !mayCreateTopic(ctx, t.name)).map((t) => t.name));
    const unique = req.topics.filter((t) => (seen.get(t.name) ?? 0) === 1 && !denied.has(t.name));
    const results = await broker.admin.createTopics(
      unique.map((t) => {
        const configs: Record<string, string> = {};
        for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
        return {
          name: t.name,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          assignments: t.assignments.map((a) => ({
            partitionIndex: a.partitionIndex,
            brokerIds: a.brokerIds,
          })),
          configs,
        };
      }),
      req.validateOnly,
      Math.max(0, req.timeoutMs),
    );
    const byName = new Map(results.map((r) => [r.name, r]));
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => {
        const res = byName.get(t.name);
        if (denied.has(t.name) && (seen.get(t.name) ?? 0) === 1)
          return fail(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
        if (res === undefined)
          return fail(t.name, ErrorCode.INVALID_REQUEST, 'Duplicate topic in the request');
        if (res.errorCode !== ErrorCode.NONE) {
          if (res.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
            broker.clientWarnings.warn(ctx, 'create_topics.refused', 'create topic refused', {
              topic: t.name,
              error: res.errorMessage,
            });
          }
          return fail(t.name, res.errorCode, res.errorMessage);
        }
        const configs: Record<string, string> = {};
        for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
        const resolved = resolveTopicConfigs(broker.config, configs);
        return {
          name: t.name,
          topicId: res.topicId ?? ZERO_UUID,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions: res.numPartitions ?? -1,
          replicationFactor: res.replicationFactor ?? -1,
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
