// The request pipeline's buffer reuse, end to end over a real socket: produce requests larger than one
// socket read are assembled in recycled buffers (FramePool), fetch responses are written from recycled read
// buffers and responses of one event-loop turn are written together. Any reuse of a buffer that something
// still references shows up here as records with the wrong contents.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { decodeRecords, encodeRecordBatch, iterateBatches } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

const PARTITIONS = 4;
/** ~200 KiB per request: every request spans several 64 KiB socket reads. */
const VALUE_BYTES = 12 * 1024;
const RECORDS_PER_BATCH = 4;

function valueFor(request: number, partition: number, record: number): string {
  const tag = `r${request}-p${partition}-i${record}-`;
  return tag.repeat(Math.ceil(VALUE_BYTES / tag.length)).slice(0, VALUE_BYTES);
}

describe('connection buffer reuse', () => {
  let b: InProcessBroker;
  let conn: KafkaConnection;
  let topicId = '';
  before(async () => {
    b = await startInProcess();
    conn = await b.connect();
    const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [
        { name: 'reuse', numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    topicId = res.topics[0]!.topicId;
  });
  after(async () => {
    conn.close();
    await b.stop(true);
  });

  it('keeps every record of pipelined multi-read produce requests intact, and serves them back intact', async () => {
    const requests = 40;
    const sent: Promise<ProduceResponse>[] = [];
    for (let r = 0; r < requests; r++) {
      sent.push(
        conn.request<ProduceResponse>(ApiKey.Produce, {
          transactionalId: null,
          acks: r % 5 === 4 ? 1 : -1,
          timeoutMs: 10_000,
          topicData: [
            {
              name: 'reuse',
              partitionData: Array.from({ length: PARTITIONS }, (_, p) => ({
                index: p,
                records: encodeRecordBatch({
                  records: Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
                    value: valueFor(r, p, i),
                  })),
                }),
              })),
            },
          ],
        }),
      );
    }
    for (const res of await Promise.all(sent)) {
      for (const p of res.responses[0]!.partitionResponses) assert.equal(p.errorCode, ErrorCode.NONE);
    }
    // Read everything several times over: more than one 64 MiB read slab, so slabs are recycled too.
    for (let pass = 0; pass < 10; pass++) {
      for (let p = 0; p < PARTITIONS; p++) await readAll(p);
    }
    async function readAll(p: number): Promise<void> {
      const got: string[] = [];
      let offset = 0;
      while (got.length < requests * RECORDS_PER_BATCH) {
        // Two fetches in flight at once: their read buffers are recycled after each response is written.
        const [f1, f2] = await Promise.all([
          fetch(conn, topicId, p, offset),
          fetch(conn, topicId, p, offset),
        ]);
        assert.deepEqual(f1, f2);
        assert.ok(f1.length > 0, `no progress at offset ${offset}`);
        got.push(...f1);
        offset += f1.length;
      }
      const want: string[] = [];
      for (let r = 0; r < requests; r++)
        for (let i = 0; i < RECORDS_PER_BATCH; i++) want.push(valueFor(r, p, i));
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) assert.equal(got[i], want[i], `partition ${p} record ${i}`);
    }
  });
});

async function fetch(
  conn: KafkaConnection,
  topicId: string,
  partition: number,
  offset: number,
): Promise<string[]> {
  const res = await conn.request<FetchResponse>(ApiKey.Fetch, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 256 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: 'reuse',
        topicId,
        partitions: [
          {
            partition,
            fetchOffset: offset,
            partitionMaxBytes: 128 * 1024,
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
  const records = res.responses[0]!.partitions[0]!.records;
  const out: string[] = [];
  if (records === null) return out;
  for (const { pos, header } of iterateBatches(records)) {
    const batch = records.subarray(pos, pos + 12 + header.batchLength);
    for (const r of decodeRecords(batch).records) out.push(r.value?.toString() ?? 'null');
  }
  return out;
}
