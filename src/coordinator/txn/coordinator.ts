// The transaction coordinator of this broker (Kafka's TransactionCoordinator, transaction versions 1 and 2): the
// single owner of the transactional ids of the __transaction_state partitions this broker leads. The state machine
// of an id is in metadata.ts, ownership and the state writes in state-manager.ts, the durable records in
// state-log.ts and records.ts, the markers in markers.ts, EndTxn's and the verification's decisions in end-txn.ts.
// Transaction version 2 (KIP-890 part 2, EndTxn v5): every end bumps the epoch (the markers carry the new one), the
// partition leaders add the partitions (AddPartitionsToTxn v5 / a direct call, src/broker/txn-verification.ts).
//
// Every transition is written to __transaction_state and committed (acks=all, the high watermark passed it)
// before the request that caused it is answered; meanwhile the id is pending and other requests for it get
// CONCURRENT_TRANSACTIONS (retriable). The flows:
//   InitProducerId   Empty/Complete* -> Empty at epoch + 1 (a new producer id when the epoch is exhausted);
//                    Ongoing -> PrepareAbort at epoch + 1 (the old producer is fenced), answered
//                    CONCURRENT_TRANSACTIONS: the producer asks again once the abort is complete and then gets
//                    epoch + 2; Prepare* -> CONCURRENT_TRANSACTIONS.
//   AddPartitionsToTxn / AddOffsetsToTxn   Empty/Complete*/Ongoing -> Ongoing with the partitions added (an
//                    AddOffsetsToTxn adds the group's __consumer_offsets partition).
//   EndTxn           Ongoing -> PrepareCommit/PrepareAbort; answered once written; then the markers go to every
//                    partition (markers.ts) and, once all are written, Complete* is written. A retried EndTxn of
//                    a completed transaction with the same outcome answers NONE.
//   timeouts         every transaction.abort.timed.out.transaction.cleanup.interval.ms, an Ongoing transaction
//                    older than its timeout is aborted with the epoch bumped (the zombie producer is fenced).
//   expiration       every transaction.remove.expired.transaction.cleanup.interval.ms, an id without a transaction
//                    whose last update is older than transactional.id.expiration.ms gets a tombstone (Dead) and
//                    leaves memory.
//   load             a partition this broker starts to lead is replayed; its ids in Prepare* resume their markers.
// Errors as Kafka's: INVALID_PRODUCER_ID_MAPPING (unknown id, or another producer id), PRODUCER_FENCED (another
// epoch; handlers turn it into INVALID_PRODUCER_EPOCH for old request versions), INVALID_TXN_STATE (EndTxn that
// does not fit the state), INVALID_TRANSACTION_TIMEOUT, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// COORDINATOR_NOT_AVAILABLE (the state write failed or timed out).

import { setTimeout as sleep } from 'node:timers/promises';
import type { BrokerConfig } from '../../config/broker-config.js';
import * as limits from '../../limits.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import { type TxnCoordinatorConfig, txnCoordinatorConfig } from './config.js';
import { checkProducer, decideEndV1, decideEndV2, validProducerId, verifyPartitions } from './end-txn.js';
import { type MarkerHost, TxnMarkerChannel } from './markers.js';
import {
  copyPartitions,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  partitionCount,
  partitionList,
  TransactionMetadata,
  type TxnPartitions,
  type TxnTransit,
} from './metadata.js';
import {
  partitionForTransactionalId,
  stateByName,
  stateName,
  TRANSACTION_STATE_TOPIC,
  TxnState,
  type TxnTopicPartitions,
} from './records.js';
import { TxnStateLog, type TxnTopicHost } from './state-log.js';
import { type ElectedPartition, type OwnedId, TxnStateManager } from './state-manager.js';

/** What the coordinator needs of the broker. */
export interface TxnCoordinatorHost extends TxnTopicHost, MarkerHost {
  /** A new producer id (persisted blocks, producer-ids.ts); throws when none can be allocated. */
  nextProducerId(): Promise<number>;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export interface EndTxnResult {
  errorCode: number;
  /** The producer id and epoch to continue with (EndTxn v5), -1 on error. */
  producerId: number;
  producerEpoch: number;
}

export interface TxnDescription {
  errorCode: number;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: number;
  producerId: number;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

export interface TxnListing {
  errorCode: number;
  unknownStateFilters: string[];
  transactionStates: { transactionalId: string; producerId: number; transactionState: string }[];
}

type InitDecision = number | 'need-id' | { md: TransactionMetadata; transit: TxnTransit; fence: boolean };

function initFailed(errorCode: number): InitProducerIdResult {
  return { errorCode, producerId: -1, producerEpoch: -1 };
}

export class TransactionCoordinator {
  readonly config: TxnCoordinatorConfig;
  readonly state: TxnStateManager;
  readonly markers: TxnMarkerChannel;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    brokerConfig: BrokerConfig,
    nodeId: number,
    private readonly host: TxnCoordinatorHost,
    readonly log: Logger,
  ) {
    this.config = txnCoordinatorConfig(brokerConfig, limits.transactionLogWriteTimeoutMs);
    const stateLog = new TxnStateLog(host, this.config, log);
    this.state = new TxnStateManager(host, stateLog, this.config, log, (epoch, prepared) => {
      for (const md of prepared) this.sendMarkers(md, epoch);
    });
    this.markers = new TxnMarkerChannel(host, nodeId, log.child('markers'));
  }

  // ---- life cycle and ownership ------------------------------------------------------------------

  async start(): Promise<void> {
    this.state.active = true;
    const every = (ms: number, fn: (now: number) => void): void => {
      const t = setInterval(() => fn(Date.now()), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.config.abortTimedOutIntervalMs, (now) => this.abortTimedOutTransactions(now));
    every(this.config.removeExpiredIntervalMs, (now) => this.removeExpiredTransactionalIds(now));
    await this.state.loadLed();
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.markers.stop();
    this.state.stop();
  }

  onElection(partitions: readonly ElectedPartition[]): void {
    this.state.onElection(partitions);
  }

  onResignation(partitions: readonly ElectedPartition[]): void {
    this.state.onResignation(partitions);
  }

  /**
   * Where a transactional id's coordinator is, for a partition leader that must reach it (KIP-890): 'local', a
   * broker's inter-broker endpoint, or COORDINATOR_NOT_AVAILABLE (no __transaction_state yet, no live leader).
   */
  locate(transactionalId: string): 'local' | { brokerId: number; host: string; port: number } | number {
    const count = this.host.partitionCount();
    if (count === 0) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const index = partitionForTransactionalId(transactionalId, count);
    if (this.host.leaderPartition(index) !== undefined) return 'local';
    const leader = this.host.leaderOf(TRANSACTION_STATE_TOPIC, index);
    if (leader === null || leader < 0) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const ep = this.host.endpoint(leader);
    return ep === undefined ? ErrorCode.COORDINATOR_NOT_AVAILABLE : { brokerId: leader, ...ep };
  }

  validTimeout(timeoutMs: number): boolean {
    return timeoutMs > 0 && timeoutMs <= this.config.maxTimeoutMs;
  }

  // ---- InitProducerId ----------------------------------------------------------------------------

  /**
   * InitProducerId with a transactional id. `expected` is the producer's current id and epoch (v3+, KIP-360),
   * null for a new producer.
   */
  async initProducerId(
    transactionalId: string,
    timeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null,
  ): Promise<InitProducerIdResult> {
    if (transactionalId === '') return initFailed(ErrorCode.INVALID_REQUEST);
    if (!this.validTimeout(timeoutMs)) return initFailed(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    if (this.host.partitionCount() === 0) {
      const err = await this.host.createTopic();
      if (err !== ErrorCode.NONE) return initFailed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
    let spareId: number | null = null;
    for (;;) {
      const owned = this.state.lookup(transactionalId);
      if (typeof owned === 'number') return initFailed(owned);
      const decision = this.decideInit(owned, transactionalId, timeoutMs, expected, spareId, Date.now());
      if (decision === 'need-id') {
        try {
          spareId = await this.host.nextProducerId();
        } catch (err) {
          this.log.error('could not allocate a producer id', { error: err });
          return initFailed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        }
        continue;
      }
      if (typeof decision === 'number') return initFailed(decision);
      const { md, transit, fence } = decision;
      const err = await this.state.appendTransition(md, owned.coordinatorEpoch, transit);
      if (err !== ErrorCode.NONE) return initFailed(err);
      if (fence) {
        // The open transaction of the previous producer is aborted first; the new one asks again.
        this.log.info('fencing the producer of an open transaction: aborting it', {
          transactionalId,
          producerId: md.producerId,
          producerEpoch: md.producerEpoch,
        });
        this.sendMarkers(md, owned.coordinatorEpoch);
        return initFailed(ErrorCode.CONCURRENT_TRANSACTIONS);
      }
      return {
        errorCode: ErrorCode.NONE,
        producerId: transit.producerId,
        producerEpoch: transit.producerEpoch,
      };
    }
  }

  /** Kafka's prepareInitProducerIdTransit, synchronous: an error, a transition, or 'need-id' (await one, retry). */
  private decideInit(
    owned: OwnedId,
    transactionalId: string,
    timeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null,
    spareId: number | null,
    now: number,
  ): InitDecision {
    let md = owned.txns.get(transactionalId);
    if (md === undefined) {
      if (spareId === null) return 'need-id';
      md = new TransactionMetadata(
        transactionalId,
        spareId,
        NO_PRODUCER_EPOCH,
        timeoutMs,
        TxnState.Empty,
        now,
      );
      owned.txns.set(transactionalId, md);
      spareId = null;
    }
    if (md.pending) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (expected !== null && !validProducerId(md, expected)) return ErrorCode.PRODUCER_FENCED;
    switch (md.state) {
      case TxnState.Empty:
      case TxnState.CompleteCommit:
      case TxnState.CompleteAbort: {
        if (
          md.isProducerEpochExhausted() &&
          (expected === null || expected.producerEpoch === md.producerEpoch)
        ) {
          if (spareId === null) return 'need-id';
          return {
            md,
            transit: md.prepareProducerIdRotation(spareId, timeoutMs, now, expected !== null),
            fence: false,
          };
        }
        const t = md.prepareIncrementProducerEpoch(timeoutMs, expected?.producerEpoch ?? null, now);
        if (t === 'fenced') return ErrorCode.PRODUCER_FENCED;
        return { md, transit: t, fence: false };
      }
      case TxnState.Ongoing:
        return { md, transit: md.prepareAbortOrCommit(false, now, true), fence: true };
      default:
        return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ------------------------------------------------------

  /** Adds partitions to the producer's transaction (opening it); resolves with an error code for all of them. */
  async addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: TxnPartitions,
    clientTransactionVersion = 0,
  ): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const owned = this.state.lookup(transactionalId);
    if (typeof owned === 'number') return owned;
    const md = owned.txns.get(transactionalId);
    const err = checkProducer(md, producerId, producerEpoch);
    if (err !== ErrorCode.NONE || md === undefined) return err;
    if (md.pending) return ErrorCode.CONCURRENT_TRANSACTIONS;
    switch (md.state) {
      case TxnState.PrepareCommit:
      case TxnState.PrepareAbort:
      case TxnState.Dead:
      case TxnState.PrepareEpochFence:
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      case TxnState.Ongoing:
        if (md.hasAll(partitions)) return ErrorCode.NONE;
        break;
      default:
        break;
    }
    if (partitionCount(md.partitions) + partitionCount(partitions) > limits.txnPartitionsPerTransactionMax) {
      this.log.warn('transaction refused: too many partitions', {
        transactionalId,
        max: limits.txnPartitionsPerTransactionMax,
      });
      return ErrorCode.INVALID_REQUEST;
    }
    const transit = md.prepareAddPartitions(partitions, Date.now(), clientTransactionVersion);
    return this.state.appendTransition(md, owned.coordinatorEpoch, transit);
  }

  /**
   * AddPartitionsToTxn v4+ verifyOnly, a partition leader checking a transactional produce (KIP-890 part 1):
   * one error code for every partition, or a code per partition (end-txn.ts).
   */
  verifyPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: TxnPartitions,
  ): number | Map<string, Map<number, number>> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const owned = this.state.lookup(transactionalId);
    if (typeof owned === 'number') return owned;
    return verifyPartitions(owned.txns.get(transactionalId), producerId, producerEpoch, partitions);
  }

  // ---- EndTxn ----------------------------------------------------------------------------------

  /**
   * EndTxn: `clientTransactionVersion` 2 (EndTxn v5) bumps the epoch (end-txn.ts). Resolves with the error and,
   * on success, the producer id and epoch the producer continues with (v5's response; v0-4 ignore them).
   */
  async endTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    clientTransactionVersion = 0,
  ): Promise<EndTxnResult> {
    const failed = (errorCode: number): EndTxnResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (transactionalId === '') return failed(ErrorCode.INVALID_REQUEST);
    const v2 = clientTransactionVersion >= 2;
    let nextId = NO_PRODUCER_ID;
    for (;;) {
      const owned = this.state.lookup(transactionalId);
      if (typeof owned === 'number') return failed(owned);
      const md = owned.txns.get(transactionalId);
      const decision = (v2 ? decideEndV2 : decideEndV1)(md, producerId, producerEpoch, commit);
      if (decision.kind === 'error') {
        if (decision.errorCode === ErrorCode.INVALID_TXN_STATE && md !== undefined)
          this.invalidEnd(md, commit);
        return failed(decision.errorCode);
      }
      if (md === undefined) return failed(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      if (decision.kind === 'done') return { errorCode: ErrorCode.NONE, ...md.continuation() };
      if (v2 && decision.newId && nextId === NO_PRODUCER_ID) {
        try {
          nextId = await this.host.nextProducerId();
        } catch (err) {
          this.log.error('could not allocate a producer id', { error: err });
          return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        }
        continue; // the state may have moved meanwhile: decide again
      }
      if (!this.markers.hasRoom(partitionCount(md.partitions)))
        return failed(ErrorCode.CONCURRENT_TRANSACTIONS);
      const now = Date.now();
      const transit = v2
        ? md.prepareEndV2(commit, now, decision.newId ? nextId : NO_PRODUCER_ID)
        : md.prepareAbortOrCommit(commit, now);
      const err = await this.prepareAndSend(md, owned.coordinatorEpoch, transit);
      if (err !== ErrorCode.NONE) return failed(err);
      return {
        errorCode: ErrorCode.NONE,
        ...(transit.nextProducerId >= 0
          ? { producerId: transit.nextProducerId, producerEpoch: 0 }
          : { producerId: transit.producerId, producerEpoch: transit.producerEpoch }),
      };
    }
  }

  private invalidEnd(md: TransactionMetadata, commit: boolean): void {
    this.log.debug('EndTxn does not fit the transaction state', {
      transactionalId: md.transactionalId,
      state: stateName(md.state),
      commit,
    });
  }

  /** Writes PrepareCommit/PrepareAbort; once committed, the markers go out. */
  private async prepareAndSend(
    md: TransactionMetadata,
    coordinatorEpoch: number,
    transit: TxnTransit,
  ): Promise<number> {
    const err = await this.state.appendTransition(md, coordinatorEpoch, transit);
    if (err === ErrorCode.NONE) this.sendMarkers(md, coordinatorEpoch);
    return err;
  }

  /** `md` is in PrepareCommit/PrepareAbort (committed): send its markers, then write Complete*. */
  private sendMarkers(md: TransactionMetadata, coordinatorEpoch: number): void {
    if (md.pending) {
      // Another completion of this very transaction is under way (cannot happen: one path calls this per write).
      this.log.error('transaction markers already being sent', { transactionalId: md.transactionalId });
      return;
    }
    const complete = md.prepareComplete(Date.now());
    this.markers.add({
      transactionalId: md.transactionalId,
      producerId: md.producerId,
      producerEpoch: md.producerEpoch,
      coordinatorEpoch,
      commit: md.state === TxnState.PrepareCommit,
      transactionVersion: md.clientTransactionVersion,
      remaining: copyPartitions(md.partitions),
      valid: () => this.state.isCurrent(md, coordinatorEpoch) && md.pendingState === complete.state,
      onDone: () =>
        this.background('completing a transaction', this.writeComplete(md, coordinatorEpoch, complete)),
    });
  }

  /**
   * Writes Complete*, again after a backoff while the write fails and this coordinator still owns the id (Kafka
   * retries only COORDINATOR_NOT_AVAILABLE; any other failure would leave the id in Prepare* until it moves).
   */
  private async writeComplete(
    md: TransactionMetadata,
    coordinatorEpoch: number,
    transit: TxnTransit,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (!this.state.isCurrent(md, coordinatorEpoch) || md.pendingState !== transit.state) return;
      const err = await this.state.appendTransition(md, coordinatorEpoch, transit, { keepPending: true });
      if (err === ErrorCode.NONE) {
        this.log.debug('transaction completed', {
          transactionalId: md.transactionalId,
          state: stateName(transit.state),
          producerId: md.producerId,
          producerEpoch: md.producerEpoch,
        });
        return;
      }
      if (attempt === 1 || attempt % 50 === 0) {
        this.log.warn('could not write the completion of a transaction; retrying', {
          transactionalId: md.transactionalId,
          errorCode: err,
          attempt,
        });
      }
      await sleep(limits.txnMarkerRetryBackoffMs, undefined, { ref: false });
    }
  }

  /** Work nobody awaits: a bug in it is logged, never an unhandled rejection that would stop the broker. */
  private background(what: string, p: Promise<unknown>): void {
    p.catch((err: unknown) => this.log.error(`${what} failed`, { error: err }));
  }

  // ---- timeouts and expiration -------------------------------------------------------------------

  /** Aborts every Ongoing transaction past its timeout, fencing its producer (Kafka's abortTimedOutTransactions). */
  abortTimedOutTransactions(now: number): void {
    for (const { md, coordinatorEpoch } of [...this.state.loaded()]) {
      if (md.state !== TxnState.Ongoing || md.pending || md.startTimestamp + md.timeoutMs >= now) continue;
      this.log.info('aborting a transaction past its timeout', {
        transactionalId: md.transactionalId,
        producerId: md.producerId,
        producerEpoch: md.producerEpoch,
        timeoutMs: md.timeoutMs,
        startedMsAgo: now - md.startTimestamp,
      });
      const abort = md.prepareAbortOrCommit(false, now, true);
      this.background(
        'aborting a timed-out transaction',
        this.prepareAndSend(md, coordinatorEpoch, abort).then((err) => {
          if (err !== ErrorCode.NONE) {
            this.log.warn('could not abort a timed-out transaction; trying again later', {
              transactionalId: md.transactionalId,
              errorCode: err,
            });
          }
        }),
      );
    }
  }

  /** Writes a tombstone for every id idle past transactional.id.expiration.ms (Kafka's removeExpiredTransactionalIds). */
  removeExpiredTransactionalIds(now: number): void {
    for (const { md, coordinatorEpoch } of [...this.state.loaded()]) {
      const idle =
        md.state === TxnState.Empty ||
        md.state === TxnState.CompleteCommit ||
        md.state === TxnState.CompleteAbort;
      if (!idle || md.pending || md.lastUpdateTimestamp + this.config.idExpirationMs > now) continue;
      const dead = md.prepareDead(now);
      this.background(
        'expiring a transactional id',
        this.state.appendTransition(md, coordinatorEpoch, dead).then((err) => {
          this.log[err === ErrorCode.NONE ? 'info' : 'warn'](
            err === ErrorCode.NONE ? 'transactional id expired' : 'could not expire a transactional id',
            { transactionalId: md.transactionalId, producerId: md.producerId, errorCode: err },
          );
        }),
      );
    }
  }

  // ---- DescribeTransactions / ListTransactions ---------------------------------------------------

  describe(transactionalId: string): TxnDescription {
    const out: TxnDescription = {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: -1,
      producerId: -1,
      producerEpoch: -1,
      topics: [],
    };
    const owned = this.state.lookup(transactionalId);
    if (typeof owned === 'number') return { ...out, errorCode: owned };
    const md = owned.txns.get(transactionalId);
    if (md === undefined || md.state === TxnState.Dead) {
      return { ...out, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
    }
    return {
      ...out,
      transactionState: stateName(md.state),
      transactionTimeoutMs: md.timeoutMs,
      transactionStartTimeMs: md.startTimestamp,
      producerId: md.producerId,
      producerEpoch: md.producerEpoch,
      topics: partitionList(md.partitions).map((p: TxnTopicPartitions) => ({
        topic: p.topic,
        partitions: p.partitionIds,
      })),
    };
  }

  list(
    stateFilters: readonly string[],
    producerIdFilters: readonly number[],
    durationFilterMs: number,
  ): TxnListing {
    if (this.state.anyLoading()) {
      return {
        errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        unknownStateFilters: [],
        transactionStates: [],
      };
    }
    const states = new Set<TxnState>();
    const unknownStateFilters: string[] = [];
    for (const name of stateFilters) {
      const s = stateByName(name);
      if (s === undefined) unknownStateFilters.push(name);
      else states.add(s);
    }
    const pids = new Set(producerIdFilters);
    const now = Date.now();
    const transactionStates: TxnListing['transactionStates'] = [];
    for (const { md } of this.state.loaded()) {
      if (md.state === TxnState.Dead) continue;
      if (pids.size > 0 && !pids.has(md.producerId)) continue;
      if (states.size > 0 && !states.has(md.state)) continue;
      if (durationFilterMs >= 0 && now - md.startTimestamp <= durationFilterMs) continue;
      transactionStates.push({
        transactionalId: md.transactionalId,
        producerId: md.producerId,
        transactionState: stateName(md.state),
      });
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  }
}
