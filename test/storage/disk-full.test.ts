// A partition log on a 1 MiB tmpfs: appends that fail for lack of space (in the write itself, and in a roll)
// change nothing, leave no partial batch in the file, answer KAFKA_STORAGE_ERROR, and the log appends again by
// itself once space is freed; a read of a full log still works. The broker-level test is test/broker/disk-full.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { type Mount, mountSkipReason, mountTmpfs } from '../helpers/mounts.js';
import { batch, linesWith, openLog, readAll } from './helpers.js';

const T0 = 1_700_000_000_000;

/** Takes every free page of the file system with a file of zeros. */
function fillUp(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** Sum of the .log files' sizes on disk. */
function logFileBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

describe('a partition log on a full disk', { skip: mountSkipReason('tmpfs') }, () => {
  let mount: Mount;
  let log: PartitionLog;
  const acked: string[] = [];
  let seq = 0;

  function append(): number {
    const tag = `b${seq++}`;
    const r = log.append(batch(tag, 4, { valueBytes: 10_000 }), 0, T0);
    if (r.errorCode === ErrorCode.NONE)
      for (let i = 0; i < 4; i++) acked.push(`${tag}-${i}${'x'.repeat(10_000)}`);
    return r.errorCode;
  }

  before(() => {
    mount = mountTmpfs(1);
    // Space to give back later.
    fs.writeFileSync(path.join(mount.dir, 'reserve'), Buffer.alloc(256 * 1024));
  });
  after(() => {
    log?.close();
    mount?.unmount();
  });

  it('refuses a write that does not fit, leaving the log and its file as they were', () => {
    log = openLog(path.join(mount.dir, 't-0'), { segmentBytes: 256 * 1024 });
    let code: number = ErrorCode.NONE;
    for (let i = 0; i < 200 && code === ErrorCode.NONE; i++) code = append();
    assert.equal(code, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.ok(acked.length > 40, `${acked.length} records before the disk filled`);
    assert.equal(log.logEndOffset, acked.length, 'the refused batch took no offsets');
    assert.equal(logFileBytes(log.dir), log.sizeBytes, 'no partial batch left in the file');
    assert.ok(log.health.outOfSpace);
    assert.ok(!log.isOffline, 'a full disk does not take the log offline');
    assert.equal(
      linesWith('out of disk space: appends fail with KAFKA_STORAGE_ERROR until space is freed').length,
      1,
    );
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      acked,
    );
  });

  it('appends again once space is freed, without reopening the log', () => {
    fs.rmSync(path.join(mount.dir, 'reserve'));
    assert.equal(append(), ErrorCode.NONE);
    assert.ok(!log.health.outOfSpace);
    assert.equal(linesWith('appends resumed: disk space is available again').length, 1);
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      acked,
    );
    assert.equal(logFileBytes(log.dir), log.sizeBytes);
  });

  it('refuses a roll that does not fit, changing nothing, and rolls once space is back', () => {
    fillUp(path.join(mount.dir, 'filler'));
    const segments = log.segmentCount;
    // Every append now rolls first (the active segment holds the batch appended above).
    log.updateConfig({ ...log.logConfig, segmentBytes: 1024 });
    assert.equal(append(), ErrorCode.KAFKA_STORAGE_ERROR);
    assert.equal(log.segmentCount, segments, 'the failed roll added no segment');
    assert.equal(log.logEndOffset, acked.length);

    fs.rmSync(path.join(mount.dir, 'filler'));
    assert.equal(append(), ErrorCode.NONE);
    assert.equal(log.segmentCount, segments + 1, 'the roll happened');
    assert.deepEqual(
      readAll(log).map((r) => r.value),
      acked,
    );
    assert.equal(logFileBytes(log.dir), log.sizeBytes);
  });
});
