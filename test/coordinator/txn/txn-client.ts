// Requests a transactional producer and an admin send to the transaction coordinator, over a real connection,
// for the coordinator's tests.

import type { KafkaConnection } from '../../../src/client/connection.js';
import type { AddOffsetsToTxnResponse } from '../../../src/protocol/generated/add-offsets-to-txn-response.js';
import type { AddPartitionsToTxnResponse } from '../../../src/protocol/generated/add-partitions-to-txn-response.js';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import type {
  DescribeTransactionsResponse,
  DescribeTransactionsResponseTransactionState,
} from '../../../src/protocol/generated/describe-transactions-response.js';
import type { EndTxnResponse } from '../../../src/protocol/generated/end-txn-response.js';
import type { FindCoordinatorResponse } from '../../../src/protocol/generated/find-coordinator-response.js';
import type { InitProducerIdResponse } from '../../../src/protocol/generated/init-producer-id-response.js';
import type { ListTransactionsResponse } from '../../../src/protocol/generated/list-transactions-response.js';

export async function findTxnCoordinator(
  c: KafkaConnection,
  transactionalId: string,
): Promise<{ errorCode: number; nodeId: number; host: string; port: number }> {
  const res = await c.request<FindCoordinatorResponse>(
    ApiKey.FindCoordinator,
    { keyType: 1, coordinatorKeys: [transactionalId] },
    4,
  );
  const r = res.coordinators[0]!;
  return { errorCode: r.errorCode, nodeId: r.nodeId, host: r.host, port: r.port };
}

export function initProducerId(
  c: KafkaConnection,
  transactionalId: string,
  opts: { timeoutMs?: number; producerId?: number; producerEpoch?: number; version?: number } = {},
): Promise<InitProducerIdResponse> {
  return c.request<InitProducerIdResponse>(
    ApiKey.InitProducerId,
    {
      transactionalId,
      transactionTimeoutMs: opts.timeoutMs ?? 60_000,
      producerId: opts.producerId ?? -1,
      producerEpoch: opts.producerEpoch ?? -1,
    },
    opts.version ?? 4,
  );
}

export interface Producer {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
}

/** AddPartitionsToTxn (v3 unless given): the error code of each partition, as "topic:p" -> code. */
export async function addPartitions(
  c: KafkaConnection,
  p: Producer,
  topics: Record<string, number[]>,
  version = 3,
): Promise<Map<string, number>> {
  const res = await c.request<AddPartitionsToTxnResponse>(
    ApiKey.AddPartitionsToTxn,
    {
      v3AndBelowTransactionalId: p.transactionalId,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
    },
    version,
  );
  const out = new Map<string, number>();
  for (const t of res.resultsByTopicV3AndBelow) {
    for (const r of t.resultsByPartition) out.set(`${t.name}:${r.partitionIndex}`, r.partitionErrorCode);
  }
  return out;
}

export async function addOffsets(c: KafkaConnection, p: Producer, groupId: string): Promise<number> {
  const res = await c.request<AddOffsetsToTxnResponse>(
    ApiKey.AddOffsetsToTxn,
    { transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, groupId },
    3,
  );
  return res.errorCode;
}

export async function endTxn(c: KafkaConnection, p: Producer, commit: boolean, version = 3): Promise<number> {
  const res = await c.request<EndTxnResponse>(
    ApiKey.EndTxn,
    {
      transactionalId: p.transactionalId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      committed: commit,
    },
    version,
  );
  return res.errorCode;
}

export async function describeTxn(
  c: KafkaConnection,
  transactionalId: string,
): Promise<DescribeTransactionsResponseTransactionState> {
  const res = await c.request<DescribeTransactionsResponse>(ApiKey.DescribeTransactions, {
    transactionalIds: [transactionalId],
  });
  return res.transactionStates[0]!;
}

export function listTxns(
  c: KafkaConnection,
  filters: { states?: string[]; producerIds?: number[]; durationMs?: number } = {},
): Promise<ListTransactionsResponse> {
  return c.request<ListTransactionsResponse>(
    ApiKey.ListTransactions,
    {
      stateFilters: filters.states ?? [],
      producerIdFilters: filters.producerIds ?? [],
      durationFilter: filters.durationMs ?? -1,
    },
    1,
  );
}
