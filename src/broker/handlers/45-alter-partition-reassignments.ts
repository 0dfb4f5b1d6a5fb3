// AlterPartitionReassignments (key 45), v0-1: moves partitions to other replicas, or cancels a move
// (replicas null); kafka-reassign-partitions.sh --execute / --cancel, `samsa reassign`. The controller runs
// the move (controller/reassignment.ts); this answers once the move has started. Only the active controller
// answers (clients send it there); others say NOT_CONTROLLER. A single node accepts only moves onto itself.
// v1 (KIP-860) carries AllowReplicationFactorChange (default true): when false, a move to a different number
// of replicas than the partition has (or, while a move runs, than that move's target) is refused with
// INVALID_REPLICATION_FACTOR "The replication factor is changed from X to Y", as Kafka's controller does; the
// response echoes the flag.

import { ErrorCode } from '../../protocol/errors.js';
import type { AlterPartitionReassignmentsRequest } from '../../protocol/generated/alter-partition-reassignments-request.js';
import type { AlterPartitionReassignmentsResponseInput } from '../../protocol/generated/alter-partition-reassignments-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import { defineHandler } from '../handler.js';

export const alterPartitionReassignments = defineHandler<
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponseInput
>({
  apiKey: ApiKey.AlterPartitionReassignments,
  name: 'AlterPartitionReassignments',
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const requests = req.topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, target: p.replicas })),
    );
    let results: Map<string, { errorCode: number; message: string | null }>;
    const controller = broker.controller;
    const allowRfChange = ctx.apiVersion < 1 || req.allowReplicationFactorChange;
    const rfRefused = new Map<string, { errorCode: number; message: string | null }>();
    if (!allowRfChange) {
      const moving = controller?.isActive ? await controller.listPartitionReassignments(null) : null;
      const targets = new Map(
        (moving ?? []).map((m) => [
          `${m.topic}-${m.partition}`,
          m.replicas.filter((id) => !m.removing.includes(id)).length,
        ]),
      );
      for (const r of requests) {
        const p = broker.metadataCache.partition(r.topic, r.partition);
        if (r.target === null || p === undefined) continue;
        const key = `${r.topic}-${r.partition}`;
        const current = targets.get(key) ?? p.replicas.length;
        if (r.target.length !== current) {
          rfRefused.set(key, {
            errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
            message: `The replication factor is changed from ${current} to ${r.target.length}`,
          });
        }
      }
    }
    const allowed = requests.filter((r) => !rfRefused.has(`${r.topic}-${r.partition}`));
    if (controller === null) {
      results = new Map(
        allowed.map((r) => {
          const known = broker.metadataCache.partition(r.topic, r.partition) !== undefined;
          const outcome = !known
            ? { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null }
            : r.target === null
              ? {
                  errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
                  message: 'No reassignment is in progress.',
                }
              : r.target.length === 1 && r.target[0] === broker.nodeId
                ? { errorCode: ErrorCode.NONE, message: null }
                : {
                    errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                    message: 'A single node has one replica per partition.',
                  };
          return [`${r.topic}-${r.partition}`, outcome];
        }),
      );
    } else {
      const res = controller.isActive ? await controller.alterPartitionReassignments(allowed) : null;
      if (res === null) {
        return {
          throttleTimeMs: 0,
          allowReplicationFactorChange: allowRfChange,
          errorCode: ErrorCode.NOT_CONTROLLER,
          errorMessage: null,
          responses: [],
        };
      }
      results = res;
    }
    for (const [k, r] of rfRefused) results.set(k, r);
    for (const [k, r] of results) {
      if (r.errorCode !== ErrorCode.NONE) {
        broker.clientWarnings.warn(ctx, 'reassignment.refused', 'reassignment refused', {
          partition: k,
          errorCode: r.errorCode,
          error: r.message,
        });
      }
    }
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange: allowRfChange,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const r = results.get(`${t.name}-${p.partitionIndex}`) ?? {
            errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
            message: null,
          };
          return { partitionIndex: p.partitionIndex, errorCode: r.errorCode, errorMessage: r.message };
        }),
      })),
    };
  },
});
