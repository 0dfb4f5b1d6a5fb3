// Partition reassignment on the controller (Kafka's KIP-455 as its ZooKeeper-mode controller runs it:
// AlterPartitionReassignments / ListPartitionReassignments, kafka-reassign-partitions.sh).
//
// A partition moving from its original replicas (ORS) to target replicas (TRS):
//   A. the replica set becomes RS = TRS + ORS (targets first), with adding = TRS - ORS and removing = ORS - TRS,
//      written to /brokers/topics/<t> (adding_replicas / removing_replicas); the leader epoch is bumped and
//      every replica in RS gets LeaderAndIsr: the new ones start following and catch up.
//   B. once every target replica is in the ISR (the leader adds them with AlterPartition as they catch up,
//      which calls maybeComplete): the replica set becomes TRS; the leader stays if it is a target, else the
//      first live target in the ISR leads; the ISR loses the removed replicas; the leader epoch is bumped;
//      LeaderAndIsr to the targets, StopReplica(delete) to the removed ones, UpdateMetadata to everyone.
// Cancelling (replicas null) goes back to ORS the same way. A controller that takes over finds moves in
// progress in the topic znodes' adding/removing sets and carries them on.

import { ErrorCode } from '../../protocol/errors.js';
import { isZkError } from '../zk/zk-client.js';
import { decodeTopicAssignment, encodeTopicAssignment, zkPaths } from '../zk/zk-data.js';
import { type ControllerContext, tpKey } from './context.js';
import type { ControllerCore } from './core.js';
import { RequestBatch } from './request-batch.js';
import type { StateWrite } from './zk-state.js';
import { ControllerMovedError } from './zk-state.js';

export interface ReassignmentRequest {
  topic: string;
  partition: number;
  /** Target replicas, or null to cancel a reassignment in progress. */
  target: number[] | null;
}

export interface Outcome {
  errorCode: number;
  message: string | null;
}

/** adding / removing sets of a partition in reassignment (for requests and ListPartitionReassignments). */
export function reassignmentSets(
  ctx: ControllerContext,
  topic: string,
  partition: number,
): { adding: number[]; removing: number[] } {
  const r = ctx.reassignments.get(tpKey(topic, partition));
  if (r === undefined) return { adding: [], removing: [] };
  return {
    adding: r.target.filter((b) => !r.original.includes(b)),
    removing: r.original.filter((b) => !r.target.includes(b)),
  };
}

/** Writes the topic's assignment (replicas, adding, removing) as the context has it; conditional on the epoch. */
async function writeAssignment(core: ControllerCore, topic: string): Promise<void> {
  const ctx = core.context();
  const zk = core.opts.zk;
  const t = ctx.topics.get(topic);
  if (t === undefined) return;
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await zk.get(zkPaths.topic(topic));
    if (r === null) return;
    const a = decodeTopicAssignment(topic, r.data);
    for (let p = 0; p < t.assignment.length; p++) {
      const sets = reassignmentSets(ctx, topic, p);
      a.partitions.set(p, {
        replicas: t.assignment[p] ?? [],
        addingReplicas: sets.adding,
        removingReplicas: sets.removing,
      });
    }
    try {
      await zk.multi([
        { type: 'check', path: zkPaths.controllerEpoch, version: ctx.epochZkVersion },
        { type: 'set', path: zkPaths.topic(topic), data: encodeTopicAssignment(a), version: r.stat.version },
      ]);
      return;
    } catch (e) {
      if (isZkError(e) && 'failedIndex' in e && (e as { failedIndex: number }).failedIndex === 0) {
        throw new ControllerMovedError(`writing the assignment of ${topic}`);
      }
      if (!isZkError(e, 'BADVERSION')) throw e;
    }
  }
  throw new Error(`the assignment of ${topic} kept changing while the controller wrote it`);
}

/** Starts (or cancels) reassignments; each partition gets an outcome. */
export async function alterReassignments(
  core: ControllerCore,
  requests: readonly ReassignmentRequest[],
): Promise<Map<string, Outcome>> {
  const ctx = core.context();
  const out = new Map<string, Outcome>();
  const started: { topic: string; partition: number }[] = [];
  for (const req of requests) {
    const k = `${req.topic}-${req.partition}`;
    const key = tpKey(req.topic, req.partition);
    const t = ctx.topics.get(req.topic);
    const s = ctx.state(req.topic, req.partition);
    if (
      t === undefined ||
      s === undefined ||
      req.partition >= t.assignment.length ||
      ctx.deleting.has(req.topic)
    ) {
      out.set(k, { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null });
      continue;
    }
    const current = ctx.reassignments.get(key);
    if (req.target === null) {
      if (current === undefined) {
        out.set(k, {
          errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
          message: `No reassignment is in progress for ${k}.`,
        });
        continue;
      }
      ctx.reassignments.set(key, { target: current.original, original: current.original });
    } else {
      const target = req.target;
      if (target.length === 0 || new Set(target).size !== target.length) {
        out.set(k, {
          errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          message: 'The replica list must be non-empty without duplicates.',
        });
        continue;
      }
      const unknown = target.filter((b) => !ctx.isRegistered(b));
      if (unknown.length > 0) {
        out.set(k, {
          errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          message: `Unknown or dead broker(s): ${unknown.join(', ')}.`,
        });
        continue;
      }
      const original = current?.original ?? t.assignment[req.partition] ?? [];
      ctx.reassignments.set(key, { target: [...target], original: [...original] });
    }
    const r = ctx.reassignments.get(key) as { target: number[]; original: number[] };
    t.assignment[req.partition] = [...new Set([...r.target, ...r.original])];
    started.push({ topic: req.topic, partition: req.partition });
    out.set(k, { errorCode: ErrorCode.NONE, message: null });
  }
  if (started.length === 0) return out;
  for (const topic of new Set(started.map((p) => p.topic))) await writeAssignment(core, topic);
  // Phase A: bump the epoch so every replica, the new ones included, learns the replica set.
  const writes: StateWrite[] = [];
  for (const { topic, partition } of started) {
    const s = ctx.state(topic, partition);
    if (s === undefined) continue;
    writes.push({
      topic,
      partition,
      leader: s.leader,
      leaderEpoch: s.leaderEpoch + 1,
      isr: s.isr,
      leaderRecoveryState: s.leaderRecoveryState,
      expectedZkVersion: s.zkVersion,
    });
  }
  const batch = new RequestBatch(ctx, core.opts.brokerId);
  await core.applyWrites(batch, writes);
  batch.send(core.channelsOrThrow());
  core.log.info('partition reassignment started', {
    partitions: started.map((p) => ({
      partition: `${p.topic}-${p.partition}`,
      ...ctx.reassignments.get(tpKey(p.topic, p.partition)),
    })),
  });
  await maybeCompleteReassignments(core, started);
  return out;
}

/** Phase B for the partitions whose target replicas are all in the ISR. */
export async function maybeCompleteReassignments(
  core: ControllerCore,
  partitions: readonly { topic: string; partition: number }[],
): Promise<void> {
  const ctx = core.context();
  const done: { topic: string; partition: number; removed: number[] }[] = [];
  const writes: StateWrite[] = [];
  for (const { topic, partition } of partitions) {
    const key = tpKey(topic, partition);
    const r = ctx.reassignments.get(key);
    const s = ctx.state(topic, partition);
    const t = ctx.topics.get(topic);
    if (r === undefined || s === undefined || t === undefined) continue;
    if (!r.target.every((b) => s.isr.includes(b))) continue;
    const isr = s.isr.filter((b) => r.target.includes(b));
    const leader =
      r.target.includes(s.leader) && ctx.isLive(s.leader)
        ? s.leader
        : r.target.find((b) => ctx.isLive(b) && isr.includes(b));
    if (leader === undefined) continue;
    const removed = (t.assignment[partition] ?? []).filter((b) => !r.target.includes(b));
    t.assignment[partition] = [...r.target];
    ctx.reassignments.delete(key);
    writes.push({
      topic,
      partition,
      leader,
      leaderEpoch: s.leaderEpoch + 1,
      isr,
      leaderRecoveryState: s.leaderRecoveryState,
      expectedZkVersion: s.zkVersion,
    });
    done.push({ topic, partition, removed });
  }
  if (done.length === 0) return;
  for (const topic of new Set(done.map((d) => d.topic))) await writeAssignment(core, topic);
  const batch = new RequestBatch(ctx, core.opts.brokerId);
  await core.applyWrites(batch, writes);
  for (const d of done) {
    for (const b of d.removed)
      batch.addStopReplica(b, { topic: d.topic, partition: d.partition, deletePartition: true });
  }
  batch.send(core.channelsOrThrow());
  core.log.info('partition reassignment completed', {
    partitions: done.map((d) => ({
      partition: `${d.topic}-${d.partition}`,
      replicas: ctx.replicas(d.topic, d.partition),
      removed: d.removed,
    })),
  });
}

/** Loads moves in progress from a topic's znode (adding/removing sets) into the context, at failover. */
export function resumeReassignment(
  ctx: ControllerContext,
  topic: string,
  partition: number,
  replicas: readonly number[],
  adding: readonly number[],
  removing: readonly number[],
): void {
  if (adding.length === 0 && removing.length === 0) return;
  ctx.reassignments.set(tpKey(topic, partition), {
    target: replicas.filter((b) => !removing.includes(b)),
    original: replicas.filter((b) => !adding.includes(b)),
  });
}
