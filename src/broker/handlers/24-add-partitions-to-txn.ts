// AddPartitionsToTxn (key 24), v0-3: a transactional producer adds the partitions it is about to write to its
// transaction (src/coordinator/txn/coordinator.ts). v4+ (KIP-890's batched, broker-to-broker form) is not
// served: we speak transaction version 1. As Kafka's handler: a partition the cluster does not have gets
// UNKNOWN_TOPIC_OR_PARTITION and every other one OPERATION_NOT_ATTEMPTED, without touching the transaction;
// otherwise the coordinator's answer goes to every partition (PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2).

import type { TxnPartitions } from '../../coordinator/txn/metadata.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { AddPartitionsToTxnRequest } from '../../protocol/generated/add-partitions-to-txn-request.js';
import type { AddPartitionsToTxnResponseInput } from '../../protocol/generated/add-partitions-to-txn-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import { defineHandler } from '../handler.js';

export const addPartitionsToTxn = defineHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponseInput>({
  apiKey: ApiKey.AddPartitionsToTxn,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req) {
    const cache = ctx.broker.metadataCache;
    const partitions: TxnPartitions = new Map();
    let unknown = false;
    for (const t of req.v3AndBelowTopics) {
      const set = partitions.get(t.name) ?? new Set<number>();
      for (const p of t.partitions) {
        set.add(p);
        if (cache.partition(t.name, p) === undefined) unknown = true;
      }
      partitions.set(t.name, set);
    }
    const answer = (code: (topic: string, p: number) => number): AddPartitionsToTxnResponseInput => ({
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: [...partitions].map(([name, set]) => ({
        name,
        resultsByPartition: [...set].map((p) => ({ partitionIndex: p, partitionErrorCode: code(name, p) })),
      })),
    });
    if (unknown) {
      return answer((topic, p) =>
        cache.partition(topic, p) === undefined
          ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          : ErrorCode.OPERATION_NOT_ATTEMPTED,
      );
    }
    let err = await ctx.broker.transactions.addPartitions(
      req.v3AndBelowTransactionalId,
      req.v3AndBelowProducerId,
      req.v3AndBelowProducerEpoch,
      partitions,
    );
    if (err === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) err = ErrorCode.INVALID_PRODUCER_EPOCH;
    return answer(() => err);
  },
});
