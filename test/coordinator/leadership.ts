// Test helpers that move the leadership of a __consumer_offsets partition of an in-process broker the way a
// controller's LeaderAndIsr does (ReplicaManager.becomeLeaderOrFollower), and pick group ids by partition.

import assert from 'node:assert/strict';
import { OFFSETS_TOPIC, partitionForGroup } from '../../src/coordinator/group/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { InProcessBroker } from '../helpers/in-process.js';

/** Applies a new state (leader epoch + 1) to partition `index` of __consumer_offsets. */
export function setOffsetsPartitionState(
  b: InProcessBroker,
  index: number,
  state: { leader: number; isr: number[]; replicas: number[] },
): void {
  const rm = b.broker.replicas;
  const part = rm.partition(OFFSETS_TOPIC, index);
  assert.ok(part !== undefined, `partition ${index} of ${OFFSETS_TOPIC} is hosted here`);
  const controllerEpoch = Math.max(rm.controllerEpoch, 0);
  const res = rm.becomeLeaderOrFollower({
    controllerId: b.broker.nodeId,
    controllerEpoch,
    partitionStates: [
      {
        topic: OFFSETS_TOPIC,
        topicId: part.topicId,
        partition: index,
        controllerEpoch,
        leader: state.leader,
        leaderEpoch: part.leaderEpoch + 1,
        isr: state.isr,
        partitionEpoch: part.partitionEpoch + 1,
        replicas: state.replicas,
        addingReplicas: [],
        removingReplicas: [],
        isNew: false,
      },
    ],
  });
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.equal(res.partitions[0]?.errorCode, ErrorCode.NONE);
}

/** A group id `<prefix>-<n>` that lands on partition `index` of `partitions`. */
export function groupOn(index: number, partitions: number, prefix: string): string {
  for (let n = 0; ; n++) {
    const id = `${prefix}-${n}`;
    if (partitionForGroup(id, partitions) === index) return id;
  }
}
