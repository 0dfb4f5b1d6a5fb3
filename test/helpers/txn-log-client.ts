// Requests of the transactional log tests (test/broker/transactions-log.test.ts, test/cluster/txn-log.test.ts):
// each sends one request with the internal client and returns the part of the answer a test checks.

import assert from 'node:assert/strict';
import type { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type {
  FetchResponse,
  FetchResponsePartitionData,
} from '../../src/protocol/generated/fetch-response.js';
import type { InitProducerIdResponse } from '../../src/protocol/generated/init-producer-id-response.js';
import type { ListOffsetsResponse } from '../../src/protocol/generated/list-offsets-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import type { WriteTxnMarkersResponse } from '../../src/protocol/generated/write-txn-markers-response.js';
import { encodeRecordBatch, iterateBatches } from '../../src/protocol/records.js';

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

/** A producer id from InitProducerId without a transactional id (epoch 0). */
export async function producerId(conn: KafkaConnection): Promise<number> {
  const res = await conn.request<InitProducerIdResponse>(ApiKey.InitProducerId, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.equal(res.errorCode, ErrorCode.NONE);
  return res.producerId;
}

/**
 * Brokers of the log-level tests, which write transactional batches no coordinator knows of (the coordinator's
 * verification, KIP-890 part 1, would refuse them, as Kafka 3.6+ does).
 */
export const NO_TXN_VERIFICATION: Record<string, string> = {
  'transaction.partition.verification.enable': 'false',
};

/** One acks=all produce of one batch to partition 0 (v11: a transaction version 1 producer's write). */
export async function produce(
  conn: KafkaConnection,
  topic: string,
  batch: Buffer,
  transactionalId: string | null,
): Promise<{ errorCode: number; baseOffset: number }> {
  const res = await conn.request<ProduceResponse>(
    ApiKey.Produce,
    {
      transactionalId,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
    },
    11,
  );
  return res.responses[0]!.partitionResponses[0]!;
}

export function txnBatch(pid: number, seq: number, values: string[], epoch = 0): Buffer {
  return encodeRecordBatch({
    records: values.map((value) => ({ value })),
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    isTransactional: true,
  });
}

export interface MarkerSpec {
  pid: number;
  commit: boolean;
  epoch?: number;
  coordinatorEpoch?: number;
  partitions?: number[];
}

/** WriteTxnMarkers; the error codes of every partition, in request order. */
export async function writeMarkers(
  conn: KafkaConnection,
  topic: string,
  list: MarkerSpec[],
): Promise<number[]> {
  const res = await conn.request<WriteTxnMarkersResponse>(ApiKey.WriteTxnMarkers, {
    markers: list.map((m) => ({
      producerId: m.pid,
      producerEpoch: m.epoch ?? 0,
      transactionResult: m.commit,
      coordinatorEpoch: m.coordinatorEpoch ?? 3,
      topics: [{ name: topic, partitionIndexes: m.partitions ?? [0] }],
    })),
  });
  return res.markers.flatMap((m) => m.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)));
}

/** A consumer fetch of partition 0 (topicId for v13+). */
export async function fetchPartition(
  conn: KafkaConnection,
  topic: string,
  topicId: string,
  offset: number,
  isolationLevel: number,
  maxWaitMs = 0,
): Promise<FetchResponsePartitionData> {
  const res = await conn.request<FetchResponse>(ApiKey.Fetch, {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId,
        partitions: [
          {
            partition: 0,
            fetchOffset: offset,
            partitionMaxBytes: 1 << 20,
            currentLeaderEpoch: -1,
            logStartOffset: -1,
            lastFetchedEpoch: -1,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  return res.responses[0]!.partitions[0]!;
}

/** ListOffsets latest (-1) of partition 0 at an isolation level. */
export async function latestOffset(
  conn: KafkaConnection,
  topic: string,
  isolationLevel: number,
): Promise<number> {
  const res = await conn.request<ListOffsetsResponse>(ApiKey.ListOffsets, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
  });
  const p = res.topics[0]!.partitions[0]!;
  assert.equal(p.errorCode, ErrorCode.NONE);
  return p.offset;
}

/** The batches of a fetch: [baseOffset, lastOffset, isControl]. */
export function batchesOf(p: FetchResponsePartitionData): [number, number, boolean][] {
  const out: [number, number, boolean][] = [];
  for (const { header } of iterateBatches(p.records ?? Buffer.alloc(0))) {
    out.push([
      header.baseOffset,
      header.baseOffset + header.lastOffsetDelta,
      (header.attributes & 0x20) !== 0,
    ]);
  }
  return out;
}
