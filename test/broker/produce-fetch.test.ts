// The produce/fetch path end to end through the internal client: real sockets, a real data folder.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ListOffsetsResponse } from '../../src/protocol/generated/list-offsets-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { decodeRecords, encodeRecordBatch, iterateBatches } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

async function createTopic(
  conn: KafkaConnection,
  name: string,
  partitions: number,
  configs: Record<string, string> = {},
) {
  const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
    topics: [
      {
        name,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([n, v]) => ({ name: n, value: v })),
      },
    ],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  return res.topics[0]!;
}

async function produce(conn: KafkaConnection, topic: string, partition: number, batch: Buffer, acks = -1) {
  const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
    transactionalId: null,
    acks,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
  return res.responses[0]!.partitionResponses[0]!;
}

async function fetchFrom(
  conn: KafkaConnection,
  topicId: string,
  topic: string,
  offset: number,
  opts: { maxWaitMs?: number; minBytes?: number; maxBytes?: number } = {},
) {
  const res = await conn.request<FetchResponse>(ApiKey.Fetch, {
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 1,
    maxBytes: opts.maxBytes ?? 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId,
        partitions: [
          {
            partition: 0,
            fetchOffset: offset,
            partitionMaxBytes: opts.maxBytes ?? 1024 * 1024,
            currentLeaderEpoch: -1,
            logStartOffset: -1,
            lastFetchedEpoch: -1,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  return res.responses[0]!.partitions[0]!;
}

function valuesOf(records: Buffer | null): string[] {
  const out: string[] = [];
  if (records === null) return out;
  for (const { pos, header } of iterateBatches(records)) {
    const batch = records.subarray(pos, pos + 12 + header.batchLength);
    for (const r of decodeRecords(batch).records) out.push(r.value?.toString() ?? 'null');
  }
  return out;
}

describe('produce and fetch', () => {
  let b: InProcessBroker;
  let conn: KafkaConnection;
  before(async () => {
    b = await startInProcess();
    conn = await b.connect();
  });
  after(async () => {
    conn.close();
    await b.stop(true);
  });

  it('creates a topic, appends batches with consecutive offsets, and reads them back', async () => {
    const t = await createTopic(conn, 'orders', 2);
    assert.equal(t.errorCode, ErrorCode.NONE);
    assert.notEqual(t.topicId, '0'.repeat(32));
    const r1 = await produce(
      conn,
      'orders',
      0,
      encodeRecordBatch({ records: [{ value: 'a' }, { value: 'b' }, { key: 'k', value: null }] }),
    );
    const r2 = await produce(conn, 'orders', 0, encodeRecordBatch({ records: [{ value: 'c' }] }));
    assert.deepEqual([r1.errorCode, r1.baseOffset, r2.errorCode, r2.baseOffset], [0, 0, 0, 3]);
    const f = await fetchFrom(conn, t.topicId, 'orders', 0);
    assert.equal(f.errorCode, 0);
    assert.equal(f.highWatermark, 4);
    assert.deepEqual(valuesOf(f.records), ['a', 'b', 'null', 'c']);
    const mid = await fetchFrom(conn, t.topicId, 'orders', 3);
    assert.deepEqual(valuesOf(mid.records), ['c']);
  });

  it('answers OFFSET_OUT_OF_RANGE past the end, and lists earliest/latest offsets', async () => {
    const md = await conn.request<MetadataResponse>(ApiKey.Metadata, {
      topics: [{ name: 'orders', topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const topicId = md.topics[0]!.topicId;
    const f = await fetchFrom(conn, topicId, 'orders', 99);
    assert.equal(f.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    const lo = await conn.request<ListOffsetsResponse>(ApiKey.ListOffsets, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, timestamp: -2, currentLeaderEpoch: -1 },
            { partitionIndex: 1, timestamp: -1, currentLeaderEpoch: -1 },
          ],
        },
      ],
      timeoutMs: 1000,
    });
    const [p0, p1] = lo.topics[0]!.partitions;
    assert.deepEqual([p0!.offset, p1!.offset], [0, 0]);
  });

  it('wakes a long-poll fetch when data arrives, and times out when none does', async () => {
    const t = await createTopic(conn, 'poll', 1);
    const start = Date.now();
    const empty = await fetchFrom(conn, t.topicId, 'poll', 0, { maxWaitMs: 300, minBytes: 1 });
    assert.ok(Date.now() - start >= 250, 'waited for max_wait_ms');
    assert.equal(empty.records?.length ?? 0, 0);
    const other = await b.connect();
    const pending = fetchFrom(other, t.topicId, 'poll', 0, { maxWaitMs: 10_000, minBytes: 1 });
    await new Promise((r) => setTimeout(r, 100));
    const woke = Date.now();
    await produce(conn, 'poll', 0, encodeRecordBatch({ records: [{ value: 'wake' }] }));
    const f = await pending;
    assert.ok(Date.now() - woke < 5_000, 'woken by the append, not the timeout');
    assert.deepEqual(valuesOf(f.records), ['wake']);
    other.close();
  });

  it('waits max_wait_ms for an unknown topic id, and keeps the long poll of the partitions that are fine', async () => {
    const unknownId = 'ab'.repeat(16);
    let start = Date.now();
    const gone = await fetchFrom(conn, unknownId, '', 0, { maxWaitMs: 400, minBytes: 1 });
    assert.equal(gone.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    assert.ok(
      Date.now() - start >= 350,
      'a fetch of an unknown topic id is answered at max_wait_ms, not at once',
    );
    // Mixed: the unknown topic id does not cut short the wait of a known, empty partition.
    const t = await createTopic(conn, 'poll-mixed', 1);
    const partition = {
      partition: 0,
      fetchOffset: 0,
      partitionMaxBytes: 1024 * 1024,
      currentLeaderEpoch: -1,
      logStartOffset: -1,
      lastFetchedEpoch: -1,
    };
    start = Date.now();
    const res = await conn.request<FetchResponse>(ApiKey.Fetch, {
      maxWaitMs: 400,
      minBytes: 1,
      maxBytes: 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        { topic: '', topicId: unknownId, partitions: [partition] },
        { topic: 'poll-mixed', topicId: t.topicId, partitions: [partition] },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    assert.ok(Date.now() - start >= 350, 'the known partition kept its long poll');
    const [unknown, known] = res.responses;
    assert.equal(unknown!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    assert.equal(known!.partitions[0]!.errorCode, ErrorCode.NONE);
  });

  it('keeps data across a clean restart', async () => {
    b = await b.restart();
    conn = await b.connect();
    const md = await conn.request<MetadataResponse>(ApiKey.Metadata, {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const orders = md.topics.find((x) => x.name === 'orders')!;
    assert.equal(orders.partitions.length, 2);
    const f = await fetchFrom(conn, orders.topicId, 'orders', 0);
    assert.deepEqual(valuesOf(f.records), ['a', 'b', 'null', 'c']);
    const r = await produce(conn, 'orders', 0, encodeRecordBatch({ records: [{ value: 'd' }] }));
    assert.equal(r.baseOffset, 4);
  });

  it('deduplicates a retried idempotent batch and rejects a sequence gap', async () => {
    await createTopic(conn, 'idem', 1);
    const pid = 4242;
    const batch = (seq: number, v: string) =>
      encodeRecordBatch({ producerId: pid, producerEpoch: 0, baseSequence: seq, records: [{ value: v }] });
    const a = await produce(conn, 'idem', 0, batch(0, 'x'));
    const dup = await produce(conn, 'idem', 0, batch(0, 'x'));
    assert.deepEqual([a.errorCode, dup.errorCode, dup.baseOffset], [0, 0, a.baseOffset]);
    const gap = await produce(conn, 'idem', 0, batch(5, 'y'));
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });
});
