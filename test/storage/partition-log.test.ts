import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  batchCrcValid,
  iterateBatches,
  readBatchHeader,
  TIMESTAMP_TYPE_MASK,
  timestampType,
} from '../../src/protocol/records.js';
import { batch, linesWith, openLog, partitionDir, readAll, recordsOf } from './helpers.js';

const T0 = 1_700_000_000_000;

describe('append and read', () => {
  test('offsets are assigned across many segments and every offset reads back its batch', () => {
    const dir = partitionDir();
    const log = openLog(dir, { segmentBytes: 2000, indexIntervalBytes: 256 });
    const expected: Array<{ offset: number; value: string }> = [];
    let next = 0;
    for (let i = 0; i < 300; i++) {
      const n = 1 + (i % 4);
      const res = log.append(batch(`b${i}`, n, { valueBytes: (i * 37) % 200 }), 0, T0);
      assert.equal(res.errorCode, 0);
      assert.equal(res.baseOffset, next);
      assert.equal(res.lastOffset, next + n - 1);
      assert.equal(res.duplicate, false);
      for (let j = 0; j < n; j++)
        expected.push({ offset: next + j, value: `b${i}-${j}${'x'.repeat((i * 37) % 200)}` });
      next += n;
      log.highWatermark = log.logEndOffset;
    }
    assert.equal(log.logEndOffset, next);
    assert.ok(log.segmentCount > 20, `expected many segments, got ${log.segmentCount}`);

    const all = readAll(log);
    assert.deepEqual(
      all.map((r) => ({ offset: r.offset, value: r.value })),
      expected,
    );

    // Every offset: the read starts with the batch holding it (index lookup + scan inside a segment).
    for (let off = 0; off < next; off++) {
      const r = log.read(off, 300, log.highWatermark, true);
      assert.equal(r.errorCode, 0);
      const first = readBatchHeader(r.chunks[0]!, 0);
      assert.ok(first.baseOffset <= off && off <= first.baseOffset + first.lastOffsetDelta, `offset ${off}`);
    }

    // Indexes were written with entries, in Kafka's 8-byte / 12-byte formats.
    log.close();
    const indexes = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.index'))
      .sort();
    assert.equal(indexes.length, log.segmentCount);
    const sizes = indexes.map((f) => fs.statSync(path.join(dir, f)).size);
    assert.ok(
      sizes.some((s) => s > 0),
      `index sizes ${sizes}`,
    );
    for (const s of sizes) assert.equal(s % 8, 0);
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.timeindex'))) {
      assert.equal(fs.statSync(path.join(dir, f)).size % 12, 0);
    }
    const withEntries = indexes.find((f) => fs.statSync(path.join(dir, f)).size >= 8)!;
    const idx = fs.readFileSync(path.join(dir, withEntries));
    // First entry: relative offset of an indexed batch, and its byte position in the .log.
    const rel = idx.readInt32BE(0);
    const pos = idx.readInt32BE(4);
    const logBytes = fs.readFileSync(path.join(dir, withEntries.replace('.index', '.log')));
    const h = readBatchHeader(logBytes, pos);
    assert.equal(h.baseOffset + h.lastOffsetDelta, rel);
  });

  test('segment files carry Kafka names: 20-digit base offsets', () => {
    const dir = partitionDir();
    const log = openLog(dir, { segmentBytes: 100 });
    for (let i = 0; i < 5; i++) log.append(batch(`v${i}`, 2), 0, T0);
    assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 4, 6, 8]);
    assert.ok(fs.existsSync(path.join(dir, '00000000000000000006.log')), '.log');
    assert.ok(fs.existsSync(path.join(dir, '00000000000000000006.index')), '.index');
    assert.ok(fs.existsSync(path.join(dir, '00000000000000000006.timeindex')), '.timeindex');
    log.close();
  });

  test('OFFSET_OUT_OF_RANGE below the log start and beyond the log end; empty at the log end', () => {
    const log = openLog(partitionDir());
    log.append(batch('a', 3), 0, T0);
    log.highWatermark = log.logEndOffset;
    assert.equal(log.read(4, 1000, 3, true).errorCode, 1);
    assert.deepEqual(log.read(3, 1000, 3, true), { errorCode: 0, chunks: [], bytes: 0 });
    log.deleteRecordsBefore(2);
    assert.equal(log.read(1, 1000, 3, true).errorCode, 1);
    assert.equal(log.read(2, 1000, 3, true).errorCode, 0);
    log.close();
  });

  test('maxBytes, minOneBatch (KIP-74) and the high watermark bound what a read returns', () => {
    const log = openLog(partitionDir());
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = batch(`m${i}`, 2, { valueBytes: 100 });
      sizes.push(b.length);
      log.append(b, 0, T0);
    }
    log.highWatermark = log.logEndOffset;
    const one = sizes[0]!;
    // Less than one batch: nothing unless minOneBatch.
    assert.equal(log.read(0, one - 1, 10, false).bytes, 0);
    const forced = log.read(0, one - 1, 10, true);
    assert.equal(forced.bytes, one);
    assert.deepEqual(
      recordsOf(forced.chunks).map((r) => r.offset),
      [0, 1],
    );
    // Two and a half batches: two whole batches.
    const r = log.read(0, Math.floor(one * 2.5), 10, false);
    assert.equal(r.bytes, 2 * one);
    // Exactly three batches.
    assert.equal(log.read(2, 3 * one, 10, false).bytes, 3 * one);
    // The high watermark: only batches wholly below it.
    log.highWatermark = 6;
    const hw = log.read(0, 1 << 20, log.highWatermark, true);
    assert.deepEqual(
      recordsOf(hw.chunks).map((x) => x.offset),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(log.read(6, 1 << 20, log.highWatermark, true).bytes, 0);
    // minOneBatch does not cross the high watermark either.
    assert.equal(log.read(6, 10, 6, true).bytes, 0);
    log.close();
  });

  test('a fetch in the middle of a batch gets the whole batch', () => {
    const log = openLog(partitionDir());
    log.append(batch('a', 5), 0, T0);
    log.highWatermark = 5;
    const r = log.read(3, 1000, 5, true);
    assert.deepEqual(
      recordsOf(r.chunks).map((x) => x.offset),
      [0, 1, 2, 3, 4],
    );
    log.close();
  });

  test('reads span segment boundaries up to maxBytes', () => {
    const log = openLog(partitionDir(), { segmentBytes: 300 });
    for (let i = 0; i < 10; i++) log.append(batch(`s${i}`, 1, { valueBytes: 150 }), 0, T0);
    log.highWatermark = log.logEndOffset;
    assert.equal(log.segmentCount, 10);
    const r = log.read(0, 1 << 20, 10, true);
    assert.equal(r.chunks.length, 10);
    assert.equal(recordsOf(r.chunks).length, 10);
    log.close();
  });

  test('malformed input is refused with CORRUPT_MESSAGE and nothing is written', () => {
    const log = openLog(partitionDir());
    const b = batch('x', 2);
    assert.equal(log.append(b.subarray(0, b.length - 1), 0, T0).errorCode, 2);
    assert.equal(log.append(Buffer.concat([b, Buffer.alloc(5)]), 0, T0).errorCode, 2);
    assert.equal(log.append(Buffer.alloc(0), 0, T0).errorCode, 2);
    assert.equal(log.logEndOffset, 0);
    assert.equal(log.sizeBytes, 0);
    log.close();
  });

  test('several batches in one append get consecutive offsets', () => {
    const log = openLog(partitionDir());
    const res = log.append(Buffer.concat([batch('a', 2), batch('b', 3)]), 0, T0);
    assert.equal(res.baseOffset, 0);
    assert.equal(res.lastOffset, 4);
    log.highWatermark = log.logEndOffset;
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      ['a-0', 'a-1', 'b-0', 'b-1', 'b-2'],
    );
    log.close();
  });
});

describe('segment rolls', () => {
  test('by time: the incoming batch is segment.ms newer than the segment first batch', () => {
    const log = openLog(partitionDir(), { segmentMs: 1000 });
    log.append(batch('a', 1, { timestamp: T0 }), 0, T0);
    log.append(batch('b', 1, { timestamp: T0 + 500 }), 0, T0);
    assert.equal(log.segmentCount, 1);
    log.append(batch('c', 1, { timestamp: T0 + 1500 }), 0, T0);
    assert.equal(log.segmentCount, 2);
    assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
    log.close();
  });

  test('by size, and updateConfig changes segment.bytes at runtime', () => {
    const log = openLog(partitionDir(), { segmentBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) log.append(batch(`a${i}`, 1, { valueBytes: 100 }), 0, T0);
    assert.equal(log.segmentCount, 1);
    log.updateConfig({ ...log.logConfig, segmentBytes: 400 });
    for (let i = 0; i < 10; i++) log.append(batch(`b${i}`, 1, { valueBytes: 100 }), 0, T0);
    assert.ok(log.segmentCount >= 4, `segments: ${log.segmentCount}`);
    log.close();
  });

  test('an explicit roll() starts a new segment; an empty active segment is not rolled again', () => {
    const log = openLog(partitionDir());
    log.append(batch('a', 2), 0, T0);
    log.roll();
    log.roll();
    assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
    log.close();
  });
});

describe('retention and log start', () => {
  test('retention.ms deletes old segments but never the active one, and moves logStartOffset', () => {
    const log = openLog(partitionDir(), { segmentBytes: 100, retentionMs: 60_000 });
    for (let i = 0; i < 6; i++) log.append(batch(`r${i}`, 2, { timestamp: T0 + i * 1000 }), 0, T0);
    log.highWatermark = log.logEndOffset;
    assert.equal(log.segmentCount, 6);
    // Now = T0 + 61_500: segments whose newest record is older than now - 60s (i = 0, 1) go.
    const deleted = log.enforceRetention(T0 + 61_500);
    assert.equal(deleted, 2);
    assert.equal(log.logStartOffset, 4);
    assert.deepEqual(log.segmentBaseOffsets(), [4, 6, 8, 10]);
    assert.equal(log.read(0, 1000, 12, true).errorCode, 1);
    assert.equal(readAll(log)[0]!.offset, 4);
    // Far in the future: all but the active segment.
    assert.equal(log.enforceRetention(T0 + 10_000_000), 3);
    assert.deepEqual(log.segmentBaseOffsets(), [10]);
    assert.equal(log.logStartOffset, 10);
    assert.ok(linesWith('segment deleted').length >= 5, 'deletions are logged');
    log.close();
  });

  test('retention.bytes deletes the oldest segments while the log is above the limit', () => {
    const log = openLog(partitionDir(), { segmentBytes: 300, retentionBytes: 700 });
    for (let i = 0; i < 6; i++) log.append(batch(`r${i}`, 1, { valueBytes: 150 }), 0, T0);
    log.highWatermark = log.logEndOffset;
    const segSize = log.sizeBytes / 6;
    assert.equal(log.segmentCount, 6);
    const deleted = log.enforceRetention(T0);
    // Kafka's rule: delete whole oldest segments while what remains stays >= retention.bytes.
    // 6 segments of 226 bytes (1356), limit 700: two go, 904 bytes remain.
    assert.equal(deleted, 2);
    assert.ok(log.sizeBytes >= 700 && log.sizeBytes - segSize < 700, `size ${log.sizeBytes}`);
    assert.equal(log.logStartOffset, 2);
    log.close();
  });

  test('retention does not delete segments above the high watermark', () => {
    const log = openLog(partitionDir(), { segmentBytes: 100, retentionMs: 1 });
    for (let i = 0; i < 4; i++) log.append(batch(`r${i}`, 2), 0, T0);
    log.highWatermark = 2;
    assert.equal(log.enforceRetention(T0 + 1_000_000), 1);
    assert.deepEqual(log.segmentBaseOffsets(), [2, 4, 6]);
    log.close();
  });

  test('deleteRecordsBefore moves logStartOffset inside a segment, deletes segments below, survives reopen', () => {
    const dir = partitionDir();
    let log = openLog(dir, { segmentBytes: 100 });
    for (let i = 0; i < 5; i++) log.append(batch(`d${i}`, 2), 0, T0);
    log.highWatermark = log.logEndOffset;
    log.deleteRecordsBefore(5);
    assert.equal(log.logStartOffset, 5);
    assert.deepEqual(log.segmentBaseOffsets(), [4, 6, 8]);
    const r = log.read(5, 1000, 10, true);
    assert.deepEqual(
      recordsOf(r.chunks).map((x) => x.offset),
      [4, 5, 6, 7, 8, 9],
    );
    log.close();
    log = openLog(dir, { segmentBytes: 100 }, { cleanShutdown: true });
    assert.equal(log.logStartOffset, 5);
    log.highWatermark = log.logEndOffset;
    assert.equal(log.read(4, 1000, 10, true).errorCode, 1);
    // Everything up to the log end: the active segment is rolled away too.
    log.deleteRecordsBefore(10);
    assert.equal(log.logStartOffset, 10);
    assert.equal(log.segmentCount, 1);
    assert.equal(log.logEndOffset, 10);
    assert.equal(log.sizeBytes, 0);
    log.close();
    log = openLog(dir, {}, { cleanShutdown: false });
    assert.equal(log.logStartOffset, 10);
    assert.equal(log.logEndOffset, 10);
    assert.equal(log.append(batch('after', 1), 0, T0).baseOffset, 10);
    log.close();
  });

  test('with file.delete.delay.ms the files are renamed to .deleted first', () => {
    const dir = partitionDir();
    const log = openLog(dir, { segmentBytes: 100, fileDeleteDelayMs: 60_000 });
    for (let i = 0; i < 3; i++) log.append(batch(`d${i}`, 2), 0, T0);
    log.highWatermark = log.logEndOffset;
    log.deleteRecordsBefore(2);
    assert.ok(fs.existsSync(path.join(dir, '00000000000000000000.log.deleted')), 'renamed to .deleted');
    assert.ok(!fs.existsSync(path.join(dir, '00000000000000000000.log')), 'original name gone');
    log.close();
    // Leftovers are removed at the next open.
    openLog(dir, {}, { cleanShutdown: true }).close();
    assert.ok(!fs.existsSync(path.join(dir, '00000000000000000000.log.deleted')), 'leftover removed at open');
  });
});

describe('reopen', () => {
  test('after a clean close everything is back: offsets, data, epochs, log start', () => {
    const dir = partitionDir();
    let log = openLog(dir, { segmentBytes: 500 });
    for (let i = 0; i < 20; i++) log.append(batch(`c${i}`, 3), i < 10 ? 1 : 4, T0 + i);
    log.highWatermark = log.logEndOffset;
    log.deleteRecordsBefore(7);
    const before = readAll(log);
    const segments = log.segmentBaseOffsets();
    log.close();
    log = openLog(dir, { segmentBytes: 500 }, { cleanShutdown: true });
    assert.equal(log.logEndOffset, 60);
    assert.equal(log.highWatermark, 60);
    assert.equal(log.logStartOffset, 7);
    assert.deepEqual(log.segmentBaseOffsets(), segments);
    assert.deepEqual(readAll(log), before);
    assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 30 });
    assert.deepEqual(log.endOffsetForEpoch(4), { leaderEpoch: 4, endOffset: 60 });
    assert.equal(log.append(batch('next', 1), 4, T0).baseOffset, 60);
    log.close();
  });
});

describe('timestamps', () => {
  test('LogAppendTime stamps maxTimestamp and the timestamp type, and the CRC stays valid', () => {
    const log = openLog(partitionDir(), { messageTimestampType: 'LogAppendTime' });
    const now = T0 + 123_456;
    const res = log.append(batch('l', 3, { timestamp: T0 }), 0, now);
    assert.equal(res.logAppendTime, now);
    log.highWatermark = log.logEndOffset;
    const chunk = log.read(0, 1000, 3, true).chunks[0]!;
    const h = readBatchHeader(chunk, 0);
    assert.equal(h.maxTimestamp, now);
    assert.equal(h.attributes & TIMESTAMP_TYPE_MASK, TIMESTAMP_TYPE_MASK);
    assert.equal(timestampType(h.attributes), 1);
    assert.ok(batchCrcValid(chunk, 0, h.batchLength), 'CRC valid after LogAppendTime rewrite');
    assert.deepEqual(log.offsetForTimestamp(now), { offset: 0, timestamp: now });
    log.close();
  });

  test('CreateTime batches are written byte for byte, apart from baseOffset and leader epoch', () => {
    const log = openLog(partitionDir());
    const b = batch('w', 2);
    const original = Buffer.from(b);
    log.append(b, 7, T0);
    log.append(batch('w2', 1), 7, T0);
    log.highWatermark = log.logEndOffset;
    const chunk = log.read(0, 1 << 20, 3, true).chunks[0]!;
    const stored = chunk.subarray(0, original.length);
    assert.deepEqual(stored.subarray(17), original.subarray(17));
    assert.equal(stored.readInt32BE(12), 7);
    const batches = [...iterateBatches(chunk)];
    assert.deepEqual(
      batches.map((x) => x.header.baseOffset),
      [0, 2],
    );
    for (const x of batches)
      assert.ok(batchCrcValid(chunk, x.pos, x.header.batchLength), `CRC of batch ${x.header.baseOffset}`);
    log.close();
  });

  test('offsetForTimestamp finds the first record at or after a timestamp; maxTimestampOffset', () => {
    const dir = partitionDir();
    let log = openLog(dir, { segmentBytes: 300, indexIntervalBytes: 100 });
    // Batch i holds 3 records at T0 + 10i, +1, +2.
    for (let i = 0; i < 20; i++) log.append(batch(`t${i}`, 3, { timestamp: T0 + 10 * i }), 0, T0);
    log.highWatermark = log.logEndOffset;
    assert.deepEqual(log.offsetForTimestamp(0), { offset: 0, timestamp: T0 });
    assert.deepEqual(log.offsetForTimestamp(T0 + 51), { offset: 16, timestamp: T0 + 51 });
    assert.deepEqual(log.offsetForTimestamp(T0 + 53), { offset: 18, timestamp: T0 + 60 });
    assert.deepEqual(log.offsetForTimestamp(T0 + 192), { offset: 59, timestamp: T0 + 192 });
    assert.equal(log.offsetForTimestamp(T0 + 193), null);
    assert.deepEqual(log.maxTimestampOffset(), { offset: 59, timestamp: T0 + 192 });
    log.close();
    log = openLog(dir, { segmentBytes: 300, indexIntervalBytes: 100 }, { cleanShutdown: true });
    assert.deepEqual(log.offsetForTimestamp(T0 + 101), { offset: 31, timestamp: T0 + 101 });
    assert.deepEqual(log.maxTimestampOffset(), { offset: 59, timestamp: T0 + 192 });
    log.highWatermark = log.logEndOffset;
    log.deleteRecordsBefore(32);
    assert.deepEqual(log.offsetForTimestamp(T0), { offset: 32, timestamp: T0 + 102 });
    log.close();
  });

  test('an empty log has no timestamps', () => {
    const log = openLog(partitionDir());
    assert.equal(log.offsetForTimestamp(0), null);
    assert.equal(log.maxTimestampOffset(), null);
    log.close();
  });
});

describe('leader epochs', () => {
  test('leader-epoch-checkpoint is written in Kafka format and answers OffsetForLeaderEpoch', () => {
    const dir = partitionDir();
    let log = openLog(dir);
    log.append(batch('a', 2), 0, T0); // epoch 0 starts at 0
    log.append(batch('b', 2), 0, T0);
    log.append(batch('c', 3), 2, T0); // epoch 2 at 4
    log.append(batch('d', 1), 5, T0); // epoch 5 at 7
    assert.equal(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8'), '0\n3\n0 0\n2 4\n5 7\n');
    assert.deepEqual(log.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 4 });
    assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 0, endOffset: 4 });
    assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 7 });
    assert.deepEqual(log.endOffsetForEpoch(4), { leaderEpoch: 2, endOffset: 7 });
    assert.deepEqual(log.endOffsetForEpoch(5), { leaderEpoch: 5, endOffset: 8 });
    assert.deepEqual(log.endOffsetForEpoch(6), { leaderEpoch: -1, endOffset: -1 });
    assert.deepEqual(log.endOffsetForEpoch(-1), { leaderEpoch: -1, endOffset: -1 });
    // Every stored batch carries its leader epoch.
    log.highWatermark = log.logEndOffset;
    const epochs = [...iterateBatches(log.read(0, 1 << 20, 8, true).chunks[0]!)].map(
      (b) => b.header.partitionLeaderEpoch,
    );
    assert.deepEqual(epochs, [0, 0, 2, 5]);
    log.close();
    log = openLog(dir, {}, { cleanShutdown: true });
    assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 7 });
    // Truncation drops the epochs that started after the new end.
    log.truncateTo(5);
    assert.equal(log.logEndOffset, 7);
    log.truncateTo(4);
    assert.equal(log.logEndOffset, 4);
    assert.equal(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8'), '0\n1\n0 0\n');
    assert.deepEqual(log.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 4 });
    log.close();
  });
});

describe('truncateTo', () => {
  test('removes batches at and above the offset across segments; appends continue from there', () => {
    const dir = partitionDir();
    const log = openLog(dir, { segmentBytes: 100 });
    for (let i = 0; i < 8; i++) log.append(batch(`x${i}`, 2), 0, T0);
    log.highWatermark = log.logEndOffset;
    log.truncateTo(6);
    assert.equal(log.logEndOffset, 6);
    assert.equal(log.highWatermark, 6);
    assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 4]);
    assert.equal(log.append(batch('y', 1), 0, T0).baseOffset, 6);
    log.highWatermark = log.logEndOffset;
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      ['x0-0', 'x0-1', 'x1-0', 'x1-1', 'x2-0', 'x2-1', 'y-0'],
    );
    log.truncateTo(0);
    assert.equal(log.logEndOffset, 0);
    assert.equal(log.sizeBytes, 0);
    log.close();
  });
});

describe('flush', () => {
  test('flush.messages=1 fsyncs before append returns: the recovery point follows the log end', () => {
    const dir = partitionDir();
    const log = openLog(dir, { flushIntervalMessages: 1 });
    log.append(batch('f', 2), 0, T0);
    log.checkpointRecoveryPoint();
    assert.equal(fs.readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8'), '0\n1\n2\n');
    log.close();
  });

  test('with the default flush.messages nothing is fsynced until flush()', () => {
    const dir = partitionDir();
    const log = openLog(dir);
    log.append(batch('f', 2), 0, T0);
    log.checkpointRecoveryPoint();
    assert.equal(fs.readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8'), '0\n1\n0\n');
    log.flush();
    log.checkpointRecoveryPoint();
    assert.equal(fs.readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8'), '0\n1\n2\n');
    log.close();
  });
});
