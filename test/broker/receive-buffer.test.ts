// The receive buffer cuts socket reads into request frames, copying a frame only when it spans reads (into a pooled
// buffer up to limits.framePoolBufferBytesMax). Fed here the way a socket feeds it: in reads of arbitrary sizes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReceiveBuffer } from '../../src/broker/receive-buffer.js';
import * as limits from '../../src/limits.js';

/** A frame: int32 size + body, the body filled from seed. */
function frame(bodyBytes: number, seed: number): Buffer {
  const f = Buffer.alloc(4 + bodyBytes);
  f.writeInt32BE(bodyBytes, 0);
  for (let i = 4; i < f.length; i++) f[i] = (seed + i * 31) & 0xff;
  // apiKey 0 (Produce), version 9, correlation id = seed: what describePartial reads.
  if (bodyBytes >= 8) {
    f.writeInt16BE(0, 4);
    f.writeInt16BE(9, 6);
    f.writeInt32BE(seed, 8);
  }
  return f;
}

/** Cuts bytes into reads of the given sizes (cycled). */
function reads(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length] as number, bytes.length - off);
    // A copy, as the socket gives fresh buffers: a view of the input would hide a missed copy.
    out.push(Buffer.from(bytes.subarray(off, off + n)));
    off += n;
  }
  return out;
}

/** What the connection does: on each read, take every complete frame (its pooled buffer recycled once handled). */
function feed(rb: ReceiveBuffer, chunks: Buffer[]): Buffer[] {
  const frames: Buffer[] = [];
  for (const c of chunks) {
    rb.push(c);
    while (rb.bytes >= 4) {
      const n = 4 + rb.peekInt32();
      if (rb.bytes < n) break;
      frames.push(Buffer.from(rb.take(n)));
      rb.settleFrame(true);
    }
  }
  return frames;
}

describe('ReceiveBuffer', () => {
  it('cuts frames spanning reads, and several frames in one read, into the bytes sent', () => {
    const sent = [
      frame(300_000, 1),
      frame(10, 2),
      frame(2 * 1024 * 1024 + 500, 3),
      frame(70_000, 4),
      frame(limits.framePoolBufferBytesMax + 1, 5),
      frame(20, 6),
    ];
    const stream = Buffer.concat(sent);
    for (const sizes of [[65_536], [1, 3, 65_536, 7], [1_000_000], [4099]]) {
      const rb = new ReceiveBuffer();
      const got = feed(rb, reads(stream, sizes));
      assert.equal(got.length, sent.length, `reads of ${sizes.join('/')}`);
      for (let i = 0; i < sent.length; i++) assert.ok(got[i]?.equals(sent[i] as Buffer), `frame ${i}`);
      assert.equal(rb.bytes, 0);
    }
  });

  it('says how many bytes of a frame are still to come and what its first bytes announce', () => {
    const f = frame(200_000, 7);
    const rb = new ReceiveBuffer();
    assert.equal(rb.remaining(), -1);
    rb.push(Buffer.from(f.subarray(0, 2)));
    assert.equal(rb.remaining(), -1);
    rb.push(Buffer.from(f.subarray(2, 50_000)));
    assert.equal(rb.bytes, 50_000);
    assert.equal(rb.remaining(), f.length - 50_000);
    assert.equal(rb.peekInt32(), 200_000);
    const partial = rb.describePartial();
    assert.equal(partial.size, 200_000);
    assert.equal(partial.apiKey, 0);
    assert.equal(partial.apiVersion, 9);
    assert.equal(partial.correlationId, 7);
    rb.push(Buffer.from(f.subarray(50_000)));
    assert.equal(rb.remaining(), 0);
    assert.ok(rb.take(f.length).equals(f));
  });

  it('drops what it holds on clear and then cuts the next stream from scratch', () => {
    const f = frame(500_000, 8);
    const rb = new ReceiveBuffer();
    rb.push(Buffer.from(f.subarray(0, 100_000)));
    rb.push(Buffer.from(f.subarray(100_000, 200_000)));
    assert.equal(rb.clear(), 200_000);
    assert.equal(rb.bytes, 0);
    const next = frame(300_000, 9);
    const got = feed(rb, reads(next, [65_536]));
    assert.equal(got.length, 1);
    assert.ok(got[0]?.equals(next));
  });

  it('never hands out a recycled buffer still holding a frame not settled as dead', () => {
    const a = frame(200_000, 10);
    const b = frame(200_000, 11);
    const rb = new ReceiveBuffer();
    for (const c of reads(a, [65_536])) rb.push(c);
    const first = rb.take(a.length);
    rb.settleFrame(false); // a handler kept a view of it: not recycled
    for (const c of reads(b, [65_536])) rb.push(c);
    const second = rb.take(b.length);
    rb.settleFrame(true);
    assert.ok(first.equals(a), 'the kept frame is intact');
    assert.ok(second.equals(b));
  });
});
