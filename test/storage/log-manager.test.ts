import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { readOffsetCheckpoint } from '../../src/storage/checkpoint.js';
import { CLEAN_SHUTDOWN_FILE, LogManager, parseTopicPartitionDir } from '../../src/storage/log-manager.js';
import { RECOVERY_POINT_CHECKPOINT } from '../../src/storage/partition-log.js';
import { batch, config, logger, logLines, readAll, tmpDir } from './helpers.js';

const T0 = 1_700_000_000_000;

function loadedLines(since: number): Array<Record<string, unknown>> {
  return logLines.slice(since).filter((l) => l.msg === 'log loaded');
}

describe('LogManager', () => {
  test('partition dir names split at the last dash', () => {
    assert.deepEqual(parseTopicPartitionDir('my-topic-with-dashes-12'), {
      topic: 'my-topic-with-dashes',
      partition: 12,
    });
    assert.deepEqual(parseTopicPartitionDir('t-0'), { topic: 't', partition: 0 });
    assert.equal(parseTopicPartitionDir('no_partition'), null);
    assert.equal(parseTopicPartitionDir('t-0.0123abcd-delete'), null);
  });

  test('clean close writes the marker; reopen skips recovery, removes the marker, keeps data', () => {
    const dir = tmpDir();
    let mgr = LogManager.open({ logDirs: [dir], logger });
    const log = mgr.createLog('my-topic-x', 3, config({ segmentBytes: 300 }));
    assert.ok(fs.existsSync(path.join(dir, 'my-topic-x-3')), 'partition dir named <topic>-<partition>');
    for (let i = 0; i < 10; i++) log.append(batch(`m${i}`, 2), 0, T0);
    mgr.createLog('other', 0, config()).append(batch('o', 1), 0, T0);
    assert.equal(mgr.allLogs().length, 2);
    mgr.close();
    assert.ok(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)), 'marker written');

    const since = logLines.length;
    mgr = LogManager.open({ logDirs: [dir], logger });
    assert.ok(!fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)), 'marker removed at open');
    const lines = loadedLines(since);
    assert.equal(lines.length, 2);
    for (const l of lines) assert.equal(l.recovered, false);
    const again = mgr.getLog('my-topic-x', 3)!;
    assert.equal(again.logEndOffset, 20);
    assert.equal(readAll(again).length, 20);
    assert.equal(mgr.getLog('my-topic-x', 4), undefined);
    // createLog of an existing partition returns it.
    assert.equal(mgr.createLog('my-topic-x', 3, config()), again);
    mgr.close();
  });

  test('without the marker every log is recovered', () => {
    const dir = tmpDir();
    const mgr = LogManager.open({ logDirs: [dir], logger });
    mgr.createLog('t', 0, config()).append(batch('a', 2), 0, T0);
    // Not closed: no marker.
    const since = logLines.length;
    const mgr2 = LogManager.open({ logDirs: [dir], logger });
    assert.deepEqual(
      loadedLines(since).map((l) => l.recovered),
      [true],
    );
    assert.equal(mgr2.getLog('t', 0)!.logEndOffset, 2);
    mgr2.close();
  });

  test('deleteLog renames the dir to <name>.<uuid>-delete and removes it in the background', async () => {
    const dir = tmpDir();
    const mgr = LogManager.open({ logDirs: [dir], logger });
    mgr.createLog('gone', 1, config()).append(batch('a', 2), 0, T0);
    mgr.deleteLog('gone', 1);
    assert.equal(mgr.getLog('gone', 1), undefined);
    assert.ok(!fs.existsSync(path.join(dir, 'gone-1')), 'original dir gone');
    for (let i = 0; i < 100 && fs.readdirSync(dir).some((f) => f.endsWith('-delete')); i++) await sleep(10);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.startsWith('gone')),
      [],
    );
    // A later partition of the same name starts empty.
    assert.equal(mgr.createLog('gone', 1, config()).logEndOffset, 0);
    mgr.close();
  });

  test('new partitions go to the log dir with the fewest', () => {
    const dirs = [tmpDir(), tmpDir()];
    const mgr = LogManager.open({ logDirs: dirs, logger });
    for (let p = 0; p < 4; p++) mgr.createLog('spread', p, config());
    assert.equal(fs.readdirSync(dirs[0]!).filter((f) => f.startsWith('spread-')).length, 2);
    assert.equal(fs.readdirSync(dirs[1]!).filter((f) => f.startsWith('spread-')).length, 2);
    mgr.close();
    const mgr2 = LogManager.open({ logDirs: dirs, logger });
    assert.equal(mgr2.allLogs().length, 4);
    mgr2.close();
  });

  test('background retention runs on its timer', async () => {
    const dir = tmpDir();
    const mgr = LogManager.open({ logDirs: [dir], logger });
    const log = mgr.createLog('ret', 0, config({ segmentBytes: 100, retentionMs: 1000 }));
    for (let i = 0; i < 5; i++) log.append(batch(`r${i}`, 2, { timestamp: T0 }), 0, T0);
    log.highWatermark = log.logEndOffset;
    assert.equal(log.segmentCount, 5);
    mgr.startBackgroundTasks({ retentionCheckIntervalMs: 20, flushIntervalMs: 20 });
    for (let i = 0; i < 100 && log.segmentCount > 1; i++) await sleep(10);
    assert.equal(log.segmentCount, 1);
    assert.equal(log.logStartOffset, 8);
    mgr.close();
  });

  test('recovery points are checkpointed on their timer; after kill -9 recovery starts there', () => {
    const dir = tmpDir();
    const self = fileURLToPath(import.meta.url);
    const ext = path.extname(self);
    const child = path.join(path.dirname(self), 'fixtures', `checkpoint-crash${ext}`);
    const args = ext === '.ts' ? ['--import', 'tsx', child, dir, '300'] : [child, dir, '300'];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.signal, 'SIGKILL', `child ended with ${run.status} ${run.signal}: ${run.stderr}`);
    const [leo, checkpointed] = run.stdout.trim().split(' ').map(Number) as [number, number];
    assert.equal(leo, 900);

    const since = logLines.length;
    const mgr = LogManager.open({ logDirs: [dir], logger });
    const log = mgr.getLog('cp-topic', 0)!;
    assert.ok(log.segmentCount > 20, `segments ${log.segmentCount}`);
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    assert.equal(checkpointed, activeBase, 'the checkpoint reached the active segment before the kill');
    const [loaded] = loadedLines(since);
    assert.equal(loaded?.recovered, true);
    assert.equal(loaded?.recoveryPoint, activeBase, 'only the active segment is recovered');
    assert.equal(log.recoveryPointOffset, activeBase, 'not the log end: the tail was never fsynced');
    assert.equal(log.logEndOffset, 900);
    assert.equal(readAll(log).length, 900);
    mgr.close();
  });

  test('the recovery point follows the fsync after each roll; its checkpoint is rewritten only when it moved', async () => {
    const dir = tmpDir();
    const mgr = LogManager.open({ logDirs: [dir], logger });
    const log = mgr.createLog('rp', 0, config({ segmentBytes: 300 }));
    for (let i = 0; i < 10; i++) log.append(batch(`m${i}`, 2), 0, T0);
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    assert.ok(activeBase > 0);
    for (let i = 0; i < 500 && log.recoveryPointOffset < activeBase; i++) await sleep(10);
    assert.equal(log.recoveryPointOffset, activeBase, 'segments below the active one were fsynced');
    const file = path.join(log.dir, RECOVERY_POINT_CHECKPOINT);
    mgr.checkpointRecoveryPoints();
    assert.equal(readOffsetCheckpoint(file), activeBase);
    const written = fs.statSync(file).mtimeMs;
    fs.utimesSync(file, 0, 0);
    mgr.checkpointRecoveryPoints();
    assert.equal(fs.statSync(file).mtimeMs, 0, 'unchanged: not rewritten');
    assert.ok(written > 0);
    log.flush();
    mgr.checkpointRecoveryPoints();
    assert.equal(readOffsetCheckpoint(file), log.logEndOffset, 'flush() moves it to the log end');
    mgr.close();
  });

  test('kill -9 after acknowledged appends loses nothing; idempotent retries stay duplicates', () => {
    const dir = tmpDir();
    const self = fileURLToPath(import.meta.url);
    const ext = path.extname(self);
    const child = path.join(path.dirname(self), 'fixtures', `crash-writer${ext}`);
    const args = ext === '.ts' ? ['--import', 'tsx', child, dir, '200'] : [child, dir, '200'];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.signal, 'SIGKILL', `child ended with ${run.status} ${run.signal}: ${run.stderr}`);
    const acked = run.stdout.trim().split('\n').map(Number);
    assert.equal(acked.length, 200);
    assert.ok(!fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)), 'no marker after a crash');

    const since = logLines.length;
    const mgr = LogManager.open({ logDirs: [dir], logger });
    assert.deepEqual(
      loadedLines(since).map((l) => l.recovered),
      [true],
    );
    const log = mgr.getLog('crash-topic', 0)!;
    assert.equal(log.logEndOffset, 600);
    assert.ok(log.segmentCount > 5, `segments ${log.segmentCount}`);
    const values = readAll(log).map((r) => r.value);
    assert.equal(values.length, 600);
    assert.equal(values[0], 'crash-0-0');
    assert.equal(values[599], 'crash-199-2');
    // The producer retries its last batch after the crash: answered from the rebuilt producer state.
    const retry = encodeRecordBatch({
      records: [0, 1, 2].map((j) => ({ key: `k${j}`, value: `crash-199-${j}` })),
      producerId: 4242,
      producerEpoch: 0,
      baseSequence: 199 * 3,
    });
    const r = log.append(retry, 0, T0);
    assert.equal(r.duplicate, true);
    assert.equal(r.baseOffset, acked[199]);
    mgr.close();
  });
});
