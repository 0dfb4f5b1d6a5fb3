// record-errors.ts on its own: what the header decides (recordWalk) and the texts Kafka's LogValidator gives.
// The broker-level behaviour, checked against Apache Kafka too, is in produce-record-errors.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRecords, type RecordChecks, recordWalk } from '../../src/broker/record-errors.js';
import { timestampBounds } from '../../src/broker/timestamp-bounds.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  BATCH_HEADER_BYTES,
  encodeRecordBatch,
  MAX_TIMESTAMP_OFFSET,
  type RecordInput,
  readBatchHeader,
  writeInt64,
} from '../../src/protocol/records.js';

const LONG_MAX = '9223372036854775807';
const now = 1_700_000_000_000;

function checks(over: Partial<RecordChecks> = {}): RecordChecks {
  return {
    topicPartition: 't-0',
    compacted: false,
    bounds: timestampBounds(LONG_MAX, '3600000'),
    partialRecords: false,
    ...over,
  };
}

function batch(records: RecordInput[], timestampType: 0 | 1 = 0) {
  const b = encodeRecordBatch({ records, timestamp: now, timestampType });
  return { b, h: readBatchHeader(b, 0), body: b.subarray(BATCH_HEADER_BYTES) };
}

describe('recordWalk', () => {
  it("Kafka 4's defaults on a delete topic: no record is walked", () => {
    const { h } = batch([{ value: 'v' }, { value: 'w', timestamp: now - 10 * 365 * 86_400_000 }]);
    assert.equal(recordWalk(h, checks(), now), 'none');
  });

  it('a compacted topic or a set past bound walks the records; a far-future header refuses', () => {
    const { h } = batch([{ key: 'k', value: 'v' }]);
    assert.equal(recordWalk(h, checks({ compacted: true }), now), 'check');
    assert.equal(recordWalk(h, checks({ bounds: timestampBounds('86400000', '3600000') }), now), 'check');
    const future = batch([{ key: 'k', value: 'v', timestamp: now + 2 * 3600_000 }]);
    assert.equal(recordWalk(future.h, checks({ compacted: true }), now), 'refuse');
  });

  it('a producer-set LogAppendTime batch: refused on a LogAppendTime topic, judged by maxTimestamp otherwise', () => {
    const { h } = batch([{ value: 'v' }], 1);
    assert.equal(recordWalk(h, checks({ bounds: null }), now), 'refuse');
    assert.equal(recordWalk(h, checks(), now), 'none');
  });
});

describe('checkRecords', () => {
  it("prints the upper bound as Java's long arithmetic does (after.max.ms = Long.MAX_VALUE wraps)", () => {
    const c = checks({ bounds: timestampBounds('1000', LONG_MAX) });
    const { h, body } = batch([{ value: 'a' }, { value: 'b', timestamp: now - 5000 }]);
    const r = checkRecords(body, h, now, c);
    assert.ok(r !== null);
    assert.equal(r.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.deepEqual(r.recordErrors, [
      {
        batchIndex: 1,
        batchIndexErrorMessage: `Timestamp ${now - 5000} of message with offset 1 is out of range. The timestamp should be within [${now - 1000}, ${BigInt.asIntN(64, BigInt(now) + BigInt(LONG_MAX))}]`,
      },
    ]);
  });

  it('a header out of range over records that are not is still refused, naming the header timestamp', () => {
    const { b, h } = batch([{ value: 'a' }]);
    writeInt64(b, MAX_TIMESTAMP_OFFSET, now + 7_200_000);
    const lying = readBatchHeader(b, 0);
    assert.equal(recordWalk(lying, checks(), now), 'refuse');
    const r = checkRecords(b.subarray(BATCH_HEADER_BYTES), lying, now, checks(), true);
    assert.equal(r?.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.match(
      r?.recordErrors[0]?.batchIndexErrorMessage ?? '',
      new RegExp(`^Timestamp ${now + 7_200_000} `),
    );
    assert.equal(checkRecords(b.subarray(BATCH_HEADER_BYTES), h, now, checks()), null);
  });

  it('lists every error but shows three in the INVALID_RECORD message', () => {
    const { h, body } = batch(Array.from({ length: 5 }, () => ({ value: 'v' })));
    const r = checkRecords(body, h, now, checks({ compacted: true }));
    assert.equal(r?.errorCode, ErrorCode.INVALID_RECORD);
    assert.equal(r?.recordErrors.length, 5);
    assert.equal(r?.errorMessage.match(/RecordError\(/g)?.length, 3);
    assert.match(
      r?.errorMessage ?? '',
      /^One or more records have been rejected due to 5 record errors in total/,
    );
  });
});
