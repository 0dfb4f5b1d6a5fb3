// ConsumerGroupHeartbeat (key 68), v0-1: the KIP-848 consumer group protocol (join, heartbeat, leave,
// assignment by the broker; src/coordinator/group/consumer/heartbeat.ts). v0: the coordinator generates the
// member id of a member joining without one; v1 (Kafka 4.0+ clients) the member generates it and v1 adds
// SubscribedTopicRegex. Answered once the group's records are committed to __consumer_offsets.
// NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS as the other group APIs; UNSUPPORTED_VERSION when
// group.coordinator.rebalance.protocols does not list consumer.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/consumer-group-heartbeat-request.js';
import type { ConsumerGroupHeartbeatResponseInput } from '../../protocol/generated/consumer-group-heartbeat-response.js';
import { defineHandler } from '../handler.js';
import { clientHostOf } from './11-join-group.js';

export const consumerGroupHeartbeat = defineHandler<
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponseInput
>({
  apiKey: ApiKey.ConsumerGroupHeartbeat,
  name: 'ConsumerGroupHeartbeat',
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const res = await ctx.broker.groups.consumerGroupHeartbeat({
      apiVersion: ctx.apiVersion,
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      instanceId: req.instanceId,
      rackId: req.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames,
      subscribedTopicRegex: ctx.apiVersion >= 1 ? req.subscribedTopicRegex : null,
      serverAssignor: req.serverAssignor,
      topicPartitions: req.topicPartitions,
      clientId: ctx.clientId ?? '',
      clientHost: clientHostOf(ctx.clientAddress),
    });
    return { throttleTimeMs: 0, ...res };
  },
});
