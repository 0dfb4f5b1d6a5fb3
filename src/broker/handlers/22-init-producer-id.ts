// InitProducerId (key 22), v0-6. Idempotent producers (no transactional id) get a fresh producer
// id with epoch 0, as Kafka's coordinator does; ids come from persisted blocks so they are never
// reused across restarts. When a new block cannot be persisted (a full disk), COORDINATOR_NOT_AVAILABLE:
// producers retry. A transactional id goes to the transaction coordinator (src/coordinator/txn/), which bumps
// its epoch (fencing the previous producer); PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v4, as Kafka.
// v6 (KIP-939) adds two-phase commit: enable2Pc is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka
// does while transaction.two.phase.commit.enable is false (2PC is not implemented, so Samsa refuses it always);
// keepPreparedTxn, which only makes sense with 2PC, likewise; the ongoing-transaction fields answer -1.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { InitProducerIdRequest } from '../../protocol/generated/init-producer-id-request.js';
import type { InitProducerIdResponseInput } from '../../protocol/generated/init-producer-id-response.js';
import { idempotentDenial, transactionalIdDenial } from '../../security/authorizer.js';
import { isIoError } from '../../storage/io-errors.js';
import { defineHandler } from '../handler.js';

export const initProducerId = defineHandler<InitProducerIdRequest, InitProducerIdResponseInput>({
  apiKey: ApiKey.InitProducerId,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (ctx.apiVersion >= 6 && (req.enable2Pc || req.keepPreparedTxn)) {
      broker.log.warn('InitProducerId refused: two-phase commit (KIP-939) is not enabled', {
        client: ctx.clientAddress,
        transactionalId: req.transactionalId,
        enable2Pc: req.enable2Pc,
        keepPreparedTxn: req.keepPreparedTxn,
      });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    const denied =
      req.transactionalId === null ? idempotentDenial(ctx) : transactionalIdDenial(ctx, req.transactionalId);
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied, producerId: -1, producerEpoch: -1 };
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
