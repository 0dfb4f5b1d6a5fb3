// The answer to a request whose handler threw (Kafka's AbstractRequest.getErrorResponse): instead of closing the
// connection, the client gets the error for everything it asked about. Every partition, topic, group or
// resource named in the request carries the error code in the response; APIs without such lists carry it as
// their top-level errorCode. When the response of that API version has no field for an error (e.g.
// DescribeLogDirs v0-2), there is no answer and the connection is closed.
//
// The code: KAFKA_STORAGE_ERROR when the handler failed on storage (KafkaStorageError), UNKNOWN_SERVER_ERROR for
// anything else (a bug; the stack is logged).

import { ErrorCode } from '../protocol/errors.js';
import type { AddPartitionsToTxnRequest } from '../protocol/generated/add-partitions-to-txn-request.js';
import type { AlterClientQuotasRequest } from '../protocol/generated/alter-client-quotas-request.js';
import type { AlterUserScramCredentialsRequest } from '../protocol/generated/alter-user-scram-credentials-request.js';
import type { ApiSchema } from '../protocol/generated/apis.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { ConsumerGroupDescribeRequest } from '../protocol/generated/consumer-group-describe-request.js';
import type { CreateAclsRequest } from '../protocol/generated/create-acls-request.js';
import type { CreatePartitionsRequest } from '../protocol/generated/create-partitions-request.js';
import type { CreateTopicsRequest } from '../protocol/generated/create-topics-request.js';
import type { DeleteAclsRequest } from '../protocol/generated/delete-acls-request.js';
import type { DeleteGroupsRequest } from '../protocol/generated/delete-groups-request.js';
import type { DeleteRecordsRequest } from '../protocol/generated/delete-records-request.js';
import type { DeleteTopicsRequest } from '../protocol/generated/delete-topics-request.js';
import type { DescribeConfigsRequest } from '../protocol/generated/describe-configs-request.js';
import type { DescribeGroupsRequest } from '../protocol/generated/describe-groups-request.js';
import type { DescribeProducersRequest } from '../protocol/generated/describe-producers-request.js';
import type { DescribeTopicPartitionsRequest } from '../protocol/generated/describe-topic-partitions-request.js';
import type { DescribeTransactionsRequest } from '../protocol/generated/describe-transactions-request.js';
import type { FetchRequest } from '../protocol/generated/fetch-request.js';
import type { FindCoordinatorRequest } from '../protocol/generated/find-coordinator-request.js';
import type { IncrementalAlterConfigsRequest } from '../protocol/generated/incremental-alter-configs-request.js';
import type { ListOffsetsRequest } from '../protocol/generated/list-offsets-request.js';
import type { MetadataRequest } from '../protocol/generated/metadata-request.js';
import type { OffsetCommitRequest } from '../protocol/generated/offset-commit-request.js';
import type { OffsetFetchRequest } from '../protocol/generated/offset-fetch-request.js';
import type { OffsetForLeaderEpochRequest } from '../protocol/generated/offset-for-leader-epoch-request.js';
import type { ProduceRequest } from '../protocol/generated/produce-request.js';
import type { TxnOffsetCommitRequest } from '../protocol/generated/txn-offset-commit-request.js';
import type { WriteTxnMarkersRequest } from '../protocol/generated/write-txn-markers-request.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { KafkaStorageError } from '../storage/io-errors.js';

const ZERO_UUID = '0'.repeat(32);
const EMPTY = Buffer.alloc(0);
/** Kafka's message for UNKNOWN_SERVER_ERROR. */
const UNEXPECTED = 'The server experienced an unexpected error when processing the request.';

/** Kafka's Errors.forException for what a handler threw. */
export function errorCodeFor(err: unknown): number {
  return err instanceof KafkaStorageError ? ErrorCode.KAFKA_STORAGE_ERROR : ErrorCode.UNKNOWN_SERVER_ERROR;
}

export interface ErrorResponseContext {
  apiKey: number;
  apiVersion: number;
  /** This broker, for the Metadata answer (clients expect to find a broker in it). */
  broker: { nodeId: number; host: string; port: number };
}

/**
 * The response body answering `request` with errorCode everywhere; null when the request wants no response
 * (Produce with acks=0); undefined when the response cannot carry an error at this version.
 */
export function errorResponse(
  schema: ApiSchema,
  ctx: ErrorResponseContext,
  request: unknown,
  errorCode: number,
): unknown | null | undefined {
  const v = ctx.apiVersion;
  const message =
    errorCode === ErrorCode.UNKNOWN_SERVER_ERROR
      ? UNEXPECTED
      : errorCode === ErrorCode.KAFKA_STORAGE_ERROR
        ? 'A storage error occurred.'
        : 'Authorization failed.';
  switch (ctx.apiKey) {
    case ApiKey.Produce: {
      const req = request as ProduceRequest;
      if (req.acks === 0) return null;
      return {
        throttleTimeMs: 0,
        responses: req.topicData.map((t) => ({
          name: t.name,
          topicId: t.topicId,
          partitionResponses: t.partitionData.map((p) => ({
            index: p.index,
            errorCode,
            baseOffset: -1,
            logAppendTimeMs: -1,
            logStartOffset: -1,
            errorMessage: message,
          })),
        })),
      };
    }
    case ApiKey.Fetch: {
      const req = request as FetchRequest;
      return {
        throttleTimeMs: 0,
        errorCode,
        sessionId: 0,
        responses: req.topics.map((t) => ({
          topic: t.topic,
          topicId: t.topicId,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partition,
            errorCode,
            highWatermark: -1,
            lastStableOffset: -1,
            logStartOffset: -1,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: EMPTY,
          })),
        })),
      };
    }
    case ApiKey.ListOffsets:
      return {
        throttleTimeMs: 0,
        topics: (request as ListOffsetsRequest).topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode,
            timestamp: -1,
            offset: -1,
            leaderEpoch: -1,
          })),
        })),
      };
    case ApiKey.Metadata:
      return {
        throttleTimeMs: 0,
        brokers: [{ nodeId: ctx.broker.nodeId, host: ctx.broker.host, port: ctx.broker.port, rack: null }],
        controllerId: ctx.broker.nodeId,
        topics: ((request as MetadataRequest).topics ?? []).map((t) => ({
          errorCode,
          name: t.name ?? (v >= 12 ? null : ''),
          topicId: t.topicId ?? ZERO_UUID,
          partitions: [],
        })),
        errorCode, // v13+: the top-level error too, as Kafka's MetadataRequest.getErrorResponse
      };
    case ApiKey.OffsetCommit:
    case ApiKey.TxnOffsetCommit:
      return {
        throttleTimeMs: 0,
        topics: (request as OffsetCommitRequest | TxnOffsetCommitRequest).topics.map((t) => ({
          name: t.name,
          topicId: 'topicId' in t ? t.topicId : ZERO_UUID,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
        })),
      };
    case ApiKey.OffsetFetch: {
      const req = request as OffsetFetchRequest;
      if (v >= 8) {
        return {
          throttleTimeMs: 0,
          groups: req.groups.map((g) => ({ groupId: g.groupId, topics: [], errorCode })),
        };
      }
      return {
        throttleTimeMs: 0,
        errorCode,
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode,
          })),
        })),
      };
    }
    case ApiKey.FindCoordinator: {
      const req = request as FindCoordinatorRequest;
      const none = { nodeId: -1, host: '', port: -1, errorCode, errorMessage: message };
      if (v >= 4)
        return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map((key) => ({ key, ...none })) };
      return { throttleTimeMs: 0, ...none };
    }
    case ApiKey.DescribeGroups:
      return {
        throttleTimeMs: 0,
        groups: (request as DescribeGroupsRequest).groups.map((groupId) => ({
          errorCode,
          groupId,
          groupState: '',
          protocolType: '',
          protocolData: '',
          members: [],
        })),
      };
    case ApiKey.ConsumerGroupDescribe:
      return {
        throttleTimeMs: 0,
        groups: (request as ConsumerGroupDescribeRequest).groupIds.map((groupId) => ({
          errorCode,
          errorMessage: message,
          groupId,
        })),
      };
    case ApiKey.CreateAcls:
      return {
        throttleTimeMs: 0,
        results: (request as CreateAclsRequest).creations.map(() => ({ errorCode, errorMessage: message })),
      };
    case ApiKey.DeleteAcls:
      return {
        throttleTimeMs: 0,
        filterResults: (request as DeleteAclsRequest).filters.map(() => ({
          errorCode,
          errorMessage: message,
          matchingAcls: [],
        })),
      };
    case ApiKey.AlterUserScramCredentials: {
      const req = request as AlterUserScramCredentialsRequest;
      const users = new Set([...req.deletions, ...req.upsertions].map((u) => u.name));
      return {
        throttleTimeMs: 0,
        results: [...users].map((user) => ({ user, errorCode, errorMessage: message })),
      };
    }
    case ApiKey.AlterClientQuotas:
      return {
        throttleTimeMs: 0,
        entries: (request as AlterClientQuotasRequest).entries.map((e) => ({
          errorCode,
          errorMessage: message,
          entity: e.entity.map((c) => ({ entityType: c.entityType, entityName: c.entityName })),
        })),
      };
    case ApiKey.DeleteGroups:
      return {
        throttleTimeMs: 0,
        results: (request as DeleteGroupsRequest).groupsNames.map((groupId) => ({
          groupId,
          errorCode,
          errorMessage: message,
        })),
      };
    case ApiKey.CreateTopics:
      return {
        throttleTimeMs: 0,
        topics: (request as CreateTopicsRequest).topics.map((t) => ({
          name: t.name,
          topicId: ZERO_UUID,
          errorCode,
          errorMessage: message,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        })),
      };
    case ApiKey.DeleteTopics: {
      const req = request as DeleteTopicsRequest;
      const responses =
        v >= 6
          ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId, errorCode, errorMessage: message }))
          : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID, errorCode, errorMessage: message }));
      return { throttleTimeMs: 0, responses };
    }
    case ApiKey.DeleteRecords:
      return {
        throttleTimeMs: 0,
        topics: (request as DeleteRecordsRequest).topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            lowWatermark: -1,
            errorCode,
          })),
        })),
      };
    case ApiKey.OffsetForLeaderEpoch:
      return {
        throttleTimeMs: 0,
        topics: (request as OffsetForLeaderEpochRequest).topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => ({
            errorCode,
            partition: p.partition,
            leaderEpoch: -1,
            endOffset: -1,
          })),
        })),
      };
    case ApiKey.DescribeConfigs:
      return {
        throttleTimeMs: 0,
        results: (request as DescribeConfigsRequest).resources.map((r) => ({
          errorCode,
          errorMessage: message,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: [],
        })),
      };
    case ApiKey.AlterConfigs:
    case ApiKey.IncrementalAlterConfigs:
      return {
        throttleTimeMs: 0,
        responses: (request as IncrementalAlterConfigsRequest).resources.map((r) => ({
          errorCode,
          errorMessage: message,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
        })),
      };
    case ApiKey.CreatePartitions:
      return {
        throttleTimeMs: 0,
        results: (request as CreatePartitionsRequest).topics.map((t) => ({
          name: t.name,
          errorCode,
          errorMessage: message,
        })),
      };
    case ApiKey.AddPartitionsToTxn: {
      const req = request as AddPartitionsToTxnRequest;
      if (v >= 4) return topLevelError(schema, v, errorCode, message);
      return {
        throttleTimeMs: 0,
        resultsByTopicV3AndBelow: req.v3AndBelowTopics.map((t) => ({
          name: t.name,
          resultsByPartition: t.partitions.map((partitionIndex) => ({
            partitionIndex,
            partitionErrorCode: errorCode,
          })),
        })),
      };
    }
    case ApiKey.WriteTxnMarkers:
      return {
        markers: (request as WriteTxnMarkersRequest).markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode })),
          })),
        })),
      };
    case ApiKey.DescribeTransactions:
      return {
        throttleTimeMs: 0,
        transactionStates: (request as DescribeTransactionsRequest).transactionalIds.map(
          (transactionalId) => ({
            errorCode,
            transactionalId,
            transactionState: '',
            transactionTimeoutMs: 0,
            transactionStartTimeMs: -1,
            producerId: -1,
            producerEpoch: -1,
            topics: [],
          }),
        ),
      };
    case ApiKey.DescribeProducers:
      return {
        throttleTimeMs: 0,
        topics: (request as DescribeProducersRequest).topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            errorCode,
            errorMessage: message,
            activeProducers: [],
          })),
        })),
      };
    case ApiKey.DescribeTopicPartitions:
      return {
        throttleTimeMs: 0,
        topics: (request as DescribeTopicPartitionsRequest).topics.map((t) => ({
          errorCode,
          name: t.name,
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
        })),
        nextCursor: null,
      };
    default:
      return topLevelError(schema, v, errorCode, message);
  }
}

/** `{ errorCode }` when the response has that field at this version (checked by a round trip), else undefined. */
function topLevelError(
  schema: ApiSchema,
  version: number,
  errorCode: number,
  errorMessage: string,
): unknown | undefined {
  const body = { throttleTimeMs: 0, errorCode, errorMessage };
  try {
    const w = new Writer(64);
    schema.encodeResponse(w, version, body);
    const back = schema.decodeResponse(new Reader(w.toBuffer()), version) as { errorCode?: number };
    return back.errorCode === errorCode ? body : undefined;
  } catch {
    return undefined;
  }
}
