import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReadBufferPool } from '../../src/storage/read-buffers.js';
import { batch, openLog, partitionDir, recordsOf } from './helpers.js';

describe('read buffer pool', () => {
  test('slices are 4 KiB apart within a slab and never overlap while held', () => {
    const pool = new ReadBufferPool(64 * 1024);
    const a = pool.alloc(100);
    const b = pool.alloc(5000);
    const c = pool.alloc(1);
    assert.equal(a.buffer, b.buffer);
    assert.equal(b.byteOffset - a.byteOffset, 4096);
    assert.equal(c.byteOffset - b.byteOffset, 8192);
    assert.equal((a.byteOffset + 16) % 4096, 0);
    a.fill(1);
    b.fill(2);
    c.fill(3);
    assert.equal(a[99], 1);
    assert.equal(b[4999], 2);
  });

  test('released slabs are recycled; unreleased slices are never overwritten', () => {
    const pool = new ReadBufferPool(64 * 1024);
    const held = pool.alloc(4096).fill(7);
    const slabs = new Set<ArrayBufferLike>();
    for (let i = 0; i < 200; i++) {
      const s = pool.alloc(8192);
      slabs.add(s.buffer);
      s.fill(9);
      pool.release(s);
    }
    assert.ok(slabs.size <= 4, `slabs used: ${slabs.size}`);
    assert.ok(
      held.every((x) => x === 7),
      'held slice intact',
    );
    // Without release every slab is fresh.
    const fresh = new Set<ArrayBufferLike>();
    for (let i = 0; i < 40; i++) fresh.add(pool.alloc(8192).buffer);
    assert.ok(fresh.size >= 5, `slabs used: ${fresh.size}`);
  });

  test('PartitionLog.read chunks can be released and the data read again is correct', () => {
    const pool = new ReadBufferPool(64 * 1024);
    const log = openLog(partitionDir(), { segmentBytes: 2000 });
    for (let i = 0; i < 200; i++) log.append(batch(`r${i}`, 2, { valueBytes: 50 }), 0, 0);
    log.highWatermark = log.logEndOffset;
    for (let round = 0; round < 5; round++) {
      let offset = 0;
      const values: string[] = [];
      while (offset < log.logEndOffset) {
        const r = log.read(offset, 3000, log.highWatermark, true, pool);
        const recs = recordsOf(r.chunks);
        for (const x of recs) values.push(x.value!);
        offset = recs[recs.length - 1]!.offset + 1;
        for (const c of r.chunks) pool.release(c);
      }
      assert.equal(values.length, 400);
      assert.equal(values[399], `r199-1${'x'.repeat(50)}`);
    }
    log.close();
  });
});
