// Which of a log's oldest segments break retention (Kafka's UnifiedLog.deleteOldSegments): first by time, while
// a segment's newest timestamp (its file time if it has none) is older than retention.ms, then by size, while
// the log stays at or above retention.bytes without the segment. Never the active segment, never one that is not
// wholly below the high watermark. The log deletes them (PartitionLog.enforceRetention).

import type { LogConfig } from './config.js';
import type { LogSegment } from './segment.js';

/** One reason per segment to delete, oldest first (segments[0], segments[1], ...). Reads segment metadata. */
export function segmentsBreakingRetention(
  segments: readonly LogSegment[],
  config: LogConfig,
  highWatermark: number,
  now: number,
): string[] {
  const reasons: string[] = [];
  const { retentionMs, retentionBytes } = config;
  const deletable = (i: number): boolean =>
    i < segments.length - 1 && segments[i + 1]!.baseOffset <= highWatermark;
  let i = 0;
  if (retentionMs >= 0) {
    while (deletable(i)) {
      const seg = segments[i]!;
      const newest = seg.maxTimestamp >= 0 ? seg.maxTimestamp : seg.lastModified();
      if (now - newest <= retentionMs) break;
      reasons.push(
        `retention.ms ${retentionMs} breached: newest timestamp ${newest} is ${now - newest} ms old`,
      );
      i++;
    }
  }
  if (retentionBytes >= 0) {
    let size = 0;
    for (let j = i; j < segments.length; j++) size += segments[j]!.size;
    while (deletable(i) && size - retentionBytes - segments[i]!.size >= 0) {
      reasons.push(`retention.bytes ${retentionBytes} breached: log is ${size} bytes`);
      size -= segments[i]!.size;
      i++;
    }
  }
  return reasons;
}
