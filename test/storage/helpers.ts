// Shared by the storage tests: temp dirs, batch builders, captured log lines.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { createLogger, type Logger, setLogSink } from '../../src/logger.js';
import {
  decodeRecords,
  encodeRecordBatch,
  iterateBatches,
  type RecordInput,
} from '../../src/protocol/records.js';
import { type LogConfig, logConfig } from '../../src/storage/config.js';
import { type OpenOptions, PartitionLog } from '../../src/storage/partition-log.js';

/** Log lines of the current process (JSON objects), captured instead of printed. */
export const logLines: Array<Record<string, unknown>> = [];
setLogSink((line) => {
  logLines.push(JSON.parse(line) as Record<string, unknown>);
});

export const logger: Logger = createLogger('storage');

const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

export function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-storage-'));
  roots.push(d);
  return d;
}

/** A fresh partition dir "<tmp>/t-0". */
export function partitionDir(): string {
  return path.join(tmpDir(), 't-0');
}

export function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return logConfig({ fileDeleteDelayMs: 0, ...overrides });
}

export function openLog(
  dir: string,
  overrides: Partial<LogConfig> = {},
  options: OpenOptions = {},
): PartitionLog {
  return PartitionLog.open(dir, config(overrides), logger, options);
}

/** One batch of `count` records with values "<tag>-<i>", timestamps ts, ts+1, ... */
export function batch(
  tag: string,
  count = 1,
  opts: {
    timestamp?: number;
    producerId?: number;
    producerEpoch?: number;
    baseSequence?: number;
    valueBytes?: number;
  } = {},
): Buffer {
  const ts = opts.timestamp ?? 1_700_000_000_000;
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const pad = opts.valueBytes === undefined ? '' : 'x'.repeat(opts.valueBytes);
    records.push({ key: `k${i}`, value: `${tag}-${i}${pad}`, timestamp: ts + i });
  }
  return encodeRecordBatch({
    records,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: opts.baseSequence,
  });
}

export interface ReadRecord {
  offset: number;
  timestamp: number;
  value: string | null;
}

/** Decodes every record of a read's chunks (checking batches are whole and in order). */
export function recordsOf(chunks: Buffer[]): ReadRecord[] {
  const out: ReadRecord[] = [];
  for (const chunk of chunks) {
    let end = 0;
    for (const { pos, header } of iterateBatches(chunk)) {
      const { records } = decodeRecords(chunk.subarray(pos, pos + 12 + header.batchLength));
      for (const r of records) {
        out.push({
          offset: header.baseOffset + r.offsetDelta,
          timestamp: header.baseTimestamp + r.timestampDelta,
          value: r.value === null ? null : r.value.toString(),
        });
      }
      end = pos + 12 + header.batchLength;
    }
    if (end !== chunk.length)
      throw new Error(`chunk has ${chunk.length - end} bytes after its last whole batch`);
  }
  return out;
}

/** Every record of the log from logStartOffset up to the log end. */
export function readAll(log: PartitionLog): ReadRecord[] {
  const r = log.read(log.logStartOffset, 1 << 30, log.logEndOffset, true);
  if (r.errorCode !== 0) throw new Error(`read failed with ${r.errorCode}`);
  return recordsOf(r.chunks);
}

export function linesWith(msg: string): Array<Record<string, unknown>> {
  return logLines.filter((l) => l.msg === msg);
}
