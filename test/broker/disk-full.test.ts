// A full disk, on a real broker process whose log dir is an 8 MiB tmpfs (1 MiB of it taken by a filler file):
// produce until the broker answers KAFKA_STORAGE_ERROR, take the last free pages with a second filler, check that a produce, a group
// commit, a topic auto-created by Metadata and a CreateTopics are answered with an error on a connection that
// stays open, that what is on disk is still served; then delete the fillers and check that appends, commits
// and auto-creation work again without a restart and that every acknowledged record is there, in order, also
// after a kill -9 and a restart.

import assert from 'node:assert/strict';
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { Consumer } from '../../src/client/consumer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FindCoordinatorResponse } from '../../src/protocol/generated/find-coordinator-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { commit, createTopic, fetchOffsets } from '../coordinator/group-client.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { type Mount, mountSkipReason, mountTmpfs } from '../helpers/mounts.js';

const TOPIC = 'fill';
const GROUP = 'full-disk-group';
const RECORDS_PER_BATCH = 16;
const VALUE_BYTES = 4000;

function value(seq: number): string {
  const tag = `record-${seq}-`;
  return tag + 'x'.repeat(VALUE_BYTES - tag.length);
}

/** Writes zeros to a new file until the file system is full; returns the bytes written. */
function fillUp(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('a full log dir', { skip: mountSkipReason('tmpfs') }, () => {
  let mount: Mount;
  let broker: BrokerHandle;
  let conn: KafkaConnection;
  /** Acknowledged records: offset -> value. */
  const acked = new Map<number, string>();
  let seq = 0;

  /** One produce request of one batch; the partition's error code (and the offsets acknowledged). */
  async function produceOnce(): Promise<number> {
    const first = seq;
    const records = Array.from({ length: RECORDS_PER_BATCH }, () => ({
      key: null,
      value: Buffer.from(value(seq++)),
    }));
    const res = (await conn.send(ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: TOPIC,
          partitionData: [{ index: 0, records: encodeRecordBatch({ records, timestamp: Date.now() }) }],
        },
      ],
    })) as ProduceResponse;
    const p = res.responses[0]!.partitionResponses[0]!;
    if (p.errorCode === ErrorCode.NONE) {
      for (let i = 0; i < RECORDS_PER_BATCH; i++) acked.set(p.baseOffset + i, value(first + i));
    }
    return p.errorCode;
  }

  async function metadataAutoCreate(name: string): Promise<number> {
    const res = (await conn.send(ApiKey.Metadata, 12, {
      topics: [{ name, topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    })) as MetadataResponse;
    return res.topics[0]!.errorCode;
  }

  /** Every record of the topic from offset 0, read by a fresh consumer. */
  async function readAll(bootstrap: string): Promise<Map<number, string>> {
    const consumer = await Consumer.connect({ bootstrap, maxWaitMs: 100 });
    try {
      await consumer.assign(TOPIC, [0], 'earliest');
      const out = new Map<number, string>();
      let empty = 0;
      while (empty < 3) {
        const recs = await consumer.poll();
        if (recs.length === 0) empty++;
        for (const r of recs) out.set(r.offset, r.value?.toString() ?? '');
      }
      return out;
    } finally {
      await consumer.close();
    }
  }

  function assertAllAcknowledgedPresent(read: Map<number, string>): void {
    const offsets = [...read.keys()];
    assert.deepEqual(
      offsets,
      offsets.map((_, i) => i),
      'offsets are contiguous from 0',
    );
    for (const [offset, v] of acked) assert.equal(read.get(offset), v, `acknowledged offset ${offset}`);
    assert.equal(read.size, acked.size, 'nothing that was refused is in the log');
  }

  before(async () => {
    mount = mountTmpfs(8);
    broker = await startBroker({
      dataDir: mount.dir,
      overrides: {
        'log.segment.bytes': String(1024 * 1024),
        'offsets.topic.num.partitions': '1',
        'group.initial.rebalance.delay.ms': '0',
      },
    });
    writeFileSync(join(mount.dir, 'filler-1'), Buffer.alloc(1024 * 1024));
    conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    assert.equal(await createTopic(conn, TOPIC, 1), ErrorCode.NONE);
    // The offsets topic exists before the disk fills (FindCoordinator creates it), with one commit in it.
    const fc = (await conn.send(ApiKey.FindCoordinator, 3, {
      key: GROUP,
      keyType: 0,
    })) as FindCoordinatorResponse;
    assert.equal(fc.errorCode, ErrorCode.NONE);
    const c = await commit(conn, GROUP, [{ topic: TOPIC, partition: 0, offset: 0 }], { generationId: -1 });
    assert.equal(c.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  });

  after(async () => {
    conn?.close();
    await broker?.destroy();
    mount?.unmount();
  });

  it('refuses appends with KAFKA_STORAGE_ERROR and answers every request while full', async () => {
    let code: number = ErrorCode.NONE;
    for (let i = 0; i < 1000 && code === ErrorCode.NONE; i++) code = await produceOnce();
    assert.equal(code, ErrorCode.KAFKA_STORAGE_ERROR, 'produce until the disk is full');
    assert.ok(acked.size > 1000, `${acked.size} records acknowledged before the disk filled`);
    // Whatever space the refused batch left: take it, so every write the broker tries fails.
    fillUp(join(mount.dir, 'filler-2'));

    assert.equal(await produceOnce(), ErrorCode.KAFKA_STORAGE_ERROR);
    // Metadata of ~4 KB: the record cannot fit in the part of a page the offsets log already holds.
    const big = 'm'.repeat(4000);
    const c = await commit(conn, GROUP, [{ topic: TOPIC, partition: 0, offset: 5, metadata: big }], {
      generationId: -1,
    });
    const commitError = c.topics[0]!.partitions[0]!.errorCode;
    assert.notEqual(commitError, ErrorCode.NONE, 'a commit on a full disk is refused');
    assert.equal(commitError, ErrorCode.NOT_COORDINATOR, "Kafka's answer to a failed offsets-topic write");
    assert.equal(await metadataAutoCreate('auto-created'), ErrorCode.KAFKA_STORAGE_ERROR);
    assert.equal(await createTopic(conn, 'created', 1), ErrorCode.KAFKA_STORAGE_ERROR);
    // Reads still work, on the same connection.
    assertAllAcknowledgedPresent(await readAll(broker.bootstrap));
    assert.ok(broker.running());
    assert.match(broker.logs(), /out of disk space: appends fail with KAFKA_STORAGE_ERROR/);
    assert.doesNotMatch(broker.logs(), /request handler failed/);
  });

  it('resumes without a restart once space is freed, with every acknowledged record in order', async () => {
    rmSync(join(mount.dir, 'filler-1'));
    rmSync(join(mount.dir, 'filler-2'));
    const before = acked.size;
    for (let i = 0; i < 5; i++) assert.equal(await produceOnce(), ErrorCode.NONE);
    assert.equal(acked.size, before + 5 * RECORDS_PER_BATCH);
    assert.match(broker.logs(), /appends resumed: disk space is available again/);

    const c = await commit(conn, GROUP, [{ topic: TOPIC, partition: 0, offset: 7 }], { generationId: -1 });
    assert.equal(c.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await fetchOffsets(conn, GROUP)).get(`${TOPIC}:0`)?.offset, 7);
    assert.equal(await metadataAutoCreate('auto-created'), ErrorCode.NONE);

    assertAllAcknowledgedPresent(await readAll(broker.bootstrap));
  });

  it('keeps every acknowledged record and the commit across a kill -9', async () => {
    await broker.kill9();
    await broker.restart();
    conn.close();
    conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    assertAllAcknowledgedPresent(await readAll(broker.bootstrap));
    assert.equal((await fetchOffsets(conn, GROUP)).get(`${TOPIC}:0`)?.offset, 7);
    assert.equal(await produceOnce(), ErrorCode.NONE);
  });
});
