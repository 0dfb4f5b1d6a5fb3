// ListPartitionReassignments (key 46), v0: the moves in progress with their replicas, adding and removing
// sets (kafka-reassign-partitions.sh --verify, `samsa reassign --verify`). Only the active controller answers;
// a single node never has moves in progress.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ListPartitionReassignmentsRequest } from '../../protocol/generated/list-partition-reassignments-request.js';
import type { ListPartitionReassignmentsResponseInput } from '../../protocol/generated/list-partition-reassignments-response.js';
import { defineHandler } from '../handler.js';

export const listPartitionReassignments = defineHandler<
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponseInput
>({
  apiKey: ApiKey.ListPartitionReassignments,
  name: 'ListPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const controller = ctx.broker.controller;
    if (controller === null)
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] };
    const filter =
      req.topics?.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition }))) ??
      null;
    const moves = controller.isActive ? await controller.listPartitionReassignments(filter) : null;
    if (moves === null)
      return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null, topics: [] };
    const byTopic = new Map<
      string,
      { partitionIndex: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }[]
    >();
    for (const m of moves) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({
        partitionIndex: m.partition,
        replicas: m.replicas,
        addingReplicas: m.adding,
        removingReplicas: m.removing,
      });
      byTopic.set(m.topic, list);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    };
  },
});
