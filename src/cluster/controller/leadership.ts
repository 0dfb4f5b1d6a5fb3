// Moving leadership on purpose (the controller's side): controlled shutdown and preferred-leader election.
//
// Controlled shutdown (Kafka's onBrokerControlledShutdown): a broker about to stop (SIGTERM) asks the
// controller to move its partitions first, so clients lose no availability in a rolling restart. The broker
// is marked shutting down (never elected, dropped from ISRs). Each partition it leads gets the first other
// live ISR member as leader (leader epoch + 1); each it follows loses it from the ISR (leader epoch + 1), so
// acks=all writes stop waiting for it. The answer lists the partitions it still leads (no other ISR member,
// or a single replica): the broker retries a few times and then stops anyway.
//
// Preferred-leader election (Kafka's auto.leader.rebalance.enable, the ElectLeaders API with type PREFERRED):
// a partition led by another broker than its first replica gets that replica back as leader when it is live
// and in the ISR. The automatic check runs every leader.imbalance.check.interval.seconds and acts on a broker
// whose share of partitions it should lead but does not exceeds leader.imbalance.per.broker.percentage.

import { ErrorCode } from '../../protocol/errors.js';
import type { ControllerCore } from './core.js';
import { controlledShutdownLeader, preferredLeader } from './election.js';
import { RequestBatch } from './request-batch.js';
import type { StateWrite } from './zk-state.js';

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/** Moves leadership and ISR membership off a broker that is shutting down; returns what it still leads. */
export async function controlledShutdown(
  core: ControllerCore,
  brokerId: number,
  brokerEpoch: number,
): Promise<{ errorCode: number; remaining: TopicPartitionRef[] }> {
  const ctx = core.context();
  const broker = ctx.liveBrokers.get(brokerId);
  if (broker === undefined) return { errorCode: ErrorCode.BROKER_NOT_AVAILABLE, remaining: [] };
  if (brokerEpoch !== -1 && brokerEpoch !== broker.epoch)
    return { errorCode: ErrorCode.STALE_BROKER_EPOCH, remaining: [] };
  ctx.shuttingDown.add(brokerId);
  core.log.info('controlled shutdown of a broker', { broker: brokerId });
  const isLive = (id: number): boolean => ctx.isLive(id);
  const writes: StateWrite[] = [];
  for (const { topic, partition, replicas } of ctx.partitionsOn(brokerId)) {
    if (ctx.deleting.has(topic) || replicas.length < 2) continue;
    const s = ctx.state(topic, partition);
    if (s === undefined) continue;
    if (s.leader === brokerId) {
      const e = controlledShutdownLeader(replicas, s.isr, isLive, ctx.shuttingDown);
      if (e === null) continue;
      writes.push({
        topic,
        partition,
        leader: e.leader,
        leaderEpoch: s.leaderEpoch + 1,
        isr: e.isr,
        leaderRecoveryState: 0,
        expectedZkVersion: s.zkVersion,
      });
    } else if (s.isr.includes(brokerId) && s.isr.length > 1) {
      writes.push({
        topic,
        partition,
        leader: s.leader,
        leaderEpoch: s.leaderEpoch + 1,
        isr: s.isr.filter((r) => r !== brokerId),
        leaderRecoveryState: s.leaderRecoveryState,
        expectedZkVersion: s.zkVersion,
      });
    }
  }
  const batch = new RequestBatch(ctx, core.opts.brokerId);
  await core.applyWrites(batch, writes);
  batch.send(core.channelsOrThrow());
  const remaining: TopicPartitionRef[] = [];
  for (const { topic, partition, replicas } of ctx.partitionsOn(brokerId)) {
    if (replicas.length > 1 && ctx.state(topic, partition)?.leader === brokerId)
      remaining.push({ topic, partition });
  }
  core.log.info('controlled shutdown: leadership moved', {
    broker: brokerId,
    moved: writes.length,
    stillLeading: remaining.length,
  });
  return { errorCode: ErrorCode.NONE, remaining };
}

/**
 * Gives each partition back to its preferred replica (the first) where that one is live, in the ISR and not
 * already leading. Returns an error per requested partition (NONE when it was elected or already leads).
 */
export async function electPreferredLeaders(
  core: ControllerCore,
  partitions: readonly TopicPartitionRef[],
): Promise<Map<string, { errorCode: number; message: string | null }>> {
  const ctx = core.context();
  const isLive = (id: number): boolean => ctx.isLive(id);
  const results = new Map<string, { errorCode: number; message: string | null }>();
  const writes: StateWrite[] = [];
  for (const { topic, partition } of partitions) {
    const k = `${topic}-${partition}`;
    const s = ctx.state(topic, partition);
    const replicas = ctx.replicas(topic, partition);
    if (s === undefined || ctx.deleting.has(topic)) {
      results.set(k, { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null });
      continue;
    }
    if (s.leader === replicas[0]) {
      results.set(k, {
        errorCode: ErrorCode.ELECTION_NOT_NEEDED,
        message: 'The preferred replica already leads.',
      });
      continue;
    }
    const e = preferredLeader(replicas, s.isr, isLive);
    if (e === null) {
      results.set(k, {
        errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
        message: `The preferred replica ${replicas[0]} is not alive or not in the ISR.`,
      });
      continue;
    }
    writes.push({
      topic,
      partition,
      leader: e.leader,
      leaderEpoch: s.leaderEpoch + 1,
      isr: e.isr,
      leaderRecoveryState: s.leaderRecoveryState,
      expectedZkVersion: s.zkVersion,
    });
    results.set(k, { errorCode: ErrorCode.NONE, message: null });
  }
  if (writes.length > 0) {
    const batch = new RequestBatch(ctx, core.opts.brokerId);
    await core.applyWrites(batch, writes);
    batch.send(core.channelsOrThrow());
    core.log.info('preferred leaders elected', {
      partitions: writes.map((w) => `${w.topic}-${w.partition}`),
    });
  }
  return results;
}

/**
 * Partitions to hand back to their preferred replica: for each live broker whose imbalance (partitions it
 * should lead but does not, over partitions it should lead) exceeds `percentage`, the ones it can take back.
 */
export function imbalancedPartitions(core: ControllerCore, percentage: number): TopicPartitionRef[] {
  const ctx = core.context();
  const byPreferred = new Map<number, { total: number; notLeading: TopicPartitionRef[] }>();
  for (const { topic, partition, replicas } of ctx.partitions()) {
    const preferred = replicas[0];
    if (preferred === undefined || ctx.deleting.has(topic)) continue;
    const entry = byPreferred.get(preferred) ?? { total: 0, notLeading: [] };
    entry.total++;
    const s = ctx.state(topic, partition);
    if (s !== undefined && s.leader !== preferred && ctx.isLive(preferred) && s.isr.includes(preferred)) {
      entry.notLeading.push({ topic, partition });
    }
    byPreferred.set(preferred, entry);
  }
  const out: TopicPartitionRef[] = [];
  for (const [broker, e] of byPreferred) {
    if (!ctx.isLive(broker) || e.total === 0) continue;
    if ((e.notLeading.length * 100) / e.total > percentage) out.push(...e.notLeading);
  }
  return out;
}
