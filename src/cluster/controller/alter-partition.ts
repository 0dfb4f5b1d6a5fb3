// AlterPartition on the controller: a partition leader's ISR change (Kafka's KafkaController
// processAlterPartition). Applied only when the request's leader epoch and partition epoch (the state znode's
// version) are current, so a deposed leader or a stale view cannot change the ISR; new ISR members must be
// live replicas of the partition. The state znode is written conditionally (zk-state.ts) and every broker
// hears of the new ISR through UpdateMetadata.

import { ErrorCode } from '../../protocol/errors.js';
import type { AlterPartitionRequest } from '../../protocol/generated/alter-partition-request.js';
import type { AlterPartitionResponseInput } from '../../protocol/generated/alter-partition-response.js';
import type { ControllerCore } from './core.js';
import { RequestBatch } from './request-batch.js';
import { type StateWrite, writePartitionStates } from './zk-state.js';

type AlterPartitionTopicIn = AlterPartitionRequest['topics'][number];

export async function handleAlterPartition(
  core: ControllerCore,
  req: AlterPartitionRequest,
  version: number,
): Promise<AlterPartitionResponseInput> {
  const ctx = core.context();
  const broker = ctx.liveBrokers.get(req.brokerId);
  if (broker === undefined || (req.brokerEpoch !== -1 && req.brokerEpoch !== broker.epoch)) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, topics: [] };
  }
  const byId = new Map([...ctx.topics].map(([name, t]) => [t.topicId, name]));
  const writes: StateWrite[] = [];
  const answers: { topic: AlterPartitionTopicIn; name: string | undefined; partitions: unknown[] }[] = [];
  const pending: { out: Record<string, unknown>; write: StateWrite }[] = [];
  for (const t of req.topics) {
    const name = byId.get(t.topicId);
    const partitions: unknown[] = [];
    answers.push({ topic: t, name, partitions });
    for (const p of t.partitions) {
      const fail = (errorCode: number): void => {
        partitions.push({
          partitionIndex: p.partitionIndex,
          errorCode,
          leaderId: -1,
          leaderEpoch: -1,
          isr: [],
          leaderRecoveryState: 0,
          partitionEpoch: -1,
        });
      };
      const s = name === undefined ? undefined : ctx.state(name, p.partitionIndex);
      if (name === undefined || s === undefined || ctx.deleting.has(name)) {
        fail(ErrorCode.UNKNOWN_TOPIC_ID);
        continue;
      }
      if (s.leader !== req.brokerId) {
        fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
        continue;
      }
      if (p.leaderEpoch !== s.leaderEpoch) {
        fail(ErrorCode.FENCED_LEADER_EPOCH);
        continue;
      }
      if (p.partitionEpoch !== s.zkVersion) {
        fail(ErrorCode.INVALID_UPDATE_VERSION);
        continue;
      }
      const newIsr = version >= 3 ? p.newIsrWithEpochs.map((b) => b.brokerId) : p.newIsr;
      const replicas = ctx.replicas(name, p.partitionIndex);
      if (!newIsr.includes(s.leader) || newIsr.some((r) => !replicas.includes(r))) {
        fail(ErrorCode.INVALID_REQUEST);
        continue;
      }
      if (newIsr.some((r) => !s.isr.includes(r) && !ctx.isLive(r))) {
        fail(ErrorCode.INELIGIBLE_REPLICA);
        continue;
      }
      const write: StateWrite = {
        topic: name,
        partition: p.partitionIndex,
        leader: s.leader,
        leaderEpoch: s.leaderEpoch,
        isr: newIsr,
        leaderRecoveryState: 0,
        expectedZkVersion: s.zkVersion,
      };
      writes.push(write);
      const out: Record<string, unknown> = { partitionIndex: p.partitionIndex };
      partitions.push(out);
      pending.push({ out, write });
    }
  }
  if (writes.length > 0) {
    const batch = new RequestBatch(ctx, core.opts.brokerId);
    const results = await writePartitionStates(core.opts.zk, ctx, writes);
    results.forEach((s, i) => {
      const { out, write } = pending[i] as { out: Record<string, unknown>; write: StateWrite };
      if (s === null) {
        Object.assign(out, {
          errorCode: ErrorCode.INVALID_UPDATE_VERSION,
          leaderId: -1,
          leaderEpoch: -1,
          isr: [],
          leaderRecoveryState: 0,
          partitionEpoch: -1,
        });
        return;
      }
      ctx.states.set(`${write.topic}\u0000${write.partition}`, s);
      batch.addMetadata(write.topic, write.partition);
      core.log.info('ISR changed', {
        topic: write.topic,
        partition: write.partition,
        isr: s.isr,
        leaderEpoch: s.leaderEpoch,
      });
      Object.assign(out, {
        errorCode: ErrorCode.NONE,
        leaderId: s.leader,
        leaderEpoch: s.leaderEpoch,
        isr: s.isr,
        leaderRecoveryState: s.leaderRecoveryState,
        partitionEpoch: s.zkVersion,
      });
    });
    batch.send(core.channelsOrThrow());
    await core.afterIsrChange(
      pending.flatMap((p, i) =>
        results[i] === null ? [] : [{ topic: p.write.topic, partition: p.write.partition }],
      ),
    );
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    topics: answers.map((a) => ({
      topicId: a.topic.topicId,
      partitions: a.partitions as NonNullable<AlterPartitionResponseInput['topics']>[number]['partitions'],
    })),
  };
}
