// The transaction coordinator in a 3-broker ZooKeeper cluster: the broker coordinating a transactional id is
// killed -9 while a commit is half done (PrepareCommit written, one partition still without its marker because
// its only replica is down); the broker that takes over the __transaction_state partition loads the PrepareCommit,
// sends the markers again once the partition is back, and completes the transaction.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../../src/client/connection.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import type { FetchResponse } from '../../../src/protocol/generated/fetch-response.js';
import { decodeRecords, isControl, iterateBatches, LOG_OVERHEAD } from '../../../src/protocol/records.js';
import {
  createAssignedTopic,
  startCluster,
  type TestCluster,
  waitFor,
  withClusterLogs,
  withConnection,
} from '../../helpers/cluster.js';
import { addPartitions, describeTxn, endTxn, findTxnCoordinator, initProducerId } from './txn-client.js';

/** The coordinator of `id` as the running brokers answer it (waits for one). */
function coordinatorOf(c: TestCluster, id: string): Promise<number> {
  return waitFor(`a coordinator for ${id}`, async () => {
    for (const b of c.running()) {
      const r = await withConnection(c.bootstrapOf(b), (conn) => findTxnCoordinator(conn, id));
      if (r.errorCode === ErrorCode.NONE && c.running().includes(r.nodeId)) return r.nodeId;
    }
    return undefined;
  });
}

/** Commit (true) / abort (false) markers of `producerId` in a partition, read from broker `via`. */
async function markers(c: TestCluster, via: number, topic: string, partition: number, producerId: number) {
  return withConnection(c.bootstrapOf(via), async (conn) => {
    const res = await conn.request<FetchResponse>(
      ApiKey.Fetch,
      {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            topicId: '0'.repeat(32),
            partitions: [{ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20, logStartOffset: -1 }],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      },
      11,
    );
    const p = res.responses[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE, `fetch ${topic}-${partition} from ${via}`);
    const out: boolean[] = [];
    for (const { pos, header } of iterateBatches(p.records ?? Buffer.alloc(0))) {
      if (!isControl(header.attributes) || header.producerId !== producerId) continue;
      const batch = p.records!.subarray(pos, pos + LOG_OVERHEAD + header.batchLength);
      out.push(decodeRecords(batch).records[0]?.key?.readInt16BE(2) === 1);
    }
    return out;
  });
}

describe('transaction coordinator in a 3-broker cluster', () => {
  let c: TestCluster;

  before(async () => {
    c = await startCluster({
      brokers: 3,
      overrides: {
        'transaction.state.log.num.partitions': '3',
        'transaction.state.log.replication.factor': '3',
      },
    });
  });

  after(async () => {
    await c?.destroy();
  });

  it("the coordinator's broker killed -9 mid-commit: the new coordinator completes the transaction", () =>
    withClusterLogs(c, async () => {
      const id = 'killed-mid-commit';
      const coord = await coordinatorOf(c, id);
      const [x, y] = c.ids.filter((i) => i !== coord) as [number, number];
      // Another broker does not coordinate the id.
      const elsewhere = await withConnection(c.bootstrapOf(c.ids.find((i) => i !== coord)!), (k) =>
        describeTxn(k, id),
      );
      assert.equal(elsewhere.errorCode, ErrorCode.NOT_COORDINATOR);
      // solo-0 lives on x alone (down during the commit); shared-0 on all three, led by the coordinator.
      await createAssignedTopic(c, y, 'solo', [[x]]);
      await createAssignedTopic(c, y, 'shared', [[coord, y, x]]);

      const conn = await KafkaConnection.connect({
        host: '127.0.0.1',
        port: Number(c.bootstrapOf(coord).split(':')[1]),
      });
      let producerId: number;
      let producerEpoch: number;
      try {
        const init = await waitFor('InitProducerId', async () => {
          const r = await initProducerId(conn, id);
          return r.errorCode === ErrorCode.NONE ? r : undefined;
        });
        producerId = init.producerId;
        producerEpoch = init.producerEpoch;
        const p = { transactionalId: id, producerId, producerEpoch };
        const added = await addPartitions(conn, p, { solo: [0], shared: [0] });
        assert.deepEqual([...added.values()], [ErrorCode.NONE, ErrorCode.NONE]);

        await c.stop(x);
        await c.waitForMetadata(
          'solo-0 without a leader',
          (m) => m.topics[0]?.partitions[0]?.leaderId === -1,
          {
            topics: ['solo'],
            only: [coord],
          },
        );
        assert.equal(await endTxn(conn, p, true), ErrorCode.NONE);
        const d = await describeTxn(conn, id);
        assert.equal(d.transactionState, 'PrepareCommit', 'solo-0 cannot get its marker');
        await waitFor('the marker of shared-0', async () =>
          (await markers(c, coord, 'shared', 0, producerId)).length > 0 ? true : undefined,
        );
      } finally {
        conn.close();
      }

      await c.kill9(coord);
      await c.restart(x);

      const done = await waitFor(
        `${id} completed by the new coordinator`,
        async () => {
          const now = await coordinatorOf(c, id);
          if (now === coord) return undefined;
          const st = await withConnection(c.bootstrapOf(now), (k) => describeTxn(k, id));
          return st.transactionState === 'CompleteCommit' ? { now, st } : undefined;
        },
        90_000,
      );
      assert.notEqual(done.now, coord);
      assert.equal(done.st.producerId, producerId);
      assert.equal(done.st.producerEpoch, producerEpoch);
      assert.deepEqual(done.st.topics, []);
      assert.deepEqual(await markers(c, x, 'solo', 0, producerId), [true], 'solo-0 got its commit marker');
      const shared = await markers(c, y, 'shared', 0, producerId);
      assert.ok(
        shared.length >= 1 && shared.every((commit) => commit),
        `shared-0 markers: ${JSON.stringify(shared)}`,
      );

      // The transactional id goes on with the next epoch at its new coordinator.
      const next = await withConnection(c.bootstrapOf(done.now), (k) => initProducerId(k, id));
      assert.equal(next.errorCode, ErrorCode.NONE);
      assert.equal(next.producerId, producerId);
      assert.equal(next.producerEpoch, producerEpoch + 1);
    }));
});
