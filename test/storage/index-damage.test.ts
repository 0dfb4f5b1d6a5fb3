// Damaged .index/.timeindex files: entries that pass the load-time sanity check but do not match the .log are
// found when used, the indexes are rebuilt from the .log, and every rebuild says so in a warn line.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { batch, linesWith, openLog, partitionDir, recordsOf } from './helpers.js';

const T0 = 1_700_000_000_000;
const REBUILT = 'rebuilt the offset and time indexes of a segment from its .log';
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

/** A cleanly closed log: `batches` batches of 5 records, index entries every ~150 bytes. */
function buildLog(batches: number, overrides = {}): string {
  const dir = partitionDir();
  const log = openLog(dir, { indexIntervalBytes: 150, ...overrides });
  for (let i = 0; i < batches; i++) log.append(batch(`b${i}`, 5, { timestamp: T0 + i * 10 }), 0, T0);
  log.close();
  return dir;
}

function reopen(dir: string, overrides = {}) {
  const log = openLog(dir, { indexIntervalBytes: 150, ...overrides }, { cleanShutdown: true });
  log.highWatermark = log.logEndOffset;
  return log;
}

function files(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Every offset is readable on its own: a read from it starts with the batch holding it. */
function assertEveryOffsetReadable(log: ReturnType<typeof reopen>): void {
  for (let offset = log.logStartOffset; offset < log.logEndOffset; offset++) {
    const r = log.read(offset, 1, log.logEndOffset, true);
    const records = recordsOf(r.chunks);
    assert.ok(
      records.some((rec) => rec.offset === offset),
      `offset ${offset} unreachable (read gave ${records.length} records)`,
    );
  }
}

describe('damaged index files', () => {
  test('an offset-index entry pointing into the middle of a batch: every offset stays readable, one rebuild', () => {
    const dir = buildLog(60);
    const index = files(dir, '.index')[0]!;
    const data = fs.readFileSync(index);
    const entries = data.length / 8;
    assert.ok(entries >= 10, `want many index entries, got ${entries}`);
    // Entry k keeps its offset but points 20 bytes into its batch (still increasing, inside the .log).
    const k = Math.floor(entries / 2);
    data.writeInt32BE(data.readInt32BE(k * 8 + 4) + 20, k * 8 + 4);
    fs.writeFileSync(index, data);

    const before = linesWith(REBUILT).length;
    const log = reopen(dir);
    assert.equal(log.logEndOffset, 300);
    assertEveryOffsetReadable(log);
    const lines = linesWith(REBUILT).slice(before);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]!.level, 'warn');
    assert.equal(lines[0]!.file, files(dir, '.log')[0]);
    assert.match(String(lines[0]!.reason), /does not point at that batch/);
    // The file on disk was rewritten: a second open finds nothing to rebuild.
    log.close();
    assert.notDeepEqual(fs.readFileSync(index), data);
    const again = reopen(dir);
    assertEveryOffsetReadable(again);
    assert.equal(linesWith(REBUILT).length, before + 1);
    again.close();
  });

  test('the same damage in an older (lazily loaded) segment', () => {
    const dir = buildLog(60, { segmentBytes: 2000 });
    const indexes = files(dir, '.index');
    assert.ok(indexes.length >= 3);
    const index = indexes[1]!;
    const data = fs.readFileSync(index);
    assert.ok(data.length >= 16);
    data.writeInt32BE(data.readInt32BE(4) + 7, 4);
    fs.writeFileSync(index, data);
    const before = linesWith(REBUILT).length;
    const log = reopen(dir, { segmentBytes: 2000 });
    assertEveryOffsetReadable(log);
    const lines = linesWith(REBUILT).slice(before);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.file, files(dir, '.log')[1]);
    log.close();
  });

  test('an index that fails the sanity check is rebuilt with a warn line naming the reason', () => {
    const dir = buildLog(30);
    const index = files(dir, '.index')[0]!;
    fs.appendFileSync(index, Buffer.from([1, 2, 3]));
    const before = linesWith(REBUILT).length;
    const log = reopen(dir);
    const lines = linesWith(REBUILT).slice(before);
    assert.equal(lines.length, 1);
    assert.match(
      String(lines[0]!.reason),
      /00000000000000000000\.index: size \d+ is not a multiple of the entry size 8/,
    );
    assertEveryOffsetReadable(log);
    log.close();
  });

  test('a time-index entry 10 years ahead is found on load: the segment is deleted by retention.ms', () => {
    const dir = buildLog(40, { segmentBytes: 1500 });
    const timeIndex = files(dir, '.timeindex')[0]!;
    const data = fs.readFileSync(timeIndex);
    const last = data.length - 12;
    data.writeBigInt64BE(BigInt(T0 + TEN_YEARS_MS), last);
    fs.writeFileSync(timeIndex, data);
    const before = linesWith(REBUILT).length;
    const log = reopen(dir, { segmentBytes: 1500, retentionMs: 1000 });
    const segments = log.segmentCount;
    // Every segment but the active one is older than retention.ms; the damaged one must not block them.
    assert.equal(log.enforceRetention(T0 + 60_000), segments - 1);
    const lines = linesWith(REBUILT).slice(before);
    assert.equal(lines.length, 1);
    assert.match(
      String(lines[0]!.reason),
      /\.timeindex: entry \(timestamp \d+, offset \d+\) does not match the \.log/,
    );
    log.close();
  });

  test('a damaged time-index entry used by a timestamp lookup is found and the answer is right', () => {
    const dir = buildLog(60);
    const timeIndex = files(dir, '.timeindex')[0]!;
    const data = fs.readFileSync(timeIndex);
    const entries = data.length / 12;
    assert.ok(entries >= 4);
    // Entry 1 keeps its timestamp but names a much later offset (still below entry 2's).
    const k = 1;
    const nextRel = data.readInt32BE((k + 1) * 12 + 8);
    data.writeInt32BE(nextRel - 1, k * 12 + 8);
    fs.writeFileSync(timeIndex, data);
    const ts = Number(data.readBigInt64BE(k * 12));
    const before = linesWith(REBUILT).length;
    const log = reopen(dir);
    const found = log.offsetForTimestamp(ts + 1);
    assert.ok(found !== null);
    // Record j of batch b carries T0 + b*10 + j (j < 5): the first one at or after ts + 1.
    let expected = -1;
    for (let b = 0; b < 60 && expected < 0; b++)
      for (let j = 0; j < 5; j++)
        if (T0 + b * 10 + j >= ts + 1) {
          expected = b * 5 + j;
          break;
        }
    assert.equal(found.offset, expected);
    assert.equal(found.timestamp, T0 + Math.floor(expected / 5) * 10 + (expected % 5));
    assert.equal(linesWith(REBUILT).length, before + 1);
    log.close();
  });
});

describe('recovery logs the rebuilds', () => {
  test('an unclean reopen rebuilds the active segment indexes and says so', () => {
    const dir = buildLog(10);
    const before = linesWith(REBUILT).length;
    const log = openLog(dir, { indexIntervalBytes: 150 }, { cleanShutdown: false });
    const lines = linesWith(REBUILT).slice(before);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'warn');
    assert.equal(lines[0]!.file, files(dir, '.index')[0]);
    assert.equal(lines[0]!.reason, 'recovery after an unclean shutdown');
    log.close();
  });
});
