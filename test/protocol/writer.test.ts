import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

describe('Writer', () => {
  it('grows across chunks without losing bytes', () => {
    const w = new Writer(16);
    for (let i = 0; i < 1000; i++) w.int32(i).string(`s${i}`);
    const r = new Reader(w.toBuffer());
    for (let i = 0; i < 1000; i++) {
      assert.equal(r.int32(), i);
      assert.equal(r.string(), `s${i}`);
    }
    assert.equal(r.remaining(), 0);
  });

  it('external() appends by reference as its own chunk', () => {
    const records = Buffer.alloc(100, 0xab);
    const w = new Writer();
    w.int32(1).external(records).int16(2);
    const chunks = w.toChunks();
    assert.equal(chunks.length, 3);
    assert.equal(chunks[1], records, 'same Buffer object, not a copy');
    assert.equal(w.length, 106);
    const out = w.toBuffer();
    assert.equal(out.length, 106);
    assert.equal(out.readInt16BE(104), 2);
  });

  it('records() writes a length prefix then the buffer by reference', () => {
    const batch = Buffer.alloc(10, 1);
    const w = new Writer();
    w.records(batch, true).records(null, true).records(batch, false).records(null, false);
    const chunks = w.toChunks();
    assert.ok(chunks.includes(batch));
    const r = new Reader(w.toBuffer());
    assert.deepEqual(r.compactNullableBytes(), batch);
    assert.equal(r.compactNullableBytes(), null);
    assert.deepEqual(r.nullableBytes(), batch);
    assert.equal(r.nullableBytes(), null);
  });

  it('patchInt32 works for a position in an earlier chunk', () => {
    const w = new Writer(16);
    w.int8(7);
    const at = w.reserveInt32();
    assert.equal(at, 1);
    w.external(Buffer.alloc(5));
    for (let i = 0; i < 100; i++) w.int64(i);
    w.patchInt32(at, w.length - 5);
    const tail = w.reserveInt32();
    w.patchInt32(tail, -42);
    const out = w.toBuffer();
    assert.equal(out.readInt32BE(1), out.length - 9);
    assert.equal(out.readInt32BE(out.length - 4), -42);
  });

  it('can keep writing after toChunks()', () => {
    const w = new Writer();
    w.int8(1);
    assert.equal(w.toChunks().length, 1);
    w.int8(2);
    assert.deepEqual(w.toBuffer(), Buffer.from([1, 2]));
  });

  it('refuses invalid uuids and oversized strings', () => {
    assert.throws(() => new Writer().uuid('xyz'), TypeError);
    assert.throws(() => new Writer().uuid('g'.repeat(32)), TypeError);
    assert.throws(() => new Writer().string('a'.repeat(40000)), RangeError);
  });

  it('writes strings as UTF-8 byte lengths', () => {
    const b = new Writer().string('é€').compactString('é').toBuffer();
    assert.deepEqual(b, Buffer.from('0005c3a9e282ac03c3a9', 'hex'));
  });
});
