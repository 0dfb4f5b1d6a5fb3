// Partition (src/cluster/partition.ts) on a real log: what an acks=all write waiting for the high watermark
// gets when the controller changes the partition's state under it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LeaderAndIsrState, Partition } from '../../src/cluster/partition.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { batch, logger, openLog, partitionDir } from '../storage/helpers.js';

const LOCAL = 1;

function state(leaderEpoch: number, leader: number, isr: number[]): LeaderAndIsrState {
  return {
    controllerEpoch: 1,
    leader,
    leaderEpoch,
    isr,
    partitionEpoch: leaderEpoch,
    replicas: [1, 2, 3],
    addingReplicas: [],
    removingReplicas: [],
    isNew: false,
  };
}

function partition(): Partition {
  return new Partition('t', 0, '0'.repeat(32), openLog(partitionDir()), {
    localBrokerId: LOCAL,
    logger,
    replicaLagTimeMaxMs: 30_000,
    alterIsr: async () => ({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR }),
    isBrokerAlive: () => true,
  });
}

/** Whether the promise has settled by the time pending I/O callbacks ran; its value, or 'pending'. */
async function settled<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

describe('Partition: acks=all writes across controller state changes', () => {
  it('completes a waiting write when the controller shrinks the ISR and this broker keeps leading (new epoch)', async () => {
    const p = partition();
    p.makeLeader(state(0, LOCAL, [1, 2, 3]), Date.now());
    const res = p.appendAsLeader(batch('a', 3), -1, 2, Date.now());
    assert.equal(res.errorCode, ErrorCode.NONE);
    const wait = p.waitForHighWatermark(res.lastOffset, 2, 30_000);
    // Follower 2 has everything; follower 3 is gone (it never fetches again).
    assert.equal(p.updateFollowerFetchState(2, res.lastOffset + 1, 0, Date.now()), ErrorCode.NONE);
    assert.equal(await settled(wait), 'pending');
    // The controller removes 3 from the ISR with a new leader epoch (Kafka's ZooKeeper-mode controller does).
    p.makeLeader(state(1, LOCAL, [1, 2]), Date.now());
    assert.equal(await wait, ErrorCode.NONE);
    assert.equal(
      p.highWatermark,
      res.lastOffset + 1,
      'follower 2 was known to have the batch: no refetch needed',
    );
  });

  it('fails a waiting write with NOT_LEADER_OR_FOLLOWER when this broker stops leading, even if it leads again', async () => {
    const p = partition();
    p.makeLeader(state(0, LOCAL, [1, 2]), Date.now());
    const res = p.appendAsLeader(batch('b'), -1, 2, Date.now());
    const wait = p.waitForHighWatermark(res.lastOffset, 2, 30_000);
    p.makeFollower(state(1, 2, [2]));
    p.makeLeader(state(2, LOCAL, [1, 2]), Date.now());
    assert.equal(p.updateFollowerFetchState(2, res.lastOffset + 1, 0, Date.now()), ErrorCode.NONE);
    assert.equal(p.highWatermark, res.lastOffset + 1);
    assert.equal(await wait, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('forgets what it knew of the followers when it takes leadership over from another broker', async () => {
    const p = partition();
    p.makeFollower(state(0, 2, [1, 2]));
    assert.equal(p.appendAsFollower(batch('c', 2)).errorCode, ErrorCode.NONE);
    p.makeLeader(state(1, LOCAL, [1, 2]), Date.now());
    assert.equal(p.replicaState(2)?.logEndOffset, -1);
    const res = p.appendAsLeader(batch('d'), -1, 2, Date.now());
    const wait = p.waitForHighWatermark(res.lastOffset, 2, 30_000);
    assert.equal(await settled(wait), 'pending');
    p.updateFollowerFetchState(2, res.lastOffset + 1, 0, Date.now());
    assert.equal(await wait, ErrorCode.NONE);
  });

  it('fails a waiting write when the partition is removed from this broker', async () => {
    const p = partition();
    p.makeLeader(state(0, LOCAL, [1, 2]), Date.now());
    const res = p.appendAsLeader(batch('e'), -1, 2, Date.now());
    const wait = p.waitForHighWatermark(res.lastOffset, 2, 30_000);
    p.markRemoved();
    assert.equal(await wait, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });
});
