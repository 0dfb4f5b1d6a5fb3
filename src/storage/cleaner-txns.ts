// What the log cleaner knows of transactions while it walks batches in offset order (Kafka's
// CleanedTransactionMetadata):
//   - aborted transactions come from the .txnindex files (PartitionLog.abortedTransactionsRaw) for the range
//     walked; one becomes "ongoing" once the walk reaches its first offset and ends at its abort marker;
//   - a transactional data batch of an ongoing aborted transaction is aborted data: its keys are not mapped
//     (they supersede nothing) and its records are removed (the batch too, unless it is its producer's last
//     batch, which stays empty as Kafka's RETAIN_EMPTY);
//   - an abort marker keeps its .txnindex entry in the cleaned segment when the walk saw data of its transaction
//     (as Kafka: removed in this pass, or kept at or above the cleaning end); the next pass, finding no data,
//     drops the entry.
//   - a marker whose transaction left no data in the walk (an abort whose data an earlier pass removed, a commit
//     with no batch of its producer's transaction seen) may go: the pass gives it a delete horizon
//     (delete.retention.ms, as a tombstone) and a pass after the horizon removes it (Kafka's
//     containsMarkerForEmptyTxn). Only when the walk covers where that data could be: it starts at the log's
//     first segment, or it saw the producer's previous marker (a producer's transactions follow each other).
//     Kafka's cleaner also judges markers whose data lies in an earlier group; removing a commit marker whose
//     committed records survive would leave a transaction that never ends for any replica that rebuilds
//     producer state from the log (a new follower), holding its last stable offset forever.

import type { AbortedTxn } from './txn-index.js';

interface OngoingAbort {
  txn: AbortedTxn;
  /** lastOffset of the newest batch of this transaction the walk saw, -1 when none. */
  lastObservedBatchOffset: number;
}

export class CleanerTransactions {
  /** Aborted transactions not reached yet, by first offset. */
  private readonly pending: AbortedTxn[];
  private readonly ongoing = new Map<number, OngoingAbort>();
  /** Producers with a transactional data batch seen since their last marker, not aborted. */
  private readonly committedSeen = new Set<number>();
  /** Producers whose marker the walk saw. */
  private readonly markersSeen = new Set<number>();
  /** Entries for the cleaned segment's .txnindex, in marker order. */
  readonly cleanedIndex: AbortedTxn[] = [];

  /** fromLogStart: the walk starts at the log's first segment (nothing lies before it). */
  constructor(
    aborted: readonly AbortedTxn[],
    private readonly fromLogStart = false,
  ) {
    const seen = new Set<string>();
    this.pending = aborted
      .filter((t) => {
        const k = `${t.producerId}:${t.lastOffset}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .sort((a, b) => a.firstOffset - b.firstOffset);
  }

  private reach(offset: number): void {
    while (this.pending.length > 0 && this.pending[0]!.firstOffset <= offset) {
      const t = this.pending.shift()!;
      if (!this.ongoing.has(t.producerId))
        this.ongoing.set(t.producerId, { txn: t, lastObservedBatchOffset: -1 });
    }
  }

  /** A data batch: true when it belongs to an aborted transaction. */
  isAborted(producerId: number, transactional: boolean, lastOffset: number): boolean {
    this.reach(lastOffset);
    if (!transactional) return false;
    const o = this.ongoing.get(producerId);
    if (o === undefined) {
      this.committedSeen.add(producerId);
      return false;
    }
    o.lastObservedBatchOffset = lastOffset;
    return true;
  }

  /**
   * A control batch (its marker: commit or abort; null when unreadable). True when the marker's transaction left
   * no data in the walk: the marker may then be removed once its delete horizon passed.
   */
  onMarker(producerId: number, lastOffset: number, commit: boolean | null): boolean {
    this.reach(lastOffset);
    const covered = this.fromLogStart || this.markersSeen.has(producerId);
    this.markersSeen.add(producerId);
    if (commit === null) return false;
    if (commit) return !this.committedSeen.delete(producerId) && covered;
    const o = this.ongoing.get(producerId);
    if (o === undefined) return covered;
    this.ongoing.delete(producerId);
    if (o.lastObservedBatchOffset < 0) return covered;
    this.cleanedIndex.push(o.txn);
    return false;
  }
}
