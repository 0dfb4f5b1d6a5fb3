// kafkajs ships gzip only; snappy, lz4 and zstd are plug-ins (kafkajs-snappy, kafkajs-lz4,
// @kafkajs/zstd on npm). Rather than add three packages, these adapters register the same formats
// on the native codec libraries the project already depends on, called directly (not through
// src/protocol/compression.ts, so a bug there cannot hide on both sides of a test):
//   snappy: raw snappy, as kafkajs-snappy writes it (librdkafka and Kafka read both raw and
//           xerial-framed); reading also accepts xerial framing, which Java producers write
//   lz4:    an LZ4 frame (Kafka's magic-2 format)
//   zstd:   a zstd frame

import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import kafkajs from 'kafkajs';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';

const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

function snappyDecode(data: Buffer): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(xerialMagic)) return snappyUncompress(data) as Buffer;
  const blocks: Buffer[] = [];
  for (let pos = 16; pos + 4 <= data.length; ) {
    const len = data.readInt32BE(pos);
    blocks.push(snappyUncompress(data.subarray(pos + 4, pos + 4 + len)) as Buffer);
    pos += 4 + len;
  }
  return Buffer.concat(blocks);
}

// kafkajs is CommonJS with an export list Node cannot see statically: take its default export.
const { CompressionCodecs, CompressionTypes } = kafkajs;

type Encoder = { buffer: Buffer };

/** Registers snappy, lz4 and zstd with kafkajs (idempotent). */
export function registerKafkajsCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: async (e: Encoder) => snappyCompress(e.buffer),
    decompress: async (b: Buffer) => snappyDecode(b),
  });
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (e: Encoder) => compressFrameSync(e.buffer),
    decompress: async (b: Buffer) => decompressFrameSync(b),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (e: Encoder) => zstdCompress(e.buffer, 3),
    decompress: async (b: Buffer) => zstdDecompress(b),
  });
}
