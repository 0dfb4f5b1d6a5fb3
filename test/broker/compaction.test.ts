// Log compaction through a real broker: a compacted topic with overwritten keys and tombstones shrinks to one
// record per key while a consumer keeps reading it, tombstones go after delete.retention.ms, keyless records are
// refused, and __consumer_offsets is compacted like any compacted topic.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import type { KafkaConnection } from '../../src/client/connection.js';
import { OFFSETS_TOPIC, partitionForGroup } from '../../src/coordinator/group/records.js';
import { buildRecordBatch, decodeBatch } from '../../src/protocol/batch-compression.js';
import { Codec } from '../../src/protocol/compression.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { iterateBatches, type RecordInput } from '../../src/protocol/records.js';
import { commit, eventually, fetchOffsets } from '../coordinator/group-client.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

interface Keyed {
  offset: number;
  key: string | null;
  value: string | null;
}

describe('log compaction through the broker', () => {
  let b: InProcessBroker;
  let cluster: Cluster;
  let conn: KafkaConnection;

  before(async () => {
    b = await startInProcess({
      'log.cleaner.backoff.ms': '20',
      'offsets.topic.num.partitions': '3',
      'offsets.topic.segment.bytes': '2048',
    });
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    conn = cluster.bootstrap;
  });
  after(async () => {
    cluster.close();
    await b.stop(true);
  });

  async function produce(name: string, records: RecordInput[], codec = 0) {
    const batch = await buildRecordBatch({ records, timestamp: Date.now() }, codec);
    const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name, partitionData: [{ index: 0, records: batch }] }],
    });
    const p = res.responses[0]?.partitionResponses[0];
    assert.ok(p !== undefined);
    return p;
  }

  /** Every record of partition 0, fetched from offset 0 the way a consumer does (several fetches). */
  async function consumeAll(name: string): Promise<Keyed[]> {
    const out: Keyed[] = [];
    let offset = 0;
    for (;;) {
      const res = await conn.request<FetchResponse>(ApiKey.Fetch, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 64 * 1024,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: name,
            topicId: b.broker.topics.get(name)?.topicId,
            partitions: [
              { partition: 0, fetchOffset: offset, partitionMaxBytes: 64 * 1024, currentLeaderEpoch: -1 },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      const p = res.responses[0]?.partitions[0];
      assert.equal(p?.errorCode, ErrorCode.NONE);
      const data = p?.records ?? Buffer.alloc(0);
      let next = offset;
      for (const { pos, header } of iterateBatches(data)) {
        const { records } = await decodeBatch(data.subarray(pos, pos + 12 + header.batchLength));
        for (const r of records) {
          const o = header.baseOffset + r.offsetDelta;
          if (o < offset) continue;
          out.push({ offset: o, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
        }
        next = header.baseOffset + header.lastOffsetDelta + 1;
      }
      if (next === offset) {
        if (offset >= (p?.highWatermark ?? 0)) return out;
        throw new Error(`fetch at ${offset} made no progress (high watermark ${p?.highWatermark})`);
      }
      offset = next;
    }
  }

  const logOf = (name: string) => b.broker.topics.partition(name, 0)!.log;

  it('compacts overwritten keys to one record each while a consumer reads; tombstones go after delete.retention.ms', async () => {
    const name = 'compacted-1';
    await createTopic(cluster, name, {
      partitions: 1,
      configs: {
        'cleanup.policy': 'compact',
        'segment.bytes': '1024',
        'min.cleanable.dirty.ratio': '0.01',
        'delete.retention.ms': '1500',
      },
    });
    const latest = new Map<string, { offset: number; value: string | null }>();
    let stop = false;
    let reads = 0;
    // A consumer re-reading the partition from the start throughout: offsets always increase, and every key's
    // latest value (as of the start of the read) is there.
    const reader = (async () => {
      while (!stop) {
        const expected = new Map(latest);
        const got = await consumeAll(name);
        for (let i = 1; i < got.length; i++)
          assert.ok(got[i]!.offset > got[i - 1]!.offset, 'offsets increase');
        const byOffset = new Map(got.map((r) => [r.offset, r]));
        for (const [key, l] of expected) {
          if (l.value === null) continue;
          assert.deepEqual(
            byOffset.get(l.offset),
            { offset: l.offset, key, value: l.value },
            `latest of ${key}`,
          );
        }
        reads++;
      }
    })();

    for (let round = 0; round < 30; round++) {
      const records = Array.from({ length: 5 }, (_, i) => ({
        key: `k${(round * 5 + i) % 20}`,
        value: `r${round}-${i}-${'v'.repeat(30)}`,
      }));
      const p = await produce(name, records, round % 3 === 0 ? Codec.gzip : 0);
      assert.equal(p.errorCode, ErrorCode.NONE);
      records.forEach((r, i) => {
        latest.set(r.key, { offset: p.baseOffset + i, value: r.value });
      });
    }
    const del = await produce(
      name,
      ['k0', 'k1', 'k2'].map((key) => ({ key, value: null })),
    );
    ['k0', 'k1', 'k2'].forEach((key, i) => {
      latest.set(key, { offset: del.baseOffset + i, value: null });
    });
    // Push everything above out of the active segment (which is never cleaned).
    const segments = logOf(name).segmentCount;
    for (let i = 0; logOf(name).segmentCount === segments; i++) {
      const p = await produce(name, [{ key: `pad${i}`, value: 'p'.repeat(100) }]);
      latest.set(`pad${i}`, { offset: p.baseOffset, value: 'p'.repeat(100) });
    }
    const pads = [...latest.keys()].filter((k) => k.startsWith('pad')).length;

    const oneEach = (got: Keyed[]): boolean => new Set(got.map((r) => r.key)).size === got.length;
    await eventually(async () => oneEach(await consumeAll(name)), 20_000);
    let got = await consumeAll(name);
    assert.equal(got.length, 20 + pads, 'one record per key: k3..k19, three tombstones, the pads');
    assert.deepEqual(
      got.filter((r) => r.value === null).map((r) => r.key),
      ['k0', 'k1', 'k2'],
    );
    for (const r of got) assert.equal(r.offset, latest.get(r.key!)?.offset, `offset of ${r.key}`);
    assert.ok(b.logs.some((l) => l.msg === 'log cleaned' && l.partition === `${name}-0`));

    // After delete.retention.ms the tombstones are gone too.
    await eventually(async () => (await consumeAll(name)).every((r) => r.value !== null), 20_000);
    got = await consumeAll(name);
    assert.equal(got.length, 17 + pads);
    assert.ok(!got.some((r) => ['k0', 'k1', 'k2'].includes(r.key!)));

    stop = true;
    await reader;
    assert.ok(reads > 3, `reads ${reads}`);
  });

  it('max.compaction.lag.ms also rolls the active segment of a compacted topic (Kafka maxSegmentMs)', async () => {
    const name = 'compacted-3';
    await createTopic(cluster, name, {
      partitions: 1,
      configs: { 'cleanup.policy': 'compact', 'max.compaction.lag.ms': '1000' },
    });
    const now = Date.now();
    for (const [i, ts] of [now - 10_000, now - 5_000, now].entries()) {
      assert.equal((await produce(name, [{ key: 'a', value: `v${i}`, timestamp: ts }])).errorCode, 0);
    }
    assert.equal(logOf(name).segmentCount, 3, 'each record is over the lag newer than the segment start');
    await eventually(async () => (await consumeAll(name)).length === 2, 20_000);
    assert.deepEqual(
      (await consumeAll(name)).map((r) => r.value),
      ['v1', 'v2'],
    );
  });

  it('refuses records without a key on a compacted topic, compressed or not', async () => {
    const name = 'compacted-2';
    await createTopic(cluster, name, { partitions: 1, configs: { 'cleanup.policy': 'compact,delete' } });
    for (const codec of [0, Codec.gzip, Codec.zstd]) {
      const p = await produce(name, [{ key: 'a', value: '1' }, { value: 'no key' }], codec);
      assert.equal(p.errorCode, ErrorCode.INVALID_RECORD, `codec ${codec}`);
      assert.match(p.errorMessage ?? '', /Compacted topic cannot accept message without key/);
    }
    assert.equal((await produce(name, [{ key: 'a', value: '1' }], Codec.lz4)).errorCode, ErrorCode.NONE);
    assert.equal(logOf(name).logEndOffset, 1);
    await createTopic(cluster, 'plain-2', { partitions: 1 });
    assert.equal((await produce('plain-2', [{ value: 'no key' }])).errorCode, ErrorCode.NONE);
  });

  it('compacts __consumer_offsets: many commits of one partition shrink to the latest, which survives a restart', async () => {
    const group = 'compaction-group';
    const first = await commit(conn, group, [{ topic: 'plain-2', partition: 0, offset: 0 }]);
    assert.equal(first.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
    const index = partitionForGroup(group, 3);
    const log = b.broker.topics.partition(OFFSETS_TOPIC, index)!.log;
    for (let i = 1; i <= 400; i++) {
      const res = await commit(conn, group, [
        { topic: 'plain-2', partition: 0, offset: i, metadata: 'm'.repeat(20) },
      ]);
      assert.equal(res.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
    }
    assert.ok(log.segmentCount > 3, `segments ${log.segmentCount}`);
    const written = log.logEndOffset - log.logStartOffset;
    const countRecords = async (): Promise<number> => {
      const r = log.read(log.logStartOffset, 1 << 30, log.logEndOffset, true);
      let n = 0;
      for (const c of r.chunks) {
        for (const { pos, header } of iterateBatches(c)) {
          n += (await decodeBatch(c.subarray(pos, pos + 12 + header.batchLength))).records.length;
        }
      }
      return n;
    };
    // Everything below the active segment is one record (the latest commit), whatever the active segment holds.
    await eventually(async () => (await countRecords()) < written / 4, 20_000);
    assert.equal((await fetchOffsets(conn, group)).get('plain-2:0')?.offset, 400);

    cluster.close();
    b = await b.restart();
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    conn = cluster.bootstrap;
    assert.equal((await fetchOffsets(conn, group)).get('plain-2:0')?.offset, 400);
  });
});
