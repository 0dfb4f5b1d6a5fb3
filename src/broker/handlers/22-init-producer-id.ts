// InitProducerId (key 22), v0-5. Idempotent producers (no transactional id) get a fresh producer
// id with epoch 0, as Kafka's coordinator does; ids come from persisted blocks so they are never
// reused across restarts. When a new block cannot be persisted (a full disk), COORDINATOR_NOT_AVAILABLE:
// producers retry. A transactional id goes to the transaction coordinator (src/coordinator/txn/), which bumps
// its epoch (fencing the previous producer); PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v4, as Kafka.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { InitProducerIdRequest } from '../../protocol/generated/init-producer-id-request.js';
import type { InitProducerIdResponseInput } from '../../protocol/generated/init-producer-id-response.js';
import { isIoError } from '../../storage/io-errors.js';
import { defineHandler } from '../handler.js';

export const initProducerId = defineHandler<InitProducerIdRequest, InitProducerIdResponseInput>({
  apiKey: ApiKey.InitProducerId,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (req.transactionalId !== null) {
      // Kafka: an id and epoch must be given together (both -1 for a new producer).
      if ((req.producerId === -1) !== (req.producerEpoch === -1)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
      }
      const expected =
        req.producerId === -1 ? null : { producerId: req.producerId, producerEpoch: req.producerEpoch };
      const res = await broker.transactions.initProducerId(
        req.transactionalId,
        req.transactionTimeoutMs,
        expected,
      );
      const errorCode =
        res.errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 4
          ? ErrorCode.INVALID_PRODUCER_EPOCH
          : res.errorCode;
      return { throttleTimeMs: 0, ...res, errorCode };
    }
    let producerId: number;
    try {
      producerId = await broker.producerIds.nextId();
    } catch (e) {
      if (!isIoError(e)) throw e;
      broker.log.error('could not persist a block of producer ids', { error: e.message });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
  },
});
