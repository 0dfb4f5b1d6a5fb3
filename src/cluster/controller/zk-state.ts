// The controller's reads and writes of ZooKeeper (Kafka's KafkaZkClient, the controller's part). Every write
// that decides something is a multi() that first checks /controller_epoch at the version this controller
// wrote when it was elected: a deposed controller's write fails as a whole (ControllerMovedError) instead of
// overwriting its successor's decisions. Partition states are written conditionally on their own znode
// version too (the partitionEpoch), so a state changed meanwhile is never overwritten blindly.

import type { Logger } from '../../logger.js';
import type { BrokerInfo } from '../metadata-cache.js';
import type { Watcher, ZkClient } from '../zk/zk-client.js';
import { isZkError, ZkMultiError } from '../zk/zk-client.js';
import {
  decodeBrokerRegistration,
  decodePartitionState,
  decodeTopicAssignment,
  encodePartitionState,
  parseIdSegment,
  zkPaths,
} from '../zk/zk-data.js';
import type { ControllerContext, LiveBroker, PartitionState } from './context.js';

/** This controller lost its epoch: another controller was elected meanwhile. */
export class ControllerMovedError extends Error {
  constructor(what: string) {
    super(`controller moved: ${what} refused (the controller epoch changed)`);
    this.name = 'ControllerMovedError';
  }
}

/** Live brokers: the children of /brokers/ids with their registrations and epochs (czxid). */
export async function readBrokers(
  zk: ZkClient,
  watcher: Watcher,
  logger: Logger,
): Promise<Map<number, LiveBroker>> {
  const ids = (await zk.getChildrenWithWatch(zkPaths.brokerIds, watcher)) ?? [];
  const out = new Map<number, LiveBroker>();
  await Promise.all(
    ids.map(async (name) => {
      let id: number;
      try {
        id = parseIdSegment(name, zkPaths.brokerIds);
      } catch {
        logger.warn('ignoring a znode under /brokers/ids that is not a broker id', { znode: name });
        return;
      }
      const r = await zk.get(zkPaths.brokerId(id));
      if (r === null) return; // gone meanwhile: the next child event says so
      try {
        const reg = decodeBrokerRegistration(id, r.data);
        const info: BrokerInfo = {
          id,
          rack: reg.rack,
          endpoints: reg.endpoints.map((e) => ({
            listener: e.listener,
            host: e.host,
            port: e.port,
            securityProtocol: e.securityProtocol,
          })),
        };
        out.set(id, { info, epoch: r.stat.czxid });
      } catch (err) {
        logger.error('ignoring an unreadable broker registration', { broker: id, error: err });
      }
    }),
  );
  return out;
}

/** A topic's id and replica assignment, or null when the znode is gone. Sets a data watch when given one. */
export async function readTopic(
  zk: ZkClient,
  topic: string,
  watcher?: Watcher,
): Promise<{
  topicId: string | null;
  assignment: number[][];
  adding: number[][];
  removing: number[][];
} | null> {
  const r =
    watcher === undefined
      ? await zk.get(zkPaths.topic(topic))
      : await zk.getWithWatch(zkPaths.topic(topic), watcher);
  if (r === null) return null;
  const a = decodeTopicAssignment(topic, r.data);
  const assignment: number[][] = [];
  const adding: number[][] = [];
  const removing: number[][] = [];
  const n = a.partitions.size;
  for (let p = 0; p < n; p++) {
    const replicas = a.partitions.get(p);
    if (replicas === undefined) throw new Error(`topic ${topic}: partitions are not numbered 0..${n - 1}`);
    assignment.push(replicas.replicas);
    adding.push(replicas.addingReplicas);
    removing.push(replicas.removingReplicas);
  }
  return { topicId: a.topicId, assignment, adding, removing };
}

/** The state znode of a partition, or null when it has none yet (a new partition). */
export async function readPartitionState(
  zk: ZkClient,
  topic: string,
  partition: number,
): Promise<PartitionState | null> {
  const r = await zk.get(zkPaths.partitionState(topic, partition));
  if (r === null) return null;
  const s = decodePartitionState(topic, partition, r.data);
  return { ...s, zkVersion: r.stat.version };
}

export interface StateWrite {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  isr: number[];
  leaderRecoveryState: 0 | 1;
  /** The version the znode must have (-1: it must not exist yet; it is created). */
  expectedZkVersion: number;
}

/**
 * Writes partition states, each in its own multi with the controller-epoch check. Returns the new state of each
 * partition written, or null for one whose znode changed under us (the caller re-reads it). Throws
 * ControllerMovedError when the epoch check fails.
 */
export async function writePartitionStates(
  zk: ZkClient,
  ctx: ControllerContext,
  writes: readonly StateWrite[],
): Promise<(PartitionState | null)[]> {
  return Promise.all(
    writes.map(async (w) => {
      const path = zkPaths.partitionState(w.topic, w.partition);
      const data = encodePartitionState({
        leader: w.leader,
        leaderEpoch: w.leaderEpoch,
        isr: w.isr,
        controllerEpoch: ctx.epoch,
        leaderRecoveryState: w.leaderRecoveryState,
      });
      if (w.expectedZkVersion < 0) {
        for (const parent of [
          zkPaths.topicPartitions(w.topic),
          zkPaths.topicPartition(w.topic, w.partition),
        ]) {
          await zk.create(parent).catch((e: unknown) => {
            if (!isZkError(e, 'NODEEXISTS')) throw e;
          });
        }
      }
      const check = { type: 'check' as const, path: zkPaths.controllerEpoch, version: ctx.epochZkVersion };
      try {
        const results = await zk.multi(
          w.expectedZkVersion < 0
            ? [check, { type: 'create', path, data }]
            : [check, { type: 'set', path, data, version: w.expectedZkVersion }],
        );
        const last = results[1];
        const zkVersion = last?.type === 'set' ? last.stat.version : 0;
        const state: PartitionState = {
          leader: w.leader,
          leaderEpoch: w.leaderEpoch,
          isr: w.isr,
          controllerEpoch: ctx.epoch,
          leaderRecoveryState: w.leaderRecoveryState,
          zkVersion,
        };
        return state;
      } catch (e) {
        if (e instanceof ZkMultiError) {
          if (e.failedIndex === 0) throw new ControllerMovedError(`writing ${path}`);
          if (
            e.failure.code === 'BADVERSION' ||
            e.failure.code === 'NODEEXISTS' ||
            e.failure.code === 'NONODE'
          ) {
            return null;
          }
          throw e.failure;
        }
        throw e;
      }
    }),
  );
}

/** Removes a deleted topic's znodes: its assignment and states, its configs, its deletion marker. */
export async function removeTopicZnodes(zk: ZkClient, ctx: ControllerContext, topic: string): Promise<void> {
  const check = await zk.exists(zkPaths.controllerEpoch);
  if (check === null || check.version !== ctx.epochZkVersion)
    throw new ControllerMovedError(`deleting ${topic}`);
  await zk.deleteRecursive(zkPaths.topic(topic));
  await zk.deleteRecursive(zkPaths.topicConfig(topic));
  await zk.delete(zkPaths.deleteTopic(topic)).catch((e: unknown) => {
    if (!isZkError(e, 'NONODE')) throw e;
  });
}
