// Reading segment files for an operator's tool (`samsa log dump|verify`, src/cli/log.ts; Kafka's
// DumpLogSegments): a .log batch by batch with the checks recovery makes, and the entries of a .index or
// .timeindex checked against the .log beside it (index-check.ts). Read-only; nothing here is on the broker's
// path. Files are read through a moving window, so a 1 GiB segment is not held in memory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  type BatchHeader,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  readBatchHeader,
} from '../protocol/records.js';
import { offsetEntryMismatch, timeEntryMismatch } from './index-check.js';
import { OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from './indexes.js';
import { LogWindow } from './log-window.js';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX } from './segment.js';
import { TXN_INDEX_SUFFIX } from './txn-index.js';

export type SegmentFileKind = 'log' | 'index' | 'timeindex' | 'txnindex';

export function segmentFileKind(file: string): SegmentFileKind | null {
  if (file.endsWith(LOG_SUFFIX)) return 'log';
  if (file.endsWith(INDEX_SUFFIX)) return 'index';
  if (file.endsWith(TIME_INDEX_SUFFIX)) return 'timeindex';
  if (file.endsWith(TXN_INDEX_SUFFIX)) return 'txnindex';
  return null;
}

/** The base offset in a segment file's name (`<20 digits>.<suffix>`), or null when the name is not one. */
export function baseOffsetOfFile(file: string): number | null {
  const m = /^(\d{20})\./.exec(path.basename(file));
  return m === null ? null : Number(m[1]);
}

export interface LogBatch {
  position: number;
  /** Bytes of the whole batch (LOG_OVERHEAD + batchLength). */
  size: number;
  header: BatchHeader;
  computedCrc: number;
  crcValid: boolean;
  /** The batch's bytes; valid until the callback returns (or its promise settles). */
  bytes: Buffer;
}

export interface LogWalk {
  batches: number;
  /** Bytes of whole batches walked (the position where the walk stopped). */
  validBytes: number;
  fileBytes: number;
  firstOffset: number;
  lastOffset: number;
  /** One line each: what is wrong and where. A structural problem ends the walk; a CRC mismatch does not. */
  problems: string[];
}

/**
 * Walks every batch of a .log in order, with recovery's checks (recovery.ts): a whole header, batchLength at
 * least the header and inside the file, magic 2, lastOffsetDelta >= 0, baseOffset not below the file's base
 * offset nor the previous batch's lastOffset + 1, CRC32C. onBatch sees each batch whose frame is sound (its CRC
 * result included) and may return problems of its own (e.g. records that do not decode).
 */
export async function walkLog(
  file: string,
  onBatch?: (b: LogBatch) => undefined | string | Promise<undefined | string>,
): Promise<LogWalk> {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const win = new LogWindow(fd, size);
    const out: LogWalk = {
      batches: 0,
      validBytes: 0,
      fileBytes: size,
      firstOffset: -1,
      lastOffset: -1,
      problems: [],
    };
    let expected = baseOffsetOfFile(file) ?? 0;
    let pos = 0;
    while (pos < size) {
      const left = size - pos;
      const at = `position ${pos}`;
      const h = win.view(pos, BATCH_HEADER_BYTES);
      if (h === null) {
        out.problems.push(`${at}: ${left} bytes left, too few for a batch header (${BATCH_HEADER_BYTES})`);
        break;
      }
      const header = readBatchHeader(h, 0);
      if (header.batchLength < BATCH_LENGTH_MIN) {
        out.problems.push(
          `${at}: batchLength ${header.batchLength} is below the minimum ${BATCH_LENGTH_MIN}`,
        );
        break;
      }
      const batchSize = LOG_OVERHEAD + header.batchLength;
      if (batchSize > left) {
        out.problems.push(
          `${at}: incomplete batch, batchLength ${header.batchLength} needs ${batchSize} bytes, ${left} left`,
        );
        break;
      }
      if (h.readInt8(MAGIC_OFFSET) !== MAGIC_V2) {
        out.problems.push(`${at}: magic ${header.magic}, expected ${MAGIC_V2}`);
        break;
      }
      if (header.lastOffsetDelta < 0) {
        out.problems.push(`${at}: negative lastOffsetDelta ${header.lastOffsetDelta}`);
        break;
      }
      if (header.baseOffset < expected) {
        out.problems.push(
          `${at}: baseOffset ${header.baseOffset} is below ${expected} (offsets must increase)`,
        );
        break;
      }
      const bytes = win.view(pos, batchSize);
      if (bytes === null) {
        out.problems.push(`${at}: batch unreadable`);
        break;
      }
      const computedCrc = crc32c(bytes.subarray(ATTRIBUTES_OFFSET)) >>> 0;
      const crcValid = computedCrc === header.crc;
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      if (!crcValid) {
        out.problems.push(
          `${at}: CRC32C mismatch in batch ${header.baseOffset}-${lastOffset}: stored ${header.crc}, computed ${computedCrc}`,
        );
      }
      const own = await onBatch?.({ position: pos, size: batchSize, header, computedCrc, crcValid, bytes });
      if (own !== undefined) out.problems.push(`${at}: ${own}`);
      if (out.firstOffset < 0) out.firstOffset = header.baseOffset;
      out.lastOffset = lastOffset;
      out.batches++;
      expected = lastOffset + 1;
      pos += batchSize;
      out.validBytes = pos;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

export interface IndexEntryCheck {
  /** Offset-index: offset and position. Time-index: timestamp and offset. */
  offset: number;
  position: number;
  timestamp: number;
  /** Why the entry is wrong (order, or against the .log), null when it is fine. */
  problem: string | null;
}

export interface IndexCheck {
  entries: IndexEntryCheck[];
  /** One line each, for the file as a whole or one entry ("entry 3 (...): ..."). */
  problems: string[];
}

function indexBytes(file: string, entryBytes: number, problems: string[]): Buffer {
  const data = fs.readFileSync(file);
  if (data.length % entryBytes !== 0) {
    problems.push(
      `size ${data.length} is not a multiple of the entry size ${entryBytes}; the last ${data.length % entryBytes} bytes are ignored`,
    );
  }
  return data.subarray(0, data.length - (data.length % entryBytes));
}

function logBeside(file: string, problems: string[]): string | null {
  const logFile = file.slice(0, file.lastIndexOf('.')) + LOG_SUFFIX;
  if (fs.existsSync(logFile)) return logFile;
  problems.push(`no ${path.basename(logFile)} beside it to check the entries against`);
  return null;
}

/** Every entry of a .index: increasing, and pointing at the header of the batch it names in the .log beside it. */
export function checkOffsetIndex(file: string): IndexCheck {
  const problems: string[] = [];
  const base = baseOffsetOfFile(file) ?? 0;
  const data = indexBytes(file, OFFSET_INDEX_ENTRY_BYTES, problems);
  const logFile = logBeside(file, problems);
  const fd = logFile === null ? null : fs.openSync(logFile, 'r');
  try {
    const size = fd === null ? 0 : fs.fstatSync(fd).size;
    const win = fd === null ? null : new LogWindow(fd, size, Buffer.allocUnsafe(64 * 1024));
    const entries: IndexEntryCheck[] = [];
    for (let i = 0; i < data.length / OFFSET_INDEX_ENTRY_BYTES; i++) {
      const offset = base + data.readInt32BE(i * 8);
      const position = data.readInt32BE(i * 8 + 4);
      const prev = entries[i - 1];
      let problem: string | null = null;
      if (prev !== undefined && offset <= prev.offset)
        problem = `offset does not increase (previous ${prev.offset})`;
      else if (prev !== undefined && position <= prev.position)
        problem = `position does not increase (previous ${prev.position})`;
      else if (win !== null) problem = offsetEntryMismatch(win, size, { offset, position });
      entries.push({ offset, position, timestamp: -1, problem });
      if (problem !== null) problems.push(`entry ${i} (offset ${offset}, position ${position}): ${problem}`);
    }
    return { entries, problems };
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Every entry of a .timeindex: increasing, and naming a batch of the .log beside it with that maxTimestamp. */
export async function checkTimeIndex(file: string): Promise<IndexCheck> {
  const problems: string[] = [];
  const base = baseOffsetOfFile(file) ?? 0;
  const data = indexBytes(file, TIME_INDEX_ENTRY_BYTES, problems);
  const entries: IndexEntryCheck[] = [];
  for (let i = 0; i < data.length / TIME_INDEX_ENTRY_BYTES; i++) {
    const timestamp = Number(data.readBigInt64BE(i * 12));
    const offset = base + data.readInt32BE(i * 12 + 8);
    const prev = entries[i - 1];
    let problem: string | null = null;
    if (prev !== undefined && timestamp <= prev.timestamp)
      problem = `timestamp does not increase (previous ${prev.timestamp})`;
    else if (prev !== undefined && offset <= prev.offset)
      problem = `offset does not increase (previous ${prev.offset})`;
    entries.push({ offset, position: -1, timestamp, problem });
  }
  const logFile = logBeside(file, problems);
  if (logFile !== null) {
    // One pass over the .log: the entries in offset order meet the batches holding their offsets.
    const order = entries.map((_, i) => i).sort((a, b) => entries[a]!.offset - entries[b]!.offset);
    let next = 0;
    await walkLog(logFile, (b) => {
      const last = b.header.baseOffset + b.header.lastOffsetDelta;
      while (next < order.length && entries[order[next]!]!.offset <= last) {
        const e = entries[order[next]!]!;
        const found = e.offset >= b.header.baseOffset ? b.header : undefined;
        e.problem ??= timeEntryMismatch({ timestamp: e.timestamp, offset: e.offset }, found);
        next++;
      }
      return undefined;
    });
    for (; next < order.length; next++) {
      const e = entries[order[next]!]!;
      e.problem ??= timeEntryMismatch({ timestamp: e.timestamp, offset: e.offset }, undefined);
    }
  }
  entries.forEach((e, i) => {
    if (e.problem !== null)
      problems.push(`entry ${i} (timestamp ${e.timestamp}, offset ${e.offset}): ${e.problem}`);
  });
  return { entries, problems };
}

/**
 * Segment files named on the command line: files as given, directories expanded (two levels: log dir, partition
 * dir). Paths that cannot be read are reported to onMissing and left out.
 */
export function expandSegmentPaths(
  paths: readonly string[],
  onMissing: (p: string, e: Error) => void,
): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    const names = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const d of names) {
      const full = path.join(dir, d.name);
      if (d.isDirectory() && depth > 0) walk(full, depth - 1);
      else if (d.isFile() && segmentFileKind(d.name) !== null && baseOffsetOfFile(d.name) !== null)
        out.push(full);
    }
  };
  for (const p of paths) {
    try {
      if (fs.statSync(p).isDirectory()) walk(p, 1);
      else out.push(p);
    } catch (e) {
      onMissing(p, e as Error);
    }
  }
  return out;
}
