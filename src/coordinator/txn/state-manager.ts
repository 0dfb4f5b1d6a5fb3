// Which partitions of __transaction_state this coordinator owns, the transactional ids of each, and the writes
// that move them (Kafka's TransactionStateManager). A transactional id belongs to partition
// partitionForTransactionalId(id); this broker coordinates it while it leads that partition, as the replica manager
// reports (LeadershipListener, wired in broker.ts). The coordinator epoch of a partition is its leader epoch.
//
// States per partition index:
//   (absent)  not owned here: requests for its ids get NOT_COORDINATOR.
//   Loading   this broker leads it at `epoch` and replays its log (last record per id wins, tombstones delete);
//             requests for its ids get COORDINATOR_LOAD_IN_PROGRESS.
//   Loaded    its ids are served; those found in PrepareCommit/PrepareAbort are handed to onLoaded, which resumes
//             sending their markers.
//
// onElection(p @ e) starts a load (an empty log is Loaded at once); a re-election at a newer epoch unloads and
// loads again, as Kafka does, so every write in flight from the old epoch completes as NOT_COORDINATOR and the
// markers of the old epoch stop. onResignation(p) unloads. A load that finishes after its partition was
// unloaded or re-elected is dropped.
//
// appendTransition() writes a prepared transition and, once committed, applies it, provided the id is still
// owned at the same coordinator epoch by the same metadata object; otherwise the caller gets NOT_COORDINATOR.
// A failed write clears the pending state (unless keepPending: the completion writes, retried until they succeed
// or the id moves) and maps the error as Kafka's appendTransactionToLog does.

import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import { clientWriteError } from '../group/state-log.js';
import type { TxnCoordinatorConfig } from './config.js';
import { partitionList, TransactionMetadata, type TxnTransit } from './metadata.js';
import { partitionForTransactionalId, type TxnLogValue, TxnState, transactionLogRecord } from './records.js';
import type { TxnStateLog, TxnTopicHost } from './state-log.js';

export interface ElectedPartition {
  index: number;
  leaderEpoch: number;
}

interface Owned {
  state: 'loading' | 'loaded';
  epoch: number;
  txns: Map<string, TransactionMetadata>;
  done: Promise<void>;
}

/** An id owned here: its partition's coordinator epoch and its metadata, if it has any. */
export interface OwnedId {
  index: number;
  coordinatorEpoch: number;
  txns: Map<string, TransactionMetadata>;
}

/**
 * Kafka's mapping of a failed state write to what clients are told (appendTransactionToLog): the group
 * coordinator's mapping, with a record too large reported as UNKNOWN_SERVER_ERROR.
 */
export function txnWriteError(errorCode: number): number {
  return clientWriteError(errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
}

export class TxnStateManager {
  private readonly owned = new Map<number, Owned>();
  active = false;

  constructor(
    private readonly host: TxnTopicHost,
    private readonly stateLog: TxnStateLog,
    private readonly config: TxnCoordinatorConfig,
    private readonly log: Logger,
    /** A partition finished loading: its ids in PrepareCommit/PrepareAbort need their markers. */
    private readonly onLoaded: (coordinatorEpoch: number, prepared: TransactionMetadata[]) => void,
  ) {}

  partitionCount(): number {
    const n = this.host.partitionCount();
    return n > 0 ? n : this.config.stateLogPartitions;
  }

  partitionFor(transactionalId: string): number {
    return partitionForTransactionalId(transactionalId, this.partitionCount());
  }

  /** The id's partition when it is Loaded here, else NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
  lookup(transactionalId: string): OwnedId | number {
    if (!this.active || this.host.partitionCount() === 0) return ErrorCode.NOT_COORDINATOR;
    const index = this.partitionFor(transactionalId);
    const o = this.owned.get(index);
    if (o === undefined) return ErrorCode.NOT_COORDINATOR;
    if (o.state === 'loading') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return { index, coordinatorEpoch: o.epoch, txns: o.txns };
  }

  /** Whether `md` is still the metadata of its id, owned here at coordinatorEpoch. */
  isCurrent(md: TransactionMetadata, coordinatorEpoch: number): boolean {
    const o = this.owned.get(this.partitionFor(md.transactionalId));
    return (
      this.active &&
      o !== undefined &&
      o.state === 'loaded' &&
      o.epoch === coordinatorEpoch &&
      o.txns.get(md.transactionalId) === md
    );
  }

  anyLoading(): boolean {
    for (const o of this.owned.values()) if (o.state === 'loading') return true;
    return false;
  }

  /** Every loaded id with its coordinator epoch. */
  *loaded(): Iterable<{ md: TransactionMetadata; coordinatorEpoch: number }> {
    for (const o of this.owned.values()) {
      if (o.state !== 'loaded') continue;
      for (const md of o.txns.values()) yield { md, coordinatorEpoch: o.epoch };
    }
  }

  /**
   * Writes `transit` (prepared on `md`) and applies it once committed. Resolves with NONE or the error for the
   * client (NOT_COORDINATOR when the id moved meanwhile).
   */
  async appendTransition(
    md: TransactionMetadata,
    coordinatorEpoch: number,
    transit: TxnTransit,
    opts: { keepPending?: boolean } = {},
  ): Promise<number> {
    const index = this.partitionFor(md.transactionalId);
    const now = transit.lastUpdateTimestamp;
    const value: TxnLogValue | null =
      transit.state === TxnState.Dead
        ? null
        : {
            producerId: transit.producerId,
            producerEpoch: transit.producerEpoch,
            transactionTimeoutMs: transit.timeoutMs,
            state: transit.state,
            partitions: partitionList(transit.partitions),
            lastUpdateTimestampMs: transit.lastUpdateTimestamp,
            startTimestampMs: transit.startTimestamp,
            previousProducerId: transit.prevProducerId,
            nextProducerId: transit.nextProducerId,
            clientTransactionVersion: transit.clientTransactionVersion,
          };
    // Kafka writes version 1 (the tagged TV2 fields) once the finalized transaction.version is 2.
    const record = transactionLogRecord(
      md.transactionalId,
      value,
      this.config.transactionVersion >= 2 ? 1 : 0,
    );
    const err = await this.stateLog.write(index, record, now);
    const current = this.isCurrent(md, coordinatorEpoch);
    if (err === ErrorCode.NONE) {
      if (!current) return ErrorCode.NOT_COORDINATOR;
      md.completeTransitionTo(transit);
      if (transit.state === TxnState.Dead) this.owned.get(index)?.txns.delete(md.transactionalId);
      return ErrorCode.NONE;
    }
    if (current && md.pendingState === transit.state && opts.keepPending !== true) md.pendingState = null;
    return txnWriteError(err);
  }

  // ---- ownership ---------------------------------------------------------------------------------

  /** Start-up: loads every partition this broker leads; resolves when all are loaded. */
  async loadLed(): Promise<void> {
    const elected: ElectedPartition[] = [];
    for (let i = 0; i < this.host.partitionCount(); i++) {
      const p = this.host.leaderPartition(i);
      if (p !== undefined) elected.push({ index: i, leaderEpoch: p.leaderEpoch });
    }
    this.onElection(elected);
    await Promise.all([...this.owned.values()].map((o) => o.done));
  }

  onElection(partitions: readonly ElectedPartition[]): void {
    if (!this.active) return;
    for (const { index, leaderEpoch } of partitions) {
      const o = this.owned.get(index);
      if (o !== undefined) {
        if (leaderEpoch <= o.epoch) continue;
        this.unload(index, 'a new leader epoch');
      }
      const partition = this.host.leaderPartition(index);
      if (partition === undefined) continue;
      const own: Owned = { state: 'loading', epoch: leaderEpoch, txns: new Map(), done: Promise.resolve() };
      this.owned.set(index, own);
      if (partition.log.logStartOffset >= partition.log.logEndOffset) {
        own.state = 'loaded';
        continue;
      }
      own.done = this.load(index, own);
    }
  }

  onResignation(partitions: readonly ElectedPartition[]): void {
    for (const { index } of partitions) {
      if (this.owned.has(index) && this.host.leaderPartition(index) === undefined)
        this.unload(index, 'resigned');
    }
  }

  stop(): void {
    this.active = false;
    this.owned.clear();
  }

  private unload(index: number, why: string): void {
    const o = this.owned.get(index);
    if (o === undefined) return;
    this.owned.delete(index);
    this.log.info('unloaded transactional ids of a transaction state partition', {
      partition: index,
      coordinatorEpoch: o.epoch,
      transactionalIds: o.txns.size,
      why,
    });
  }

  private async load(index: number, own: Owned): Promise<void> {
    const began = Date.now();
    const partition = this.host.leaderPartition(index);
    if (partition === undefined) return;
    const current = (): boolean => this.active && this.owned.get(index) === own;
    const values = new Map<string, TxnLogValue | null>();
    let result: { records: number; complete: boolean };
    try {
      result = await this.stateLog.replay(
        partition,
        (rec) => {
          if (rec.kind === 'txn') values.set(rec.transactionalId, rec.value);
        },
        current,
      );
    } catch (err) {
      this.log.error('loading a transaction state partition failed', { partition: index, error: err });
      result = { records: 0, complete: false };
    }
    if (!current()) return;
    if (!result.complete) {
      this.owned.delete(index);
      this.log.error(
        'transaction state partition not loaded: its ids are not served until it is elected again',
        {
          partition: index,
          coordinatorEpoch: own.epoch,
        },
      );
      return;
    }
    const prepared: TransactionMetadata[] = [];
    for (const [id, v] of values) {
      if (v === null || v.state === TxnState.Dead || v.state === TxnState.PrepareEpochFence) continue;
      const md = new TransactionMetadata(
        id,
        v.producerId,
        v.producerEpoch,
        v.transactionTimeoutMs,
        v.state,
        v.lastUpdateTimestampMs,
      );
      md.startTimestamp = v.startTimestampMs;
      md.prevProducerId = v.previousProducerId ?? -1;
      md.nextProducerId = v.nextProducerId ?? -1;
      md.clientTransactionVersion = v.clientTransactionVersion ?? 0;
      for (const { topic, partitionIds } of v.partitions) md.partitions.set(topic, new Set(partitionIds));
      own.txns.set(id, md);
      if (v.state === TxnState.PrepareCommit || v.state === TxnState.PrepareAbort) prepared.push(md);
    }
    own.state = 'loaded';
    this.log.info('loaded transactional ids of a transaction state partition', {
      partition: index,
      coordinatorEpoch: own.epoch,
      records: result.records,
      transactionalIds: own.txns.size,
      pendingCompletion: prepared.length,
      ms: Date.now() - began,
    });
    if (prepared.length > 0) this.onLoaded(own.epoch, prepared);
  }
}
