// Produce v8+ record errors (KIP-467), as Kafka's LogValidator gives them: a batch with bad records (no key on a
// compacted topic, a timestamp out of message.timestamp.before/after.max.ms, a producer-set LogAppendTime) is
// refused whole with INVALID_RECORD or INVALID_TIMESTAMP, Kafka's message, and the index of every bad record;
// nothing of it is appended. Raw Produce requests over a real socket to a real broker process (SAMSA_INTEROP_TARGET=
// kafka runs the same test against Apache Kafka, which is how the expected texts were checked).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import type { KafkaConnection } from '../../src/client/connection.js';
import { buildRecordBatch, compressBatch } from '../../src/protocol/batch-compression.js';
import { Codec } from '../../src/protocol/compression.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { writeVarlong } from '../../src/protocol/record-scan.js';
import {
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  encodeRecordBatch,
  LOG_OVERHEAD,
  type RecordInput,
  rewriteCrc,
  writeInt64,
} from '../../src/protocol/records.js';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { latestOffset } from '../helpers/txn-log-client.js';

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
const codecs = [Codec.none, Codec.gzip, Codec.zstd];

/**
 * A batch as the Java producer writes it: baseTimestamp is the first record's timestamp (not the smallest), so a
 * later record may be older than the header says.
 */
async function firstTimestampBatch(records: { key: string; value: string; ts: number }[], codec: number) {
  const base = records[0]!.ts;
  const bodies = records.map((r, i) => {
    const b = Buffer.alloc(64 + r.key.length + r.value.length);
    let p = 0;
    b[p++] = 0;
    p = writeVarlong(b, p, r.ts - base);
    p = writeVarlong(b, p, i);
    p = writeVarlong(b, p, r.key.length);
    p += b.write(r.key, p);
    p = writeVarlong(b, p, r.value.length);
    p += b.write(r.value, p);
    p = writeVarlong(b, p, 0);
    const len = Buffer.alloc(5);
    return Buffer.concat([len.subarray(0, writeVarlong(len, 0, p)), b.subarray(0, p)]);
  });
  const header = encodeRecordBatch({ records, timestamp: base }).subarray(0, BATCH_HEADER_BYTES);
  const batch = Buffer.concat([header, ...bodies]);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  writeInt64(batch, BASE_TIMESTAMP_OFFSET, base);
  rewriteCrc(batch, 0, batch.length - LOG_OVERHEAD);
  return codec === Codec.none ? batch : compressBatch(batch, codec);
}

function noKey(tp: string): string {
  return `Compacted topic cannot accept message without key in topic partition ${tp}`;
}

describe('Produce record errors (KIP-467)', () => {
  let broker: BrokerHandle;
  let cluster: Cluster;
  let conn: KafkaConnection;

  before(async () => {
    broker = await startTarget();
    cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    conn = cluster.bootstrap;
    await createTopic(cluster, 'rec-compacted', { partitions: 1, configs: { 'cleanup.policy': 'compact' } });
    await createTopic(cluster, 'rec-bounded', {
      partitions: 1,
      configs: {
        'cleanup.policy': 'compact',
        'message.timestamp.before.max.ms': String(DAY_MS),
        'message.timestamp.after.max.ms': '60000',
      },
    });
    await createTopic(cluster, 'rec-append-time', {
      partitions: 1,
      configs: { 'message.timestamp.type': 'LogAppendTime' },
    });
  });

  after(async () => {
    cluster?.close();
    await broker?.destroy();
  });

  async function produce(name: string, batch: Buffer) {
    const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name, partitionData: [{ index: 0, records: batch }] }],
    });
    assert.ok(conn.version(ApiKey.Produce) >= 8);
    const p = res.responses[0]?.partitionResponses[0];
    assert.ok(p !== undefined);
    return p;
  }

  const batchOf = (records: RecordInput[], codec: number, timestampType: 0 | 1 = 0) =>
    buildRecordBatch({ records, timestamp: Date.now(), timestampType }, codec);

  it('no key on a compacted topic: INVALID_RECORD naming every keyless record; nothing appended', async () => {
    const tp = 'rec-compacted-0';
    for (const codec of codecs) {
      const batch = await batchOf(
        [
          { key: 'a', value: '0' },
          { value: '1' },
          { key: 'b', value: '2' },
          { value: '3' },
          { value: null },
          { value: '5' },
        ],
        codec,
      );
      const p = await produce('rec-compacted', batch);
      assert.equal(p.errorCode, ErrorCode.INVALID_RECORD, `codec ${codec}`);
      assert.equal(p.baseOffset, -1);
      assert.equal(p.logStartOffset, 0);
      assert.deepEqual(
        p.recordErrors.map((e) => [e.batchIndex, e.batchIndexErrorMessage]),
        [1, 3, 4, 5].map((i) => [i, noKey(tp)]),
      );
      const shown = [1, 3, 4].map((i) => `RecordError(batchIndex=${i}, message='${noKey(tp)}')`).join(', ');
      assert.equal(
        p.errorMessage,
        `One or more records have been rejected due to 4 record errors in total, and only showing the first three errors at most: [${shown}]`,
      );
    }
    assert.equal(await latestOffset(conn, 'rec-compacted', 0), 0);
    // The keyed records alone, sent again as the application would, are appended.
    const ok = await produce(
      'rec-compacted',
      await batchOf(
        [
          { key: 'a', value: '0' },
          { key: 'b', value: '2' },
        ],
        Codec.none,
      ),
    );
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.deepEqual(ok.recordErrors, []);
    assert.equal(await latestOffset(conn, 'rec-compacted', 0), 2);
  });

  it('a single keyless record gets one record error', async () => {
    const p = await produce('rec-compacted', await batchOf([{ value: 'x' }], Codec.none));
    assert.equal(p.errorCode, ErrorCode.INVALID_RECORD);
    assert.deepEqual(
      p.recordErrors.map((e) => e.batchIndex),
      [0],
    );
    assert.equal(await latestOffset(conn, 'rec-compacted', 0), 2);
  });

  it('key and timestamp errors together: INVALID_TIMESTAMP listing both kinds, the key error first per record', async () => {
    const now = Date.now();
    for (const codec of codecs) {
      const batch = await batchOf(
        [
          { key: 'a', value: '0', timestamp: now },
          { value: '1', timestamp: now + TEN_YEARS_MS },
          { key: 'c', value: '2', timestamp: now - TEN_YEARS_MS },
          { key: 'd', value: '3', timestamp: now },
        ],
        codec,
      );
      const p = await produce('rec-bounded', batch);
      assert.equal(p.errorCode, ErrorCode.INVALID_TIMESTAMP, `codec ${codec}`);
      assert.equal(p.errorMessage, 'One or more records have been rejected due to invalid timestamp');
      assert.deepEqual(
        p.recordErrors.map((e) => e.batchIndex),
        [1, 2],
      );
      assert.equal(p.recordErrors[0]!.batchIndexErrorMessage, noKey('rec-bounded-0'));
      assert.match(
        p.recordErrors[1]!.batchIndexErrorMessage ?? '',
        new RegExp(
          `^Timestamp ${now - TEN_YEARS_MS} of message with offset 2 is out of range\\. The timestamp should be within \\[\\d+, \\d+\\]$`,
        ),
      );
    }
    assert.equal(await latestOffset(conn, 'rec-bounded', 0), 0);
  });

  it('a record older than the past bound in the middle of a batch is refused (the header cannot tell)', async () => {
    const now = Date.now();
    for (const codec of codecs) {
      const batch = await firstTimestampBatch(
        [
          { key: 'a', value: '0', ts: now },
          { key: 'b', value: '1', ts: now - TEN_YEARS_MS },
          { key: 'c', value: '2', ts: now },
        ],
        codec,
      );
      const p = await produce('rec-bounded', batch);
      assert.equal(p.errorCode, ErrorCode.INVALID_TIMESTAMP, `codec ${codec}`);
      assert.deepEqual(
        p.recordErrors.map((e) => e.batchIndex),
        [1],
      );
    }
    assert.equal(await latestOffset(conn, 'rec-bounded', 0), 0);
    const ok = await produce(
      'rec-bounded',
      await batchOf([{ key: 'a', value: '0', timestamp: now }], Codec.lz4),
    );
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(await latestOffset(conn, 'rec-bounded', 0), 1);
  });

  it('a producer may not mark its batch LogAppendTime on a LogAppendTime topic', async () => {
    const ts = Date.now();
    for (const codec of codecs) {
      const batch = await buildRecordBatch(
        {
          records: [
            { key: 'k', value: 'v', timestamp: ts },
            { key: null, value: 'vv', timestamp: ts },
          ],
          timestamp: ts,
          timestampType: 1,
        },
        codec,
      );
      const p = await produce('rec-append-time', batch);
      assert.equal(p.errorCode, ErrorCode.INVALID_TIMESTAMP, `codec ${codec}`);
      assert.equal(p.errorMessage, 'One or more records have been rejected due to invalid timestamp');
      // Kafka prints the records as its iterator made them: a compressed batch kept as is is read with
      // skipKeyValueIterator (PartialDefaultRecord, a null key as -1 bytes).
      const [name, nullKey] = codec === Codec.none ? ['DefaultRecord', 0] : ['PartialDefaultRecord', -1];
      const text = (offset: number, key: number, value: number) =>
        `Invalid timestamp type in message ${name}(offset=${offset}, timestamp=${ts}, key=${key} bytes, value=${value} bytes). Producer should not set timestamp type to LogAppendTime.`;
      assert.deepEqual(
        p.recordErrors.map((e) => e.batchIndexErrorMessage),
        [text(0, 1, 1), text(1, nullKey!, 2)],
      );
    }
    assert.equal(await latestOffset(conn, 'rec-append-time', 0), 0);
  });
});
