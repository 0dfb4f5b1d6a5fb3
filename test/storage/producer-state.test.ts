import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { batch, linesWith, openLog, partitionDir, readAll } from './helpers.js';

const T0 = 1_700_000_000_000;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const INVALID_PRODUCER_EPOCH = 47;

/** A batch of `count` records from producer 1000 (epoch 0 unless given) starting at sequence seq. */
function idem(seq: number, count = 2, epoch = 0, producerId = 1000): Buffer {
  return batch(`p${producerId}e${epoch}s${seq}`, count, {
    producerId,
    producerEpoch: epoch,
    baseSequence: seq,
  });
}

function appendOk(log: PartitionLog, b: Buffer): number {
  const r = log.append(b, 0, T0);
  assert.equal(r.errorCode, 0, `append failed: ${r.errorMessage}`);
  assert.equal(r.duplicate, false);
  return r.baseOffset;
}

describe('idempotent producers', () => {
  test('a retried batch returns the original offsets and is not written again', () => {
    const log = openLog(partitionDir());
    appendOk(log, batch('plain', 3));
    const first = appendOk(log, idem(0));
    appendOk(log, idem(2));
    const size = log.sizeBytes;
    const retry = log.append(idem(0), 0, T0);
    assert.equal(retry.errorCode, 0);
    assert.equal(retry.duplicate, true);
    assert.equal(retry.baseOffset, first);
    assert.equal(retry.lastOffset, first + 1);
    assert.equal(log.logEndOffset, 7);
    assert.equal(log.sizeBytes, size);
    log.close();
  });

  test('any of the last 5 batches is recognised; an older one is out of order', () => {
    const log = openLog(partitionDir());
    const offsets: number[] = [];
    for (let i = 0; i < 7; i++) offsets.push(appendOk(log, idem(i * 2)));
    for (let i = 2; i < 7; i++) {
      const r = log.append(idem(i * 2), 0, T0);
      assert.equal(r.duplicate, true, `batch ${i}`);
      assert.equal(r.baseOffset, offsets[i]);
    }
    assert.equal(log.append(idem(2), 0, T0).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    log.close();
  });

  test('a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER (45) and nothing is written', () => {
    const log = openLog(partitionDir());
    appendOk(log, idem(0));
    const r = log.append(idem(5), 0, T0);
    assert.equal(r.errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(r.baseOffset, -1);
    assert.match(r.errorMessage ?? '', /expected sequence 2, got 5/);
    assert.equal(log.logEndOffset, 2);
    appendOk(log, idem(2));
    log.close();
  });

  test('an older epoch is INVALID_PRODUCER_EPOCH (47); a newer epoch must start at 0', () => {
    const log = openLog(partitionDir());
    appendOk(log, idem(0, 2, 3));
    assert.equal(log.append(idem(2, 2, 2), 0, T0).errorCode, INVALID_PRODUCER_EPOCH);
    assert.equal(log.append(idem(7, 2, 4), 0, T0).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    appendOk(log, idem(0, 2, 4));
    // The old epoch's batches are forgotten: its retry is now fenced.
    assert.equal(log.append(idem(0, 2, 3), 0, T0).errorCode, INVALID_PRODUCER_EPOCH);
    log.close();
  });

  test('an unknown producer may start at any sequence (Kafka 2.x+)', () => {
    const log = openLog(partitionDir());
    appendOk(log, idem(42, 2, 1, 77));
    appendOk(log, idem(44, 2, 1, 77));
    log.close();
  });

  test('sequences wrap from 2^31-1 to 0', () => {
    const log = openLog(partitionDir());
    appendOk(log, idem(2147483646, 2));
    appendOk(log, idem(0, 2));
    log.close();
  });

  test('producers are independent; non-idempotent batches are never deduplicated', () => {
    const log = openLog(partitionDir());
    appendOk(log, idem(0, 2, 0, 1));
    appendOk(log, idem(0, 2, 0, 2));
    appendOk(log, batch('plain', 1));
    appendOk(log, batch('plain', 1));
    assert.equal(log.append(idem(0, 2, 0, 2), 0, T0).duplicate, true);
    log.close();
  });

  test('two batches of one producer in one append are checked in order', () => {
    const log = openLog(partitionDir());
    const r = log.append(Buffer.concat([idem(0), idem(2)]), 0, T0);
    assert.equal(r.errorCode, 0);
    assert.equal(
      log.append(Buffer.concat([idem(4), idem(9)]), 0, T0).errorCode,
      OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    assert.equal(log.logEndOffset, 4);
    const dup = log.append(idem(2), 0, T0);
    assert.equal(dup.duplicate, true);
    assert.equal(dup.baseOffset, 2);
    log.close();
  });
});

describe('producer state persistence', () => {
  function build(dir: string): PartitionLog {
    const log = openLog(dir, { segmentBytes: 400 });
    for (let i = 0; i < 12; i++) {
      appendOk(log, idem(i * 2, 2, 0, 1));
      appendOk(log, idem(i * 3, 3, 5, 2));
    }
    return log;
  }

  function assertDedup(log: PartitionLog): void {
    // Producer 1's last batch is seq 22-23 at offset 55-56, producer 2's seq 33-35 at 57-59.
    const d1 = log.append(idem(22, 2, 0, 1), 0, T0);
    assert.equal(d1.duplicate, true);
    assert.equal(d1.baseOffset, 55);
    const d2 = log.append(idem(33, 3, 5, 2), 0, T0);
    assert.equal(d2.duplicate, true);
    assert.equal(d2.baseOffset, 57);
    assert.equal(log.append(idem(30, 2, 0, 1), 0, T0).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(log.append(idem(36, 3, 4, 2), 0, T0).errorCode, INVALID_PRODUCER_EPOCH);
    appendOk(log, idem(24, 2, 0, 1));
  }

  test('dedup survives a clean close and reopen (snapshot at the log end)', () => {
    const dir = partitionDir();
    build(dir).close();
    assert.ok(fs.existsSync(path.join(dir, '00000000000000000060.snapshot')), 'snapshot at the log end');
    const log = openLog(dir, { segmentBytes: 400 }, { cleanShutdown: true });
    assert.equal(log.producerState.producerCount, 2);
    assertDedup(log);
    log.close();
  });

  test('dedup survives an unclean stop with no snapshot at all (the log is replayed)', () => {
    const dir = partitionDir();
    build(dir); // abandoned without close, as after kill -9
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.snapshot'))) fs.rmSync(path.join(dir, f));
    const log = openLog(dir, { segmentBytes: 400 }, { cleanShutdown: false });
    assert.equal(log.logEndOffset, 60);
    assertDedup(log);
    log.close();
  });

  test('dedup survives an unclean stop using the last roll snapshot plus replay', () => {
    const dir = partitionDir();
    const log0 = build(dir);
    assert.ok(log0.segmentCount > 2, 'several segments');
    assert.ok(log0.snapshotOffsets().length > 0, 'roll snapshots exist');
    const log = openLog(dir, { segmentBytes: 400 }, { cleanShutdown: false });
    assertDedup(log);
    log.close();
  });

  test('a corrupt snapshot is reported and the state is rebuilt from the log', () => {
    const dir = partitionDir();
    build(dir).close();
    const snap = path.join(dir, '00000000000000000060.snapshot');
    const data = fs.readFileSync(snap);
    data[data.length - 3] = data[data.length - 3]! ^ 0xff;
    fs.writeFileSync(snap, data);
    const before = linesWith('producer state snapshot unreadable, deleting it').length;
    const log = openLog(dir, { segmentBytes: 400 }, { cleanShutdown: true });
    assert.equal(linesWith('producer state snapshot unreadable, deleting it').length, before + 1);
    assertDedup(log);
    log.close();
  });

  test('producers whose batches are all below the log start are forgotten', () => {
    const dir = partitionDir();
    const log = openLog(dir, { segmentBytes: 200 });
    appendOk(log, idem(0, 2, 0, 9));
    appendOk(log, batch('other', 2));
    log.highWatermark = log.logEndOffset;
    log.deleteRecordsBefore(2);
    assert.equal(log.producerState.entry(9), undefined);
    // Unknown again: any sequence is accepted.
    appendOk(log, idem(100, 2, 0, 9));
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      ['other-0', 'other-1', 'p9e0s100-0', 'p9e0s100-1'],
    );
    log.close();
  });
});
