// Each topic config of the operator's toolkit takes effect at runtime, without a restart: the config is
// altered with IncrementalAlterConfigs on a live broker and the next produce, fetch or retention pass obeys it.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alterConfigs, createTopic, describeConfigs, ResourceType } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import type { KafkaConnection } from '../../src/client/connection.js';
import { buildRecordBatch, decodeBatch } from '../../src/protocol/batch-compression.js';
import { Codec } from '../../src/protocol/compression.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { iterateBatches, type RecordInput, readBatchHeader } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

describe('topic configs take effect at runtime', () => {
  let b: InProcessBroker;
  let cluster: Cluster;
  let conn: KafkaConnection;
  let n = 0;

  before(async () => {
    b = await startInProcess({ 'log.retention.check.interval.ms': '3600000' });
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    conn = cluster.bootstrap;
  });
  after(async () => {
    cluster.close();
    await b.stop(true);
  });

  async function topic(configs: Record<string, string> = {}): Promise<string> {
    const name = `cfg-${++n}`;
    await createTopic(cluster, name, { partitions: 1, configs });
    return name;
  }

  function set(name: string, configs: Record<string, string>): Promise<void> {
    return alterConfigs(cluster, ResourceType.TOPIC, name, { set: configs });
  }

  async function produce(
    name: string,
    records: RecordInput[],
    opts: { acks?: number; codec?: number; timestamp?: number } = {},
  ) {
    const batch = await buildRecordBatch(
      { records, timestamp: opts.timestamp ?? Date.now() },
      opts.codec ?? 0,
    );
    const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId: null,
      acks: opts.acks ?? -1,
      timeoutMs: 5000,
      topicData: [{ name, partitionData: [{ index: 0, records: batch }] }],
    });
    const p = res.responses[0]?.partitionResponses[0];
    assert.ok(p !== undefined);
    return p;
  }

  async function fetchRaw(name: string, offset = 0): Promise<Buffer> {
    const res = await conn.request<FetchResponse>(ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 10_000_000,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: name,
          topicId: b.broker.topics.get(name)?.topicId,
          partitions: [
            { partition: 0, fetchOffset: offset, partitionMaxBytes: 10_000_000, currentLeaderEpoch: -1 },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = res.responses[0]?.partitions[0];
    assert.equal(p?.errorCode, ErrorCode.NONE);
    return p?.records ?? Buffer.alloc(0);
  }

  const log = (name: string) => {
    const p = b.broker.topics.partition(name, 0);
    assert.ok(p !== undefined);
    return p.log;
  };

  it('segment.bytes: a smaller value rolls segments on the next appends', async () => {
    const name = await topic();
    for (let i = 0; i < 5; i++) await produce(name, [{ value: 'x'.repeat(100) }]);
    assert.equal(log(name).segmentCount, 1);
    await set(name, { 'segment.bytes': '400' });
    for (let i = 0; i < 5; i++) await produce(name, [{ value: 'x'.repeat(100) }]);
    assert.ok(log(name).segmentCount >= 3, `segments: ${log(name).segmentCount}`);
  });

  it('segment.ms: a batch newer than the segment by more than segment.ms rolls it', async () => {
    const name = await topic();
    const t = Date.now();
    await produce(name, [{ value: 'a' }], { timestamp: t });
    await produce(name, [{ value: 'b' }], { timestamp: t + 60_000 });
    assert.equal(log(name).segmentCount, 1);
    await set(name, { 'segment.ms': '1000' });
    await produce(name, [{ value: 'c' }], { timestamp: t + 120_000 });
    assert.equal(log(name).segmentCount, 2);
  });

  it('retention.ms: segments older than retention.ms are deleted by the retention pass', async () => {
    const name = await topic({ 'segment.bytes': '200' });
    const old = Date.now() - 3_600_000;
    for (let i = 0; i < 4; i++)
      await produce(name, [{ value: `old-${i}-${'x'.repeat(100)}` }], { timestamp: old });
    for (let i = 0; i < 2; i++) await produce(name, [{ value: `new-${i}-${'x'.repeat(100)}` }]);
    b.broker.logs.enforceRetention();
    assert.equal(log(name).logStartOffset, 0, 'the default 7 days keeps everything');
    await set(name, { 'retention.ms': '60000' });
    b.broker.logs.enforceRetention();
    assert.equal(log(name).logStartOffset, 4);
  });

  it('retention.bytes: the oldest segments go while the log is larger', async () => {
    const name = await topic({ 'segment.bytes': '200' });
    for (let i = 0; i < 6; i++) await produce(name, [{ value: `${i}-${'x'.repeat(100)}` }]);
    const before = log(name).sizeBytes;
    await set(name, { 'retention.bytes': '400' });
    b.broker.logs.enforceRetention();
    assert.ok(log(name).logStartOffset >= 3, `logStartOffset ${log(name).logStartOffset}`);
    assert.ok(log(name).sizeBytes < before);
  });

  it('cleanup.policy: compact alone turns time and size retention off; delete turns them back on', async () => {
    const name = await topic({ 'segment.bytes': '200', 'cleanup.policy': 'compact', 'retention.ms': '1000' });
    const old = Date.now() - 3_600_000;
    for (let i = 0; i < 4; i++)
      await produce(name, [{ key: `k${i}`, value: 'x'.repeat(100) }], { timestamp: old });
    b.broker.logs.enforceRetention();
    assert.equal(log(name).logStartOffset, 0);
    await set(name, { 'cleanup.policy': 'compact,delete' });
    b.broker.logs.enforceRetention();
    assert.ok(log(name).logStartOffset > 0);
  });

  it('max.message.bytes: larger batches are refused with MESSAGE_TOO_LARGE', async () => {
    const name = await topic();
    assert.equal((await produce(name, [{ value: 'y'.repeat(1000) }])).errorCode, ErrorCode.NONE);
    await set(name, { 'max.message.bytes': '500' });
    assert.equal((await produce(name, [{ value: 'y'.repeat(1000) }])).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal((await produce(name, [{ value: 'small' }])).errorCode, ErrorCode.NONE);
  });

  it('message.timestamp.type: LogAppendTime stamps batches with the broker time', async () => {
    const name = await topic();
    await set(name, { 'message.timestamp.type': 'LogAppendTime' });
    const t0 = Date.now();
    const p = await produce(name, [{ value: 'v' }], { timestamp: 1000 });
    assert.ok(p.logAppendTimeMs >= t0, `logAppendTimeMs ${p.logAppendTimeMs}`);
    const h = readBatchHeader(await fetchRaw(name), 0);
    assert.equal(h.attributes & 0x08, 0x08);
    assert.equal(h.maxTimestamp, p.logAppendTimeMs);
    await set(name, { 'message.timestamp.type': 'CreateTime' });
    const p2 = await produce(name, [{ value: 'w' }], { timestamp: 2000 });
    assert.equal(p2.logAppendTimeMs, -1);
  });

  it('compression.type: batches are recompressed to the topic codec; producer keeps theirs', async () => {
    const name = await topic();
    await set(name, { 'compression.type': 'gzip' });
    const values = Array.from({ length: 20 }, (_, i) => `value-${i}`);
    assert.equal(
      (
        await produce(
          name,
          values.map((value) => ({ key: 'k', value })),
        )
      ).errorCode,
      ErrorCode.NONE,
    );
    assert.equal(
      (await produce(name, [{ value: 'from-lz4' }], { codec: Codec.lz4 })).errorCode,
      ErrorCode.NONE,
    );
    await set(name, { 'compression.type': 'uncompressed' });
    assert.equal(
      (await produce(name, [{ value: 'zstd-in' }], { codec: Codec.zstd })).errorCode,
      ErrorCode.NONE,
    );
    await set(name, { 'compression.type': 'producer' });
    assert.equal(
      (await produce(name, [{ value: 'snappy-kept' }], { codec: Codec.snappy })).errorCode,
      ErrorCode.NONE,
    );

    const raw = await fetchRaw(name);
    const batches = [...iterateBatches(raw)];
    assert.deepEqual(
      batches.map((x) => x.header.attributes & 0x07),
      [Codec.gzip, Codec.gzip, Codec.none, Codec.snappy],
    );
    const first = batches[0];
    assert.ok(first !== undefined);
    const decoded = await decodeBatch(raw.subarray(first.pos, first.pos + 12 + first.header.batchLength));
    assert.deepEqual(
      decoded.records.map((r) => r.value?.toString()),
      values,
    );
    assert.equal(decoded.header.recordCount, 20);
    assert.equal(batches[1]?.header.baseOffset, 20);
  });

  it('compression.type: a corrupt compressed body is refused, not stored', async () => {
    const name = await topic({ 'compression.type': 'zstd' });
    const batch = await buildRecordBatch({ records: [{ value: 'x'.repeat(200) }] }, Codec.gzip);
    batch.fill(0x55, 70, 90); // damage the gzip stream, then fix the CRC so only decompression can tell
    const { rewriteCrc } = await import('../../src/protocol/records.js');
    rewriteCrc(batch, 0, batch.length - 12);
    const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name, partitionData: [{ index: 0, records: batch }] }],
    });
    assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.CORRUPT_MESSAGE);
    assert.equal(log(name).logEndOffset, 0);
  });

  it('min.insync.replicas: above the ISR size, acks=all gets NOT_ENOUGH_REPLICAS (acks=1 still works)', async () => {
    const name = await topic();
    await set(name, { 'min.insync.replicas': '2' });
    assert.equal(
      (await produce(name, [{ value: 'a' }], { acks: -1 })).errorCode,
      ErrorCode.NOT_ENOUGH_REPLICAS,
    );
    assert.equal((await produce(name, [{ value: 'b' }], { acks: 1 })).errorCode, ErrorCode.NONE);
    await alterConfigs(cluster, ResourceType.TOPIC, name, { delete: ['min.insync.replicas'] });
    assert.equal((await produce(name, [{ value: 'c' }], { acks: -1 })).errorCode, ErrorCode.NONE);
  });

  it('file.delete.delay.ms: deleted segments linger as .deleted files for that long', async () => {
    const name = await topic({
      'segment.bytes': '200',
      'retention.bytes': '0',
      'file.delete.delay.ms': '60000',
    });
    for (let i = 0; i < 3; i++) await produce(name, [{ value: `${i}-${'x'.repeat(100)}` }]);
    b.broker.logs.enforceRetention();
    const dir = log(name).dir;
    assert.ok(
      readdirSync(dir).some((f) => f.endsWith('.deleted')),
      'files kept for the delay',
    );
    await set(name, { 'file.delete.delay.ms': '0' });
    for (let i = 0; i < 3; i++) await produce(name, [{ value: `${i}-${'x'.repeat(100)}` }]);
    const lingering = readdirSync(dir).filter((f) => f.endsWith('.deleted')).length;
    b.broker.logs.enforceRetention();
    assert.equal(
      readdirSync(dir).filter((f) => f.endsWith('.deleted')).length,
      lingering,
      'no new lingering files',
    );
    assert.ok(existsSync(path.join(dir)));
  });

  it('delete.retention.ms: stored and described with its source (the log cleaner applies it to tombstones)', async () => {
    const name = await topic();
    await set(name, { 'delete.retention.ms': '1234' });
    const c = (await describeConfigs(cluster, ResourceType.TOPIC, name, ['delete.retention.ms']))[0];
    assert.equal(c?.value, '1234');
    assert.equal(c?.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.deepEqual(
      c?.synonyms.map((s) => s.source),
      ['DYNAMIC_TOPIC_CONFIG', 'DEFAULT_CONFIG'],
    );
  });

  it('configs survive a restart', async () => {
    const name = await topic();
    await set(name, { 'segment.bytes': '300', 'compression.type': 'lz4' });
    cluster.close();
    b = await b.restart();
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    conn = cluster.bootstrap;
    assert.equal(log(name).logConfig.segmentBytes, 300);
    await produce(name, [{ value: 'after restart' }]);
    assert.equal(readBatchHeader(await fetchRaw(name), 0).attributes & 0x07, Codec.lz4);
  });
});
