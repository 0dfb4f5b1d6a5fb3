// The transactional side of a partition log, as functions over its segments and producer state (the log calls
// them; they keep partition-log.ts to the log's own business):
//   - the last stable offset: min(first offset of the oldest open transaction, high watermark);
//   - aborted transactions for read_committed fetches, from the segments' .txnindex files;
//   - the .txnindex entry written when an abort marker lands;
//   - rebuilding producer state (open transactions included) by replaying batch headers after a snapshot, and
//     the .txnindex of recovered segments on the way.

import type { Logger } from '../logger.js';
import { type BatchHeader, isControl } from '../protocol/records.js';
import { isIoError, KafkaStorageError } from './io-errors.js';
import type { LogHealth } from './log-health.js';
import type { CompletedTxn, ProducerStateManager, TxnMarker } from './producer-state.js';
import type { LogSegment } from './segment.js';
import type { AbortedTxn } from './txn-index.js';
import { parseTxnMarker } from './txn-markers.js';

/**
 * Kafka's lastStableOffset: the first offset of the oldest transaction still open or whose marker is not
 * committed yet (not below the high watermark), else the high watermark; never below the log start.
 */
export function lastStableOffset(
  psm: ProducerStateManager,
  highWatermark: number,
  logStartOffset: number,
): number {
  const first = psm.firstUnstableOffset(highWatermark);
  if (first < 0 || first >= highWatermark) return highWatermark;
  return Math.max(first, logStartOffset);
}

/**
 * Aborted transactions overlapping [fetchOffset, upperBoundOffset), from the segment holding fetchOffset on
 * (an abort marker is never in an earlier segment than its transaction's data).
 */
export function collectAbortedTransactions(
  segments: readonly LogSegment[],
  fromIndex: number,
  fetchOffset: number,
  upperBoundOffset: number,
): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (let i = fromIndex; i < segments.length; i++) {
    const r = segments[i]!.txnIndex.collect(fetchOffset, upperBoundOffset);
    for (const e of r.aborted) out.push(e);
    if (r.complete) break;
  }
  return out;
}

/** What a Fetch response lists of an aborted transaction. */
export interface AbortedTxnRef {
  producerId: number;
  firstOffset: number;
}

/** collectAbortedTransactions for Fetch: null when the log dir is offline or an index failed to read. */
export function abortedTransactions(
  segments: readonly LogSegment[],
  fromIndex: number,
  fetchOffset: number,
  upperBoundOffset: number,
  health: LogHealth,
): AbortedTxnRef[] | null {
  try {
    const found = health.guard('transaction index', () =>
      collectAbortedTransactions(segments, fromIndex, fetchOffset, upperBoundOffset),
    );
    return found.map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
  } catch (e) {
    if (e instanceof KafkaStorageError) return null;
    throw e;
  }
}

/**
 * Writes the .txnindex entries of transactions that markers just aborted (segment: the one holding the markers).
 * lastStableOffset is the first offset still unstable once they completed (Kafka's ProducerStateManager
 * .lastStableOffset(completedTxn)). With `health` (appends: the marker is already in the log), an I/O failure,
 * a full disk too, takes the dir offline, so that the next start recovers the segment and rebuilds its index.
 */
export function indexAborted(
  completed: readonly (CompletedTxn | null)[],
  psm: ProducerStateManager,
  segment: LogSegment,
  health?: LogHealth,
): void {
  try {
    writeAborted(completed, psm, segment);
  } catch (e) {
    if (health === undefined || !isIoError(e)) throw e;
    health.takeOffline('transaction index', e as Error);
  }
}

function writeAborted(
  completed: readonly (CompletedTxn | null)[],
  psm: ProducerStateManager,
  segment: LogSegment,
): void {
  for (const c of completed) {
    if (c === null || !c.aborted) continue;
    const first = psm.firstOngoingOffset();
    segment.txnIndex.append({
      producerId: c.producerId,
      firstOffset: c.firstOffset,
      lastOffset: c.lastOffset,
      lastStableOffset: first >= 0 && first < c.lastOffset ? first : c.lastOffset + 1,
    });
  }
}

/** The marker of a control batch read back from a segment (null for data batches and unreadable markers). */
function markerAt(seg: LogSegment, h: BatchHeader, position: number): TxnMarker | null {
  if (h.producerId < 0 || !isControl(h.attributes)) return null;
  const batch = seg.readBatchAt(position);
  return batch === null ? null : parseTxnMarker(batch, 0);
}

/**
 * Rebuilds producer state: the newest snapshot at or below the log end (or at or below rebuildTxnIndexFrom when
 * set), then every batch header after it. Segments with a base offset at or above rebuildTxnIndexFrom (recovered
 * after an unclean stop, their .txnindex emptied by recovery) get an entry for every abort marker the replay
 * meets; the others' are trusted.
 */
export function replayProducerState(
  segments: readonly LogSegment[],
  psm: ProducerStateManager,
  logStartOffset: number,
  logEndOffset: number,
  rebuildTxnIndexFrom: number | null,
  segmentIndexFor: (offset: number) => number,
  logger: Logger,
): void {
  psm.deleteSnapshotsAbove(logEndOffset);
  const rebuild = rebuildTxnIndexFrom !== null;
  let from = psm.loadLatestSnapshot(rebuild ? Math.min(rebuildTxnIndexFrom, logEndOffset) : logEndOffset);
  if (from < 0) from = logStartOffset;
  let rebuilt = 0;
  for (let i = segmentIndexFor(from); i < segments.length; i++) {
    const seg = segments[i]!;
    const rebuildHere = rebuild && seg.baseOffset >= rebuildTxnIndexFrom;
    seg.forEachBatchHeader(from, (h, position) => {
      const done = psm.replay(h, markerAt(seg, h, position));
      if (done?.aborted && rebuildHere) {
        indexAborted([done], psm, seg);
        rebuilt++;
      }
    });
  }
  if (rebuilt > 0) {
    logger.info('rebuilt transaction indexes from the log', {
      dir: psm.dir,
      abortedTransactions: rebuilt,
      fromOffset: rebuildTxnIndexFrom,
    });
  }
  psm.onLogStartOffsetIncremented(logStartOffset);
}
