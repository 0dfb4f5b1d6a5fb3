// Checks of index entries against the .log they index (indexes.ts has the formats). The segment runs them when
// it uses an entry (segment.ts); `samsa log verify` runs them on every entry of a file (src/cli/log.ts).
//
// What an entry must match: an offset-index entry (offset, position) points at a whole v2 batch header whose
// lastOffset is the entry's offset (Kafka indexes a batch by its last offset). A time-index entry
// (timestamp, offset) names the batch holding that offset, and that batch's maxTimestamp is the entry's
// timestamp (Samsa writes the batch's lastOffset; older Kafka wrote the record's offset: both hold).

import {
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  readInt64,
} from '../protocol/records.js';
import type { OffsetPosition, TimestampOffset } from './indexes.js';
import type { LogWindow } from './log-window.js';

/** Why an offset-index entry does not point at the batch it names, or null when it does. */
export function offsetEntryMismatch(win: LogWindow, logSize: number, entry: OffsetPosition): string | null {
  const h = win.view(entry.position, BATCH_HEADER_BYTES);
  if (h === null) return `points beyond the .log's ${logSize} bytes`;
  const batchLength = h.readInt32BE(BATCH_LENGTH_OFFSET);
  const magic = h.readInt8(MAGIC_OFFSET);
  const lastOffset = readInt64(h, 0) + h.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
  if (
    batchLength < BATCH_LENGTH_MIN ||
    entry.position + LOG_OVERHEAD + batchLength > logSize ||
    magic !== MAGIC_V2 ||
    lastOffset !== entry.offset
  ) {
    return `does not point at that batch (found batchLength ${batchLength}, magic ${magic}, lastOffset ${lastOffset})`;
  }
  return null;
}

/**
 * Why a time-index entry does not match `h`, the header of the batch holding its offset (undefined when the
 * .log has no such batch), or null when it does.
 */
export function timeEntryMismatch(entry: TimestampOffset, h: BatchHeader | undefined): string | null {
  if (h !== undefined && h.baseOffset <= entry.offset && h.maxTimestamp === entry.timestamp) return null;
  const found =
    h === undefined
      ? 'no batch holds that offset'
      : `batch ${h.baseOffset}-${h.baseOffset + h.lastOffsetDelta} has maxTimestamp ${h.maxTimestamp}`;
  return `does not match the .log: ${found}`;
}
