// EndTxn (key 26), v0-4: a transactional producer commits or aborts its transaction. Answered once
// PrepareCommit/PrepareAbort is written; the markers follow (src/coordinator/txn/coordinator.ts). v5 (KIP-890's
// epoch bump per transaction) is not served: we speak transaction version 1. PRODUCER_FENCED is
// INVALID_PRODUCER_EPOCH before v2, as Kafka.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { EndTxnRequest } from '../../protocol/generated/end-txn-request.js';
import type { EndTxnResponseInput } from '../../protocol/generated/end-txn-response.js';
import { defineHandler } from '../handler.js';

export const endTxn = defineHandler<EndTxnRequest, EndTxnResponseInput>({
  apiKey: ApiKey.EndTxn,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    let errorCode = await ctx.broker.transactions.endTxn(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed,
    );
    if (errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2)
      errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    return { throttleTimeMs: 0, errorCode };
  },
});
