// Regression (found by the chaos run, seed 3 with kafkajs): a broker restarted right after a crash serves
// before it registers, while it waits for its previous run's registration to expire; the controller, which
// still believes that run alive, sent its UpdateMetadata there and the new process applied it to its empty
// metadata cache. Metadata then listed a topic with only the partitions that update named (all without error),
// and kafkajs, finding no leader for the others, resolved idempotent sends to them with [] without sending.
// Now controller requests wait until this run has registered and are then judged by its broker epoch: the
// previous run's get STALE_BROKER_EPOCH and change nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ZkClient } from '../../src/cluster/zk/zk-client.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { UpdateMetadataResponse } from '../../src/protocol/generated/update-metadata-response.js';
import { canConnect } from '../helpers/broker.js';
import { startCluster, type TestCluster, waitFor, withClusterLogs } from '../helpers/cluster.js';
import { createReplicatedTopic, waitInSync } from '../helpers/faults.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';

describe('a restarted broker and its previous run', { skip: zooKeeperSkip(), timeout: 180_000 }, () => {
  let c: TestCluster | undefined;
  let zk: ZkClient | undefined;

  before(async () => {
    c = await startCluster({ brokers: 3 });
    zk = await ZkClient.connect(c.zkConnect, { sessionTimeoutMs: 20_000 });
  });
  after(async () => {
    await zk?.close();
    await c?.destroy();
  });

  test('controller requests for the previous run are refused, even before this run has registered', async () => {
    await withClusterLogs(c, async () => {
      const topic = 'stale-epoch';
      await createReplicatedTopic(c!, topic, 4);
      const victim = 2;
      const reg = await zk!.get(`/brokers/ids/${victim}`);
      assert.ok(reg !== null);
      const oldEpoch = reg.stat.czxid;
      const port = c!.broker(victim).port;

      await c!.kill9(victim);
      const restarting = c!.restart(victim); // waits for the old registration to expire (a session timeout)
      restarting.catch(() => {});
      await waitFor('the restarted broker to accept connections', async () =>
        (await canConnect(port)) ? true : undefined,
      );
      // One connection: the broker handles requests in the order they arrive (answering in that order too), so
      // the Metadata request is handled after the UpdateMetadata one was, or while it waits.
      const conn = await KafkaConnection.connect({ host: '127.0.0.1', port, clientId: 'stale-controller' });
      try {
        // What the controller sends the previous run: one partition's state (e.g. after an ISR change).
        const update = conn.request<UpdateMetadataResponse>(ApiKey.UpdateMetadata, {
          controllerId: 1,
          controllerEpoch: 1_000_000,
          brokerEpoch: oldEpoch,
          topicStates: [
            {
              topicName: topic,
              topicId: `${'0'.repeat(31)}1`,
              partitionStates: [
                {
                  topicName: topic,
                  partitionIndex: 0,
                  controllerEpoch: 1_000_000,
                  leader: 1,
                  leaderEpoch: 0,
                  isr: [1, 3],
                  zkVersion: 0,
                  replicas: [1, 2, 3],
                  offlineReplicas: [],
                },
              ],
            },
          ],
          liveBrokers: [],
        });
        // The previous run's update is not applied: Metadata never lists the topic with only some of its partitions.
        const m = await conn.request<MetadataResponse>(ApiKey.Metadata, {
          topics: [{ name: topic, topicId: '0'.repeat(32) }],
          allowAutoTopicCreation: false,
        });
        const t = m.topics[0];
        assert.ok(
          t === undefined || t.errorCode !== ErrorCode.NONE || t.partitions.length === 4,
          `Metadata lists ${topic} with partitions ${t?.partitions.map((p) => p.partitionIndex).join(',')}`,
        );
        assert.equal((await update).errorCode, ErrorCode.STALE_BROKER_EPOCH);
      } finally {
        conn.close();
      }
      await restarting;
      await waitInSync(c!, [topic]);
      const after = await c!.metadata(victim, [topic]);
      assert.equal(after.topics[0]?.partitions.length, 4);
    });
  });
});
