// OffsetForLeaderEpoch (key 23), v2-4. For each partition, the end offset of the requested leader
// epoch (the start offset of the next larger epoch, or the log end offset for the current one),
// so consumers can detect log truncation after a leader change. KAFKA_STORAGE_ERROR for a partition
// whose log dir is offline.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { OffsetForLeaderEpochRequest } from '../../protocol/generated/offset-for-leader-epoch-request.js';
import type { OffsetForLeaderEpochResponseInput } from '../../protocol/generated/offset-for-leader-epoch-response.js';
import { fetchDenials } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';
import { checkLeaderEpoch } from './01-fetch.js';

export const offsetForLeaderEpoch = defineHandler<
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponseInput
>({
  apiKey: ApiKey.OffsetForLeaderEpoch,
  name: 'OffsetForLeaderEpoch',
  minVersion: 2,
  maxVersion: 4,
  handle(ctx, req) {
    const broker = ctx.broker;
    // Followers need CLUSTER_ACTION, consumers DESCRIBE on each topic (TOPIC_AUTHORIZATION_FAILED), as Kafka checks.
    const denied = fetchDenials(
      ctx,
      req.replicaId >= 0,
      req.topics.map((t) => t.topic),
    );
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const partition = denied.has(t.topic)
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : broker.replicas.leaderFor(t.topic, p.partition);
          const fail = (errorCode: number) => ({
            errorCode,
            partition: p.partition,
            leaderEpoch: -1,
            endOffset: -1,
          });
          if (typeof partition === 'number') return fail(partition);
          const epochError = checkLeaderEpoch(partition, p.currentLeaderEpoch);
          if (epochError !== ErrorCode.NONE) return fail(epochError);
          const r = partition.log.endOffsetForEpoch(p.leaderEpoch);
          return {
            errorCode: ErrorCode.NONE,
            partition: p.partition,
            leaderEpoch: r.leaderEpoch,
            endOffset: r.endOffset,
          };
        }),
      })),
    };
  },
});
