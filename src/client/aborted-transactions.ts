// Which batches a read_committed reader drops, as Kafka's consumer decides it (CompletedFetch.nextFetchedRecord):
// a read_committed Fetch answer holds every batch below the last stable offset, aborted ones included, plus the
// list of aborted transactions (producer id, first offset) that overlap it. Walking the batches in offset order,
// a producer's transaction is aborted from its first offset until its abort marker; its transactional batches in
// between are dropped. Control batches (the markers themselves) are never delivered.
//
//   const aborted = new AbortedTransactions();              // one per partition
//   aborted.note(partitionData.abortedTransactions);
//   for (const { pos, header } of iterateBatches(records)) if (!aborted.skip(records, pos, header)) deliver(...);

import { type BatchHeader, isControl, isTransactional } from '../protocol/records.js';
import { parseTxnMarker } from '../storage/txn-markers.js';

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
}

export class AbortedTransactions {
  /** Aborted transactions listed by the broker that the walk has not reached yet, by first offset. */
  private pending: AbortedTxn[] = [];
  /** Producers whose transactional batches are aborted until their abort marker. */
  private readonly producers = new Set<number>();

  /**
   * Starts a Fetch answer's batches with its list of aborted transactions (null for read_uncommitted). As in Kafka's
   * consumer the state is per answer: the broker lists every aborted transaction overlapping the range it returns,
   * those begun before the fetch offset included.
   */
  note(list: readonly AbortedTxn[] | null): void {
    this.producers.clear();
    this.pending = (list ?? []).map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset }));
    this.pending.sort((x, y) => x.firstOffset - y.firstOffset);
  }

  /** True when the batch at pos is not delivered: a control batch, or a batch of an aborted transaction. */
  skip(buf: Buffer, pos: number, header: BatchHeader): boolean {
    const control = isControl(header.attributes);
    if (header.producerId < 0) return control;
    const last = header.baseOffset + header.lastOffsetDelta;
    while (this.pending.length > 0 && (this.pending[0] as AbortedTxn).firstOffset <= last) {
      this.producers.add((this.pending.shift() as AbortedTxn).producerId);
    }
    if (control) {
      const marker = parseTxnMarker(buf, pos);
      if (marker !== null && !marker.commit) this.producers.delete(header.producerId);
      return true;
    }
    return isTransactional(header.attributes) && this.producers.has(header.producerId);
  }
}
