// FrameReader cuts a response byte stream into frames whatever the reads look like: every split of a stream of
// small frames, one byte at a time, and through Node's onread contract (the buffer the reader hands out is where
// the next read lands), where frames larger than the read buffer are read straight into their own buffer.
// test/client/connection-receive.test.ts does the same against a real broker over real sockets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader } from '../../src/client/frame-reader.js';
import { clientReadBufferBytes } from '../../src/limits.js';

/** A frame: `int32 size`, correlation id, then payload bytes derived from the correlation id. */
function frame(correlationId: number, payloadBytes: number): Buffer {
  const f = Buffer.alloc(8 + payloadBytes);
  f.writeInt32BE(4 + payloadBytes, 0);
  f.writeInt32BE(correlationId, 4);
  for (let i = 0; i < payloadBytes; i++) f[8 + i] = (correlationId * 31 + i * 7) & 0xff;
  return f;
}

interface Recorded {
  frames: Buffer[];
  errors: string[];
  /** How many frames got a buffer from allocFrame (every frame does). */
  allocated: number;
}

function reader(frameBytesMax = 1 << 24): { r: FrameReader; got: Recorded } {
  const r = new FrameReader(frameBytesMax);
  const got: Recorded = { frames: [], errors: [], allocated: 0 };
  r.sink = {
    allocFrame: (size) => {
      got.allocated++;
      // Garbage in the buffer, as a recycled one has: every byte must be overwritten.
      return Buffer.alloc(size, 0xee);
    },
    onFrame: (f) => got.frames.push(Buffer.from(f)),
    onStreamError: (m) => got.errors.push(m),
  };
  return { r, got };
}

/** Frames as the stream carries them, without their size prefix. */
function expected(stream: Buffer[]): Buffer[] {
  return stream.map((f) => f.subarray(4));
}

/** A deterministic generator (xorshift) so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('FrameReader', () => {
  const small = [frame(1, 0), frame(2, 1), frame(3, 5), frame(-7, 40), frame(5, 0)];
  const smallBytes = Buffer.concat(small);

  it('cuts every two-read split of a stream of small frames (heads split at every byte)', () => {
    for (let a = 0; a <= smallBytes.length; a++) {
      for (let b = a; b <= smallBytes.length; b++) {
        const { r, got } = reader();
        r.cut(smallBytes, 0, a);
        r.cut(smallBytes, a, b);
        r.cut(smallBytes, b, smallBytes.length);
        assert.deepEqual(got.frames, expected(small), `split at ${a}, ${b}`);
        assert.deepEqual(got.errors, []);
      }
    }
  });

  it('cuts a stream fed one byte at a time', () => {
    const { r, got } = reader();
    for (let i = 0; i < smallBytes.length; i++) r.cut(smallBytes, i, i + 1);
    assert.deepEqual(got.frames, expected(small));
  });

  it('reads through onread: large frames straight into their buffer, small ones from the read buffer', () => {
    const stream = [
      frame(1, 10),
      frame(2, 3 * clientReadBufferBytes + 17),
      frame(3, 0),
      frame(4, clientReadBufferBytes - 8),
      frame(5, clientReadBufferBytes),
      frame(6, 1),
      frame(7, 5 * clientReadBufferBytes),
      frame(8, 2),
    ];
    const bytes = Buffer.concat(stream);
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const next = rng(seed);
      const { r, got } = reader();
      const { buffer, callback } = r.onread();
      let direct = 0;
      let off = 0;
      let target = buffer();
      while (off < bytes.length) {
        // A read fills up to the buffer handed out: all of it, a little, or anything between.
        const roll = next();
        const want =
          roll < 0.3
            ? 1 + Math.floor(next() * 9)
            : roll < 0.6
              ? target.length
              : 1 + Math.floor(next() * 100_000);
        const n = Math.min(want, target.length, bytes.length - off);
        bytes.copy(target, 0, off, off + n);
        off += n;
        if (target.length !== clientReadBufferBytes) direct += n;
        callback(n, target);
        target = buffer();
      }
      assert.deepEqual(got.frames, expected(stream), `seed ${seed}`);
      assert.equal(got.allocated, stream.length);
      assert.ok(
        direct > 4 * clientReadBufferBytes,
        `seed ${seed}: ${direct} bytes read straight into frames`,
      );
    }
  });

  it('refuses a size out of bounds as soon as the size is whole, and delivers nothing after', () => {
    for (const size of [1001, 3, -1]) {
      const { r, got } = reader(1000);
      const bad = Buffer.alloc(12);
      bad.writeInt32BE(size, 0);
      r.cut(Buffer.concat([frame(9, 2), bad.subarray(0, 4)]), 0, 14);
      assert.deepEqual(got.errors, [`response size ${size} out of bounds`]);
      r.cut(frame(10, 2), 0, 10);
      assert.equal(got.frames.length, 1);
    }
  });
});
