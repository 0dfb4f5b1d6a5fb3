// The log cleaner and transactions: committed transactional records are compacted like others, aborted ones are
// removed and supersede nothing, markers stay, open transactions are not cleaned, and the cleaned segment keeps
// the .txnindex entries read_committed consumers still need.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { decodeRecords, encodeRecordBatch, iterateBatches } from '../../src/protocol/records.js';
import { cleanableRange, LogCleaner } from '../../src/storage/cleaner.js';
import type { LogConfig } from '../../src/storage/config.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { logger, openLog, partitionDir } from './helpers.js';

const T0 = 1_700_000_000_000;
const compact: Partial<LogConfig> = { cleanupPolicy: 'compact', segmentBytes: 100_000 };

function append(log: PartitionLog, records: [string, string][], pid = -1, seq = -1): number {
  const r = log.append(
    encodeRecordBatch({
      records: records.map(([key, value], i) => ({ key, value, timestamp: T0 + i })),
      producerId: pid,
      producerEpoch: pid < 0 ? -1 : 0,
      baseSequence: seq,
      isTransactional: pid >= 0,
    }),
    0,
    T0,
  );
  assert.equal(r.errorCode, 0, r.errorMessage ?? '');
  log.highWatermark = log.logEndOffset;
  return r.baseOffset;
}

function marker(log: PartitionLog, pid: number, commit: boolean): number {
  const r = log.appendTxnMarker({ producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, commit }, 0, T0);
  assert.equal(r.errorCode, 0, r.errorMessage ?? '');
  log.highWatermark = log.logEndOffset;
  return r.baseOffset;
}

/** [offset, key, value] of every data record, and the offsets of control batches. */
function contents(log: PartitionLog): { data: [number, string, string][]; controls: number[] } {
  const res = log.read(log.logStartOffset, 1 << 30, log.logEndOffset, true);
  const data: [number, string, string][] = [];
  const controls: number[] = [];
  for (const chunk of res.chunks) {
    for (const { pos, header } of iterateBatches(chunk)) {
      if ((header.attributes & 0x20) !== 0) {
        controls.push(header.baseOffset);
        continue;
      }
      const { records } = decodeRecords(chunk.subarray(pos, pos + 12 + header.batchLength));
      for (const r of records)
        data.push([header.baseOffset + r.offsetDelta, r.key!.toString(), r.value!.toString()]);
    }
  }
  return { data, controls };
}

describe('log cleaner: transactions', () => {
  test('committed records compact, aborted ones go, markers and needed .txnindex entries stay', async () => {
    const dir = partitionDir();
    const log = openLog(dir, compact);
    append(log, [['a', '1']]); // 0
    append(
      log,
      [
        ['a', '2'],
        ['b', '1'],
      ],
      1,
      0,
    ); // 1-2, committed
    append(
      log,
      [
        ['a', 'X'],
        ['c', 'X'],
      ],
      2,
      0,
    ); // 3-4, aborted
    marker(log, 1, true); // 5
    marker(log, 2, false); // 6
    append(log, [['b', '2']]); // 7
    log.roll();
    append(log, [['d', '1']]); // 8, active segment
    const before = log.abortedTransactions(0, log.logEndOffset);
    assert.deepEqual(before, [{ producerId: 2, firstOffset: 3 }]);
    const stats = await new LogCleaner(logger, { now: () => T0 }).clean(log, { force: true });
    assert.ok(stats !== null);
    assert.equal(stats.abortedBatchesRemoved, 1);
    const { data, controls } = contents(log);
    assert.deepEqual(data, [
      [1, 'a', '2'],
      [7, 'b', '2'],
      [8, 'd', '1'],
    ]);
    assert.deepEqual(controls, [5, 6]);
    // The cleaned segment kept the entry (this pass saw the aborted data, as Kafka's cleaner does).
    assert.deepEqual(log.abortedTransactions(0, log.logEndOffset), before);
    assert.ok(fs.existsSync(`${dir}/00000000000000000000.txnindex`));
    assert.equal(fs.readdirSync(dir).filter((f) => f.includes('.cleaned') || f.includes('.swap')).length, 0);
    log.close();
  });

  test('an open transaction bounds the cleanable range and its records supersede nothing', async () => {
    const log = openLog(partitionDir(), compact);
    append(log, [['a', '1']]); // 0
    append(log, [['a', '2']]); // 1
    append(log, [['a', 'open']], 3, 0); // 2, open
    append(log, [['a', '3']]); // 3
    log.roll();
    append(log, [['z', '1']]); // 4
    assert.equal(log.lastStableOffset, 2);
    const range = cleanableRange(log, T0, { firstDirtyOffset: 0, deleteHorizonMs: -1 });
    assert.equal(range.firstUncleanableOffset, 2);
    await new LogCleaner(logger, { now: () => T0 }).clean(log, { force: true });
    assert.deepEqual(contents(log).data, [
      [1, 'a', '2'],
      [2, 'a', 'open'],
      [3, 'a', '3'],
      [4, 'z', '1'],
    ]);
    marker(log, 3, false);
    log.roll();
    await new LogCleaner(logger, { now: () => T0 }).clean(log, { force: true });
    assert.deepEqual(contents(log).data, [
      [3, 'a', '3'],
      [4, 'z', '1'],
    ]);
    log.close();
  });

  test('a marker whose transaction left no data gets a delete horizon, then goes; state replays clean', async () => {
    const dir = partitionDir();
    const log = openLog(dir, compact);
    append(log, [['a', '1']], 1, 0); // 0
    marker(log, 1, true); // 1
    append(log, [['b', 'X']], 2, 0); // 2
    marker(log, 2, false); // 3
    append(log, [['a', '2']], 1, 1); // 4
    marker(log, 1, true); // 5
    append(log, [['c', '1']], 2, 1); // 6
    marker(log, 2, true); // 7
    log.roll();
    append(log, [['z', '1']]); // 8
    const retention = log.logConfig.deleteRetentionMs;
    const clean = (now: number) => new LogCleaner(logger, { now: () => now }).clean(log, { force: true });
    await clean(T0);
    assert.deepEqual(contents(log).controls, [1, 3, 5, 7], 'first pass: the data was there');
    assert.deepEqual(log.abortedTransactions(0, 9), [{ producerId: 2, firstOffset: 2 }]);
    await clean(T0 + 1);
    assert.deepEqual(contents(log).controls, [1, 3, 5, 7], 'second pass: horizons set');
    assert.deepEqual(log.abortedTransactions(0, 9), [], 'no data left for the abort entry');
    const stats = await clean(T0 + 2 + retention);
    assert.equal(stats?.markersRemoved, 2);
    const { data, controls } = contents(log);
    assert.deepEqual(data, [
      [4, 'a', '2'],
      [6, 'c', '1'],
      [8, 'z', '1'],
    ]);
    assert.deepEqual(controls, [5, 7]);
    log.close();
    // A replica rebuilding producer state from the log alone finds no transaction left open.
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.snapshot')) fs.rmSync(`${dir}/${f}`);
    const again = openLog(dir, compact, { cleanShutdown: true });
    again.highWatermark = again.logEndOffset;
    assert.equal(again.lastStableOffset, again.logEndOffset);
    again.close();
  });

  test('a commit marker in a later segment group than its surviving records stays', async () => {
    const dir = partitionDir();
    const small: Partial<LogConfig> = { cleanupPolicy: 'compact', segmentBytes: 200 };
    const log = openLog(dir, small);
    append(log, [['a', 'kept-forever']], 1, 0); // 0, the latest value of a
    append(log, [['f', 'x'.repeat(60)]]); // 1
    log.roll();
    marker(log, 1, true); // 2, a segment (and group) of its own
    append(log, [['g', 'y'.repeat(60)]]); // 3
    log.roll();
    append(log, [['z', '1']]); // 4, active
    const retention = log.logConfig.deleteRetentionMs;
    for (const now of [T0, T0 + 1, T0 + 2 + retention, T0 + 3 + 2 * retention]) {
      await new LogCleaner(logger, { now: () => now }).clean(log, { force: true });
    }
    assert.deepEqual(contents(log).controls, [2]);
    log.close();
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.snapshot')) fs.rmSync(`${dir}/${f}`);
    const again = openLog(dir, small, { cleanShutdown: true });
    again.highWatermark = again.logEndOffset;
    assert.equal(again.lastStableOffset, again.logEndOffset, 'the transaction still ends');
    again.close();
  });
});
