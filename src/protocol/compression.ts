// Kafka's record-batch compression codecs (attributes bits 0-2): 0 none, 1 gzip, 2 snappy, 3 lz4,
// 4 zstd. The broker passes compressed batches through untouched; these are for the internal
// client, the tools and recompression (compression.type on a topic).
//
// Formats, as Kafka's Java client writes them:
// - gzip: a gzip member (RFC 1952).
// - snappy: xerial snappy-java framing: magic 82 'SNAPPY' 00, int32 version 1, int32 compatible 1,
//   then blocks of int32 length + raw snappy. Raw (unframed) snappy is accepted on read.
// - lz4: an LZ4 frame (Kafka's KafkaLZ4Block streams; KIP-57 fixed the header checksum).
// - zstd: a zstd frame.

import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompressSync, uncompressSync as snappyUncompressSync } from 'snappy';

export const Codec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof Codec;

export function codecFromName(name: string): number {
  const c = (Codec as Record<string, number>)[name === 'uncompressed' ? 'none' : name];
  if (c === undefined) throw new Error(`unknown compression codec "${name}" (none, gzip, snappy, lz4, zstd)`);
  return c;
}

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_BLOCK_BYTES = 32 * 1024;

function snappyFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])];
  for (let off = 0; off < data.length; off += XERIAL_BLOCK_BYTES) {
    const block = snappyCompressSync(data.subarray(off, off + XERIAL_BLOCK_BYTES));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

function snappyUnframe(data: Buffer, maxBytes: number): Buffer {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, 8).equals(XERIAL_MAGIC)) {
    return snappyUncompressSync(data) as Buffer;
  }
  const out: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new Error('truncated snappy block length');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) throw new Error('snappy block overruns the data');
    const block = snappyUncompressSync(data.subarray(pos, pos + len)) as Buffer;
    total += block.length;
    if (total > maxBytes) throw new Error(`decompressed data exceeds ${maxBytes} bytes`);
    out.push(block);
    pos += len;
  }
  return Buffer.concat(out);
}

export async function compress(codec: number, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case Codec.none:
      return data;
    case Codec.gzip:
      return gzip(data, { level: 1 });
    case Codec.snappy:
      return snappyFrame(data);
    case Codec.lz4:
      return compressFrameSync(data);
    case Codec.zstd:
      return zstdCompress(data, 1);
    default:
      throw new Error(`unknown compression codec ${codec}`);
  }
}

/** Decompresses, refusing output larger than maxBytes where the codec lets us check as we go. */
export async function decompress(codec: number, data: Buffer, maxBytes = 256 * 1024 * 1024): Promise<Buffer> {
  let out: Buffer;
  switch (codec) {
    case Codec.none:
      return data;
    case Codec.gzip:
      out = await gunzip(data, { maxOutputLength: maxBytes });
      break;
    case Codec.snappy:
      out = snappyUnframe(data, maxBytes);
      break;
    case Codec.lz4:
      out = decompressFrameSync(data);
      break;
    case Codec.zstd:
      out = await zstdDecompress(data);
      break;
    default:
      throw new Error(`unknown compression codec ${codec}`);
  }
  if (out.length > maxBytes) throw new Error(`decompressed data exceeds ${maxBytes} bytes`);
  return out;
}
