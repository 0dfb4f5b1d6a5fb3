// A failing disk, on a real broker process with two log dirs: a normal one and an ext4 image on a loop device
// that is shut down mid-run (EXT4_IOC_SHUTDOWN: every later I/O fails with EIO). The failed dir goes offline as
// in Kafka: its partitions answer KAFKA_STORAGE_ERROR (Produce, Fetch, ListOffsets) and show no leader in
// Metadata, DescribeLogDirs reports the dir's error, while the partitions of the other dir and new topics keep
// working. After a clean stop, the file system back and a restart, the dir serves again with everything that
// was acknowledged.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { Consumer } from '../../src/client/consumer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { DescribeLogDirsResponse } from '../../src/protocol/generated/describe-log-dirs-response.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ListOffsetsResponse } from '../../src/protocol/generated/list-offsets-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { createTopic } from '../coordinator/group-client.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { type LoopMount, mountLoopExt4, mountSkipReason } from '../helpers/mounts.js';

const TOPIC = 'split';

describe('a log dir that fails', { skip: mountSkipReason('loop') }, () => {
  let good: string;
  let bad: LoopMount;
  let broker: BrokerHandle;
  let conn: KafkaConnection;
  let nodeId = -1;
  /** Acknowledged values per partition, in offset order. */
  const acked: string[][] = [[], []];
  let seq = 0;

  async function produce(partition: number): Promise<number> {
    const v = `p${partition}-${seq++}`;
    const res = (await conn.send(ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: TOPIC,
          partitionData: [
            {
              index: partition,
              records: encodeRecordBatch({
                records: [{ key: null, value: Buffer.from(v) }],
                timestamp: Date.now(),
              }),
            },
          ],
        },
      ],
    })) as ProduceResponse;
    const code = res.responses[0]!.partitionResponses[0]!.errorCode;
    if (code === ErrorCode.NONE) acked[partition]!.push(v);
    return code;
  }

  async function fetchError(partition: number): Promise<number> {
    const res = (await conn.send(ApiKey.Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    })) as FetchResponse;
    return res.responses[0]!.partitions[0]!.errorCode;
  }

  async function readValues(partition: number): Promise<string[]> {
    const consumer = await Consumer.connect({ bootstrap: broker.bootstrap, maxWaitMs: 100 });
    try {
      await consumer.assign(TOPIC, [partition], 'earliest');
      const out: string[] = [];
      let empty = 0;
      while (empty < 3) {
        const recs = await consumer.poll();
        if (recs.length === 0) empty++;
        for (const r of recs) out.push(r.value?.toString() ?? '');
      }
      return out;
    } finally {
      await consumer.close();
    }
  }

  before(async () => {
    good = mkdtempSync(join(tmpdir(), 'samsa-good-'));
    bad = mountLoopExt4(32);
    broker = await startBroker({ dataDir: good, overrides: { 'log.dirs': `${good},${bad.dir}` } });
    conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    // Partition 0 goes to the first dir, partition 1 to the second (the one with fewer partitions).
    assert.equal(await createTopic(conn, TOPIC, 2), ErrorCode.NONE);
    const md = (await conn.send(ApiKey.Metadata, 12, {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    })) as MetadataResponse;
    nodeId = md.brokers[0]!.nodeId;
    for (let i = 0; i < 5; i++) {
      assert.equal(await produce(0), ErrorCode.NONE);
      assert.equal(await produce(1), ErrorCode.NONE);
    }
  });

  after(async () => {
    conn?.close();
    await broker?.destroy();
    bad?.unmount();
    if (good !== undefined) rmSync(good, { recursive: true, force: true });
  });

  it('takes the failed dir offline and keeps serving the other', async () => {
    bad.shutdown();
    assert.equal(await produce(1), ErrorCode.KAFKA_STORAGE_ERROR);
    // The broker's stderr may reach us after its answer does.
    await broker.waitForLog(/log dir offline after an I\/O error/, 10_000);
    assert.equal(await produce(1), ErrorCode.KAFKA_STORAGE_ERROR, 'stays offline');
    assert.equal(await fetchError(1), ErrorCode.KAFKA_STORAGE_ERROR);
    const lo = (await conn.send(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: TOPIC,
          partitions: [0, 1].map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1 })),
        },
      ],
    })) as ListOffsetsResponse;
    assert.deepEqual(
      lo.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.offset]),
      [
        [0, ErrorCode.NONE, 5],
        [1, ErrorCode.KAFKA_STORAGE_ERROR, -1],
      ],
    );

    // The other dir: business as usual.
    assert.equal(await produce(0), ErrorCode.NONE);
    assert.equal(await fetchError(0), ErrorCode.NONE);
    assert.deepEqual(await readValues(0), acked[0]);

    const md = (await conn.send(ApiKey.Metadata, 12, {
      topics: [{ name: TOPIC, topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    })) as MetadataResponse;
    assert.deepEqual(
      md.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.offlineReplicas]),
      [
        [0, ErrorCode.NONE, nodeId, []],
        [1, ErrorCode.LEADER_NOT_AVAILABLE, -1, [nodeId]],
      ],
    );
    const dirs = (await conn.send(ApiKey.DescribeLogDirs, 4, { topics: null })) as DescribeLogDirsResponse;
    assert.deepEqual(
      dirs.results.map((r) => [r.logDir, r.errorCode]).sort(),
      [
        [good, ErrorCode.NONE],
        [bad.dir, ErrorCode.KAFKA_STORAGE_ERROR],
      ].sort(),
    );
    // New partitions go to the dir that still works.
    assert.equal(await createTopic(conn, 'after-failure', 2), ErrorCode.NONE);
    assert.ok(broker.running());
    assert.doesNotMatch(broker.logs(), /request handler failed/);
  });

  it('serves the dir again after a restart, with everything acknowledged', async () => {
    await broker.stop();
    assert.match(broker.logs(), /not writing the clean shutdown marker/);
    bad.remount();
    await broker.restart();
    conn.close();
    conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    assert.deepEqual(await readValues(0), acked[0]);
    assert.deepEqual(await readValues(1), acked[1]);
    assert.equal(await produce(1), ErrorCode.NONE);
  });
});
