// AddOffsetsToTxn (key 25), v0-4: a transactional producer about to commit a group's offsets in its transaction
// (TxnOffsetCommit, sendOffsetsToTransaction) adds that group's __consumer_offsets partition to the transaction,
// so the partition gets the transaction's marker (src/coordinator/txn/coordinator.ts). PRODUCER_FENCED is
// INVALID_PRODUCER_EPOCH before v2, as Kafka.

import { OFFSETS_TOPIC } from '../../coordinator/group/records.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { AddOffsetsToTxnRequest } from '../../protocol/generated/add-offsets-to-txn-request.js';
import type { AddOffsetsToTxnResponseInput } from '../../protocol/generated/add-offsets-to-txn-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import { groupDenial, transactionalIdDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const addOffsetsToTxn = defineHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponseInput>({
  apiKey: ApiKey.AddOffsetsToTxn,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const denied = transactionalIdDenial(ctx, req.transactionalId) || groupDenial(ctx, 'READ', req.groupId);
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied };
    if (broker.metadataCache.topic(OFFSETS_TOPIC) === undefined) {
      // The group's coordinator is found (and the topic created) after this request: make sure it exists so the
      // partition is the one the group will have.
      const created = await broker.ensureOffsetsTopic();
      if (created !== ErrorCode.NONE)
        return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    }
    const partition = broker.groups.stateLog.partitionFor(req.groupId);
    let errorCode = await broker.transactions.addPartitions(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      new Map([[OFFSETS_TOPIC, new Set([partition])]]),
    );
    if (errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2)
      errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    return { throttleTimeMs: 0, errorCode };
  },
});
