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

/** The uncompressed length a raw snappy block announces (its varint preamble); the decoder allocates it. */
function snappyLength(block: Buffer): number {
  let n = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i] as number;
    n += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return n;
  }
  return Number.POSITIVE_INFINITY;
}

/** Raw snappy, refusing a block that announces more than `room` bytes before anything is allocated. */
function snappyBlock(block: Buffer, room: number): Buffer {
  if (snappyLength(block) > room) throw new Error(`snappy block announces more than ${room} bytes`);
  return snappyUncompressSync(block) as Buffer;
}

function snappyUnframe(data: Buffer, maxBytes: number): Buffer {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, 8).equals(XERIAL_MAGIC)) {
    return snappyBlock(data, maxBytes);
  }
  const out: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new Error('truncated snappy block length');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) throw new Error('snappy block overruns the data');
    const block = snappyBlock(data.subarray(pos, pos + len), maxBytes - total);
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

/**
 * An upper bound of a zstd stream's decompressed size, from frame and block headers alone (RFC 8878): the
 * frame content size when given, else raw and RLE blocks state their size and a compressed block yields at
 * most 128 KiB. Skippable frames add nothing.
 * Infinity when the headers do not parse (the decoder then rejects the data anyway, but only after trying).
 */
export function zstdDecompressedBound(data: Buffer): number {
  let pos = 0;
  let total = 0;
  while (pos < data.length) {
    if (pos + 4 > data.length) return Number.POSITIVE_INFINITY;
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (pos + 8 > data.length) return Number.POSITIVE_INFINITY;
      pos += 8 + data.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== 0xfd2fb528 || pos + 5 > data.length) return Number.POSITIVE_INFINITY;
    const fhd = data[pos + 4] as number;
    const singleSegment = (fhd & 0x20) !== 0;
    const fcsFlag = fhd >> 6;
    const dictIdBytes = [0, 1, 2, 4][fhd & 3] as number;
    const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : ([0, 2, 4, 8][fcsFlag] as number);
    const fcsAt = pos + 5 + (singleSegment ? 0 : 1) + dictIdBytes;
    pos = fcsAt + fcsBytes;
    if (pos > data.length) return Number.POSITIVE_INFINITY;
    // The frame content size, when present, is exact (the decoder checks it): the tighter bound.
    let contentSize = Number.POSITIVE_INFINITY;
    if (fcsBytes === 1) contentSize = data[fcsAt] as number;
    else if (fcsBytes === 2) contentSize = data.readUInt16LE(fcsAt) + 256;
    else if (fcsBytes === 4) contentSize = data.readUInt32LE(fcsAt);
    else if (fcsBytes === 8) contentSize = data.readUInt32LE(fcsAt) + data.readUInt32LE(fcsAt + 4) * 2 ** 32;
    let blocks = 0;
    for (;;) {
      if (pos + 3 > data.length) return Number.POSITIVE_INFINITY;
      const h = data.readUIntLE(pos, 3);
      const last = (h & 1) === 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      pos += 3;
      if (type === 0) {
        blocks += size;
        pos += size;
      } else if (type === 1) {
        blocks += size;
        pos += 1;
      } else if (type === 2) {
        blocks += 128 * 1024;
        pos += size;
      } else {
        return Number.POSITIVE_INFINITY;
      }
      if (last) break;
    }
    total += Math.min(blocks, contentSize);
    if ((fhd & 0x04) !== 0) pos += 4; // content checksum
  }
  return total;
}

/**
 * An upper bound of an LZ4 frame stream's decompressed size from its block headers: an uncompressed block
 * states its size; a compressed block yields at most its block maximum and at most 255 bytes per input byte.
 */
export function lz4DecompressedBound(data: Buffer): number {
  let pos = 0;
  let total = 0;
  while (pos < data.length) {
    if (pos + 7 > data.length || data.readUInt32LE(pos) !== 0x184d2204) return Number.POSITIVE_INFINITY;
    const flg = data[pos + 4] as number;
    const blockMax = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024][
      ((data[pos + 5] as number) >> 4) & 7
    ] as number;
    if (blockMax === 0) return Number.POSITIVE_INFINITY;
    pos += 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1;
    const blockChecksum = (flg & 0x10) !== 0 ? 4 : 0;
    for (;;) {
      if (pos + 4 > data.length) return Number.POSITIVE_INFINITY;
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      total += (word & 0x80000000) !== 0 ? size : Math.min(blockMax, size * 255);
      pos += size + blockChecksum;
    }
    if ((flg & 0x04) !== 0) pos += 4;
  }
  return total;
}

/** Decompresses, refusing output larger than maxBytes (checked as it goes, or bounded from headers first). */
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
      if (lz4DecompressedBound(data) > maxBytes)
        throw new Error(`lz4 data may decompress beyond ${maxBytes} bytes`);
      out = decompressFrameSync(data);
      break;
    case Codec.zstd:
      if (zstdDecompressedBound(data) > maxBytes)
        throw new Error(`zstd data may decompress beyond ${maxBytes} bytes`);
      out = await zstdDecompress(data);
      break;
    default:
      throw new Error(`unknown compression codec ${codec}`);
  }
  if (out.length > maxBytes) throw new Error(`decompressed data exceeds ${maxBytes} bytes`);
  return out;
}
