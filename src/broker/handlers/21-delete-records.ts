// DeleteRecords (key 21), v0-2. Advances a partition's log start offset to the given offset
// (-1 = the high watermark); whole segments below it are deleted. Returns the new low watermark.
// KAFKA_STORAGE_ERROR when the log dir is offline or the log start offset could not be checkpointed
// (a full disk: the offset moved in memory and is checkpointed once space is back).

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DeleteRecordsRequest } from '../../protocol/generated/delete-records-request.js';
import type { DeleteRecordsResponseInput } from '../../protocol/generated/delete-records-response.js';
import { deniedNames } from '../../security/authorizer.js';
import { KafkaStorageError } from '../../storage/io-errors.js';
import { defineHandler } from '../handler.js';

export const deleteRecords = defineHandler<DeleteRecordsRequest, DeleteRecordsResponseInput>({
  apiKey: ApiKey.DeleteRecords,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, req) {
    const broker = ctx.broker;
    // DELETE on each topic, as Kafka checks.
    const denied = deniedNames(
      ctx,
      'DELETE',
      'TOPIC',
      req.topics.map((t) => t.name),
    );
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const partition = denied.has(t.name)
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : broker.replicas.leaderFor(t.name, p.partitionIndex);
          if (typeof partition === 'number') {
            return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: partition };
          }
          const log = partition.log;
          const target = p.offset === -1 ? log.highWatermark : p.offset;
          if (target < 0 || target > log.highWatermark) {
            return {
              partitionIndex: p.partitionIndex,
              lowWatermark: -1,
              errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
            };
          }
          if (target > log.logStartOffset) {
            try {
              log.deleteRecordsBefore(target);
            } catch (e) {
              if (!(e instanceof KafkaStorageError)) throw e;
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
              };
            }
            broker.log.info('records deleted', {
              topic: t.name,
              partition: p.partitionIndex,
              logStartOffset: log.logStartOffset,
            });
          }
          return {
            partitionIndex: p.partitionIndex,
            lowWatermark: log.logStartOffset,
            errorCode: ErrorCode.NONE,
          };
        }),
      })),
    };
  },
});
