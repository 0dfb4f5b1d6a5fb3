// DescribeProducers (key 61), v0 (KIP-664): the producer state a partition's leader keeps, for
// `samsa transactions describe-producers` / find-hanging and Kafka's Admin.describeProducers. Per partition:
// UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER_OR_FOLLOWER unless led here, else every producer id the log tracks
// with its epoch, last sequence (-1 when none is remembered), last timestamp, the coordinator epoch of its last
// marker (-1 when none) and the first offset of its open transaction (-1 when none).

import { ErrorCode, errorName } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeProducersRequest } from '../../protocol/generated/describe-producers-request.js';
import type {
  DescribeProducersResponseInput,
  DescribeProducersResponsePartitionResponseInput,
} from '../../protocol/generated/describe-producers-response.js';
import { deniedNames } from '../../security/authorizer.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

function describePartition(
  broker: Broker,
  topic: string,
  index: number,
): DescribeProducersResponsePartitionResponseInput {
  const partition = broker.replicas.leaderFor(topic, index);
  if (typeof partition === 'number') {
    return {
      partitionIndex: index,
      errorCode: partition,
      errorMessage: errorName(partition),
      activeProducers: [],
    };
  }
  const activeProducers = [];
  for (const e of partition.log.producerState.entries()) {
    const last = e.batches[e.batches.length - 1];
    activeProducers.push({
      producerId: e.producerId,
      producerEpoch: e.producerEpoch,
      lastSequence: last === undefined ? -1 : last.lastSeq,
      lastTimestamp: e.lastTimestamp,
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: e.currentTxnFirstOffset,
    });
  }
  return { partitionIndex: index, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers };
}

export const describeProducers = defineHandler<DescribeProducersRequest, DescribeProducersResponseInput>({
  apiKey: ApiKey.DescribeProducers,
  name: 'DescribeProducers',
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    // READ on each topic (TOPIC_AUTHORIZATION_FAILED), as Kafka checks.
    const denied = deniedNames(
      ctx,
      'READ',
      'TOPIC',
      req.topics.map((t) => t.name),
    );
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((i) =>
          denied.has(t.name)
            ? {
                partitionIndex: i,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                errorMessage: null,
                activeProducers: [],
              }
            : describePartition(ctx.broker, t.name, i),
        ),
      })),
    };
  },
});
