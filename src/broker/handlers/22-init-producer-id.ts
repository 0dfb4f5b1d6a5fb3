// InitProducerId (key 22), v0-5. Idempotent producers (no transactional id) get a fresh producer
// id with epoch 0, as Kafka's coordinator does; ids come from persisted blocks so they are never
// reused across restarts. Transactional ids are refused until the transaction coordinator exists.
// When a new block cannot be persisted (a full disk), COORDINATOR_NOT_AVAILABLE: producers retry.

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
      broker.log.warn('transactional producer refused: transactions are not supported yet', {
        client: ctx.clientAddress,
        clientId: ctx.clientId,
        transactionalId: req.transactionalId,
      });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1,
        producerEpoch: -1,
      };
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
