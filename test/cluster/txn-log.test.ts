// Transactions on a replicated partition (3 brokers, ZooKeeper, RF 3, min.insync.replicas 2): WriteTxnMarkers is
// answered once the marker is replicated; the followers build the same transaction state from the leader's
// batches (open transactions, .txnindex), so after a kill -9 of the leader the new leader serves the same last
// stable offset and aborted transactions, and takes the pending marker.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  createAssignedTopic,
  startCluster,
  type TestCluster,
  waitFor,
  withClusterLogs,
} from '../helpers/cluster.js';
import {
  batchesOf,
  fetchPartition,
  latestOffset,
  NO_TXN_VERIFICATION,
  produce,
  producerId,
  READ_COMMITTED,
  READ_UNCOMMITTED,
  txnBatch,
  writeMarkers,
} from '../helpers/txn-log-client.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';

const TOPIC = 'txn-replicated';

describe('transactional log, replicated', { skip: zooKeeperSkip(), timeout: 240_000 }, () => {
  let c: TestCluster | undefined;
  let topicId = '';

  before(async () => {
    c = await startCluster({ brokers: 3, overrides: NO_TXN_VERIFICATION });
    await withClusterLogs(c, async () => {
      await createAssignedTopic(c!, 1, TOPIC, [[1, 2, 3]], { 'min.insync.replicas': '2' });
      const m = await c!.metadata(1, [TOPIC]);
      topicId = m.topics[0]!.topicId;
    });
  });

  after(async () => {
    await c?.destroy();
  });

  async function connect(id: number): Promise<KafkaConnection> {
    const [host, port] = c!.bootstrapOf(id).split(':');
    return KafkaConnection.connect({ host: host!, port: Number(port) });
  }

  it('markers are replicated before the answer; a new leader has the same LSO and aborted list', async () => {
    await withClusterLogs(c, async () => {
      const leader = await connect(1);
      let pidA: number;
      let pidB: number;
      try {
        pidA = await producerId(leader);
        pidB = await producerId(leader);
        assert.equal((await produce(leader, TOPIC, txnBatch(pidA, 0, ['a0', 'a1']), 'tx-a')).baseOffset, 0);
        assert.equal((await produce(leader, TOPIC, txnBatch(pidB, 0, ['b0']), 'tx-b')).baseOffset, 2);
        // A follower refuses markers.
        const follower = await connect(2);
        try {
          assert.deepEqual(await writeMarkers(follower, TOPIC, [{ pid: pidA, commit: false }]), [
            ErrorCode.NOT_LEADER_OR_FOLLOWER,
          ]);
        } finally {
          follower.close();
        }
        assert.deepEqual(await writeMarkers(leader, TOPIC, [{ pid: pidA, commit: false }]), [ErrorCode.NONE]);
        // Answered only once replicated: the high watermark is already past the marker (offset 3).
        const p = await fetchPartition(leader, TOPIC, topicId, 0, READ_COMMITTED);
        assert.equal(p.highWatermark, 4);
        assert.equal(p.lastStableOffset, 2, 'B still open');
        assert.deepEqual(p.abortedTransactions, [{ producerId: pidA, firstOffset: 0 }]);
        assert.deepEqual(batchesOf(p), [[0, 1, false]]);
      } finally {
        leader.close();
      }

      await c!.kill9(1);
      const next = await waitFor('a new leader of the partition', async () => {
        const id = await c!.leaderOf(TOPIC, 0, 2);
        return id === 1 || id < 0 ? undefined : id;
      });
      const conn = await connect(next);
      try {
        // The new leader's high watermark catches up with its own log end once its follower fetches.
        await waitFor('the new leader to serve the log end', async () =>
          (await latestOffset(conn, TOPIC, READ_UNCOMMITTED)) === 4 ? true : undefined,
        );
        assert.equal(await latestOffset(conn, TOPIC, READ_COMMITTED), 2);
        const p = await fetchPartition(conn, TOPIC, topicId, 0, READ_COMMITTED);
        assert.equal(p.lastStableOffset, 2);
        assert.deepEqual(p.abortedTransactions, [{ producerId: pidA, firstOffset: 0 }]);
        assert.deepEqual(await writeMarkers(conn, TOPIC, [{ pid: pidB, commit: true }]), [ErrorCode.NONE]);
        assert.equal(await latestOffset(conn, TOPIC, READ_COMMITTED), 5);
        const all = await fetchPartition(conn, TOPIC, topicId, 0, READ_COMMITTED);
        assert.deepEqual(batchesOf(all), [
          [0, 1, false],
          [2, 2, false],
          [3, 3, true],
          [4, 4, true],
        ]);
        assert.deepEqual(all.abortedTransactions, [{ producerId: pidA, firstOffset: 0 }]);
      } finally {
        conn.close();
      }
    });
  });
});
