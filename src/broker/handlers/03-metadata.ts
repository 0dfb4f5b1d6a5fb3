// Metadata (key 3), v0-13. Lists the live brokers (with their racks) and the requested topics (all topics
// when the list is null, or empty in v0), answered from this broker's metadata cache: per partition its
// leader, leader epoch, replicas, ISR and the replicas on brokers that are down (offline_replicas; a
// partition whose leader is down gets LEADER_NOT_AVAILABLE, as Kafka answers). Unknown topics are
// auto-created when both the request (v4+) and auto.create.topics.enable allow it; Kafka's internal topics
// are created only by their coordinators. v10+ may name topics by id; v12 answers with null names for ids
// it does not know. v8+ answers the authorized operations of each topic (and, v8-10, of the cluster) when asked:
// with no authorizer, every operation (authorized-operations.ts); unknown topic ids get none, as in Kafka.
// v13 adds a top-level error code (KIP-1102): REBOOTSTRAP_REQUIRED tells a client to go back to its bootstrap
// servers. Kafka's broker never sets it (it is for proxies and cluster moves); neither does Samsa: always NONE.

import { topicNameProblem } from '../../cluster/admin.js';
import {
  isInternalTopic,
  type PartitionInfo,
  type TopicInfo,
  ZERO_UUID,
} from '../../cluster/metadata-cache.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { MetadataRequest } from '../../protocol/generated/metadata-request.js';
import type { MetadataResponseInput } from '../../protocol/generated/metadata-response.js';
import { authorize, authorizedNames, mayCreateTopic } from '../../security/authorizer.js';
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  clusterAuthorizedOperations,
  topicAuthorizedOperations,
} from '../authorized-operations.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

type TopicOut = NonNullable<MetadataResponseInput['topics']>[number];

/** The listener clients of this request connected through: the first one (one listener so far). */
/**
 * One partition as Metadata and DescribeTopicPartitions describe it: a replica is offline when its broker is down,
 * or (known only for this broker's own) its log dir failed; leaderId is -1 when the leader is not up.
 */
export function describePartition(broker: Broker, p: PartitionInfo) {
  const cache = broker.metadataCache;
  const localOffline = broker.replicas.partition(p.topic, p.partition)?.log.isOffline === true;
  const offline = p.replicas.filter((id) => !cache.isAlive(id) || (id === broker.nodeId && localOffline));
  const leaderUp = p.leader >= 0 && cache.isAlive(p.leader) && !(p.leader === broker.nodeId && localOffline);
  return {
    partitionIndex: p.partition,
    leaderUp,
    leaderId: leaderUp ? p.leader : -1,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: p.replicas,
    isrNodes: p.isr,
    offlineReplicas: offline,
  };
}

export function describeTopic(broker: Broker, topic: TopicInfo): TopicOut {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.flatMap((p) => {
      if (p === undefined) return [];
      const { leaderUp, ...d } = describePartition(broker, p);
      return [{ errorCode: leaderUp ? ErrorCode.NONE : ErrorCode.LEADER_NOT_AVAILABLE, ...d }];
    }),
  };
}

function unknownTopic(name: string, errorCode: number): TopicOut {
  return { errorCode, name, topicId: ZERO_UUID, partitions: [] };
}

export const metadata = defineHandler<MetadataRequest, MetadataResponseInput>({
  apiKey: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 13,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const cache = broker.metadataCache;
    const v = ctx.apiVersion;
    const topics: TopicOut[] = [];
    const all = req.topics === null || (v === 0 && req.topics.length === 0);
    if (all) {
      for (const t of authorizedNames(ctx, 'DESCRIBE', 'TOPIC', cache.topics(), (t) => t.name))
        topics.push(describeTopic(broker, t));
    } else {
      const autoCreate =
        (v < 4 || req.allowAutoTopicCreation) && broker.config.bool('auto.create.topics.enable');
      const toCreate: string[] = [];
      for (const rt of req.topics ?? []) {
        // By id only from v10 (before, an empty name is just an invalid name). Response names are
        // nullable from v12 only. Regression: the fuzz suite sent v6 with an empty name.
        if (rt.name === null || (rt.name === '' && v >= 10)) {
          const t = cache.topicById(rt.topicId);
          if (t !== undefined && authorize(ctx, 'DESCRIBE', 'TOPIC', t.name))
            topics.push(describeTopic(broker, t));
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
        if (!authorize(ctx, 'DESCRIBE', 'TOPIC', name)) {
          topics.push(unknownTopic(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        const existing = cache.topic(name);
        if (existing !== undefined) {
          topics.push(describeTopic(broker, existing));
          continue;
        }
        const problem = topicNameProblem(name);
        if (problem !== null) {
          broker.clientWarnings.warn(
            ctx,
            'metadata.invalid_topic',
            'metadata request for an invalid topic name',
            {
              topic: name,
            },
          );
          topics.push(unknownTopic(name, ErrorCode.INVALID_TOPIC_EXCEPTION));
          continue;
        }
        // Internal topics are created by their coordinator (with its configs), never by a Metadata request.
        if (autoCreate && !isInternalTopic(name)) {
          if (!mayCreateTopic(ctx, name)) {
            topics.push(unknownTopic(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
            continue;
          }
          toCreate.push(name);
          topics.push(unknownTopic(name, ErrorCode.LEADER_NOT_AVAILABLE));
          continue;
        }
        topics.push(unknownTopic(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      }
      if (toCreate.length > 0) {
        const results = await broker.admin.createTopics(
          toCreate.map((name) => ({
            name,
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [],
            configs: {},
          })),
          false,
          0,
        );
        for (const r of results) {
          const i = topics.findIndex((t) => t.name === r.name);
          const created = cache.topic(r.name);
          // A single node has the topic at once; a cluster answers LEADER_NOT_AVAILABLE until the controller
          // has elected its leaders, and the client asks again (as with Kafka).
          if (created !== undefined) topics[i] = describeTopic(broker, created);
          else if (r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
            topics[i] = unknownTopic(r.name, r.errorCode);
          }
        }
      }
    }
    if (v >= 8 && req.includeTopicAuthorizedOperations) {
      for (const t of topics) {
        if (t.name !== null && t.name !== undefined && t.errorCode !== ErrorCode.UNKNOWN_TOPIC_ID)
          t.topicAuthorizedOperations = topicAuthorizedOperations(t.name, ctx);
      }
    }
    // Brokers as reached through the listener this request came in on (a broker without it is left out).
    const listener = ctx.session.listener.listenerName;
    return {
      throttleTimeMs: 0,
      brokers: cache.brokers().flatMap((b) => {
        const ep = b.endpoints.find((e) => e.listener === listener);
        return ep === undefined ? [] : [{ nodeId: b.id, host: ep.host, port: ep.port, rack: b.rack }];
      }),
      clusterId: cache.clusterId,
      controllerId: cache.controllerId,
      topics,
      clusterAuthorizedOperations:
        v >= 8 && v <= 10 && req.includeClusterAuthorizedOperations
          ? clusterAuthorizedOperations(ctx)
          : AUTHORIZED_OPERATIONS_OMITTED,
      errorCode: ErrorCode.NONE,
    };
  },
});
