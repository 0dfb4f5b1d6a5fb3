// ListOffsets by timestamp over a partition's segments. Batch headers lead to the right batch (time index, then
// offset index, then a header scan); only that one batch is decoded to find the exact record. Choices where the
// batch cannot be decoded here: a compressed batch answers its first offset (>= log start) with its
// maxTimestamp (decompression lives elsewhere); a LogAppendTime batch answers its first offset, since every
// record in it carries maxTimestamp.

import type { Logger } from '../logger.js';
import { type BatchHeader, compressionOf, decodeRecords, timestampType } from '../protocol/records.js';
import type { LogSegment } from './segment.js';

export interface TimestampAndOffset {
  offset: number;
  timestamp: number;
}

/** The first record at or after logStartOffset with timestamp >= ts; null when none. */
export function offsetForTimestamp(
  segments: readonly LogSegment[],
  logStartOffset: number,
  ts: number,
  logger: Logger,
): TimestampAndOffset | null {
  for (const seg of segments) {
    if (seg.size === 0 || seg.maxTimestamp < ts) continue;
    const found = seg.findBatchByTimestamp(ts, logStartOffset);
    if (found === null) continue;
    return recordAtOrAfter(seg, found.position, found.header, logStartOffset, ts, logger);
  }
  return null;
}

/** ListOffsets MAX_TIMESTAMP (-3): the first record carrying the largest timestamp; null for an empty log. */
export function maxTimestampOffset(
  segments: readonly LogSegment[],
  logStartOffset: number,
  logger: Logger,
): TimestampAndOffset | null {
  let best: LogSegment | null = null;
  for (const seg of segments) {
    if (seg.size > 0 && seg.maxTimestamp >= 0 && (best === null || seg.maxTimestamp > best.maxTimestamp))
      best = seg;
  }
  if (best === null) return null;
  const max = best.maxTimestamp;
  const found = best.findBatchByTimestamp(max, logStartOffset);
  if (found === null) return null;
  return recordAtOrAfter(best, found.position, found.header, logStartOffset, max, logger);
}

function recordAtOrAfter(
  seg: LogSegment,
  position: number,
  h: BatchHeader,
  floor: number,
  ts: number,
  logger: Logger,
): TimestampAndOffset {
  const batchAnswer = { offset: Math.max(h.baseOffset, floor), timestamp: h.maxTimestamp };
  if (timestampType(h.attributes) === 1 || compressionOf(h.attributes) !== 0) return batchAnswer;
  const batch = seg.readBatchAt(position);
  if (batch === null) return batchAnswer;
  try {
    for (const r of decodeRecords(batch).records) {
      const offset = h.baseOffset + r.offsetDelta;
      const timestamp = h.baseTimestamp + r.timestampDelta;
      if (offset >= floor && timestamp >= ts) return { offset, timestamp };
    }
  } catch (e) {
    logger.warn('could not decode a batch for a timestamp lookup', {
      file: seg.logFile,
      offset: h.baseOffset,
      error: e,
    });
  }
  return batchAnswer;
}
