import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { batch, linesWith, logLines, openLog, partitionDir, readAll } from './helpers.js';

const T0 = 1_700_000_000_000;
const RECOVERY_MSG = 'recovery truncated a corrupt or incomplete segment tail';

/** A closed log with `batches` batches of 3 records (values "r<i>-<j>"), several segments. */
function buildLog(batches: number, segmentBytes = 600): { dir: string; sizes: number[] } {
  const dir = partitionDir();
  const log = openLog(dir, { segmentBytes, indexIntervalBytes: 150 });
  const sizes: number[] = [];
  for (let i = 0; i < batches; i++) {
    const b = batch(`r${i}`, 3, { timestamp: T0 + i * 10, valueBytes: 20 });
    sizes.push(b.length);
    log.append(b, 0, T0);
  }
  log.close();
  return { dir, sizes };
}

function segmentFiles(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => path.join(dir, f));
}

function lastLog(dir: string): string {
  return segmentFiles(dir, '.log').at(-1)!;
}

function valuesUpTo(batches: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < batches; i++) for (let j = 0; j < 3; j++) out.push(`r${i}-${j}${'x'.repeat(20)}`);
  return out;
}

function reopenUnclean(dir: string) {
  const log = openLog(dir, { segmentBytes: 600, indexIntervalBytes: 150 }, { cleanShutdown: false });
  log.highWatermark = log.logEndOffset;
  return log;
}

describe('recovery after an unclean stop', () => {
  test('a .log cut in the middle of the last batch loses exactly that batch', () => {
    const { dir, sizes } = buildLog(20);
    const file = lastLog(dir);
    const full = fs.statSync(file).size;
    fs.truncateSync(file, full - 10);
    const before = linesWith(RECOVERY_MSG).length;
    const log = reopenUnclean(dir);
    assert.equal(log.logEndOffset, 19 * 3);
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      valuesUpTo(19),
    );
    assert.equal(fs.statSync(file).size, full - sizes[19]!);
    const warn = linesWith(RECOVERY_MSG).slice(before);
    assert.equal(warn.length, 1);
    assert.equal(warn[0]!.level, 'warn');
    assert.equal(warn[0]!.file, file);
    assert.equal(warn[0]!.position, full - sizes[19]!);
    assert.equal(warn[0]!.bytesCut, sizes[19]! - 10);
    assert.match(String(warn[0]!.reason), /incomplete batch/);
    // Appends continue right after the last complete batch.
    assert.equal(log.append(batch('next', 1), 0, T0).baseOffset, 57);
    log.close();
  });

  test('a corrupted byte in the last batch fails its CRC32C and only that batch is cut', () => {
    const { dir, sizes } = buildLog(20);
    const file = lastLog(dir);
    const data = fs.readFileSync(file);
    const lastStart = data.length - sizes[19]!;
    data[lastStart + 70] = data[lastStart + 70]! ^ 0xff;
    fs.writeFileSync(file, data);
    const before = linesWith(RECOVERY_MSG).length;
    const log = reopenUnclean(dir);
    assert.equal(log.logEndOffset, 57);
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      valuesUpTo(19),
    );
    const warn = linesWith(RECOVERY_MSG).slice(before);
    assert.equal(warn.length, 1);
    assert.match(String(warn[0]!.reason), /CRC32C mismatch/);
    assert.equal(warn[0]!.bytesCut, sizes[19]!);
    log.close();
  });

  test('garbage after the last batch is cut, every batch kept', () => {
    for (const garbage of [
      Buffer.alloc(100),
      Buffer.from('this is not a record batch, just some bytes after it'),
      Buffer.alloc(5, 7),
    ]) {
      const { dir } = buildLog(10);
      const file = lastLog(dir);
      const size = fs.statSync(file).size;
      fs.appendFileSync(file, garbage);
      const before = linesWith(RECOVERY_MSG).length;
      const log = reopenUnclean(dir);
      assert.equal(log.logEndOffset, 30);
      assert.deepEqual(
        readAll(log).map((r) => r.value),
        valuesUpTo(10),
      );
      assert.equal(fs.statSync(file).size, size);
      const warn = linesWith(RECOVERY_MSG).slice(before);
      assert.equal(warn.length, 1);
      assert.equal(warn[0]!.bytesCut, garbage.length);
      log.close();
    }
  });

  test('a batch that does not continue the offsets is cut', () => {
    const { dir } = buildLog(10);
    const file = lastLog(dir);
    // Append a well-formed batch (valid CRC) whose baseOffset goes backwards.
    fs.appendFileSync(file, batch('stale', 1));
    const before = linesWith(RECOVERY_MSG).length;
    const log = reopenUnclean(dir);
    assert.equal(log.logEndOffset, 30);
    assert.match(String(linesWith(RECOVERY_MSG).slice(before)[0]!.reason), /below the expected/);
    log.close();
  });

  test('deleted index files are rebuilt identically (clean and unclean open)', () => {
    for (const cleanShutdown of [true, false]) {
      const { dir } = buildLog(30);
      const indexFiles = [...segmentFiles(dir, '.index'), ...segmentFiles(dir, '.timeindex')];
      assert.ok(indexFiles.length >= 6, `index files: ${indexFiles.length}`);
      const original = new Map(indexFiles.map((f) => [f, fs.readFileSync(f)]));
      assert.ok(
        [...original.values()].some((b) => b.length > 0),
        'some index has entries',
      );
      for (const f of indexFiles) fs.rmSync(f);
      const log = openLog(dir, { segmentBytes: 600, indexIntervalBytes: 150 }, { cleanShutdown });
      log.highWatermark = log.logEndOffset;
      assert.equal(log.logEndOffset, 90);
      // Reads in the middle of every segment (these load the indexes lazily after a clean stop).
      for (let off = 0; off < 90; off += 7) {
        assert.equal(log.read(off, 100, 90, true).errorCode, 0);
      }
      assert.deepEqual(
        readAll(log).map((r) => r.value),
        valuesUpTo(30),
      );
      log.close();
      for (const [f, bytes] of original)
        assert.deepEqual(fs.readFileSync(f), bytes, `${path.basename(f)} (clean=${cleanShutdown})`);
    }
  });

  test('an index file with nonsense entries is detected and rebuilt', () => {
    const { dir } = buildLog(30);
    const idx = segmentFiles(dir, '.index')[0]!;
    const original = fs.readFileSync(idx);
    assert.ok(original.length >= 16, 'first segment has index entries');
    fs.writeFileSync(idx, Buffer.alloc(original.length)); // zeroed: entries do not increase
    const log = openLog(dir, { segmentBytes: 600, indexIntervalBytes: 150 }, { cleanShutdown: true });
    log.highWatermark = log.logEndOffset;
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      valuesUpTo(30),
    );
    log.close();
    assert.deepEqual(fs.readFileSync(idx), original);
  });

  test('corruption in an older segment without a recovery point: cut there, later segments deleted', () => {
    const { dir, sizes } = buildLog(30);
    fs.rmSync(path.join(dir, 'recovery-point-offset-checkpoint'));
    const logs = segmentFiles(dir, '.log');
    assert.ok(logs.length >= 5, `segments: ${logs.length}`);
    const victim = logs[2]!;
    const base = Number(path.basename(victim).slice(0, 20));
    // Flip a byte in the second batch of the third segment.
    const data = fs.readFileSync(victim);
    const batchIndex = base / 3;
    const secondBatchPos = sizes[batchIndex]!;
    data[secondBatchPos + 65] = data[secondBatchPos + 65]! ^ 0x01;
    fs.writeFileSync(victim, data);
    const before = logLines.length;
    const log = reopenUnclean(dir);
    assert.equal(log.logEndOffset, base + 3);
    assert.equal(log.segmentCount, 3);
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      valuesUpTo(batchIndex + 1),
    );
    const lines = logLines.slice(before);
    assert.equal(lines.filter((l) => l.msg === RECOVERY_MSG).length, 1);
    assert.equal(
      lines.filter((l) => l.msg === 'recovery deleted a segment after a truncated one').length,
      logs.length - 3,
    );
    for (const f of logs.slice(3)) assert.ok(!fs.existsSync(f), `${f} deleted`);
    assert.equal(log.append(batch('again', 1), 0, T0).baseOffset, base + 3);
    log.close();
  });

  test('an intact log recovers without cutting anything', () => {
    const { dir } = buildLog(12);
    fs.rmSync(path.join(dir, 'recovery-point-offset-checkpoint'));
    const before = linesWith(RECOVERY_MSG).length;
    const log = reopenUnclean(dir);
    assert.equal(log.logEndOffset, 36);
    assert.equal(linesWith(RECOVERY_MSG).length, before);
    log.close();
  });

  test('a log abandoned without close (as after kill -9) reopens with everything appended', () => {
    const dir = partitionDir();
    const log = openLog(dir, { segmentBytes: 600 });
    for (let i = 0; i < 25; i++) log.append(batch(`r${i}`, 3, { valueBytes: 20 }), 0, T0);
    // No close: no flush, no index files for the active segment, no snapshot at the end.
    const reopened = reopenUnclean(dir);
    assert.equal(reopened.logEndOffset, 75);
    assert.deepEqual(
      readAll(reopened).map((r) => r.value),
      valuesUpTo(25),
    );
    reopened.close();
  });
});
