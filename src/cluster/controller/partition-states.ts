// The controller's partition state changes that follow from brokers coming and going (Kafka's
// PartitionStateMachine / ReplicaStateMachine, the decisions only): pure functions of the controller context
// that return the states to write; the controller writes them (conditionally) and tells the brokers.

import type { Logger } from '../../logger.js';
import type { ControllerContext } from './context.js';
import { newPartitionLeader, offlinePartitionLeader, withoutReplica } from './election.js';
import type { StateWrite } from './zk-state.js';

/**
 * New partitions get their first live replica as leader (ISR: the live replicas, epoch 0); partitions whose
 * leader is not live get the first live ISR member (epoch + 1), or any live replica when unclean election is
 * allowed, or stay offline (leader -1).
 */
export function onlineStates(
  ctx: ControllerContext,
  partitions: readonly { topic: string; partition: number }[],
  unclean: boolean,
  log: Logger,
): { writes: StateWrite[]; isNew: Set<string> } {
  const isLive = (id: number): boolean => ctx.isLive(id);
  const writes: StateWrite[] = [];
  const isNew = new Set<string>();
  for (const { topic, partition } of partitions) {
    if (ctx.deleting.has(topic)) continue;
    const replicas = ctx.replicas(topic, partition);
    const s = ctx.state(topic, partition);
    if (s === undefined) {
      const e = newPartitionLeader(replicas, isLive);
      if (e === null) {
        log.warn('a new partition has no live replica; it stays offline', {
          topic,
          partition,
          replicas,
        });
        continue;
      }
      isNew.add(`${topic}\u0000${partition}`);
      writes.push({
        topic,
        partition,
        leader: e.leader,
        leaderEpoch: 0,
        isr: e.isr,
        leaderRecoveryState: 0,
        expectedZkVersion: -1,
      });
      continue;
    }
    if (s.leader >= 0 && isLive(s.leader)) continue;
    const e = offlinePartitionLeader(replicas, s.isr, isLive, unclean);
    if (e === null) {
      if (s.leader !== -1) {
        writes.push({
          topic,
          partition,
          leader: -1,
          leaderEpoch: s.leaderEpoch + 1,
          isr: s.isr,
          leaderRecoveryState: s.leaderRecoveryState,
          expectedZkVersion: s.zkVersion,
        });
      }
      log.warn('no in-sync replica is alive; the partition is offline', {
        topic,
        partition,
        isr: s.isr,
        replicas,
      });
      continue;
    }
    if (e.unclean) {
      log.warn('unclean leader election: records acknowledged by the old ISR may be lost', {
        topic,
        partition,
        leader: e.leader,
        isr: s.isr,
      });
    }
    writes.push({
      topic,
      partition,
      leader: e.leader,
      leaderEpoch: s.leaderEpoch + 1,
      isr: e.isr,
      leaderRecoveryState: e.unclean ? 1 : 0,
      expectedZkVersion: s.zkVersion,
    });
  }
  return { writes, isNew };
}

/** After brokers died: partitions they led get new leaders; they leave every ISR (the last member stays). */
export function failedBrokerStates(
  ctx: ControllerContext,
  dead: readonly number[],
  unclean: boolean,
  log: Logger,
): StateWrite[] {
  const isLive = (id: number): boolean => ctx.isLive(id);
  const writes: StateWrite[] = [];
  for (const { topic, partition, replicas } of ctx.partitions()) {
    if (ctx.deleting.has(topic)) continue;
    const s = ctx.state(topic, partition);
    if (s === undefined) continue;
    const leaderDied = dead.includes(s.leader);
    const isrLost = s.isr.some((r) => dead.includes(r));
    if (!leaderDied && !isrLost) continue;
    if (leaderDied) {
      const e = offlinePartitionLeader(replicas, s.isr, isLive, unclean);
      if (e !== null) {
        if (e.unclean)
          log.warn('unclean leader election: acknowledged records may be lost', {
            topic,
            partition,
            leader: e.leader,
          });
        writes.push({
          topic,
          partition,
          leader: e.leader,
          leaderEpoch: s.leaderEpoch + 1,
          isr: e.isr,
          leaderRecoveryState: e.unclean ? 1 : 0,
          expectedZkVersion: s.zkVersion,
        });
        continue;
      }
    }
    let next = { leader: s.leader, isr: [...s.isr] };
    for (const d of dead) next = withoutReplica(next.leader, next.isr, d);
    writes.push({
      topic,
      partition,
      leader: next.leader,
      leaderEpoch: s.leaderEpoch + 1,
      isr: next.isr,
      leaderRecoveryState: s.leaderRecoveryState,
      expectedZkVersion: s.zkVersion,
    });
    if (next.leader < 0)
      log.warn('partition offline: no live in-sync replica', { topic, partition, isr: next.isr });
  }
  return writes;
}
