// Reading a segment's .log (format in segment.ts): walks over batch headers from a position, whole batches
// for a fetch, one batch at a position. Every function stops at the segment's known size and at the first
// header that does not parse; none changes the segment's state.

import * as fs from 'node:fs';
import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  readBatchHeader,
  readInt64,
} from '../protocol/records.js';
import { LogWindow } from './log-window.js';
import type { ReadBufferPool } from './read-buffers.js';

/** A batch in a segment: its position in the .log and its header. */
export interface LocatedBatch {
  position: number;
  header: BatchHeader;
}

const EMPTY = Buffer.alloc(0);

/**
 * Walks the batch headers of the first `size` bytes from `position` and returns the first batch `match`
 * accepts; null when none does before the end or a header that does not parse.
 */
export function findBatch(
  win: LogWindow,
  size: number,
  position: number,
  match: (header: BatchHeader, position: number) => boolean,
): LocatedBatch | null {
  let pos = position;
  while (pos + BATCH_HEADER_BYTES <= size) {
    const h = win.view(pos, BATCH_HEADER_BYTES);
    if (h === null) return null;
    const header = readBatchHeader(h, 0);
    if (header.batchLength < BATCH_LENGTH_MIN) return null;
    if (match(header, pos)) return { position: pos, header };
    pos += LOG_OVERHEAD + header.batchLength;
  }
  return null;
}

/**
 * Calls fn for every whole batch from `position` to the end of the first `size` bytes; false when a batch
 * before the end does not parse or does not fit (fn has then seen the batches before it).
 */
export function walkBatches(
  win: LogWindow,
  size: number,
  position: number,
  fn: (position: number, size: number, lastOffset: number, maxTimestamp: number) => void,
): boolean {
  let pos = position;
  while (pos < size) {
    const h = win.view(pos, BATCH_HEADER_BYTES);
    if (h === null) return false;
    const batchLength = h.readInt32BE(BATCH_LENGTH_OFFSET);
    if (batchLength < BATCH_LENGTH_MIN || pos + LOG_OVERHEAD + batchLength > size) return false;
    const lastOffset = readInt64(h, 0) + h.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
    fn(pos, LOG_OVERHEAD + batchLength, lastOffset, readInt64(h, MAX_TIMESTAMP_OFFSET));
    pos += LOG_OVERHEAD + batchLength;
  }
  return true;
}

/** The first batch from `position` that ends at or after `offset`. */
export function findBatchEndingAtOrAfter(
  win: LogWindow,
  size: number,
  position: number,
  offset: number,
): LocatedBatch | null {
  return findBatch(win, size, position, (h) => h.baseOffset + h.lastOffsetDelta >= offset);
}

/** Fills buf from the .log at position; returns the part actually read. */
export function readInto(fd: number, buf: Buffer, position: number): Buffer {
  let got = 0;
  while (got < buf.length) {
    const r = fs.readSync(fd, buf, got, buf.length - got, position + got);
    if (r === 0) break;
    got += r;
  }
  return got === buf.length ? buf : buf.subarray(0, got);
}

/** One whole batch at a position of the first `size` bytes of the .log, or null when none is there. */
export function readBatchAt(fd: number, size: number, position: number): Buffer | null {
  const win = new LogWindow(fd, size, Buffer.allocUnsafe(BATCH_HEADER_BYTES));
  const h = win.view(position, BATCH_HEADER_BYTES);
  if (h === null) return null;
  const batchSize = h.readInt32BE(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  if (batchSize < BATCH_HEADER_BYTES || position + batchSize > size) return null;
  return readInto(fd, Buffer.allocUnsafe(batchSize), position);
}

/** maxTimestamp of the batch at position 0, -1 when there is none. */
export function firstBatchMaxTimestamp(fd: number, size: number): number {
  const win = new LogWindow(fd, size, Buffer.allocUnsafe(BATCH_HEADER_BYTES));
  const h = win.view(0, BATCH_HEADER_BYTES);
  return h === null ? -1 : readInt64(h, MAX_TIMESTAMP_OFFSET);
}

/** Whole batches read from a position; `bytes` of the .log from there (0 when data is empty). */
export interface BatchesRead {
  data: Buffer;
  nextOffset: number;
  bytes: number;
}

/**
 * Whole batches from the one at `position`: at most maxBytes (but at least the first batch when minOneBatch),
 * none whose lastOffset >= maxOffsetExclusive. Null when less than a batch header is left.
 */
export function readBatchesAt(
  fd: number,
  size: number,
  position: number,
  maxBytes: number,
  maxOffsetExclusive: number,
  minOneBatch: boolean,
  pool: ReadBufferPool,
): BatchesRead | null {
  const available = size - position;
  if (available < BATCH_HEADER_BYTES) return null;
  let slice = pool.alloc(Math.min(Math.max(maxBytes, BATCH_HEADER_BYTES), available));
  let data = readInto(fd, slice, position);
  const firstSize = data.readInt32BE(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  if (firstSize > data.length && minOneBatch && firstSize <= available) {
    pool.release(slice);
    slice = pool.alloc(firstSize);
    data = readInto(fd, slice, position);
  }
  let pos = 0;
  let nextOffset = readInt64(data, 0);
  while (pos + BATCH_HEADER_BYTES <= data.length) {
    const batchSize = data.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (batchSize < BATCH_HEADER_BYTES || pos + batchSize > data.length) break;
    if (pos + batchSize > maxBytes && !(pos === 0 && minOneBatch)) break;
    const lastOffset = readInt64(data, pos) + data.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
    if (lastOffset >= maxOffsetExclusive) break;
    pos += batchSize;
    nextOffset = lastOffset + 1;
  }
  if (pos === 0) {
    pool.release(slice);
    return { data: EMPTY, nextOffset, bytes: 0 };
  }
  const out = pos === slice.length ? slice : pool.transfer(slice, slice.subarray(0, pos));
  return { data: out, nextOffset, bytes: pos };
}
