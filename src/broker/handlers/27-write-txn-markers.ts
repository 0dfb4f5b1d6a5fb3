// WriteTxnMarkers (key 27), v1-2 (Kafka 4 removed v0): a transaction coordinator (this broker's or another's)
// asks the leaders of a transaction's partitions to write its commit or abort marker (txn-markers.ts). v2 adds
// each marker's transaction version (KIP-1228); a TV2 marker carries the epoch its EndTxn bumped, higher than the
// transaction's data, which the log accepts as any newer epoch (the strict check of KIP-1228, marker epoch above
// the data's, is not made: a retried marker at the same epoch must stay idempotent here).
//
// Per marker, per partition: NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION when not led here; the marker is
// appended with acks=all semantics (NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas) and the answer
// waits until the high watermark passes it (REQUEST_TIMED_OUT after txnMarkerReplicationTimeoutMs). The log
// refuses an older producer epoch (INVALID_PRODUCER_EPOCH) and an older coordinator epoch
// (TRANSACTION_COORDINATOR_FENCED). Internal topics are written too: for a partition of __consumer_offsets
// the group coordinator applies or drops the transaction's pending offsets once the marker is replicated
// (Kafka's GroupCoordinator.onTransactionCompleted).

import { topicConfigValue } from '../../config/topic-config.js';
import { OFFSETS_TOPIC } from '../../coordinator/group/records.js';
import * as limits from '../../limits.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type {
  WriteTxnMarkersRequest,
  WriteTxnMarkersRequestWritableTxnMarker,
} from '../../protocol/generated/write-txn-markers-request.js';
import type { WriteTxnMarkersResponseInput } from '../../protocol/generated/write-txn-markers-response.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

/** One marker as WriteTxnMarkers carries it. */
export type TxnMarkerRequest = Pick<
  WriteTxnMarkersRequestWritableTxnMarker,
  'producerId' | 'producerEpoch' | 'coordinatorEpoch' | 'transactionResult'
>;

/**
 * Writes one marker to one partition led here; resolves with the partition's error code once replicated (or
 * failed). What handler 27 does per partition; a transaction coordinator may call it directly for this broker's
 * own partitions (`from` names the caller in log lines).
 */
export async function writeTxnMarker(
  broker: Broker,
  marker: TxnMarkerRequest,
  topic: string,
  index: number,
  from = 'local',
): Promise<number> {
  const partition = broker.replicas.leaderFor(topic, index);
  if (typeof partition === 'number') return partition;
  const minIsr = Number(topicConfigValue(broker.config, broker.topicConfig(topic), 'min.insync.replicas'));
  const res = partition.appendTxnMarkerAsLeader(
    {
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      coordinatorEpoch: marker.coordinatorEpoch,
      commit: marker.transactionResult,
    },
    minIsr,
    Date.now(),
  );
  let errorCode = res.errorCode;
  if (errorCode === ErrorCode.NONE && partition.highWatermark <= res.lastOffset) {
    errorCode = await partition.waitForHighWatermark(
      res.lastOffset,
      minIsr,
      limits.txnMarkerReplicationTimeoutMs,
    );
  }
  if (errorCode !== ErrorCode.NONE) {
    broker.log[errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? 'debug' : 'warn'](
      'transaction marker not written',
      {
        client: from,
        topic,
        partition: index,
        producerId: marker.producerId,
        producerEpoch: marker.producerEpoch,
        coordinatorEpoch: marker.coordinatorEpoch,
        commit: marker.transactionResult,
        errorCode,
        error: res.errorMessage,
      },
    );
    return errorCode;
  }
  if (topic === OFFSETS_TOPIC)
    broker.groups.completeTransaction(index, marker.producerId, marker.transactionResult);
  broker.auditCounters?.onMarker(topic, index, marker.producerId, marker.transactionResult);
  return ErrorCode.NONE;
}

export const writeTxnMarkers = defineHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponseInput>({
  apiKey: ApiKey.WriteTxnMarkers,
  name: 'WriteTxnMarkers',
  minVersion: 1,
  maxVersion: 2,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const markers = await Promise.all(
      req.markers.map(async (m) => ({
        producerId: m.producerId,
        topics: await Promise.all(
          m.topics.map(async (t) => ({
            name: t.name,
            partitions: await Promise.all(
              t.partitionIndexes.map(async (index) => ({
                partitionIndex: index,
                errorCode: await writeTxnMarker(broker, m, t.name, index, ctx.clientAddress),
              })),
            ),
          })),
        ),
      })),
    );
    return { markers };
  },
});
