// `samsa log dump|verify` on a .txnindex written by the log (Kafka's DumpLogSegments line per aborted
// transaction), and on a damaged copy.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { openLog, partitionDir } from '../storage/helpers.js';
import { samsa } from './cli-helpers.js';

describe('samsa log on a .txnindex', () => {
  it('dump lists every aborted transaction; verify passes, and fails on a damaged file', async () => {
    const dir = partitionDir();
    const log = openLog(dir);
    for (const pid of [5, 6]) {
      const batch = encodeRecordBatch({
        records: [{ value: `p${pid}` }],
        producerId: pid,
        producerEpoch: 0,
        baseSequence: 0,
        isTransactional: true,
      });
      assert.equal(log.append(batch, 0, 1).errorCode, 0);
    }
    for (const pid of [5, 6]) {
      const r = log.appendTxnMarker(
        { producerId: pid, producerEpoch: 0, coordinatorEpoch: 1, commit: false },
        0,
        1,
      );
      assert.equal(r.errorCode, 0);
    }
    log.close();
    const file = path.join(dir, '00000000000000000000.txnindex');
    const dump = await samsa(['log', 'dump', '--files', file]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.deepEqual(dump.stdout.trimEnd().split('\n'), [
      `Dumping ${file}`,
      'version: 0 producerId: 5 firstOffset: 0 lastOffset: 2 lastStableOffset: 1',
      'version: 0 producerId: 6 firstOffset: 1 lastOffset: 3 lastStableOffset: 4',
    ]);
    const ok = await samsa(['log', 'verify', '--files', dir]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(ok.stdout.includes(`${file}: ok, 2 entries`), ok.stdout);
    fs.appendFileSync(file, Buffer.alloc(3));
    const bad = await samsa(['log', 'verify', '--files', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /3 trailing bytes/);
  });
});
