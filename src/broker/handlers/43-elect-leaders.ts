// ElectLeaders (key 43), v1-2: kafka-leader-election.sh / Admin.electLeaders. PREFERRED (0) gives each
// partition back to its first replica when that one is live and in the ISR (controller/leadership.ts);
// UNCLEAN (1) is not offered: unclean.leader.election.enable covers it when no ISR member is left. Only the
// active controller answers (clients send it there); others say NOT_CONTROLLER. A single node has one replica
// per partition: every election is ELECTION_NOT_NEEDED.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ElectLeadersRequest } from '../../protocol/generated/elect-leaders-request.js';
import type { ElectLeadersResponseInput } from '../../protocol/generated/elect-leaders-response.js';
import { defineHandler } from '../handler.js';

const PREFERRED = 0;

export const electLeaders = defineHandler<ElectLeadersRequest, ElectLeadersResponseInput>({
  apiKey: ApiKey.ElectLeaders,
  name: 'ElectLeaders',
  // v0 has no top-level error code (NOT_CONTROLLER could not be said); Kafka's admin client sends v1+.
  minVersion: 1,
  maxVersion: 2,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const requested = req.topicPartitions?.flatMap((t) =>
      t.partitions.map((partition) => ({ topic: t.topic, partition })),
    );
    const answer = (
      results: Map<string, { errorCode: number; message: string | null }>,
      parts: { topic: string; partition: number }[],
    ): ElectLeadersResponseInput => {
      const byTopic = new Map<
        string,
        { partitionId: number; errorCode: number; errorMessage: string | null }[]
      >();
      for (const p of parts) {
        const r = results.get(`${p.topic}-${p.partition}`) ?? {
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          message: null,
        };
        const list = byTopic.get(p.topic) ?? [];
        list.push({ partitionId: p.partition, errorCode: r.errorCode, errorMessage: r.message });
        byTopic.set(p.topic, list);
      }
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        replicaElectionResults: [...byTopic].map(([topic, partitionResult]) => ({ topic, partitionResult })),
      };
    };
    if (req.electionType !== PREFERRED) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] };
    }
    const controller = broker.controller;
    if (controller === null) {
      const parts =
        requested ??
        [...broker.metadataCache.topics()].flatMap((t) =>
          t.partitions.flatMap((p) => (p === undefined ? [] : [{ topic: t.name, partition: p.partition }])),
        );
      const results = new Map(
        parts.map((p) => [
          `${p.topic}-${p.partition}`,
          broker.metadataCache.partition(p.topic, p.partition) === undefined
            ? { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null }
            : { errorCode: ErrorCode.ELECTION_NOT_NEEDED, message: 'A single node leads every partition.' },
        ]),
      );
      return answer(results, parts);
    }
    if (!controller.isActive)
      return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, replicaElectionResults: [] };
    const results = await controller.electPreferredLeaders(requested ?? null);
    if (results === null)
      return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, replicaElectionResults: [] };
    const parts =
      requested ??
      [...results.keys()].map((k) => {
        const i = k.lastIndexOf('-');
        return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
      });
    return answer(results, parts);
  },
});
