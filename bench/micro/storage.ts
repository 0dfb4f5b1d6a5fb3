// The partition log's two hot paths, on a fresh log in a temp dir on the same disk as the brokers:
// PartitionLog.append of 1 KiB and 16 KiB batches (offsets assigned, indexes maintained, bytes
// written to the page cache, no fsync), and PartitionLog.read of 1 MiB (the Fetch path: index
// lookup or read cache, a read into a page-aligned buffer, trimming to whole batches), with the
// read buffers recycled after use as the Fetch handler does, and without.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger, setLogSink } from '../../src/logger.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { logConfig } from '../../src/storage/config.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { releaseReadBuffers } from '../../src/storage/read-buffers.js';
import { type MicroResult, measure } from './harness.js';

function batchOf(bytes: number): Buffer {
  const value = Buffer.alloc(100, 0x41);
  const n = Math.max(1, Math.floor(bytes / 110));
  return encodeRecordBatch({ records: Array.from({ length: n }, () => ({ value })) });
}

export function storageBenchmarks(): MicroResult[] {
  setLogSink(() => {});
  const logger = createLogger('bench');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-micro-'));
  const out: MicroResult[] = [];
  const config = logConfig({ segmentBytes: 256 * 1024 * 1024, fileDeleteDelayMs: 0 });
  try {
    for (const [label, bytes] of [
      ['1 KiB', 1024],
      ['16 KiB', 16 * 1024],
    ] as const) {
      const log = PartitionLog.open(path.join(root, `append-${bytes}-0`), config, logger);
      const b = batchOf(bytes);
      let now = Date.now();
      out.push(
        measure(`PartitionLog.append ${label} batches`, () => void log.append(b, 0, now++), {
          bytesPerOp: b.length,
          batch: 16,
          rounds: 3,
          roundMs: 300,
        }),
      );
      log.close();
    }

    // Read path: a 128 MiB log of 16 KiB batches, read front to back in 1 MiB fetches (page cache hot).
    const log = PartitionLog.open(path.join(root, 'read-0'), config, logger);
    const b = batchOf(16 * 1024);
    const now = Date.now();
    while (log.sizeBytes < 128 * 1024 * 1024) log.append(b, 0, now);
    for (const recycle of [true, false]) {
      let offset = 0;
      let bytesRead = 0;
      let reads = 0;
      const r = measure(
        `PartitionLog.read 1 MiB, sequential, ${recycle ? 'buffers recycled (as Fetch does)' : 'buffers left to the GC'}`,
        () => {
          const res = log.read(offset, 1024 * 1024, log.logEndOffset, true);
          let n = 0;
          for (const c of res.chunks) n += c.length;
          bytesRead += n;
          reads++;
          offset = n === 0 || offset >= log.logEndOffset ? 0 : nextOffset(res.chunks);
          if (recycle) releaseReadBuffers(res.chunks);
        },
        { rounds: 3, roundMs: 400 },
      );
      out.push({ ...r, mbPerSec: (r.opsPerSec * bytesRead) / reads / 1e6 });
    }
    log.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return out;
}

function nextOffset(chunks: Buffer[]): number {
  const last = chunks[chunks.length - 1];
  if (last === undefined) return 0;
  let pos = 0;
  let next = 0;
  while (pos + 61 <= last.length) {
    const len = last.readInt32BE(pos + 8);
    next = last.readInt32BE(pos) * 4294967296 + last.readUInt32BE(pos + 4) + last.readInt32BE(pos + 23) + 1;
    pos += 12 + len;
  }
  return next;
}
