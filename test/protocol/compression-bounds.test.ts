// Decompression is bounded before it allocates: the broker decompresses untrusted batches when a topic's
// compression.type differs from the producer's codec, so a small "bomb" must be refused, not expanded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Codec,
  compress,
  decompress,
  lz4DecompressedBound,
  zstdDecompressedBound,
} from '../../src/protocol/compression.js';

describe('decompression bounds', () => {
  it('round-trips every codec and refuses output one byte over the limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 300_000 }),
        fc.boolean(),
        async (raw, repetitive) => {
          const data = repetitive ? Buffer.alloc(raw.length, raw[0]) : Buffer.from(raw);
          for (const codec of [Codec.gzip, Codec.snappy, Codec.lz4, Codec.zstd]) {
            const packed = await compress(codec, data);
            // zstd without a content size is bounded per block (128 KiB each), so it gets that much slack.
            const room = codec === Codec.zstd ? data.length + 128 * 1024 : data.length;
            assert.deepEqual(await decompress(codec, packed, room), data);
            await assert.rejects(decompress(codec, packed, data.length - 1));
          }
          const z = await compress(Codec.zstd, data);
          assert.ok(zstdDecompressedBound(z) >= data.length);
          assert.ok(lz4DecompressedBound(await compress(Codec.lz4, data)) >= data.length);
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });

  it('refuses zstd and lz4 bombs from their headers, before decoding', async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    for (const codec of [Codec.zstd, Codec.lz4]) {
      const bomb = await compress(codec, zeros);
      assert.ok(bomb.length < 1024 * 1024, `${codec}: ${bomb.length}`);
      await assert.rejects(decompress(codec, bomb, 1024 * 1024), /may decompress beyond/);
    }
  });

  it('refuses a snappy block announcing more than the limit', async () => {
    const claim = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]); // 4 GiB announced, 1 byte given
    await assert.rejects(decompress(Codec.snappy, claim, 1024 * 1024), /announces more than/);
  });

  it('treats garbage headers as unbounded', () => {
    assert.equal(zstdDecompressedBound(Buffer.from('not zstd at all')), Number.POSITIVE_INFINITY);
    assert.equal(lz4DecompressedBound(Buffer.from('not lz4 at all')), Number.POSITIVE_INFINITY);
  });
});
