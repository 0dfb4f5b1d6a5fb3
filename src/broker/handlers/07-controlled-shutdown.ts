// ControlledShutdown (key 7), v1-3: a broker about to stop asks the controller to move its leaderships away
// first (controller/leadership.ts). Only the active controller answers; the answer lists the partitions the
// broker still leads (it retries, then stops anyway). v0 (no broker epoch) is not served, as in Kafka 3.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ControlledShutdownRequest } from '../../protocol/generated/controlled-shutdown-request.js';
import type { ControlledShutdownResponseInput } from '../../protocol/generated/controlled-shutdown-response.js';
import { defineHandler } from '../handler.js';

export const controlledShutdown = defineHandler<ControlledShutdownRequest, ControlledShutdownResponseInput>({
  apiKey: ApiKey.ControlledShutdown,
  name: 'ControlledShutdown',
  minVersion: 1,
  maxVersion: 3,
  async handle(ctx, req) {
    const controller = ctx.broker.controller;
    if (controller === null || !controller.isActive) {
      return { errorCode: ErrorCode.NOT_CONTROLLER, remainingPartitions: [] };
    }
    const res = await controller.controlledShutdown(req.brokerId, ctx.apiVersion >= 2 ? req.brokerEpoch : -1);
    return {
      errorCode: res.errorCode,
      remainingPartitions: res.remaining.map((p) => ({ topicName: p.topic, partitionIndex: p.partition })),
    };
  },
});
