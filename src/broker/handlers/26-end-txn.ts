// EndTxn (key 26), v0-5: a transactional producer commits or aborts its transaction. Answered once
// PrepareCommit/PrepareAbort is written; the markers follow (src/coordinator/txn/coordinator.ts). v5 is
// transaction version 2 (KIP-890 part 2): the coordinator bumps the producer's epoch at every end (the markers
// carry the new epoch, so a late write of the ended transaction is fenced) and the response carries the producer
// id and epoch to continue with (a new producer id at epoch 0 when the epoch is exhausted); decisions in
// src/coordinator/txn/end-txn.ts. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2, as Kafka.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { EndTxnRequest } from '../../protocol/generated/end-txn-request.js';
import type { EndTxnResponseInput } from '../../protocol/generated/end-txn-response.js';
import { transactionalIdDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const endTxn = defineHandler<EndTxnRequest, EndTxnResponseInput>({
  apiKey: ApiKey.EndTxn,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const denied = transactionalIdDenial(ctx, req.transactionalId);
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied, producerId: -1, producerEpoch: -1 };
    const res = await ctx.broker.transactions.endTxn(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed,
      ctx.apiVersion >= 5 ? 2 : 0,
    );
    const errorCode =
      res.errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2
        ? ErrorCode.INVALID_PRODUCER_EPOCH
        : res.errorCode;
    return { throttleTimeMs: 0, errorCode, producerId: res.producerId, producerEpoch: res.producerEpoch };
  },
});
