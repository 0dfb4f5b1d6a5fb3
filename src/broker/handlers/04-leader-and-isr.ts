// LeaderAndIsr (key 4), v0-7: the controller tells this broker which partitions it leads and which it
// follows, with each partition's leader epoch, ISR and replicas (ZooKeeper mode only; a single node has no
// remote controller and refuses it). Stale requests are fenced: an older controller epoch gets
// STALE_CONTROLLER_EPOCH, an older broker epoch (meant for a previous run of this broker) STALE_BROKER_EPOCH,
// an older leader epoch per partition STALE_CONTROLLER_EPOCH. A FULL request (v5+ type 1, sent when this
// broker registers or a controller takes over) lists every replica this broker holds: logs it has that are
// not listed (deleted topics, moved replicas) are set aside as <dir>-stray for the operator, never deleted. Topic configs of partitions new to
// this broker are read from ZooKeeper before their logs are created.

import type { PartitionStateRequest } from '../../cluster/replica-manager.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { LeaderAndIsrRequest } from '../../protocol/generated/leader-and-isr-request.js';
import type { LeaderAndIsrResponseInput } from '../../protocol/generated/leader-and-isr-response.js';
import { defineHandler } from '../handler.js';

const FULL = 1;

export const leaderAndIsr = defineHandler<LeaderAndIsrRequest, LeaderAndIsrResponseInput>({
  apiKey: ApiKey.LeaderAndIsr,
  name: 'LeaderAndIsr',
  minVersion: 5,
  maxVersion: 7,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const refuse = (errorCode: number): LeaderAndIsrResponseInput => ({ errorCode, topics: [] });
    const zk = broker.zk;
    if (zk === null) return refuse(ErrorCode.STALE_CONTROLLER_EPOCH);
    if (await zk.isStaleBrokerEpoch(req.brokerEpoch)) {
      broker.log.warn('ignoring LeaderAndIsr for an older registration of this broker', {
        brokerEpoch: req.brokerEpoch,
        current: zk.epoch,
      });
      return refuse(ErrorCode.STALE_BROKER_EPOCH);
    }
    const states: PartitionStateRequest[] = [];
    for (const t of req.topicStates) {
      for (const p of t.partitionStates) {
        states.push({
          topic: t.topicName,
          topicId: t.topicId,
          partition: p.partitionIndex,
          controllerEpoch: p.controllerEpoch,
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
          isr: p.isr,
          partitionEpoch: p.partitionEpoch,
          replicas: p.replicas,
          addingReplicas: p.addingReplicas,
          removingReplicas: p.removingReplicas,
          isNew: p.isNew,
        });
      }
    }
    // Configs of topics new to this broker, so their logs open with the topic's settings.
    for (const topic of new Set(states.map((s) => s.topic))) {
      if (broker.replicas.hasTopic(topic)) continue;
      try {
        broker.metadataCache.setTopicConfig(topic, await zk.topicConfig(topic));
      } catch (err) {
        broker.log.warn('cannot read a topic config from ZooKeeper; using the broker defaults', {
          topic,
          error: err,
        });
      }
    }
    const res = broker.replicas.becomeLeaderOrFollower({
      controllerId: req.controllerId,
      controllerEpoch: req.controllerEpoch,
      partitionStates: states,
    });
    if (res.errorCode === ErrorCode.NONE && req.type === FULL) {
      const listed = new Set(states.map((s) => `${s.topic}-${s.partition}`));
      broker.replicas.deleteStrayLogs(listed);
    }
    const byTopic = new Map<string, { partitionIndex: number; errorCode: number }[]>();
    for (const p of res.partitions) {
      const list = byTopic.get(p.topicId) ?? [];
      list.push({ partitionIndex: p.partition, errorCode: p.errorCode });
      byTopic.set(p.topicId, list);
    }
    return {
      errorCode: res.errorCode,
      topics: [...byTopic].map(([topicId, partitionErrors]) => ({ topicId, partitionErrors })),
    };
  },
});
