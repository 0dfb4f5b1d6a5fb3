// ListOffsets (key 2), v1-11. Special timestamps: -1 latest (high watermark, or last stable offset
// under read_committed), -2 earliest (log start offset, with the leader epoch it was written in),
// -3 the record with the largest timestamp (KIP-734), -4 earliest local (= earliest, as Kafka answers
// without tiered storage), -5 latest tiered and -6 earliest pending upload (v11, KIP-1023): with no
// tiered storage Kafka answers offset -1, timestamp -1, leader epoch -1, and so does Samsa. Any other
// timestamp: the first offset whose timestamp is >= it, or -1.
// KAFKA_STORAGE_ERROR for a partition whose log dir is offline or whose files fail to read.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ListOffsetsRequest } from '../../protocol/generated/list-offsets-request.js';
import type { ListOffsetsResponseInput } from '../../protocol/generated/list-offsets-response.js';
import { authorize } from '../../security/authorizer.js';
import { KafkaStorageError } from '../../storage/io-errors.js';
import { defineHandler } from '../handler.js';
import { checkLeaderEpoch } from './01-fetch.js';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;
const EARLIEST_PENDING_UPLOAD = -6;
const READ_COMMITTED = 1;

export const listOffsets = defineHandler<ListOffsetsRequest, ListOffsetsResponseInput>({
  apiKey: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 11,
  handle(ctx, req) {
    const broker = ctx.broker;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const partition = authorize(ctx, 'DESCRIBE', 'TOPIC', t.name)
            ? broker.replicas.leaderFor(t.name, p.partitionIndex)
            : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          const fail = (errorCode: number) => ({
            partitionIndex: p.partitionIndex,
            errorCode,
            timestamp: -1,
            offset: -1,
          });
          if (typeof partition === 'number') return fail(partition);
          const epochError = checkLeaderEpoch(partition, p.currentLeaderEpoch);
          if (epochError !== ErrorCode.NONE) return fail(epochError);
          const log = partition.log;
          const visibleEnd = req.isolationLevel === READ_COMMITTED ? log.lastStableOffset : log.highWatermark;
          const ok = (offset: number, timestamp: number, leaderEpoch = partition.leaderEpoch) => ({
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.NONE,
            timestamp,
            offset,
            leaderEpoch,
          });
          switch (p.timestamp) {
            case LATEST:
              // A follower (replica id >= 0) reads to the log end, consumers to the high watermark,
              // read_committed consumers to the last stable offset.
              return ok(req.replicaId >= 0 ? log.logEndOffset : visibleEnd, -1);
            case EARLIEST:
            case EARLIEST_LOCAL:
              return ok(log.logStartOffset, -1, epochAt(log.leaderEpochCache.all(), log.logStartOffset));
            case LATEST_TIERED:
            case EARLIEST_PENDING_UPLOAD:
              // Nothing is tiered: no offset, and leader epoch -1 (not the current one), as Kafka answers.
              return ok(-1, -1, -1);
            case MAX_TIMESTAMP: {
              const m = storageRead(() => log.maxTimestampOffset());
              if (m === undefined) return fail(ErrorCode.KAFKA_STORAGE_ERROR);
              return m === null ? ok(-1, -1) : ok(m.offset, m.timestamp);
            }
            default: {
              if (p.timestamp < 0) return fail(ErrorCode.INVALID_REQUEST);
              const found = storageRead(() => log.offsetForTimestamp(p.timestamp));
              if (found === undefined) return fail(ErrorCode.KAFKA_STORAGE_ERROR);
              if (found === null || found.offset >= visibleEnd) return ok(-1, -1);
              return ok(found.offset, found.timestamp);
            }
          }
        }),
      })),
    };
  },
});

/** The leader epoch that wrote `offset` (the last epoch starting at or before it), -1 when none is known. */
function epochAt(entries: readonly { epoch: number; startOffset: number }[], offset: number): number {
  let epoch = -1;
  for (const e of entries) {
    if (e.startOffset > offset) break;
    epoch = e.epoch;
  }
  return epoch;
}

/** The lookup's answer, or undefined when the log failed to read (logged by the log, which went offline). */
function storageRead<T>(lookup: () => T): T | undefined {
  try {
    return lookup();
  } catch (e) {
    if (e instanceof KafkaStorageError) return undefined;
    throw e;
  }
}
