// One transactional id's state (Kafka's TransactionMetadata) and its state machine.
//
//   Empty           a producer id and epoch are assigned (InitProducerId), no transaction is open.
//   Ongoing         partitions were added (AddPartitionsToTxn / AddOffsetsToTxn): a transaction is open since
//                   startTimestamp; more partitions may join it.
//   PrepareCommit   EndTxn(commit) was written: the outcome is decided; markers go to every partition.
//   PrepareAbort    EndTxn(abort), a timed-out transaction aborted by the coordinator, or a new producer fencing
//                   an open transaction (the abort then carries the epoch bumped by one, so the old producer is
//                   fenced at the partitions too).
//   CompleteCommit  every partition has its marker; the transaction is over.
//   CompleteAbort
//   Dead            the transactional id expired (tombstone written); it leaves memory.
//   PrepareEpochFence  Kafka's transient state on the way from Ongoing to a fencing PrepareAbort; never written.
//
// Valid moves (to <- from): Empty <- Empty, Complete*; Ongoing <- Ongoing, Empty, Complete*;
// PrepareCommit <- Ongoing; PrepareAbort <- Ongoing, PrepareEpochFence (and, transaction version 2 only, Empty
// and Complete*: an abort of a transaction that added no partition); CompleteCommit <- PrepareCommit;
// CompleteAbort <- PrepareAbort; Dead <- Empty, Complete*.
//
// A transition is two steps, as in Kafka: prepare* computes the next state (a TxnTransit) and marks the id as
// pending (pendingState: every other request gets CONCURRENT_TRANSACTIONS meanwhile); once the record is
// committed to __transaction_state, completeTransitionTo applies it (or the failed write clears pendingState).
// One event loop owns all of it: no await happens between a check and the prepare that follows it.
//
// Transaction version 2 (KIP-890 part 2, clientTransactionVersion 2): EndTxn bumps the epoch as it writes
// PrepareCommit/PrepareAbort, so the markers carry the new epoch and a late write of the finished transaction is
// fenced; when the bump would exhaust the epoch, a new producer id (nextProducerId) takes over at epoch 0 once the
// transaction is complete.

import { TxnState, type TxnTopicPartitions } from './records.js';

/** Kafka's RecordBatch.NO_PRODUCER_EPOCH / NO_PRODUCER_ID. */
export const NO_PRODUCER_EPOCH = -1;
export const NO_PRODUCER_ID = -1;
/** Short.MAX_VALUE: epochs are int16. */
export const EPOCH_MAX = 32767;

const VALID_PREVIOUS: Record<TxnState, readonly TxnState[]> = {
  [TxnState.Empty]: [TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.Ongoing]: [TxnState.Ongoing, TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.PrepareCommit]: [TxnState.Ongoing],
  [TxnState.PrepareAbort]: [
    TxnState.Ongoing,
    TxnState.PrepareEpochFence,
    TxnState.Empty,
    TxnState.CompleteCommit,
    TxnState.CompleteAbort,
  ],
  [TxnState.CompleteCommit]: [TxnState.PrepareCommit],
  [TxnState.CompleteAbort]: [TxnState.PrepareAbort],
  [TxnState.Dead]: [TxnState.Empty, TxnState.CompleteAbort, TxnState.CompleteCommit],
  [TxnState.PrepareEpochFence]: [TxnState.Ongoing],
};

/** Partitions of a transaction, by topic. */
export type TxnPartitions = Map<string, Set<number>>;

/** The state a transition leads to (Kafka's TxnTransitMetadata). */
export interface TxnTransit {
  producerId: number;
  prevProducerId: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: TxnPartitions;
  startTimestamp: number;
  lastUpdateTimestamp: number;
  /** The producer id that replaces producerId once an epoch-exhausting transaction completes (TV2), else -1. */
  nextProducerId: number;
  /** The transaction version of the client's last request (0/1: KIP-890 part 1 at most, 2: epoch bump per end). */
  clientTransactionVersion: number;
}

/** An epoch at which a new producer id is handed out instead of a bump (Kafka's isEpochExhausted). */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= EPOCH_MAX - 1;
}

export function copyPartitions(p: TxnPartitions): TxnPartitions {
  const out: TxnPartitions = new Map();
  for (const [topic, set] of p) out.set(topic, new Set(set));
  return out;
}

export function partitionCount(p: TxnPartitions): number {
  let n = 0;
  for (const set of p.values()) n += set.size;
  return n;
}

export function partitionList(p: TxnPartitions): TxnTopicPartitions[] {
  return [...p].map(([topic, set]) => ({ topic, partitionIds: [...set].sort((a, b) => a - b) }));
}

export class IllegalTxnTransition extends Error {}

export class TransactionMetadata {
  prevProducerId = NO_PRODUCER_ID;
  lastProducerEpoch = NO_PRODUCER_EPOCH;
  partitions: TxnPartitions = new Map();
  /** When the open transaction began (the first AddPartitions after Empty/Complete*), else -1. */
  startTimestamp = -1;
  /** The state a write in flight leads to; null when none is. */
  pendingState: TxnState | null = null;
  nextProducerId = NO_PRODUCER_ID;
  clientTransactionVersion = 0;

  constructor(
    readonly transactionalId: string,
    public producerId: number,
    public producerEpoch: number,
    public timeoutMs: number,
    public state: TxnState,
    public lastUpdateTimestamp: number,
  ) {}

  get pending(): boolean {
    return this.pendingState !== null;
  }

  isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  /** Whether every partition given is already in the transaction. */
  hasAll(partitions: TxnPartitions): boolean {
    for (const [topic, set] of partitions) {
      const mine = this.partitions.get(topic);
      if (mine === undefined) return false;
      for (const p of set) if (!mine.has(p)) return false;
    }
    return true;
  }

  private transit(
    overrides: Partial<TxnTransit> & { state: TxnState; lastUpdateTimestamp: number },
  ): TxnTransit {
    if (this.pendingState !== null) {
      throw new IllegalTxnTransition(
        `${this.transactionalId}: a transition to ${overrides.state} while one to ${this.pendingState} is in flight`,
      );
    }
    if (!VALID_PREVIOUS[overrides.state].includes(this.state)) {
      throw new IllegalTxnTransition(
        `${this.transactionalId}: no transition from ${this.state} to ${overrides.state}`,
      );
    }
    const t: TxnTransit = {
      producerId: this.producerId,
      prevProducerId: this.prevProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      timeoutMs: this.timeoutMs,
      partitions: copyPartitions(this.partitions),
      startTimestamp: this.startTimestamp,
      nextProducerId: this.nextProducerId,
      clientTransactionVersion: this.clientTransactionVersion,
      ...overrides,
    };
    this.pendingState = t.state;
    return t;
  }

  /**
   * InitProducerId on Empty/Complete*: the epoch moves up by one (Kafka's prepareIncrementProducerEpoch). With
   * the producer's current id and epoch given (v3+), a retry of a bump that succeeded keeps the epoch; an older
   * epoch is fenced. Returns PRODUCER_FENCED's code or the transit.
   */
  prepareIncrementProducerEpoch(
    timeoutMs: number,
    expectedEpoch: number | null,
    now: number,
  ): TxnTransit | 'fenced' {
    const bumped = this.producerEpoch + 1;
    let next: number;
    let last: number;
    if (expectedEpoch === null) {
      next = bumped;
      last = NO_PRODUCER_EPOCH;
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedEpoch === this.producerEpoch) {
      next = bumped;
      last = this.producerEpoch;
    } else if (expectedEpoch === this.lastProducerEpoch) {
      next = this.producerEpoch;
      last = this.lastProducerEpoch;
    } else {
      return 'fenced';
    }
    return this.transit({
      state: TxnState.Empty,
      producerEpoch: next,
      lastProducerEpoch: last,
      timeoutMs,
      partitions: new Map(),
      startTimestamp: -1,
      lastUpdateTimestamp: now,
    });
  }

  /** InitProducerId when the epoch is exhausted: a new producer id at epoch 0 (Kafka's prepareProducerIdRotation). */
  prepareProducerIdRotation(
    newProducerId: number,
    timeoutMs: number,
    now: number,
    recordLastEpoch: boolean,
  ): TxnTransit {
    return this.transit({
      state: TxnState.Empty,
      producerId: newProducerId,
      prevProducerId: this.producerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      timeoutMs,
      partitions: new Map(),
      startTimestamp: -1,
      lastUpdateTimestamp: now,
    });
  }

  /** AddPartitionsToTxn / AddOffsetsToTxn: Ongoing, with the partitions added (the start time set when opening). */
  prepareAddPartitions(add: TxnPartitions, now: number, clientTransactionVersion = 0): TxnTransit {
    const partitions = copyPartitions(this.partitions);
    for (const [topic, set] of add) {
      const mine = partitions.get(topic) ?? new Set<number>();
      for (const p of set) mine.add(p);
      partitions.set(topic, mine);
    }
    const opening = this.state !== TxnState.Ongoing;
    return this.transit({
      state: TxnState.Ongoing,
      partitions,
      startTimestamp: opening ? now : this.startTimestamp,
      lastUpdateTimestamp: now,
      clientTransactionVersion,
    });
  }

  /**
   * EndTxn: PrepareCommit or PrepareAbort. `fence` (an abort the coordinator starts: timeout, or a new producer
   * taking the id over) bumps the epoch so the current producer is fenced (Kafka's prepareFenceProducerEpoch),
   * by two for a TV2 transaction.
   */
  prepareAbortOrCommit(commit: boolean, now: number, fence = false): TxnTransit {
    // A TV2 transaction's abort bumps once more (Kafka fences, then ends it as TV2 does): the fenced producer's
    // EndTxn at its old epoch is then no retry of this end (that would be one below the current epoch) but fenced.
    const bump = fence ? (this.clientTransactionVersion >= 2 ? 2 : 1) : 0;
    const epoch = Math.min(this.producerEpoch + bump, EPOCH_MAX);
    return this.transit({
      state: commit ? TxnState.PrepareCommit : TxnState.PrepareAbort,
      producerEpoch: epoch,
      lastProducerEpoch: fence ? NO_PRODUCER_EPOCH : this.lastProducerEpoch,
      lastUpdateTimestamp: now,
    });
  }

  /**
   * EndTxn v5 (transaction version 2): PrepareCommit/PrepareAbort at the epoch bumped by one, the markers are
   * written with it (Kafka's prepareAbortOrCommit with TV_2). `nextProducerId` (>= 0) when the bumped epoch is
   * exhausted: the id the producer continues with at epoch 0. An abort of a transaction that added no partition
   * (from Empty/Complete*) starts and ends now.
   */
  prepareEndV2(commit: boolean, now: number, nextProducerId: number): TxnTransit {
    const noPartitionAdded = this.state !== TxnState.Ongoing;
    return this.transit({
      state: commit ? TxnState.PrepareCommit : TxnState.PrepareAbort,
      producerEpoch: this.producerEpoch + 1,
      lastProducerEpoch: this.producerEpoch,
      nextProducerId,
      clientTransactionVersion: 2,
      partitions: noPartitionAdded ? new Map() : copyPartitions(this.partitions),
      startTimestamp: noPartitionAdded ? now : this.startTimestamp,
      lastUpdateTimestamp: now,
    });
  }

  /** The producer id and epoch a TV2 producer continues with once this (prepared or complete) end is done. */
  continuation(): { producerId: number; producerEpoch: number } {
    return this.nextProducerId >= 0
      ? { producerId: this.nextProducerId, producerEpoch: 0 }
      : { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  /** Every marker is written: CompleteCommit / CompleteAbort, no partitions left. */
  prepareComplete(now: number): TxnTransit {
    const commit = this.state === TxnState.PrepareCommit;
    // TV2 overflow: the new producer id takes over at epoch 0 (the old one stays as prevProducerId so a retried
    // EndTxn at the last epoch is recognized).
    const rotate = this.nextProducerId >= 0;
    return this.transit({
      state: commit ? TxnState.CompleteCommit : TxnState.CompleteAbort,
      partitions: new Map(),
      lastUpdateTimestamp: now,
      ...(rotate
        ? { producerId: this.nextProducerId, prevProducerId: this.producerId, producerEpoch: 0 }
        : {}),
      nextProducerId: NO_PRODUCER_ID,
    });
  }

  /** transactional.id.expiration.ms passed without a transaction: a tombstone is written. */
  prepareDead(now: number): TxnTransit {
    return this.transit({ state: TxnState.Dead, partitions: new Map(), lastUpdateTimestamp: now });
  }

  /** The record of `t` is committed: the state becomes it. */
  completeTransitionTo(t: TxnTransit): void {
    if (this.pendingState !== t.state) {
      throw new IllegalTxnTransition(
        `${this.transactionalId}: completing ${t.state} but the pending transition is ${this.pendingState}`,
      );
    }
    this.producerId = t.producerId;
    this.prevProducerId = t.prevProducerId;
    this.producerEpoch = t.producerEpoch;
    this.lastProducerEpoch = t.lastProducerEpoch;
    this.timeoutMs = t.timeoutMs;
    this.state = t.state;
    this.partitions = t.partitions;
    this.startTimestamp = t.startTimestamp;
    this.lastUpdateTimestamp = t.lastUpdateTimestamp;
    this.nextProducerId = t.nextProducerId;
    this.clientTransactionVersion = t.clientTransactionVersion;
    this.pendingState = null;
  }
}
