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
// Markers themselves are kept: Kafka removes them after delete.retention.ms once their transaction's data is
// gone (a delete horizon on the marker batch); Samsa keeps them (a few bytes per transaction).

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
  /** Entries for the cleaned segment's .txnindex, in marker order. */
  readonly cleanedIndex: AbortedTxn[] = [];

  constructor(aborted: readonly AbortedTxn[]) {
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
    if (o === undefined) return false;
    o.lastObservedBatchOffset = lastOffset;
    return true;
  }

  /** A control batch (its marker: commit or abort; null when unreadable). */
  onMarker(producerId: number, lastOffset: number, commit: boolean | null): void {
    this.reach(lastOffset);
    if (commit !== false) return;
    const o = this.ongoing.get(producerId);
    if (o === undefined) return;
    this.ongoing.delete(producerId);
    if (o.lastObservedBatchOffset >= 0) this.cleanedIndex.push(o.txn);
  }
}
