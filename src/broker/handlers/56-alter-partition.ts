// AlterPartition (key 56), v0-3: a partition leader asks the controller to change its ISR (a follower fell
// behind for replica.lag.time.max.ms, or caught up). Only the active controller answers; others say
// NOT_CONTROLLER and the leader asks again once its metadata names the new controller.

import { ErrorCode } from '../../protocol/errors.js';
import type { AlterPartitionRequest } from '../../protocol/generated/alter-partition-request.js';
import type { AlterPartitionResponseInput } from '../../protocol/generated/alter-partition-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import { defineHandler } from '../handler.js';

export const alterPartition = defineHandler<AlterPartitionRequest, AlterPartitionResponseInput>({
  apiKey: ApiKey.AlterPartition,
  name: 'AlterPartition',
  minVersion: 2,
  maxVersion: 3,
  handle(ctx, req) {
    const controller = ctx.broker.controller;
    if (controller === null || !controller.isActive) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] };
    }
    return controller.alterPartition(req, ctx.apiVersion);
  },
});
