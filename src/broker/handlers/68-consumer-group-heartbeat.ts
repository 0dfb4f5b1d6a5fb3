// ConsumerGroupHeartbeat (key 68), v0-1: the KIP-848 consumer group protocol (join, heartbeat, leave,
// assignment by the broker; src/coordinator/group/consumer/heartbeat.ts). v0: the coordinator generates the
// member id of a member joining without one; v1 (Kafka 4.0+ clients) the member generates it and v1 adds
// SubscribedTopicRegex. Answered once the group's records are committed to __consumer_offsets.
// NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS as the other group APIs; UNSUPPORTED_VERSION when
// group.coordinator.rebalance.protocols does not list consumer. ACLs as Kafka: READ on the group
// (GROUP_AUTHORIZATION_FAILED), and DESCRIBE on every subscribed topic name (else TOPIC_AUTHORIZATION_FAILED).

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/consumer-group-heartbeat-request.js';
import type { ConsumerGroupHeartbeatResponseInput } from '../../protocol/generated/consumer-group-heartbeat-response.js';
import { deniedNames, groupDenial } from '../../security/authorizer.js';
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
    const refused = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    const denied = groupDenial(ctx, 'READ', req.groupId);
    if (denied !== 0) return refused(denied);
    const names = req.subscribedTopicNames ?? [];
    if (names.length > 0 && deniedNames(ctx, 'DESCRIBE', 'TOPIC', names).size > 0) {
      return refused(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    }
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
