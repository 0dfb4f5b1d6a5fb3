// CRC32C (@node-rs/crc32, native) over record batches of the sizes the broker validates on every
// produce: one 100-byte record, a default 16 KiB producer batch, a 1 MiB batch. computeBatchCrc is
// what the produce path calls (a subarray plus the native call).

import { crc32c } from '@node-rs/crc32';
import { computeBatchCrc, encodeRecordBatch, LOG_OVERHEAD } from '../../src/protocol/records.js';
import { type MicroResult, measure } from './harness.js';

function batchOf(bytes: number): Buffer {
  const value = Buffer.alloc(Math.min(bytes, 100), 0x41);
  const n = Math.max(1, Math.floor(bytes / 110));
  return encodeRecordBatch({ records: Array.from({ length: n }, () => ({ value })) });
}

export function crcBenchmarks(): MicroResult[] {
  const out: MicroResult[] = [];
  for (const [label, bytes] of [
    ['100 B', 100],
    ['16 KiB', 16 * 1024],
    ['1 MiB', 1024 * 1024],
  ] as const) {
    const b = batchOf(bytes);
    out.push(
      measure(`computeBatchCrc ${label} batch`, () => void computeBatchCrc(b, 0, b.length - LOG_OVERHEAD), {
        bytesPerOp: b.length,
        batch: bytes < 10_000 ? 256 : 4,
      }),
    );
  }
  const raw = Buffer.alloc(1024 * 1024, 3);
  out.push(measure('crc32c 1 MiB buffer', () => void crc32c(raw), { bytesPerOp: raw.length }));
  return out;
}
