// The receive buffer cuts socket reads into request frames; a frame whose size the connection has checked is
// assembled as its bytes arrive (beginFrame). Fed here the way a socket feeds it: in reads of arbitrary sizes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { earlyAssemblyBytes, ReceiveBuffer } from '../../src/broker/receive-buffer.js';
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

/** What the connection does: on each read, take every complete frame, else begin the one arriving. */
function feed(rb: ReceiveBuffer, chunks: Buffer[], early: boolean): Buffer[] {
  const frames: Buffer[] = [];
  for (const c of chunks) {
    rb.push(c);
    while (rb.bytes >= 4) {
      const n = 4 + rb.peekInt32();
      if (rb.bytes < n) {
        if (early) rb.beginFrame(n);
        break;
      }
      frames.push(Buffer.from(rb.take(n)));
      rb.settleFrame(true);
    }
  }
  return frames;
}

describe('ReceiveBuffer', () => {
  for (const early of [true, false]) {
    it(`cuts frames spanning reads into the bytes sent (early assembly ${early ? 'on' : 'off'})`, () => {
      const sent = [frame(300_000, 1), frame(10, 2), frame(2 * 1024 * 1024 + 500, 3), frame(70_000, 4)];
      const stream = Buffer.concat(sent);
      for (const sizes of [[65_536], [1, 3, 65_536, 7], [1_000_000], [4099]]) {
        const rb = new ReceiveBuffer();
        const got = feed(rb, reads(stream, sizes), early);
        assert.equal(got.length, sent.length, `reads of ${sizes.join('/')}`);
        for (let i = 0; i < sent.length; i++) assert.ok(got[i]?.equals(sent[i] as Buffer), `frame ${i}`);
        assert.equal(rb.bytes, 0);
      }
    });
  }

  it('counts the bytes of a frame being assembled and says how many are still to come', () => {
    const f = frame(200_000, 5);
    const rb = new ReceiveBuffer();
    rb.push(Buffer.from(f.subarray(0, 1000)));
    rb.beginFrame(f.length);
    rb.push(Buffer.from(f.subarray(1000, 50_000)));
    assert.equal(rb.bytes, 50_000);
    assert.equal(rb.remaining(), f.length - 50_000);
    assert.equal(rb.peekInt32(), 200_000);
    const partial = rb.describePartial();
    assert.equal(partial.size, 200_000);
    assert.equal(partial.apiKey, 0);
    assert.equal(partial.correlationId, 5);
    rb.push(Buffer.from(f.subarray(50_000)));
    assert.equal(rb.remaining(), 0);
    assert.ok(rb.take(f.length).equals(f));
  });

  it('drops a frame being assembled on clear and then cuts the next stream from scratch', () => {
    const f = frame(500_000, 6);
    const rb = new ReceiveBuffer();
    rb.push(Buffer.from(f.subarray(0, 100_000)));
    rb.beginFrame(f.length);
    rb.push(Buffer.from(f.subarray(100_000, 200_000)));
    assert.equal(rb.clear(), 200_000);
    assert.equal(rb.bytes, 0);
    const next = frame(300_000, 7);
    const got = feed(rb, reads(next, [65_536]), true);
    assert.equal(got.length, 1);
    assert.ok(got[0]?.equals(next));
  });

  it('gives back the bytes of an early frame when another length is taken', () => {
    const f = frame(100_000, 8);
    const rb = new ReceiveBuffer();
    rb.push(Buffer.from(f.subarray(0, 30_000)));
    rb.beginFrame(f.length);
    rb.push(Buffer.from(f.subarray(30_000, 60_000)));
    // Not what the connection does; the bytes must still come out in order.
    assert.ok(rb.take(40_000).equals(f.subarray(0, 40_000)));
    rb.push(Buffer.from(f.subarray(60_000)));
    assert.ok(rb.take(f.length - 40_000).equals(f.subarray(40_000)));
    assert.equal(rb.bytes, 0);
  });

  it('leaves frames above the pooled sizes to be copied once complete', () => {
    const f = frame(limits.framePoolBufferBytesMax + 1, 9);
    const rb = new ReceiveBuffer();
    const got = feed(rb, reads(f, [65_536]), true);
    assert.equal(got.length, 1);
    assert.ok(got[0]?.equals(f));
  });

  it('assembles no more than frameEarlyAssemblyBytesMax at once across connections, and stays correct beyond', () => {
    const size = 2 * 1024 * 1024;
    const n = Math.ceil(limits.frameEarlyAssemblyBytesMax / size) + 2;
    const frames = Array.from({ length: n }, (_, i) => frame(size - 4, 10 + i));
    const buffers = frames.map(() => new ReceiveBuffer());
    // Every connection has half its frame, so all are being assembled (or refused early assembly) at once.
    for (let i = 0; i < n; i++)
      feed(buffers[i] as ReceiveBuffer, reads((frames[i] as Buffer).subarray(0, size / 2), [65_536]), true);
    const assembling = earlyAssemblyBytes();
    assert.ok(
      assembling > limits.frameEarlyAssemblyBytesMax - 2 * size,
      `${assembling} bytes assembled early`,
    );
    assert.ok(assembling <= limits.frameEarlyAssemblyBytesMax, `${assembling} bytes assembled early`);
    for (let i = 0; i < n; i++) {
      const got = feed(
        buffers[i] as ReceiveBuffer,
        reads((frames[i] as Buffer).subarray(size / 2), [65_536]),
        true,
      );
      assert.equal(got.length, 1);
      assert.ok(got[0]?.equals(frames[i] as Buffer), `connection ${i}`);
    }
    assert.equal(earlyAssemblyBytes(), 0);
  });
});
