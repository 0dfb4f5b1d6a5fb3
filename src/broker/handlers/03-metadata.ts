// Metadata (key 3), v0-12. Lists brokers and the requested topics (all topics when the list is null,
// or empty in v0). Unknown topics are auto-created when both the request (v4+) and
// auto.create.topics.enable allow it. v10+ may name topics by id; v12 answers with null names
// for ids it does not know. Every partition is led by this node with its leader epoch.

import type { Topic } from '../../cluster/topics.js';
import { isInternalTopic, topicNameProblem } from '../../cluster/topics.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { MetadataRequest } from '../../protocol/generated/metadata-request.js';
import type { MetadataResponseInput } from '../../protocol/generated/metadata-response.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

const ZERO_UUID = '0'.repeat(32);

type TopicOut = NonNullable<MetadataResponseInput['topics']>[number];

export function describeTopic(broker: Broker, topic: Topic): TopicOut {
  const nodeId = broker.nodeId;
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.isInternal,
    partitions: topic.partitions.map((p) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: p.index,
      leaderId: nodeId,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    })),
  };
}

export const metadata = defineHandler<MetadataRequest, MetadataResponseInput>({
  apiKey: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    const topics: TopicOut[] = [];
    const all = req.topics === null || (v === 0 && req.topics.length === 0);
    if (all) {
      for (const t of broker.topics.all()) topics.push(describeTopic(broker, t));
    } else {
      const autoCreate =
        (v < 4 || req.allowAutoTopicCreation) && broker.config.bool('auto.create.topics.enable');
      for (const rt of req.topics ?? []) {
        // By id only from v10 (before, an empty name is just an invalid name). Response names are
        // nullable from v12 only. Regression: the fuzz suite sent v6 with an empty name.
        if (rt.name === null || (rt.name === '' && v >= 10)) {
          const t = broker.topics.getById(rt.topicId);
          if (t !== undefined) topics.push(describeTopic(broker, t));
          else
            topics.push({
              errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
              name: v >= 12 ? null : '',
              topicId: rt.topicId,
              partitions: [],
            });
          continue;
        }
        const name = rt.name;
        const existing = broker.topics.get(name);
        if (existing !== undefined) {
          topics.push(describeTopic(broker, existing));
          continue;
        }
        const problem = topicNameProblem(name);
        if (problem !== null) {
          broker.log.warn('metadata request for an invalid topic name', {
            client: ctx.clientAddress,
            topic: name,
          });
          topics.push({
            errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
            name,
            topicId: ZERO_UUID,
            partitions: [],
          });
          continue;
        }
        // Internal topics are created by their coordinator (with its configs), never by a Metadata request.
        if (autoCreate && !isInternalTopic(name)) {
          const res = broker.topics.create(name, -1, -1, {}, false);
          if (res.topic !== undefined) {
            topics.push(describeTopic(broker, res.topic));
            continue;
          }
          topics.push({ errorCode: res.errorCode, name, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
        topics.push({
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          name,
          topicId: ZERO_UUID,
          partitions: [],
        });
      }
    }
    const adv = broker.advertised();
    return {
      throttleTimeMs: 0,
      brokers: [
        { nodeId: broker.nodeId, host: adv.host, port: adv.port, rack: broker.config.get('broker.rack') },
      ],
      clusterId: broker.metadata.clusterId,
      controllerId: broker.nodeId,
      topics,
    };
  },
});
