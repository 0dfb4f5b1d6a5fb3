// Record batch v2 helpers against batches captured from real clients and a real broker (kafkajs golden
// fixtures, test/protocol/golden-kafkajs), plus round-trip properties of the codec.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import {
  BATCH_HEADER_BYTES,
  batchCrcValid,
  CompressionCodec,
  compressionOf,
  decodeRecords,
  encodeRecordBatch,
  isControl,
  isTransactional,
  iterateBatches,
  LOG_OVERHEAD,
  lastSequenceOf,
  RecordDecodeError,
  readBatchHeader,
  setBaseOffset,
  setMaxTimestampAndLogAppend,
  setPartitionLeaderEpoch,
  timestampType,
} from '../../src/protocol/records.js';
import { kafkajsFixture } from './kafkajs-golden.js';

/** A kafkajs fixture by its original path, e.g. 'requests/produce/fixtures/v3_request.json'. */
function golden(file: string): Buffer {
  const m = /^(?:requests\/)?([^/]+)\/fixtures\/(.+)\.json$/.exec(file);
  if (m === null) throw new Error(`not a fixture path: ${file}`);
  return kafkajsFixture(m[1]!, m[2]!);
}

/** The record batch inside a captured frame, at a known position (after the frame's own fields). */
function batchIn(file: string, pos: number): Buffer {
  const frame = golden(file);
  const h = readBatchHeader(frame, pos);
  assert.equal(pos + LOG_OVERHEAD + h.batchLength, frame.length, `${file}: the batch ends the frame`);
  return frame.subarray(pos, pos + LOG_OVERHEAD + h.batchLength);
}

// Fetch v4 response from a real Kafka broker: the partition's record set starts at byte 75.
const brokerBatch = (): Buffer => batchIn('requests/fetch/fixtures/v4_response.json', 75);
// Produce v3 / v7 requests written by kafkajs: the record set starts at byte 57 / 98.
const producedV3 = (): Buffer => batchIn('requests/produce/fixtures/v3_request.json', 57);
const producedV7 = (): Buffer => batchIn('requests/produce/fixtures/v7_request.json', 98);

describe('golden batches', () => {
  test('a batch served by a real broker: header, CRC32C and records', () => {
    const b = brokerBatch();
    const h = readBatchHeader(b, 0);
    assert.deepEqual(h, {
      baseOffset: 0,
      batchLength: 205,
      partitionLeaderEpoch: 0,
      magic: 2,
      crc: 3595851112,
      attributes: 0,
      lastOffsetDelta: 2,
      baseTimestamp: 1509827900073,
      maxTimestamp: 1509827900073,
      producerId: -1,
      producerEpoch: 0,
      baseSequence: 0,
      recordCount: 3,
    });
    assert.ok(batchCrcValid(b, 0, h.batchLength), 'CRC32C of the broker batch');
    const { records } = decodeRecords(b);
    assert.deepEqual(
      records.map((r) => ({
        offsetDelta: r.offsetDelta,
        timestampDelta: r.timestampDelta,
        key: r.key?.toString(),
        value: r.value?.toString(),
        headers: r.headers.map((x) => [x.key, x.value?.toString()]),
      })),
      [0, 1, 2].map((i) => ({
        offsetDelta: i,
        timestampDelta: 0,
        key: `key-${i}`,
        value: `some-value-${i}`,
        headers: [[`header-key-${i}`, `header-value-${i}`]],
      })),
    );
  });

  test('batches written by kafkajs (idempotent v7 with headers, v3 with repeated header keys)', () => {
    const v7 = producedV7();
    const h7 = readBatchHeader(v7, 0);
    assert.equal(h7.producerId, 4004);
    assert.equal(h7.producerEpoch, 0);
    assert.equal(h7.baseSequence, 0);
    assert.equal(h7.recordCount, 10);
    assert.equal(h7.lastOffsetDelta, 9);
    assert.ok(batchCrcValid(v7, 0, h7.batchLength), 'CRC32C of the v7 batch');
    const r7 = decodeRecords(v7).records;
    assert.equal(r7.length, 10);
    assert.equal(r7[9]!.value!.toString(), 'value-9');
    assert.deepEqual(
      r7[9]!.headers.map((x) => x.key),
      ['header-a9', 'header-b9', 'header-c9'],
    );

    const v3 = producedV3();
    const h3 = readBatchHeader(v3, 0);
    assert.equal(h3.baseSequence, 10);
    assert.ok(batchCrcValid(v3, 0, h3.batchLength), 'CRC32C of the v3 batch');
    assert.deepEqual(
      decodeRecords(v3).records[0]!.headers.map((x) => [x.key, x.value?.toString()]),
      [
        ['a', 'b'],
        ['c', 'd'],
        ['c', 'e'],
      ],
    );
  });

  test('compressed golden batches: header fields and CRC, decodeRecords refuses them', () => {
    const gz = golden('recordBatch/fixtures/v0_recordbatch.json');
    const h = readBatchHeader(gz, 0);
    assert.equal(compressionOf(h.attributes), CompressionCodec.gzip);
    assert.equal(timestampType(h.attributes), 1);
    assert.equal(h.recordCount, 1);
    assert.ok(batchCrcValid(gz, 0, h.batchLength), 'CRC32C of the gzip batch');
    assert.throws(() => decodeRecords(gz), RecordDecodeError);

    const zstd = golden('recordBatch/fixtures/v0_recordbatch_zstd.json');
    const hz = readBatchHeader(zstd, 0);
    assert.equal(hz.partitionLeaderEpoch, 911);
    assert.equal(hz.batchLength + LOG_OVERHEAD, zstd.length);
    assert.ok(batchCrcValid(zstd, 0, hz.batchLength), 'CRC32C of the zstd fixture');
  });

  test('the encoder reproduces the golden batches byte for byte', () => {
    for (const g of [brokerBatch(), producedV3(), producedV7()]) {
      const h = readBatchHeader(g, 0);
      const { records } = decodeRecords(g);
      const again = encodeRecordBatch({
        baseOffset: h.baseOffset,
        partitionLeaderEpoch: h.partitionLeaderEpoch,
        producerId: h.producerId,
        producerEpoch: h.producerEpoch,
        baseSequence: h.baseSequence,
        records: records.map((r) => ({
          key: r.key,
          value: r.value,
          headers: r.headers,
          timestamp: h.baseTimestamp + r.timestampDelta,
        })),
      });
      assert.deepEqual(again, g);
    }
  });

  test('CRC32C is Castagnoli (check value of "123456789")', () => {
    assert.equal(crc32c(Buffer.from('123456789')) >>> 0, 0xe3069283);
  });
});

describe('header setters and flags', () => {
  test('baseOffset and partitionLeaderEpoch are outside the CRC', () => {
    const b = Buffer.from(brokerBatch());
    setBaseOffset(b, 0, 2 ** 40 + 5);
    setPartitionLeaderEpoch(b, 0, 17);
    const h = readBatchHeader(b, 0);
    assert.equal(h.baseOffset, 2 ** 40 + 5);
    assert.equal(h.partitionLeaderEpoch, 17);
    assert.ok(batchCrcValid(b, 0, h.batchLength), 'still valid');
  });

  test('LogAppendTime sets maxTimestamp and the type bit and recomputes the CRC', () => {
    const b = Buffer.from(brokerBatch());
    setMaxTimestampAndLogAppend(b, 0, 1_800_000_000_123);
    const h = readBatchHeader(b, 0);
    assert.equal(h.maxTimestamp, 1_800_000_000_123);
    assert.equal(timestampType(h.attributes), 1);
    assert.equal(h.baseTimestamp, 1509827900073);
    assert.ok(batchCrcValid(b, 0, h.batchLength), 'CRC rewritten');
  });

  test('any flipped byte after the CRC field is detected', () => {
    const original = brokerBatch();
    for (let i = 21; i < original.length; i++) {
      const b = Buffer.from(original);
      b[i] = b[i]! ^ 0x40;
      assert.equal(batchCrcValid(b, 0, b.length - LOG_OVERHEAD), false, `byte ${i}`);
    }
  });

  test('attribute flags', () => {
    const b = encodeRecordBatch({
      records: [{ value: 'x' }],
      isTransactional: true,
      isControl: true,
      timestamp: 1,
    });
    const a = readBatchHeader(b, 0).attributes;
    assert.equal(isTransactional(a), true);
    assert.equal(isControl(a), true);
    assert.equal(compressionOf(a), 0);
    assert.equal(timestampType(a), 0);
  });

  test('sequence numbers wrap at 2^31-1', () => {
    assert.equal(lastSequenceOf(5, 2), 7);
    assert.equal(lastSequenceOf(2147483647, 0), 2147483647);
    assert.equal(lastSequenceOf(2147483646, 3), 1);
    assert.equal(lastSequenceOf(-1, 3), -1);
  });
});

describe('codec properties', () => {
  const bytes = fc.option(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    { nil: null },
  );
  const record = fc.record({
    key: bytes,
    value: bytes,
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 20 }), value: bytes }), { maxLength: 4 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
  });

  test('encode then decode gives back every record, with a valid CRC', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 50 }),
        (records, baseOffset) => {
          const b = encodeRecordBatch({ baseOffset, records });
          const h = readBatchHeader(b, 0);
          assert.equal(h.baseOffset, baseOffset);
          assert.equal(h.recordCount, records.length);
          assert.equal(h.maxTimestamp, Math.max(...records.map((r) => r.timestamp)));
          assert.ok(batchCrcValid(b, 0, h.batchLength), 'CRC');
          const decoded = decodeRecords(b).records;
          assert.deepEqual(
            decoded.map((r, i) => ({
              key: r.key,
              value: r.value,
              headers: r.headers,
              timestamp: h.baseTimestamp + r.timestampDelta,
              offsetDelta: r.offsetDelta - i,
            })),
            records.map((r) => ({
              ...r,
              headers: r.headers.map((x) => ({ key: x.key, value: x.value })),
              offsetDelta: 0,
            })),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('iterateBatches yields whole batches and stops at the first incomplete one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(record, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (sets, cutSeed) => {
          const batches = sets.map((records, i) => encodeRecordBatch({ baseOffset: i * 10, records }));
          const all = Buffer.concat(batches);
          assert.deepEqual(
            [...iterateBatches(all)].map((x) => x.header.baseOffset),
            batches.map((_, i) => i * 10),
          );
          // Cut somewhere inside the last batch: every earlier batch, nothing more.
          const last = batches[batches.length - 1]!;
          const cut = all.length - 1 - (cutSeed % last.length);
          assert.equal([...iterateBatches(all.subarray(0, cut))].length, batches.length - 1);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('decodeRecords refuses truncated or inconsistent input', () => {
    const b = encodeRecordBatch({ records: [{ key: 'k', value: 'v' }], timestamp: 5 });
    assert.throws(() => decodeRecords(b.subarray(0, BATCH_HEADER_BYTES - 1)), RecordDecodeError);
    assert.throws(() => decodeRecords(b.subarray(0, b.length - 1)), RecordDecodeError);
    const lying = Buffer.from(b);
    lying.writeInt32BE(2, 57); // recordCount 2, only one record present
    assert.throws(() => decodeRecords(lying), RecordDecodeError);
  });
});
