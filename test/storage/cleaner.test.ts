import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildRecordBatch, decodeBatch } from '../../src/protocol/batch-compression.js';
import { Codec } from '../../src/protocol/compression.js';
import {
  type BatchHeader,
  compressionOf,
  DELETE_HORIZON_FLAG_MASK,
  decodeRecords,
  encodeRecordBatch,
  hasDeleteHorizon,
  iterateBatches,
  type RecordInput,
  readBatchHeader,
} from '../../src/protocol/records.js';
import { type CleanerOptions, cleanableRange, LogCleaner } from '../../src/storage/cleaner.js';
import { CLEANER_OFFSET_CHECKPOINT, readCleanerCheckpoint } from '../../src/storage/cleaner-checkpoint.js';
import type { LogConfig } from '../../src/storage/config.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { murmur3x86x128, OffsetMap } from '../../src/storage/offset-map.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { CLEANER_SWAP_CHECKPOINT } from '../../src/storage/segment-swap.js';
import { config, linesWith, logger, openLog, partitionDir, tmpDir } from './helpers.js';

const T0 = 1_700_000_000_000;
const compact: Partial<LogConfig> = { cleanupPolicy: 'compact', segmentBytes: 400 };

type KV = [key: string | null, value: string | null];

function kv(
  records: KV[],
  opts: Partial<{ timestamp: number; producerId: number; baseSequence: number }> = {},
) {
  const ts = opts.timestamp ?? T0;
  return encodeRecordBatch({
    records: records.map(([key, value], i): RecordInput => ({ key, value, timestamp: ts + i })),
    producerId: opts.producerId,
    producerEpoch: opts.producerId === undefined ? undefined : 0,
    baseSequence: opts.baseSequence,
  });
}

interface Keyed {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

/** What was appended, by offset (the model the cleaned log is checked against). */
class Written {
  readonly records: Keyed[] = [];

  append(log: PartitionLog, records: KV[], opts: Parameters<typeof kv>[1] = {}): void {
    const ts = opts.timestamp ?? T0 + this.records.length * 10;
    const res = log.append(kv(records, { ...opts, timestamp: ts }), 0, ts);
    assert.equal(res.errorCode, 0, res.errorMessage ?? '');
    records.forEach(([key, value], i) => {
      this.records.push({ offset: res.baseOffset + i, key, value, timestamp: ts + i });
    });
    log.highWatermark = log.logEndOffset;
  }

  /** The latest record of every key (over everything written). */
  latest(): Map<string, Keyed> {
    const out = new Map<string, Keyed>();
    for (const r of this.records) if (r.key !== null) out.set(r.key, r);
    return out;
  }

  /** The records a complete pass up to endOffset keeps (tombstones kept unless dropTombstones). */
  expectedAfterClean(endOffset: number, dropTombstones = false): Keyed[] {
    const latestBelow = new Map<string, number>();
    for (const r of this.records)
      if (r.key !== null && r.offset < endOffset) latestBelow.set(r.key, r.offset);
    return this.records.filter((r) => {
      if (r.offset >= endOffset) return true;
      if (r.key === null || latestBelow.get(r.key) !== r.offset) return false;
      return r.value !== null || !dropTombstones;
    });
  }
}

/** Every record of the log (uncompressed batches only), decoded synchronously. */
function readKeyed(log: PartitionLog, from = log.logStartOffset): Keyed[] {
  const res = log.read(from, 1 << 30, log.logEndOffset, true);
  assert.equal(res.errorCode, 0);
  const out: Keyed[] = [];
  for (const chunk of res.chunks) {
    for (const { pos, header } of iterateBatches(chunk)) {
      const { records } = decodeRecords(chunk.subarray(pos, pos + 12 + header.batchLength));
      for (const r of records) {
        out.push({
          offset: header.baseOffset + r.offsetDelta,
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          timestamp: header.baseTimestamp + r.timestampDelta,
        });
      }
    }
  }
  return out;
}

async function readKeyedAsync(log: PartitionLog): Promise<{ records: Keyed[]; headers: BatchHeader[] }> {
  const res = log.read(log.logStartOffset, 1 << 30, log.logEndOffset, true);
  const records: Keyed[] = [];
  const headers: BatchHeader[] = [];
  for (const chunk of res.chunks) {
    for (const { pos, header } of iterateBatches(chunk)) {
      headers.push(header);
      const { records: rs } = await decodeBatch(chunk.subarray(pos, pos + 12 + header.batchLength));
      for (const r of rs) {
        records.push({
          offset: header.baseOffset + r.offsetDelta,
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          timestamp: header.baseTimestamp + r.timestampDelta,
        });
      }
    }
  }
  return { records, headers };
}

function headersOf(log: PartitionLog): BatchHeader[] {
  const res = log.read(log.logStartOffset, 1 << 30, log.logEndOffset, true);
  return res.chunks.flatMap((c) => [...iterateBatches(c)].map((b) => b.header));
}

/** Offsets increase, and every key's latest record is there with its value (what a consumer relies on). */
function assertConsistent(records: Keyed[], written: Written, context: string): void {
  for (let i = 1; i < records.length; i++) {
    assert.ok(
      records[i]!.offset > records[i - 1]!.offset,
      `${context}: offsets increase at ${records[i]!.offset}`,
    );
  }
  const byOffset = new Map(records.map((r) => [r.offset, r]));
  for (const [key, r] of written.latest()) {
    if (r.value === null) continue;
    assert.deepEqual(byOffset.get(r.offset), r, `${context}: latest value of ${key} at ${r.offset}`);
  }
}

function newCleaner(options: CleanerOptions = {}): LogCleaner {
  return new LogCleaner(logger, options);
}

function filesEnding(dir: string, ...suffixes: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => suffixes.some((s) => f.endsWith(s)));
}

describe('log cleaner: compaction', () => {
  test('only the latest record per key stays below the active segment; offsets never change', async () => {
    const dir = partitionDir();
    const log = openLog(dir, compact);
    const w = new Written();
    for (let i = 0; i < 120; i++) w.append(log, [[`k${i % 10}`, `v${i}`]]);
    log.roll();
    for (let i = 120; i < 125; i++) w.append(log, [[`k${i % 10}`, `v${i}`]]);
    const segmentsBefore = log.segmentCount;
    const sizeBefore = log.sizeBytes;

    const stats = await newCleaner().clean(log);
    assert.ok(stats !== null);
    assert.equal(stats.endOffset, 120, 'mapped up to the active segment');
    assert.equal(stats.mapKeys, 10);
    assert.equal(stats.recordsRemoved, 110);
    assert.deepEqual(readKeyed(log), w.expectedAfterClean(120));
    assert.ok(log.sizeBytes < sizeBefore / 3, `bytes ${sizeBefore} -> ${log.sizeBytes}`);
    assert.equal(log.logStartOffset, 0);
    assert.equal(log.logEndOffset, 125);
    assert.deepEqual(readCleanerCheckpoint(dir), { firstDirtyOffset: 120, deleteHorizonMs: -1 });
    assert.deepEqual(filesEnding(dir, '.cleaned', '.swap', CLEANER_SWAP_CHECKPOINT), []);

    const line = linesWith('log cleaned').at(-1);
    assert.equal(line?.partition, 't-0');
    for (const k of ['bytesRead', 'bytesWritten', 'recordsRemoved', 'durationMs']) {
      assert.equal(typeof line?.[k], 'number', k);
    }

    // Fetching from an offset that was cleaned away starts at the next record kept.
    const r = log.read(3, 1 << 20, log.highWatermark, true);
    assert.ok(readBatchHeader(r.chunks[0]!, 0).baseOffset > 3);
    // Nothing new is dirty: no pass is due. A forced one merges the now small segments (groups are formed from
    // the input sizes, as in Kafka, so the first pass kept one output per full segment).
    assert.equal(await newCleaner().clean(log), null);
    const merged = await newCleaner().clean(log, { force: true });
    assert.equal(merged?.recordsRemoved, 0);
    assert.ok(log.segmentCount <= 3, `segments ${segmentsBefore} -> ${log.segmentCount}`);
    assert.deepEqual(readKeyed(log), w.expectedAfterClean(120));
    const again = await newCleaner().clean(log, { force: true });
    assert.equal(again?.groupsSwapped, 0, 'a single unchanged segment is not rewritten');
    assert.deepEqual(readKeyed(log), w.expectedAfterClean(120));
  });

  test('the next pass removes clean records superseded by new dirty ones, and regroups small segments', async () => {
    const dir = partitionDir();
    const log = openLog(dir, compact);
    const w = new Written();
    for (let i = 0; i < 40; i++) w.append(log, [[`k${i % 20}`, `a${i}`]]);
    log.roll();
    assert.ok(await newCleaner().clean(log, { force: true }));
    for (let i = 0; i < 40; i++) w.append(log, [[`k${i % 5}`, `b${i}`]]);
    log.roll();
    const before = log.segmentCount;
    const stats = await newCleaner().clean(log, { force: true });
    assert.equal(stats?.endOffset, 80);
    assert.deepEqual(readKeyed(log), w.expectedAfterClean(80));
    assert.equal(readKeyed(log).length, 20);
    assert.ok(log.segmentCount < before, `segments ${before} -> ${log.segmentCount}`);
  });

  test('LogAppendTime batches keep their timestamp type and maxTimestamp when rewritten', async () => {
    const log = openLog(partitionDir(), { ...compact, messageTimestampType: 'LogAppendTime' });
    const w = new Written();
    w.append(log, [
      ['a', '1'],
      ['b', '1'],
    ]);
    w.append(log, [['a', '2']]);
    log.roll();
    const before = headersOf(log)[0]!;
    await newCleaner().clean(log, { force: true });
    const after = headersOf(log)[0]!;
    assert.equal(after.baseOffset, 0);
    assert.equal(after.recordCount, 1);
    assert.equal(after.attributes & 0x08, 0x08, 'LogAppendTime bit kept');
    assert.equal(after.maxTimestamp, before.maxTimestamp);
    assert.deepEqual(
      readKeyed(log).map((r) => [r.offset, r.key, r.value]),
      [
        [1, 'b', '1'],
        [2, 'a', '2'],
      ],
    );
  });

  test('records without a key are removed; control batches stay as they are', async () => {
    const log = openLog(partitionDir(), compact);
    const w = new Written();
    w.append(log, [
      [null, 'no key'],
      ['a', '1'],
    ]);
    const control = encodeRecordBatch({
      records: [{ key: 'ctl', value: 'x' }],
      isControl: true,
      producerId: 9,
    });
    log.append(control, 0, T0);
    w.append(log, [['a', '2']]);
    log.roll();
    await newCleaner().clean(log, { force: true });
    const hs = headersOf(log);
    assert.ok(hs.some((h) => h.baseOffset === 2 && h.recordCount === 1 && (h.attributes & 0x20) !== 0));
    const keyed = readKeyed(log).filter((r) => r.key !== 'ctl');
    assert.deepEqual(
      keyed.map((r) => [r.offset, r.key, r.value]),
      [[3, 'a', '2']],
    );
  });

  test('compressed batches are decompressed, filtered and recompressed with the same codec', async () => {
    const log = openLog(partitionDir(), { ...compact, segmentBytes: 2000 });
    const codecs = [Codec.gzip, Codec.snappy, Codec.lz4, Codec.zstd];
    let offset = 0;
    const latest = new Map<string, { offset: number; value: string }>();
    for (const [i, codec] of codecs.entries()) {
      const records = Array.from({ length: 6 }, (_, j) => ({
        key: `k${j % 3}`,
        value: `c${codec}-${j}-${'z'.repeat(40)}`,
        timestamp: T0 + i * 100 + j,
      }));
      records.forEach((r, j) => {
        latest.set(r.key, { offset: offset + j, value: r.value });
      });
      const res = log.append(await buildRecordBatch({ records }, codec), 0, T0);
      assert.equal(res.errorCode, 0);
      offset = res.lastOffset + 1;
    }
    log.roll();
    log.highWatermark = log.logEndOffset;
    const before = await readKeyedAsync(log);
    await newCleaner().clean(log, { force: true });
    const { records, headers } = await readKeyedAsync(log);
    assert.deepEqual(
      records.map((r) => [r.offset, r.key, r.value]),
      [...latest.entries()].sort((a, b) => a[1].offset - b[1].offset).map(([k, v]) => [v.offset, k, v.value]),
    );
    // Timestamps survive the rewrite.
    for (const r of records)
      assert.equal(r.timestamp, before.records.find((b) => b.offset === r.offset)?.timestamp);
    // Only the last batch keeps records (each key's latest is there), with its own codec and offsets.
    assert.deepEqual(
      headers.map((h) => compressionOf(h.attributes)),
      [Codec.zstd],
    );
    assert.equal(headers[0]!.baseOffset, 18);
    assert.equal(headers[0]!.lastOffsetDelta, 5);
  });

  test('a reader between slices always sees increasing offsets and every key latest value', async () => {
    const log = openLog(partitionDir(), compact);
    const w = new Written();
    for (let i = 0; i < 300; i++) w.append(log, [[`k${(i * 7) % 23}`, `v${i}`]]);
    log.roll();
    const cleaner = newCleaner({ sliceBytesMax: 150, sliceMsMax: 1000 });
    let done = false;
    const pass = cleaner.clean(log, { force: true }).finally(() => {
      done = true;
    });
    let reads = 0;
    let sawCleaning = false;
    while (!done) {
      sawCleaning ||= cleaner.state === 'cleaning';
      assertConsistent(readKeyed(log), w, `read ${reads}`);
      reads++;
      await tick();
    }
    const stats = await pass;
    assert.ok(sawCleaning);
    assert.ok(stats !== null && stats.slices > 20, `slices ${stats?.slices}`);
    assert.ok(reads > 20, `reads ${reads}`);
    assert.deepEqual(readKeyed(log), w.expectedAfterClean(300));
  });

  test('passes asked for at the same time run one after the other', async () => {
    const logs = [openLog(partitionDir(), compact), openLog(partitionDir(), compact)];
    const models = logs.map((log, n) => {
      const w = new Written();
      for (let i = 0; i < 100; i++) w.append(log, [[`k${(i * (n + 3)) % 11}`, `v${n}-${i}`]]);
      log.roll();
      return w;
    });
    const cleaner = newCleaner({ sliceBytesMax: 200, sliceMsMax: 1000 });
    const stats = await Promise.all(logs.map((log) => cleaner.clean(log, { force: true })));
    assert.ok(stats.every((x) => x !== null && x.mapKeys === 11));
    logs.forEach((log, n) => {
      assert.deepEqual(readKeyed(log), models[n]!.expectedAfterClean(100));
    });
  });

  test('a small offset map cleans over several passes', async () => {
    const dir = partitionDir();
    const log = openLog(dir, compact);
    const w = new Written();
    for (let i = 0; i < 200; i++) w.append(log, [[`k${i % 40}`, `v${i}`]]);
    log.roll();
    const cleaner = newCleaner({ dedupeKeysMax: 25 });
    const first = await cleaner.clean(log, { force: true });
    assert.ok(
      first !== null && first.endOffset < 200 && first.endOffset > 0,
      `endOffset ${first?.endOffset}`,
    );
    assertConsistent(readKeyed(log), w, 'after one pass');
    let passes = 1;
    while ((readCleanerCheckpoint(dir)?.firstDirtyOffset ?? 0) < 200) {
      assert.ok(await cleaner.clean(log, { force: true }));
      assertConsistent(readKeyed(log), w, `after pass ${++passes}`);
    }
    assert.ok(passes >= 8, `passes ${passes}`);
    // Each pass only dedupes what its map held: one more full pass leaves one record per key.
    await newCleaner().clean(log, { force: true });
    assert.equal(readKeyed(log).length, 40);
  });
});

describe('log cleaner: tombstones', () => {
  test('a tombstone carries a delete horizon for delete.retention.ms, then it goes', async () => {
    const dir = partitionDir();
    const log = openLog(dir, { ...compact, deleteRetentionMs: 10_000 });
    const w = new Written();
    w.append(log, [
      ['a', '1'],
      ['b', '1'],
    ]);
    w.append(log, [
      ['a', null],
      ['c', '1'],
    ]);
    for (let i = 0; i < 8; i++) w.append(log, [[`pad${i}`, 'x'.repeat(60)]]);
    log.roll();
    let now = T0 + 1_000_000;
    const cleaner = newCleaner({ now: () => now });
    await cleaner.clean(log, { force: true });
    const tombstone = readKeyed(log).find((r) => r.key === 'a');
    assert.deepEqual(tombstone, w.records[2], 'the tombstone stays, timestamp unchanged');
    const h = headersOf(log).find((x) => x.baseOffset === 2)!;
    assert.ok(hasDeleteHorizon(h.attributes));
    assert.equal(h.attributes & DELETE_HORIZON_FLAG_MASK, DELETE_HORIZON_FLAG_MASK);
    assert.equal(h.baseTimestamp, now + 10_000, 'baseTimestamp holds the delete horizon');
    assert.equal(readCleanerCheckpoint(dir)?.deleteHorizonMs, now + 10_000);

    now += 5_000;
    assert.equal(cleanableRange(log, now, readCleanerCheckpoint(dir)).due, false);
    assert.equal(await cleaner.clean(log), null, 'not due before the horizon');
    now += 5_001;
    assert.equal(cleanableRange(log, now, readCleanerCheckpoint(dir)).horizonDue, true);
    const stats = await cleaner.clean(log);
    assert.equal(stats?.tombstonesRemoved, 1);
    assert.equal(
      readKeyed(log).find((r) => r.key === 'a'),
      undefined,
    );
    assert.deepEqual(readKeyed(log), w.expectedAfterClean(log.logEndOffset, true));
    assert.equal(readCleanerCheckpoint(dir)?.deleteHorizonMs, -1);
  });

  test('a tombstone in the dirty section removes older values of its key at once', async () => {
    const log = openLog(partitionDir(), compact);
    const w = new Written();
    for (let i = 0; i < 10; i++) w.append(log, [['gone', `v${i}`]]);
    w.append(log, [['gone', null]]);
    log.roll();
    await newCleaner().clean(log, { force: true });
    assert.deepEqual(
      readKeyed(log).map((r) => [r.offset, r.key, r.value]),
      [[10, 'gone', null]],
    );
  });
});

describe('log cleaner: when a log is due', () => {
  test('min.cleanable.dirty.ratio, min.compaction.lag.ms and max.compaction.lag.ms', async () => {
    const dir = partitionDir();
    const log = openLog(dir, compact);
    const w = new Written();
    for (let i = 0; i < 40; i++) w.append(log, [[`k${i % 4}`, `v${i}`]], { timestamp: T0 + i });
    log.roll();
    const now = T0 + 60_000;
    let r = cleanableRange(log, now, null);
    assert.equal(r.firstDirtyOffset, 0);
    assert.equal(r.firstUncleanableOffset, 40);
    assert.equal(r.dirtyRatio, 1);
    assert.equal(r.due, true);
    await newCleaner({ now: () => now }).clean(log);
    r = cleanableRange(log, now, readCleanerCheckpoint(dir));
    assert.equal(r.firstDirtyOffset, 40);
    assert.equal(r.dirtyBytes, 0);
    assert.equal(r.due, false);

    // A little dirt: below the ratio.
    w.append(log, [['k1', 'new']], { timestamp: now });
    log.roll();
    r = cleanableRange(log, now, readCleanerCheckpoint(dir));
    assert.ok(r.dirtyRatio > 0 && r.dirtyRatio < 0.5, `ratio ${r.dirtyRatio}`);
    assert.equal(r.due, false);
    log.updateConfig(config({ ...compact, minCleanableDirtyRatio: 0.1 }));
    assert.equal(cleanableRange(log, now, readCleanerCheckpoint(dir)).due, true);

    // min.compaction.lag.ms: a segment with a record newer than the lag is not cleanable (nor what follows).
    log.updateConfig(config({ ...compact, minCleanableDirtyRatio: 0.1, minCompactionLagMs: 1000 }));
    r = cleanableRange(log, now + 500, readCleanerCheckpoint(dir));
    assert.equal(r.firstUncleanableOffset, 40);
    assert.equal(r.due, false);
    assert.equal(cleanableRange(log, now + 1001, readCleanerCheckpoint(dir)).due, true);

    // max.compaction.lag.ms: dirt older than the lag is due whatever the ratio.
    log.updateConfig(config({ ...compact, maxCompactionLagMs: 10_000 }));
    assert.equal(cleanableRange(log, now + 5_000, readCleanerCheckpoint(dir)).due, false);
    r = cleanableRange(log, now + 10_001, readCleanerCheckpoint(dir));
    assert.equal(r.lagForced, true);
    assert.equal(r.due, true);
  });

  test('the high watermark bounds the cleanable range', () => {
    const log = openLog(partitionDir(), compact);
    const w = new Written();
    for (let i = 0; i < 20; i++) w.append(log, [[`k${i % 2}`, `v${i}`]]);
    log.roll();
    log.highWatermark = 7;
    assert.equal(cleanableRange(log, T0, null).firstUncleanableOffset, 7);
  });

  test('delete-only logs are never cleaned', async () => {
    const log = openLog(partitionDir(), { segmentBytes: 400 });
    const w = new Written();
    for (let i = 0; i < 20; i++) w.append(log, [[`k${i % 2}`, `v${i}`]]);
    log.roll();
    assert.equal(await newCleaner().clean(log, { force: true }), null);
    assert.equal(readKeyed(log).length, 20);
  });
});

describe('log cleaner: producer state', () => {
  test("an idempotent producer's last batch stays as an empty batch; its sequence survives a reload", async () => {
    const dir = partitionDir();
    let log = openLog(dir, compact);
    const w = new Written();
    for (let s = 0; s < 5; s++) w.append(log, [['a', `p${s}`]], { producerId: 7, baseSequence: s });
    w.append(log, [['a', 'plain']]);
    log.roll();
    await newCleaner().clean(log, { force: true });
    const hs = headersOf(log);
    const kept = hs.find((h) => h.producerId === 7);
    assert.ok(kept !== undefined, 'the last batch of producer 7 stays');
    assert.equal(kept.baseOffset, 4);
    assert.equal(kept.recordCount, 0);
    assert.equal(kept.baseSequence, 4);
    assert.equal(hs.filter((h) => h.producerId === 7).length, 1, 'its earlier batches went');
    assert.deepEqual(
      readKeyed(log).map((r) => r.value),
      ['plain'],
    );

    // Rebuild producer state from the log alone.
    log.close();
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.snapshot'))) fs.rmSync(path.join(dir, f));
    log = openLog(dir, compact, { cleanShutdown: true });
    const retry = log.append(kv([['a', 'p4']], { producerId: 7, baseSequence: 4 }), 0, T0);
    assert.equal(retry.duplicate, true, 'a retry of the last batch is still recognised');
    assert.equal(retry.baseOffset, 4);
    const gap = log.append(kv([['a', 'p9']], { producerId: 7, baseSequence: 9 }), 0, T0);
    assert.equal(gap.errorCode, 45, 'a gap is still refused');
    assert.equal(log.append(kv([['a', 'p5']], { producerId: 7, baseSequence: 5 }), 0, T0).errorCode, 0);
  });
});

describe('log cleaner: the log changing underneath', () => {
  /** Starts a pass and waits until it writes a cleaned segment (wrapped: an async function would await it). */
  async function startPass(log: PartitionLog, cleaner: LogCleaner): Promise<{ pass: Promise<unknown> }> {
    const pass = cleaner.clean(log, { force: true });
    for (let i = 0; i < 10_000 && !filesEnding(log.dir, '.cleaned').length; i++) await tick();
    assert.equal(cleaner.state, 'cleaning');
    assert.ok(filesEnding(log.dir, '.log.cleaned').length > 0, 'a cleaned segment is being written');
    return { pass };
  }

  function fill(log: PartitionLog): Written {
    const w = new Written();
    for (let i = 0; i < 200; i++) w.append(log, [[`k${i % 13}`, `v${i}`]]);
    log.roll();
    return w;
  }

  for (const [name, change] of [
    ['DeleteRecords', (log: PartitionLog) => log.deleteRecordsBefore(log.segmentBaseOffsets()[3]!)],
    ['truncation', (log: PartitionLog) => log.truncateTo(150)],
    [
      'retention',
      (log: PartitionLog) => {
        log.updateConfig(config({ ...compact, cleanupPolicy: 'compact,delete', retentionBytes: 2000 }));
        assert.ok(log.enforceRetention(Date.now()) > 0);
      },
    ],
  ] as const) {
    test(`${name} during a pass aborts it; the log stays whole and the next pass works`, async () => {
      const dir = partitionDir();
      const log = openLog(dir, compact);
      const w = fill(log);
      const cleaner = newCleaner({ sliceBytesMax: 100, sliceMsMax: 1000 });
      const { pass } = await startPass(log, cleaner);
      change(log);
      assert.equal(await pass, null);
      assert.ok(linesWith('log cleaning aborted').length > 0);
      assert.deepEqual(filesEnding(dir, '.cleaned', '.swap'), []);
      assert.equal(readCleanerCheckpoint(dir), null, 'the checkpoint did not move');
      const start = log.logStartOffset;
      const end = log.logEndOffset;
      const model = new Written();
      model.records.push(...w.records.filter((r) => r.offset >= start && r.offset < end));
      assertConsistent(
        readKeyed(log).filter((r) => r.offset >= start),
        model,
        'after the abort',
      );
      log.roll();
      assert.ok(await newCleaner().clean(log, { force: true }));
      assertConsistent(
        readKeyed(log).filter((r) => r.offset >= start),
        model,
        'after the next pass',
      );
    });
  }

  test('a batch that does not parse fails the pass: nothing is swapped, no cleaned file stays', async () => {
    const log = openLog(partitionDir(), compact);
    const w = fill(log);
    const segs = log.segmentBaseOffsets();
    const victim = path.join(log.dir, `${String(segs[2]).padStart(20, '0')}.log`);
    const fd = fs.openSync(victim, 'r+');
    fs.writeSync(fd, Buffer.from([0x7f, 0xff, 0xff, 0xff]), 0, 4, 8); // the first batch's batchLength
    fs.closeSync(fd);
    await assert.rejects(newCleaner().clean(log, { force: true }), /bad batch length/);
    assert.ok(linesWith('log cleaning failed').length > 0);
    assert.deepEqual(filesEnding(log.dir, '.cleaned', '.swap', CLEANER_SWAP_CHECKPOINT), []);
    assert.equal(readCleanerCheckpoint(log.dir), null);
    assert.equal(log.segmentCount, segs.length);
    assertConsistent(readKeyed(log, segs[3]), w, 'the segments after the damaged one');
  });

  test('switching cleanup.policy to delete aborts the pass', async () => {
    const log = openLog(partitionDir(), compact);
    fill(log);
    const cleaner = newCleaner({ sliceBytesMax: 100, sliceMsMax: 1000 });
    const { pass } = await startPass(log, cleaner);
    log.updateConfig(config({ ...compact, cleanupPolicy: 'delete' }));
    assert.equal(await pass, null);
    assert.deepEqual(filesEnding(log.dir, '.cleaned'), []);
  });

  test('stopping the cleaner mid-pass removes its unfinished segment', async () => {
    const log = openLog(partitionDir(), compact);
    const w = fill(log);
    const cleaner = newCleaner({ sliceBytesMax: 100, sliceMsMax: 1000 });
    const { pass } = await startPass(log, cleaner);
    cleaner.stop();
    assert.deepEqual(filesEnding(log.dir, '.cleaned'), []);
    assert.equal(await pass, null);
    assertConsistent(readKeyed(log), w, 'after stop');
  });
});

describe('log cleaner: files', () => {
  test('a cleaned log reads the same after a clean shutdown and after crash recovery', async () => {
    const root = tmpDir();
    const logs = LogManager.open({ logDirs: [root], logger });
    const log = logs.createLog('t', 0, config(compact));
    const w = new Written();
    for (let i = 0; i < 100; i++) w.append(log, [[`k${i % 9}`, `v${i}`]]);
    log.roll();
    await logs.cleaner.clean(log, { force: true });
    const expected = readKeyed(log);
    assert.deepEqual(expected, w.expectedAfterClean(100));
    logs.close();

    const clean = LogManager.open({ logDirs: [root], logger });
    const reopened = clean.getLog('t', 0)!;
    assert.deepEqual(readKeyed(reopened), expected);
    for (let off = 0; off < 100; off++) {
      const r = reopened.read(off, 100, reopened.highWatermark, true);
      const h = readBatchHeader(r.chunks[0]!, 0);
      assert.ok(h.baseOffset + h.lastOffsetDelta >= off, `offset ${off}`);
    }
    // An unclean stop: no close, so every segment is validated (CRCs of rewritten batches included).
    const recovered = LogManager.open({ logDirs: [root], logger }).getLog('t', 0)!;
    assert.deepEqual(readKeyed(recovered), expected);
    assert.equal(recovered.logEndOffset, 100);
  });

  test('compact,delete: retention deletes old segments of a compacted log too', async () => {
    const log = openLog(partitionDir(), {
      ...compact,
      cleanupPolicy: 'compact,delete',
      retentionMs: 60_000,
    });
    const w = new Written();
    for (let i = 0; i < 30; i++) w.append(log, [[`k${i % 3}`, `old${i}`]], { timestamp: T0 });
    for (let i = 0; i < 30; i++) w.append(log, [[`k${i % 3}`, `new${i}`]], { timestamp: T0 + 3_600_000 });
    log.roll();
    await newCleaner().clean(log, { force: true });
    assert.ok(log.enforceRetention(T0 + 3_600_000 + 1000) >= 0);
    const left = readKeyed(log);
    assert.ok(left.every((r) => r.value?.startsWith('new')));
    assert.equal(left.length, 3);
  });

  for (const step of ['marker-written', 'renamed-to-swap', 'old-deleted'] as const) {
    test(`a crash at step ${step} of a swap recovers to a whole log`, () => {
      const root = tmpDir();
      const self = fileURLToPath(import.meta.url);
      const ext = path.extname(self);
      const child = path.join(path.dirname(self), 'fixtures', `cleaner-crash${ext}`);
      const args = ext === '.ts' ? ['--import', 'tsx', child, root, step] : [child, root, step];
      const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
      assert.equal(
        run.signal,
        'SIGKILL',
        `child ended with ${run.status} ${run.signal}: ${run.stdout} ${run.stderr}`,
      );
      const dir = path.join(root, 'crash-compact-0');
      const left = fs.readdirSync(dir);
      assert.ok(
        left.some((f) => f.endsWith('.cleaned') || f.endsWith('.swap')),
        `the crash left cleaner files: ${left}`,
      );

      const logs = LogManager.open({ logDirs: [root], logger });
      const log = logs.getLog('crash-compact', 0)!;
      assert.deepEqual(filesEnding(dir, '.cleaned', '.swap', CLEANER_SWAP_CHECKPOINT), []);
      const w = new Written();
      for (let i = 0; i < 60; i++)
        w.records.push({ offset: i, key: `k${i % 7}`, value: `v${i}`, timestamp: T0 + i });
      const records = readKeyed(log);
      assertConsistent(records, w, `after a crash at ${step}`);
      assert.equal(log.logEndOffset, 60);
      if (step === 'marker-written') {
        assert.equal(records.length, 60, 'the unfinished swap was dropped: nothing lost, nothing cleaned');
      } else {
        assert.ok(records.length < 60, 'the swap was completed');
        assert.ok(linesWith('completed a segment swap interrupted by a crash').length > 0);
      }
      // The log cleans normally afterwards (with its topic's config, which the broker applies after open).
      log.updateConfig(config({ segmentBytes: 400, cleanupPolicy: 'compact' }));
      return logs.cleaner.clean(log, { force: true }).then(() => {
        assert.deepEqual(readKeyed(log), w.expectedAfterClean(log.segmentBaseOffsets().at(-1)!));
        logs.close();
      });
    });
  }

  test('leftover .cleaned files and an orphan marker are removed on open', () => {
    const dir = partitionDir();
    const log = openLog(dir, compact);
    log.append(kv([['a', '1']]), 0, T0);
    log.close();
    fs.writeFileSync(path.join(dir, '00000000000000000000.log.cleaned'), 'junk');
    fs.writeFileSync(path.join(dir, '00000000000000000000.index.swap'), 'junk');
    fs.writeFileSync(path.join(dir, CLEANER_SWAP_CHECKPOINT), '0\n1\n0 1\n');
    const reopened = openLog(dir, compact);
    assert.deepEqual(filesEnding(dir, '.cleaned', '.swap', CLEANER_SWAP_CHECKPOINT), []);
    assert.equal(readKeyed(reopened).length, 1);
    assert.ok(fs.existsSync(path.join(dir, '00000000000000000000.log')));
    assert.ok(!fs.existsSync(path.join(dir, CLEANER_OFFSET_CHECKPOINT)));
  });
});

describe('offset map', () => {
  test('MurmurHash3 x86 128 matches the reference vectors', () => {
    const hex = (s: string): string => {
      const out = new Int32Array(4);
      const b = Buffer.from(s);
      murmur3x86x128(b, 0, b.length, out);
      return [...out].map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
    };
    assert.equal(hex(''), '0'.repeat(32));
    assert.equal(hex('The quick brown fox jumps over the lazy dog'), '2f1583c3ecee2c675d7bf66ce5e91d2c');
    assert.equal(
      hex('MurmurHash3 was written by Austin Appleby, and is placed in the public'),
      '6d3583489d9d1e5a898493af67e2ad10',
    );
  });

  test('keeps the latest offset per key through growth; unknown keys answer -1', () => {
    const m = new OffsetMap(100_000);
    const keys = Array.from({ length: 50_000 }, (_, i) => Buffer.from(`key-${i}`));
    for (const [i, k] of keys.entries()) m.put(k, 0, k.length, i);
    for (const [i, k] of keys.entries()) m.put(k, 0, k.length, i + 1_000_000);
    assert.equal(m.size, 50_000);
    for (const [i, k] of keys.entries()) assert.equal(m.get(k, 0, k.length), i + 1_000_000);
    assert.equal(m.get(Buffer.from('other'), 0, 5), -1);
    assert.equal(m.wouldOverflow(50_000), false);
    assert.equal(m.wouldOverflow(50_001), true);
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.get(keys[0]!, 0, keys[0]!.length), -1);
  });
});
