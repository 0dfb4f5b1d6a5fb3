// The transactional log: markers, the last stable offset, the .txnindex, and their rebuild after a crash.
// Real files in temp dirs; the .txnindex bytes are checked against Kafka's layout, not only read back.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { decodeRecords, encodeRecordBatch, type RecordInput } from '../../src/protocol/records.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { ABORTED_TXN_BYTES } from '../../src/storage/txn-index.js';
import { linesWith, openLog, partitionDir } from './helpers.js';

const T0 = 1_700_000_000_000;
const INVALID_PRODUCER_EPOCH = 47;
const INVALID_TXN_STATE = 48;
const TRANSACTION_COORDINATOR_FENCED = 52;

/** A transactional batch of `count` records from producer pid. */
function txn(pid: number, seq: number, count = 2, epoch = 0, transactional = true): Buffer {
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++)
    records.push({ key: `k${i}`, value: `p${pid}s${seq + i}`, timestamp: T0 + i });
  return encodeRecordBatch({
    records,
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    isTransactional: transactional,
  });
}

function ok(log: PartitionLog, b: Buffer): { baseOffset: number; lastOffset: number } {
  const r = log.append(b, 0, T0);
  assert.equal(r.errorCode, 0, `append failed: ${r.errorMessage}`);
  return r;
}

function marker(log: PartitionLog, pid: number, commit: boolean, epoch = 0, coordinatorEpoch = 0): number {
  const r = log.appendTxnMarker({ producerId: pid, producerEpoch: epoch, coordinatorEpoch, commit }, 0, T0);
  assert.equal(r.errorCode, 0, `marker refused: ${r.errorMessage}`);
  assert.equal(r.baseOffset, r.lastOffset);
  return r.baseOffset;
}

/** Entries of a .txnindex file, decoded by hand from Kafka's 34-byte layout. */
function txnIndexEntries(file: string): { producerId: number; first: number; last: number; lso: number }[] {
  const buf = fs.readFileSync(file);
  assert.equal(buf.length % 34, 0);
  const out = [];
  for (let p = 0; p < buf.length; p += 34) {
    assert.equal(buf.readInt16BE(p), 0, 'version 0');
    out.push({
      producerId: Number(buf.readBigInt64BE(p + 2)),
      first: Number(buf.readBigInt64BE(p + 10)),
      last: Number(buf.readBigInt64BE(p + 18)),
      lso: Number(buf.readBigInt64BE(p + 26)),
    });
  }
  return out;
}

/** The LSO with the high watermark at the log end (as a single replica's partition keeps it). */
function lso(log: PartitionLog): number {
  log.highWatermark = log.logEndOffset;
  return log.lastStableOffset;
}

function txnIndexFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.txnindex'))
    .sort();
}

describe('transaction markers and the last stable offset', () => {
  test('an open transaction holds the LSO at its first offset; the marker releases it', () => {
    const log = openLog(partitionDir());
    ok(log, encodeRecordBatch({ records: [{ value: 'plain' }] }));
    assert.equal(lso(log), 1);
    const first = ok(log, txn(7, 0)).baseOffset;
    assert.equal(first, 1);
    ok(log, txn(8, 0, 1));
    ok(log, txn(7, 2));
    assert.equal(log.logEndOffset, 6);
    assert.equal(lso(log), 1, 'held by producer 7');
    const m7 = marker(log, 7, true);
    assert.equal(m7, 6);
    assert.equal(lso(log), 3, 'now held by producer 8 (first offset 3)');
    marker(log, 8, false);
    assert.equal(lso(log), 8);
    assert.equal(log.producerState.entry(7)?.currentTxnFirstOffset, -1);
  });

  test('a marker above the high watermark still holds the LSO (Kafka: unreplicated transactions)', () => {
    const log = openLog(partitionDir());
    ok(log, txn(7, 0)); // 0-1
    ok(log, txn(8, 0, 1)); // 2
    log.highWatermark = 3;
    marker(log, 7, true); // 3
    marker(log, 8, false); // 4
    assert.equal(log.lastStableOffset, 0, "7's marker is not committed yet");
    log.highWatermark = 4;
    assert.equal(log.lastStableOffset, 2, "7's marker is; 8's is not");
    log.highWatermark = 5;
    assert.equal(log.lastStableOffset, 5);
  });

  test('the LSO never passes the high watermark', () => {
    const log = openLog(partitionDir());
    ok(log, txn(7, 0));
    marker(log, 7, true);
    log.highWatermark = 1;
    assert.equal(log.lastStableOffset, 0, 'the marker is not committed');
    assert.equal(lso(log), 3);
  });

  test('the marker batch has Kafka layout: control + transactional, key type, value coordinator epoch', () => {
    const log = openLog(partitionDir());
    ok(log, txn(9, 0));
    marker(log, 9, true, 0, 5);
    const r = log.read(2, 1 << 20, 100, true);
    const { header, records } = decodeRecords(r.chunks[0]!);
    assert.equal(header.attributes & 0x30, 0x30);
    assert.equal(header.producerId, 9);
    assert.equal(header.baseSequence, -1);
    assert.deepEqual([...records[0]!.key!], [0, 0, 0, 1]);
    assert.deepEqual([...records[0]!.value!], [0, 0, 0, 0, 0, 5]);
  });

  test('older producer epoch and older coordinator epoch are refused', () => {
    const log = openLog(partitionDir());
    ok(log, txn(7, 0, 2, 3));
    const old = log.appendTxnMarker(
      { producerId: 7, producerEpoch: 2, coordinatorEpoch: 0, commit: true },
      0,
      T0,
    );
    assert.equal(old.errorCode, INVALID_PRODUCER_EPOCH);
    marker(log, 7, false, 3, 4);
    ok(log, txn(7, 2, 1, 3));
    const fenced = log.appendTxnMarker(
      { producerId: 7, producerEpoch: 3, coordinatorEpoch: 3, commit: true },
      0,
      T0,
    );
    assert.equal(fenced.errorCode, TRANSACTION_COORDINATOR_FENCED);
    assert.equal(lso(log), 3, 'the second transaction is still open');
    // A coordinator fencing the producer writes its abort with a bumped epoch.
    marker(log, 7, false, 4, 4);
    assert.equal(log.producerState.entry(7)?.producerEpoch, 4);
    assert.equal(lso(log), log.logEndOffset);
  });

  test('a non-transactional batch while the producer has a transaction open is INVALID_TXN_STATE', () => {
    const log = openLog(partitionDir());
    ok(log, txn(7, 0));
    const r = log.append(txn(7, 2, 1, 0, false), 0, T0);
    assert.equal(r.errorCode, INVALID_TXN_STATE);
  });

  test("origin 'coordinator' skips the sequence checks", () => {
    const log = openLog(partitionDir());
    ok(log, txn(7, 0));
    const gap = txn(7, 10, 1);
    assert.equal(log.append(Buffer.from(gap), 0, T0).errorCode, 45);
    const r = log.append(gap, 0, T0, { origin: 'coordinator' });
    assert.equal(r.errorCode, 0);
  });

  test('a marker for a producer without an open transaction is written and indexes nothing', () => {
    const dir = partitionDir();
    const log = openLog(dir);
    marker(log, 42, false);
    assert.equal(log.logEndOffset, 1);
    assert.deepEqual(txnIndexFiles(dir), []);
  });
});

describe('.txnindex and aborted transactions', () => {
  test('an abort writes a 34-byte entry; commits write none; read_committed collection', () => {
    const dir = partitionDir();
    const log = openLog(dir);
    ok(log, txn(1, 0)); // 0-1
    ok(log, txn(2, 0)); // 2-3
    marker(log, 1, false); // 4: abort 1 while 2 is open -> LSO 2
    marker(log, 2, true); // 5
    ok(log, txn(3, 0)); // 6-7
    marker(log, 3, false); // 8 -> LSO 9
    assert.deepEqual(txnIndexFiles(dir), ['00000000000000000000.txnindex']);
    const file = path.join(dir, '00000000000000000000.txnindex');
    assert.equal(fs.statSync(file).size, 2 * ABORTED_TXN_BYTES);
    assert.deepEqual(txnIndexEntries(file), [
      { producerId: 1, first: 0, last: 4, lso: 2 },
      { producerId: 3, first: 6, last: 8, lso: 9 },
    ]);
    assert.deepEqual(log.abortedTransactions(0, 9), [
      { producerId: 1, firstOffset: 0 },
      { producerId: 3, firstOffset: 6 },
    ]);
    assert.deepEqual(log.abortedTransactions(5, 9), [{ producerId: 3, firstOffset: 6 }]);
    assert.deepEqual(log.abortedTransactions(0, 4), [{ producerId: 1, firstOffset: 0 }]);
    assert.deepEqual(log.abortedTransactions(9, 9), []);
  });

  test('entries live with their segment: roll, truncation, retention', () => {
    const dir = partitionDir();
    const log = openLog(dir);
    ok(log, txn(1, 0)); // 0-1
    log.roll();
    marker(log, 1, false); // 2, in segment 2
    ok(log, txn(2, 0)); // 3-4
    marker(log, 2, false); // 5
    assert.deepEqual(txnIndexFiles(dir), ['00000000000000000002.txnindex']);
    assert.deepEqual(
      log.abortedTransactions(0, 2),
      [{ producerId: 1, firstOffset: 0 }],
      'data before the marker',
    );
    log.truncateTo(5);
    assert.deepEqual(txnIndexEntries(path.join(dir, '00000000000000000002.txnindex')).length, 1);
    assert.equal(lso(log), 3, 'producer 2 open again after truncating its marker');
    log.truncateTo(2);
    assert.deepEqual(txnIndexFiles(dir), []);
    assert.equal(lso(log), 0);
  });

  test('a clean reopen keeps the index and the open transactions (snapshot)', () => {
    const dir = partitionDir();
    let log = openLog(dir);
    ok(log, txn(1, 0));
    marker(log, 1, false);
    ok(log, txn(2, 0)); // 3-4, left open
    log.close();
    log = openLog(dir, {}, { cleanShutdown: true });
    assert.equal(lso(log), 3);
    assert.deepEqual(log.abortedTransactions(0, 5), [{ producerId: 1, firstOffset: 0 }]);
    marker(log, 2, false);
    assert.deepEqual(log.abortedTransactions(0, 6), [
      { producerId: 1, firstOffset: 0 },
      { producerId: 2, firstOffset: 3 },
    ]);
    log.close();
  });

  test('after a crash with an open transaction: LSO and .txnindex rebuilt from the log', () => {
    const dir = partitionDir();
    const log = openLog(dir, { segmentBytes: 300 });
    ok(log, txn(1, 0)); // 0-1
    ok(log, txn(2, 0)); // 2-3
    marker(log, 1, false); // 4
    ok(log, txn(3, 0)); // 5-6
    marker(log, 3, false);
    ok(log, txn(2, 2)); // still open
    const held = lso(log);
    assert.equal(held, 2);
    const expected = log.abortedTransactions(0, log.logEndOffset);
    assert.equal(expected?.length, 2);
    const files = txnIndexFiles(dir);
    assert.ok(log.segmentCount > 1, 'several segments');
    // Crash: no close, no snapshot at the end; the index files are damaged or gone.
    for (const f of files) fs.rmSync(path.join(dir, f));
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.snapshot')) fs.rmSync(path.join(dir, f));
    fs.rmSync(path.join(dir, 'recovery-point-offset-checkpoint'), { force: true });
    const again = openLog(dir, { segmentBytes: 300 });
    assert.equal(lso(again), held);
    assert.deepEqual(again.abortedTransactions(0, again.logEndOffset), expected);
    assert.deepEqual(txnIndexFiles(dir), files);
    assert.ok(linesWith('rebuilt transaction indexes from the log').length > 0);
    // The open transaction can still be aborted after the restart.
    marker(again, 2, false);
    assert.equal(lso(again), again.logEndOffset);
    again.close();
  });

  test('a marker lost in a crash: its entry goes and the transaction is open again', () => {
    const dir = partitionDir();
    const log = openLog(dir);
    ok(log, txn(1, 0)); // 0-1
    const logFile = path.join(dir, '00000000000000000000.log');
    const sizeBefore = fs.statSync(logFile).size;
    marker(log, 1, false); // 2
    const file = path.join(dir, '00000000000000000000.txnindex');
    assert.equal(fs.statSync(file).size, 34);
    // Crash: the index entry reached the disk, the marker's bytes only partly.
    fs.truncateSync(logFile, sizeBefore + 20);
    fs.rmSync(path.join(dir, 'recovery-point-offset-checkpoint'), { force: true });
    const again = openLog(dir);
    assert.equal(again.logEndOffset, 2);
    assert.equal(lso(again), 0);
    assert.deepEqual(again.abortedTransactions(0, 2), []);
    assert.equal(fs.existsSync(file), false);
    again.close();
  });

  test('a torn .txnindex is cut at the first bad entry', () => {
    const dir = partitionDir();
    let log = openLog(dir);
    ok(log, txn(1, 0));
    marker(log, 1, false);
    log.close();
    const file = path.join(dir, '00000000000000000000.txnindex');
    fs.appendFileSync(file, Buffer.alloc(10, 1));
    log = openLog(dir, {}, { cleanShutdown: true });
    assert.deepEqual(log.abortedTransactions(0, 3), [{ producerId: 1, firstOffset: 0 }]);
    assert.equal(fs.statSync(file).size, 34);
    assert.ok(linesWith('transaction index damaged, cut at the first bad entry').length > 0);
    log.close();
  });
});

describe('follower appends', () => {
  test('a follower opens and closes transactions and indexes aborts from the leader batches', () => {
    const leader = openLog(partitionDir());
    ok(leader, txn(1, 0));
    marker(leader, 1, false);
    ok(leader, txn(2, 0));
    const data = leader.read(0, 1 << 20, 100, true);
    const dir = partitionDir();
    const follower = openLog(dir);
    const r = follower.appendAsFollower(Buffer.concat(data.chunks));
    assert.equal(r.errorCode, 0);
    assert.equal(follower.logEndOffset, leader.logEndOffset);
    assert.equal(lso(follower), 3);
    assert.deepEqual(follower.abortedTransactions(0, 5), [{ producerId: 1, firstOffset: 0 }]);
    assert.deepEqual(txnIndexEntries(path.join(dir, '00000000000000000000.txnindex')), [
      { producerId: 1, first: 0, last: 2, lso: 3 },
    ]);
  });
});
