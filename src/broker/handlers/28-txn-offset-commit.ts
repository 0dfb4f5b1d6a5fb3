// TxnOffsetCommit (key 28), v0-4: a transactional producer commits its consumer group's offsets inside
// its transaction (sendOffsetsToTransaction, after AddOffsetsToTxn). Checked as OffsetCommit (v3+ carries
// the group's generation, member id and group.instance.id; v0-2 carry none and are accepted in any group
// state), appended to the group's partition of __consumer_offsets as one transactional batch of the
// producer (producerId, producerEpoch; an older epoch than the partition knows -> INVALID_PRODUCER_EPOCH) and
// answered once that write is committed. The offsets stay invisible to OffsetFetch until the transaction's
// marker commits them (OffsetFetch v7+ require_stable answers UNSTABLE_OFFSET_COMMIT meanwhile); an abort
// drops them (src/coordinator/group/txn-offsets.ts). v2+ carries the committed leader epoch; v3+ is
// flexible; v4 (KIP-890) only adds TRANSACTION_ABORTABLE, which this broker does not return.
// Errors as OffsetCommit: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, per partition
// UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS; INVALID_GROUP_ID for an empty group id; no producer id
// INVALID_PRODUCER_ID_MAPPING. Not done: KIP-890's check with the transaction coordinator that the group
// was added to the transaction (Kafka's transaction.partition.verification.enable).

import { ApiKey } from '../../protocol/generated/apis.js';
import type { TxnOffsetCommitRequest } from '../../protocol/generated/txn-offset-commit-request.js';
import type { TxnOffsetCommitResponseInput } from '../../protocol/generated/txn-offset-commit-response.js';
import { defineHandler } from '../handler.js';

export const txnOffsetCommit = defineHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponseInput>({
  apiKey: ApiKey.TxnOffsetCommit,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const topics = await ctx.broker.groups.txnCommit({
      transactionalId: req.transactionalId,
      groupId: req.groupId,
      producerId: req.producerId,
      producerEpoch: req.producerEpoch,
      generationId: v >= 3 ? req.generationIdOrMemberEpoch : -1,
      memberId: v >= 3 ? req.memberId : '',
      groupInstanceId: v >= 3 ? req.groupInstanceId : null,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: v >= 2 ? p.committedLeaderEpoch : -1,
          committedMetadata: p.committedMetadata,
        })),
      })),
    });
    return { throttleTimeMs: 0, topics };
  },
});
