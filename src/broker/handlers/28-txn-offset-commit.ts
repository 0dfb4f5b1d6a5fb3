// TxnOffsetCommit (key 28), v0-6: a transactional producer commits its consumer group's offsets inside
// its transaction (sendOffsetsToTransaction, after AddOffsetsToTxn). Checked as OffsetCommit (v3+ carries
// the group's generation, member id and group.instance.id; v0-2 carry none and are accepted in any group
// state), appended to the group's partition of __consumer_offsets as one transactional batch of the
// producer (producerId, producerEpoch; an older epoch than the partition knows -> INVALID_PRODUCER_EPOCH) and
// answered once that write is committed. The offsets stay invisible to OffsetFetch until the transaction's
// marker commits them (OffsetFetch v7+ require_stable answers UNSTABLE_OFFSET_COMMIT meanwhile); an abort
// drops them (src/coordinator/group/txn-offsets.ts). v2+ carries the committed leader epoch; v3+ is
// flexible; v4 (KIP-890) adds TRANSACTION_ABORTABLE.
// KIP-890: before the write, the group's __consumer_offsets partition is checked with the transaction
// coordinator (src/broker/txn-verification.ts): v5 under transaction version 2 adds it to the transaction (the
// producer sends no AddOffsetsToTxn); older versions verify that AddOffsetsToTxn added it
// (transaction.partition.verification.enable), else INVALID_TXN_STATE (TRANSACTION_ABORTABLE for v4+).
// v6 (KIP-1319) names topics by id: an unknown id is UNKNOWN_TOPIC_ID.
// Errors as OffsetCommit: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, per partition
// UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS; INVALID_GROUP_ID for an empty group id; no producer id
// INVALID_PRODUCER_ID_MAPPING.

import { OFFSETS_TOPIC } from '../../coordinator/group/records.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { TxnOffsetCommitRequest } from '../../protocol/generated/txn-offset-commit-request.js';
import type {
  TxnOffsetCommitResponseInput,
  TxnOffsetCommitResponseTxnOffsetCommitResponseTopicInput,
} from '../../protocol/generated/txn-offset-commit-response.js';
import { commitDenials, transactionalIdDenial } from '../../security/authorizer.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';
import { txnVerifier } from '../txn-verification.js';

/** The coordinator's answer about the group's offsets partition: NONE when no check is needed. */
async function offsetsPartitionCheck(
  broker: Broker,
  req: TxnOffsetCommitRequest,
  version: number,
): Promise<number> {
  const config = broker.transactions.config;
  const add = version >= 5 && config.transactionVersion >= 2;
  if ((!add && !config.partitionVerification) || req.producerId < 0 || req.groupId === '')
    return ErrorCode.NONE;
  if (broker.metadataCache.topic(OFFSETS_TOPIC) === undefined) return ErrorCode.NONE;
  const index = broker.groups.stateLog.partitionFor(req.groupId);
  const partition = broker.replicas.leaderFor(OFFSETS_TOPIC, index);
  if (typeof partition === 'number') return ErrorCode.NONE; // the group coordinator answers NOT_COORDINATOR
  const entry = partition.log.producerState.entry(req.producerId);
  if (entry !== undefined && entry.producerEpoch === req.producerEpoch && entry.currentTxnFirstOffset >= 0)
    return ErrorCode.NONE;
  const verdict = await txnVerifier(broker).check({
    transactionalId: req.transactionalId,
    producerId: req.producerId,
    producerEpoch: req.producerEpoch,
    partitions: new Map([[OFFSETS_TOPIC, new Set([index])]]),
    mode: add ? 'add' : 'verify',
    abortableSupported: version >= 4,
  });
  return verdict.get(OFFSETS_TOPIC)?.get(index) ?? ErrorCode.NONE;
}

export const txnOffsetCommit = defineHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponseInput>({
  apiKey: ApiKey.TxnOffsetCommit,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const broker = ctx.broker;
    const byId = v >= 6;
    // v6: topic ids; the ones this cluster does not know are answered UNKNOWN_TOPIC_ID.
    const unknownIds: TxnOffsetCommitResponseTxnOffsetCommitResponseTopicInput[] = [];
    const idOf = new Map<string, string>();
    const topics: { name: string; partitions: TxnOffsetCommitRequest['topics'][number]['partitions'] }[] = [];
    for (const t of req.topics) {
      const name = byId ? broker.metadataCache.topicById(t.topicId)?.name : t.name;
      if (name === undefined) {
        unknownIds.push({
          topicId: t.topicId,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
          })),
        });
        continue;
      }
      idOf.set(name, t.topicId);
      topics.push({ name, partitions: t.partitions });
    }
    const key = (name: string): { name: string } | { topicId: string } =>
      byId ? { topicId: idOf.get(name) ?? '' } : { name };
    // WRITE on the transactional id (53 everywhere), READ on the group (30) and on each topic (29); the allowed
    // topics are committed, as Kafka does.
    const txnDenied = transactionalIdDenial(ctx, req.transactionalId);
    if (txnDenied !== 0) {
      return {
        throttleTimeMs: 0,
        topics: [
          ...topics.map((t) => ({
            ...key(t.name),
            partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: txnDenied })),
          })),
          ...unknownIds,
        ],
      };
    }
    const refused = commitDenials(ctx, req.groupId, topics);
    topics.splice(0, topics.length, ...refused.allowed);
    for (const t of refused.answers) unknownIds.push({ ...key(t.name), partitions: t.partitions });
    const check = topics.length === 0 ? ErrorCode.NONE : await offsetsPartitionCheck(broker, req, v);
    if (check !== ErrorCode.NONE) {
      broker.log[check === ErrorCode.NOT_ENOUGH_REPLICAS ? 'debug' : 'warn'](
        'transactional offset commit refused by the transaction coordinator',
        {
          client: ctx.clientAddress,
          transactionalId: req.transactionalId,
          groupId: req.groupId,
          errorCode: check,
        },
      );
      // NOT_ENOUGH_REPLICAS is the produce path's retriable answer; a commit's is COORDINATOR_LOAD_IN_PROGRESS.
      const code = check === ErrorCode.NOT_ENOUGH_REPLICAS ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : check;
      return {
        throttleTimeMs: 0,
        topics: [
          ...topics.map((t) => ({
            ...key(t.name),
            partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
          })),
          ...unknownIds,
        ],
      };
    }
    const results =
      topics.length === 0
        ? []
        : await broker.groups.txnCommit({
            transactionalId: req.transactionalId,
            groupId: req.groupId,
            producerId: req.producerId,
            producerEpoch: req.producerEpoch,
            generationId: v >= 3 ? req.generationIdOrMemberEpoch : -1,
            memberId: v >= 3 ? req.memberId : '',
            groupInstanceId: v >= 3 ? req.groupInstanceId : null,
            topics: topics.map((t) => ({
              name: t.name,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partitionIndex,
                committedOffset: p.committedOffset,
                committedLeaderEpoch: v >= 2 ? p.committedLeaderEpoch : -1,
                committedMetadata: p.committedMetadata,
              })),
            })),
          });
    return {
      throttleTimeMs: 0,
      topics: [...results.map((t) => ({ ...key(t.name), partitions: t.partitions })), ...unknownIds],
    };
  },
});
