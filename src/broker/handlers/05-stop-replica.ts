// StopReplica (key 5), v3-4: the controller tells this broker to stop serving partitions: their replicas are
// closed (a follower's fetcher stops) and, with delete_partition, their logs deleted (topic deletion,
// replicas moved away). Fenced by the controller epoch and, per partition, the leader epoch (-2 marks a
// deletion and always applies). ZooKeeper mode only.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { StopReplicaRequest } from '../../protocol/generated/stop-replica-request.js';
import type { StopReplicaResponseInput } from '../../protocol/generated/stop-replica-response.js';
import { defineHandler } from '../handler.js';

export const stopReplica = defineHandler<StopReplicaRequest, StopReplicaResponseInput>({
  apiKey: ApiKey.StopReplica,
  name: 'StopReplica',
  minVersion: 3,
  maxVersion: 4,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const zk = broker.zk;
    if (zk === null) return { errorCode: ErrorCode.STALE_CONTROLLER_EPOCH, partitionErrors: [] };
    if (await zk.isStaleBrokerEpoch(req.brokerEpoch)) {
      return { errorCode: ErrorCode.STALE_BROKER_EPOCH, partitionErrors: [] };
    }
    const partitions = req.topicStates.flatMap((t) =>
      t.partitionStates.map((p) => ({
        topic: t.topicName,
        partition: p.partitionIndex,
        deletePartition: p.deletePartition,
        leaderEpoch: p.leaderEpoch,
      })),
    );
    const res = broker.replicas.stopReplicas(req.controllerEpoch, partitions);
    if (partitions.some((p) => p.deletePartition)) {
      broker.log.info('replicas stopped and deleted', {
        controller: req.controllerId,
        partitions: partitions.filter((p) => p.deletePartition).map((p) => `${p.topic}-${p.partition}`),
      });
    }
    return {
      errorCode: res.errorCode,
      partitionErrors: res.partitions.map((p) => ({
        topicName: p.topic,
        partitionIndex: p.partition,
        errorCode: p.errorCode,
      })),
    };
  },
});
