// AddPartitionsToTxn (key 24), v0-5.
// v0-3, a transactional producer (transaction version 1) adds the partitions it is about to write to its
// transaction (src/coordinator/txn/coordinator.ts). As Kafka's handler: a partition the cluster does not have
// gets UNKNOWN_TOPIC_OR_PARTITION and every other one OPERATION_NOT_ATTEMPTED, without touching the transaction;
// otherwise the coordinator's answer goes to every partition (PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2).
// v4-5 is the brokers' form (KIP-890), batched by transactional id with a top-level error code: a partition leader
// either verifies that the partitions of a transactional produce are in the producer's transaction (verifyOnly,
// part 1: per partition NONE or TRANSACTION_ABORTABLE) or, for Produce v12 / TxnOffsetCommit v5 under transaction
// version 2 (part 2), adds them (v5: as a TV2 transaction). Each transaction is answered on its own, as Kafka.

import type { TxnPartitions } from '../../coordinator/txn/metadata.js';
import { ErrorCode } from '../../protocol/errors.js';
import type {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnRequestAddPartitionsToTxnTopic,
} from '../../protocol/generated/add-partitions-to-txn-request.js';
import type {
  AddPartitionsToTxnResponseAddPartitionsToTxnTopicResultInput,
  AddPartitionsToTxnResponseInput,
} from '../../protocol/generated/add-partitions-to-txn-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import { authorize, deniedNames, transactionalIdDenial } from '../../security/authorizer.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

type TopicResults = AddPartitionsToTxnResponseAddPartitionsToTxnTopicResultInput[];

function partitionsOf(topics: readonly AddPartitionsToTxnRequestAddPartitionsToTxnTopic[]): TxnPartitions {
  const partitions: TxnPartitions = new Map();
  for (const t of topics) {
    const set = partitions.get(t.name) ?? new Set<number>();
    for (const p of t.partitions) set.add(p);
    partitions.set(t.name, set);
  }
  return partitions;
}

function results(partitions: TxnPartitions, code: (topic: string, p: number) => number): TopicResults {
  return [...partitions].map(([name, set]) => ({
    name,
    resultsByPartition: [...set].map((p) => ({ partitionIndex: p, partitionErrorCode: code(name, p) })),
  }));
}

/** UNKNOWN_TOPIC_OR_PARTITION for the partitions the cluster lacks and OPERATION_NOT_ATTEMPTED for the rest. */
function unknownPartitions(broker: Broker, partitions: TxnPartitions): TopicResults | null {
  const cache = broker.metadataCache;
  let unknown = false;
  for (const [topic, set] of partitions)
    for (const p of set) if (cache.partition(topic, p) === undefined) unknown = true;
  if (!unknown) return null;
  return results(partitions, (topic, p) =>
    cache.partition(topic, p) === undefined
      ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      : ErrorCode.OPERATION_NOT_ATTEMPTED,
  );
}

/** One transaction of a v4+ request. */
async function brokerTransaction(
  broker: Broker,
  version: number,
  txn: AddPartitionsToTxnRequest['transactions'][number],
): Promise<TopicResults> {
  const partitions = partitionsOf(txn.topics);
  const unknown = unknownPartitions(broker, partitions);
  if (unknown !== null) return unknown;
  // TRANSACTION_ABORTABLE is v5's; a v4 requester gets what Kafka's leaders gave older producers.
  const compat = (code: number): number =>
    code === ErrorCode.TRANSACTION_ABORTABLE && version < 5 ? ErrorCode.INVALID_TXN_STATE : code;
  if (txn.verifyOnly) {
    const r = broker.transactions.verifyPartitions(
      txn.transactionalId,
      txn.producerId,
      txn.producerEpoch,
      partitions,
    );
    if (typeof r === 'number') return results(partitions, () => compat(r));
    return results(partitions, (topic, p) => compat(r.get(topic)?.get(p) ?? ErrorCode.UNKNOWN_SERVER_ERROR));
  }
  const err = await broker.transactions.addPartitions(
    txn.transactionalId,
    txn.producerId,
    txn.producerEpoch,
    partitions,
    version >= 5 ? 2 : 0,
  );
  return results(partitions, () => compat(err));
}

export const addPartitionsToTxn = defineHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponseInput>({
  apiKey: ApiKey.AddPartitionsToTxn,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (ctx.apiVersion >= 4) {
      // The brokers' form: only a broker (CLUSTER_ACTION on the cluster) may send it, as Kafka checks.
      if (!authorize(ctx, 'CLUSTER_ACTION', 'CLUSTER'))
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          resultsByTransaction: [],
        };
      const resultsByTransaction = await Promise.all(
        req.transactions.map(async (txn) => ({
          transactionalId: txn.transactionalId,
          topicResults: await brokerTransaction(broker, ctx.apiVersion, txn),
        })),
      );
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction };
    }
    const partitions = partitionsOf(req.v3AndBelowTopics);
    // WRITE on the transactional id (every partition answers 53), then WRITE on each topic (29 for those, the
    // others OPERATION_NOT_ATTEMPTED), as Kafka checks.
    const txnDenied = transactionalIdDenial(ctx, req.v3AndBelowTransactionalId);
    if (txnDenied !== 0)
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: results(partitions, () => txnDenied) };
    const deniedTopics = deniedNames(ctx, 'WRITE', 'TOPIC', partitions.keys());
    if (deniedTopics.size > 0) {
      return {
        throttleTimeMs: 0,
        resultsByTopicV3AndBelow: results(partitions, (topic) =>
          deniedTopics.has(topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED,
        ),
      };
    }
    const unknown = unknownPartitions(broker, partitions);
    if (unknown !== null) return { throttleTimeMs: 0, resultsByTopicV3AndBelow: unknown };
    let err = await broker.transactions.addPartitions(
      req.v3AndBelowTransactionalId,
      req.v3AndBelowProducerId,
      req.v3AndBelowProducerEpoch,
      partitions,
    );
    if (err === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) err = ErrorCode.INVALID_PRODUCER_EPOCH;
    return { throttleTimeMs: 0, resultsByTopicV3AndBelow: results(partitions, () => err) };
  },
});
