// Offsets committed inside a transaction (TxnOffsetCommit), pending until the transaction ends (Kafka's
// GroupMetadata.pendingTransactionalOffsetCommits / OffsetMetadataManager.pendingTransactionalOffsets).
//
// A transactional producer's TxnOffsetCommit is appended to the group's partition of __consumer_offsets as
// one transactional batch (state-log.ts). From that append on, its offsets are pending for the producer id:
// OffsetFetch does not show them (with require_stable it answers UNSTABLE_OFFSET_COMMIT for those
// partitions), retention leaves them and their group alone, and a deletion of the group tombstones them too.
// The transaction coordinator ends the transaction by writing a marker (control batch) to every partition
// it touched; once the marker on an __consumer_offsets partition is replicated, the WriteTxnMarkers handler
// calls GroupCoordinator.completeTransaction(partition, producerId, commit), which ends them for every group
// of that partition: a commit moves each offset to the committed ones unless a newer record (a plain
// OffsetCommit appended after the transactional one) is there already; an abort drops them.
//
// They stay pending when the write that appended them failed to commit in time (the record is in the log,
// as a reload would find it): the marker decides, as it does in the log. A plain tombstone of a key drops the
// pending offsets of that key (Kafka's replay of a tombstone), so a reload and memory agree.
//
// The loader rebuilds the same state with the same rules (endTransaction below): transactional records go
// to pending per producer id, markers end them, what is pending at the end of the log stays pending.

import type { OffsetStore } from './offsets.js';
import type { OffsetAndMetadata } from './records.js';

export interface PendingOffset {
  topic: string;
  partition: number;
  value: OffsetAndMetadata;
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class PendingTxnOffsets {
  /** groupId -> producerId -> topic-partition -> offset. */
  private readonly byGroup = new Map<string, Map<number, Map<string, PendingOffset>>>();
  /** producerId -> the groups it has pending offsets in. */
  private readonly byProducer = new Map<number, Set<string>>();

  put(producerId: number, groupId: string, topic: string, partition: number, value: OffsetAndMetadata): void {
    let producers = this.byGroup.get(groupId);
    if (producers === undefined) {
      producers = new Map();
      this.byGroup.set(groupId, producers);
    }
    let offsets = producers.get(producerId);
    if (offsets === undefined) {
      offsets = new Map();
      producers.set(producerId, offsets);
    }
    offsets.set(keyOf(topic, partition), { topic, partition, value });
    let groups = this.byProducer.get(producerId);
    if (groups === undefined) {
      groups = new Set();
      this.byProducer.set(producerId, groups);
    }
    groups.add(groupId);
  }

  /** Removes one producer's pending offset (a transactional tombstone, which Samsa does not write). */
  remove(producerId: number, groupId: string, topic: string, partition: number): void {
    const offsets = this.byGroup.get(groupId)?.get(producerId);
    if (offsets === undefined) return;
    offsets.delete(keyOf(topic, partition));
    if (offsets.size === 0) this.forget(producerId, groupId);
  }

  /** Whether some open transaction has an offset of this topic-partition for the group. */
  has(groupId: string, topic: string, partition: number): boolean {
    const producers = this.byGroup.get(groupId);
    if (producers === undefined) return false;
    const key = keyOf(topic, partition);
    for (const offsets of producers.values()) if (offsets.has(key)) return true;
    return false;
  }

  hasGroup(groupId: string): boolean {
    return this.byGroup.has(groupId);
  }

  groupIds(): IterableIterator<string> {
    return this.byGroup.keys();
  }

  /** Every pending offset of the group, with its producer id. */
  all(groupId: string): (PendingOffset & { producerId: number })[] {
    const out: (PendingOffset & { producerId: number })[] = [];
    for (const [producerId, offsets] of this.byGroup.get(groupId) ?? []) {
      for (const o of offsets.values()) out.push({ ...o, producerId });
    }
    return out;
  }

  /** Removes and returns the producer's pending offsets in the groups `inScope` accepts. */
  take(producerId: number, inScope: (groupId: string) => boolean): Map<string, PendingOffset[]> {
    const out = new Map<string, PendingOffset[]>();
    for (const groupId of [...(this.byProducer.get(producerId) ?? [])]) {
      if (!inScope(groupId)) continue;
      out.set(groupId, [...(this.byGroup.get(groupId)?.get(producerId)?.values() ?? [])]);
      this.forget(producerId, groupId);
    }
    return out;
  }

  /** A plain tombstone of the key at recordOffset: every open transaction's older offset of it goes too. */
  deleteKey(groupId: string, topic: string, partition: number, recordOffset: number): void {
    const key = keyOf(topic, partition);
    for (const [producerId, offsets] of [...(this.byGroup.get(groupId) ?? [])]) {
      const o = offsets.get(key);
      if (o === undefined || o.value.recordOffset >= recordOffset) continue;
      offsets.delete(key);
      if (offsets.size === 0) this.forget(producerId, groupId);
    }
  }

  deleteGroup(groupId: string): void {
    for (const producerId of [...(this.byGroup.get(groupId)?.keys() ?? [])]) this.forget(producerId, groupId);
  }

  private forget(producerId: number, groupId: string): void {
    const producers = this.byGroup.get(groupId);
    producers?.delete(producerId);
    if (producers?.size === 0) this.byGroup.delete(groupId);
    const groups = this.byProducer.get(producerId);
    groups?.delete(groupId);
    if (groups?.size === 0) this.byProducer.delete(producerId);
  }
}

/**
 * Ends a producer's transaction for the groups `inScope` accepts (Kafka's completePendingTxnOffsetCommit):
 * commit -> each pending offset becomes the committed one unless the committed record is newer; abort -> they
 * are dropped. Returns the groups it touched. Used alike on live completions and while loading.
 */
export function endTransaction(
  committed: OffsetStore,
  pending: PendingTxnOffsets,
  producerId: number,
  commit: boolean,
  inScope: (groupId: string) => boolean,
): string[] {
  const ended = pending.take(producerId, inScope);
  if (commit) {
    for (const [groupId, offsets] of ended) {
      for (const o of offsets) committed.putIfNewer(groupId, o.topic, o.partition, o.value);
    }
  }
  return [...ended.keys()];
}
