// OffsetFetch (key 9), v1-9 (v0 read ZooKeeper offsets; Kafka 4 dropped it). Answered from the
// coordinator's memory. A partition without a committed offset reads as offset -1 with no error;
// a null topic list (v2+) asks for every committed offset of the group. v5+ returns the leader
// epoch; v7 requireStable: a partition with an offset pending in an open transaction (TxnOffsetCommit)
// answers UNSTABLE_OFFSET_COMMIT instead of the committed offset, so the client retries; v8+ several groups per
// request; v9 member id/epoch (only meaningful for KIP-848 groups; ignored for classic ones).
// Only committed writes are visible (a commit still waiting for its replicas is not). NOT_COORDINATOR
// when another broker coordinates the group, COORDINATOR_LOAD_IN_PROGRESS while its partition of
// __consumer_offsets loads.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { OffsetFetchRequest } from '../../protocol/generated/offset-fetch-request.js';
import type { OffsetFetchResponseInput } from '../../protocol/generated/offset-fetch-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const offsetFetch = defineHandler<OffsetFetchRequest, OffsetFetchResponseInput>({
  apiKey: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 9,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const groups = ctx.broker.groups;
    if (v >= 8) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((g) => {
          const denied = groupDenial(ctx, 'DESCRIBE', g.groupId);
          if (denied !== 0) return { groupId: g.groupId, errorCode: denied, topics: [] };
          const res = groups.fetch(g.groupId, g.topics, req.requireStable);
          return { groupId: g.groupId, errorCode: res.errorCode, topics: res.topics };
        }),
      };
    }
    const denied = groupDenial(ctx, 'DESCRIBE', req.groupId);
    const res =
      denied !== 0
        ? { errorCode: denied, topics: [] }
        : groups.fetch(req.groupId, v >= 2 ? req.topics : (req.topics ?? []), req.requireStable);
    if (v < 2 && res.errorCode !== ErrorCode.NONE) {
      // v1 has no top-level error: every requested partition carries it.
      return {
        throttleTimeMs: 0,
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: res.errorCode,
          })),
        })),
      };
    }
    return { throttleTimeMs: 0, errorCode: res.errorCode, topics: res.topics };
  },
});
