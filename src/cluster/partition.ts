// One partition replica hosted by this broker: its log and its place in the partition's replication
// (Kafka's Partition). The one layer that appends as leader, advances the high watermark and wakes what
// waits for it; handlers and coordinators call it and never move a high watermark themselves.
//
// States (set by the controller's LeaderAndIsr, or by the local controller on a single node):
//   leader    leaderId === this broker. Appends take offsets from the log end. Followers fetch with their
//             replica id; each fetch records how far that follower is (ReplicaState). The high watermark
//             is the smallest log end offset over the ISR (this broker included) and only moves forward.
//             A follower that has not caught up for replica.lag.time.max.ms leaves the ISR; one that
//             reaches the high watermark (and this leader's epoch start) rejoins. ISR changes are proposed
//             to the controller (AlterPartition) and take effect when it commits them; until then the
//             high watermark is computed over the larger of the two sets (Kafka's "maximal ISR").
//   follower  leaderId is another broker. The replica fetcher appends the leader's batches as they are
//             (offsets and epochs kept) and sets the high watermark the leader reports.
//   offline   no leader (-1): nothing is served.
//
// Wake-ups: appendWaiters fire when the log end moves (follower fetches park on it), hwWaiters when the high
// watermark moves (consumer fetches and acks=all produces park on it), and both fire on a leadership change
// so that parked requests re-check and answer NOT_LEADER_OR_FOLLOWER.

import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import type { AppendOptions, AppendResult, PartitionLog } from '../storage/partition-log.js';
import type { TxnMarkerInput } from '../storage/txn-markers.js';

/** A set of one-shot callbacks, fired (and cleared) together. */
export class Waiters {
  private readonly set = new Set<() => void>();

  add(fn: () => void): void {
    this.set.add(fn);
  }

  remove(fn: () => void): void {
    this.set.delete(fn);
  }

  get size(): number {
    return this.set.size;
  }

  fire(): void {
    if (this.set.size === 0) return;
    const fns = [...this.set];
    this.set.clear();
    for (const fn of fns) fn();
  }
}

/** What the controller decided for the partition (LeaderAndIsr's partition state). */
export interface LeaderAndIsrState {
  controllerEpoch: number;
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** The version of the partition's state in the controller's store (ZooKeeper's zkVersion). */
  partitionEpoch: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
  isNew: boolean;
}

/** The leader's view of one follower, updated by its fetches (Kafka's Replica). */
export class ReplicaState {
  logEndOffset = -1;
  logStartOffset = -1;
  /** When the follower last fetched up to the leader's log end as it was at the previous fetch. */
  lastCaughtUpTimeMs = 0;
  lastFetchTimeMs = 0;
  /** The leader's log end offset when the follower last fetched. */
  lastFetchLeaderLogEndOffset = -1;

  constructor(readonly brokerId: number) {}

  /** Kafka's Replica.updateFetchStateOrThrow: a follower is caught up when it reads to the leader's log end. */
  updateFetchState(
    fetchOffset: number,
    logStartOffset: number,
    now: number,
    leaderLogEndOffset: number,
  ): void {
    if (fetchOffset >= leaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, now);
    } else if (fetchOffset >= this.lastFetchLeaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, this.lastFetchTimeMs);
    }
    this.logEndOffset = fetchOffset;
    this.logStartOffset = logStartOffset;
    this.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
    this.lastFetchTimeMs = now;
  }

  /** A new leader epoch; keepOffsets when this broker led before it too (Kafka's isNewLeader = false). */
  reset(now: number, inIsr: boolean, keepOffsets = false): void {
    if (!keepOffsets) {
      this.logEndOffset = -1;
      this.logStartOffset = -1;
      this.lastFetchLeaderLogEndOffset = -1;
      this.lastFetchTimeMs = 0;
    }
    // Kafka gives ISR members a fresh caught-up time when a leader takes over, so they are not dropped
    // before they had a chance to fetch from it.
    this.lastCaughtUpTimeMs = inIsr ? now : 0;
  }
}

/** Proposes an ISR change to the controller; resolves with the committed state, or an error code. */
export type AlterIsr = (
  partition: Partition,
  newIsr: number[],
) => Promise<{ errorCode: number; state?: { leaderEpoch: number; isr: number[]; partitionEpoch: number } }>;

export interface PartitionEnv {
  localBrokerId: number;
  logger: Logger;
  /** replica.lag.time.max.ms */
  replicaLagTimeMaxMs: number;
  alterIsr: AlterIsr;
  /** Whether a broker is alive in the cluster (a dead one cannot join the ISR). */
  isBrokerAlive: (id: number) => boolean;
}

export class Partition {
  leaderId = -1;
  leaderEpoch = -1;
  partitionEpoch = -1;
  controllerEpoch = -1;
  replicas: number[] = [];
  /** The ISR as committed by the controller. */
  isr: number[] = [];
  /** An ISR change sent to the controller and not yet answered. */
  private pendingIsr: number[] | null = null;
  /** The log end offset when this broker became leader at the current epoch. */
  leaderEpochStartOffset = -1;
  private readonly remote = new Map<number, ReplicaState>();
  /** Fired when the log end offset moves (new data for followers). */
  readonly appendWaiters = new Waiters();
  /** Fired when the high watermark moves (new data for consumers, completed acks=all produces). */
  readonly hwWaiters = new Waiters();
  /** Set once the partition is removed from this broker (StopReplica, topic deleted). */
  removed = false;
  /**
   * Counts the times this broker stopped leading (became follower, or lost the partition). A write waiting for
   * the high watermark fails when it moved: its offset may since have been truncated and reused. A new leader
   * epoch alone (the controller shrank or grew the ISR, this broker still leads) does not move it.
   */
  private leadershipLosses = 0;

  constructor(
    readonly topic: string,
    readonly index: number,
    public topicId: string,
    readonly log: PartitionLog,
    private readonly env: PartitionEnv,
  ) {}

  get name(): string {
    return `${this.topic}-${this.index}`;
  }

  get isLeader(): boolean {
    return !this.removed && this.leaderId === this.env.localBrokerId;
  }

  /** The ISR that counts for the high watermark and acks=all: the committed one grown by a pending expansion. */
  get maximalIsr(): number[] {
    if (this.pendingIsr === null) return this.isr;
    return [...new Set([...this.isr, ...this.pendingIsr])];
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  replicaState(brokerId: number): ReplicaState | undefined {
    return this.remote.get(brokerId);
  }

  // ---- leadership ----------------------------------------------------------------------------

  /**
   * Applies a LeaderAndIsr state naming this broker leader. Returns true when this broker was not already
   * leader at this epoch. The epoch's start offset goes into the leader-epoch cache, so followers truncate
   * to it (OffsetForLeaderEpoch).
   */
  makeLeader(state: LeaderAndIsrState, now: number): boolean {
    const wasLeader = this.isLeader;
    const wasLeaderAtEpoch = wasLeader && this.leaderEpoch === state.leaderEpoch;
    this.applyState(state);
    if (!wasLeaderAtEpoch) {
      this.log.leaderEpochCache.assign(state.leaderEpoch, this.log.logEndOffset);
      this.leaderEpochStartOffset = this.log.logEndOffset;
      // As Kafka's Replica.resetReplicaState: a broker that takes over forgets what it knew of the followers; one
      // that keeps leading under a new epoch (an ISR change by the controller) keeps their log end offsets, so the
      // high watermark can move at once over the new ISR instead of waiting for every follower's next fetch.
      const known = wasLeader ? new Map(this.remote) : new Map<number, ReplicaState>();
      this.remote.clear();
      for (const id of state.replicas) {
        if (id === this.env.localBrokerId) continue;
        const r = known.get(id) ?? new ReplicaState(id);
        r.reset(now, state.isr.includes(id), known.has(id));
        this.remote.set(id, r);
      }
      this.env.logger.info('became leader', {
        partition: this.name,
        leaderEpoch: state.leaderEpoch,
        isr: state.isr,
        replicas: state.replicas,
        logEndOffset: this.log.logEndOffset,
        highWatermark: this.log.highWatermark,
      });
    } else {
      for (const id of state.replicas) {
        if (id !== this.env.localBrokerId && !this.remote.has(id)) {
          const r = new ReplicaState(id);
          r.reset(now, state.isr.includes(id));
          this.remote.set(id, r);
        }
      }
      for (const id of [...this.remote.keys()]) if (!state.replicas.includes(id)) this.remote.delete(id);
    }
    this.maybeIncrementHighWatermark();
    this.wakeAll();
    return !wasLeaderAtEpoch;
  }

  /** Applies a state naming another broker leader; true when the leader or epoch changed (refetch, truncate). */
  makeFollower(state: LeaderAndIsrState): boolean {
    const changed = this.leaderId !== state.leader || this.leaderEpoch !== state.leaderEpoch;
    const wasLeader = this.isLeader;
    if (wasLeader) this.leadershipLosses++;
    this.applyState(state);
    this.remote.clear();
    this.leaderEpochStartOffset = -1;
    if (changed) {
      this.env.logger.info(wasLeader ? 'leader became follower' : 'became follower', {
        partition: this.name,
        leader: state.leader,
        leaderEpoch: state.leaderEpoch,
        logEndOffset: this.log.logEndOffset,
      });
    }
    this.wakeAll();
    return changed;
  }

  private applyState(state: LeaderAndIsrState): void {
    this.leaderId = state.leader;
    this.leaderEpoch = state.leaderEpoch;
    this.partitionEpoch = state.partitionEpoch;
    this.controllerEpoch = state.controllerEpoch;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    this.pendingIsr = null;
  }

  /** Wakes every parked request so it re-checks leadership and offsets. */
  wakeAll(): void {
    this.appendWaiters.fire();
    this.hwWaiters.fire();
  }

  /** The partition leaves this broker: parked requests wake and find it gone. */
  markRemoved(): void {
    this.removed = true;
    this.leadershipLosses++;
    this.wakeAll();
  }

  // ---- appends ---------------------------------------------------------------------------------

  /**
   * Appends a producer's (or a coordinator's) batch as leader. acks=all is refused before the append when the
   * ISR is smaller than min.insync.replicas (NOT_ENOUGH_REPLICAS). The caller waits for the high watermark
   * (waitForHighWatermark) when it needs the write committed.
   */
  appendAsLeader(
    records: Buffer,
    requiredAcks: number,
    minInsyncReplicas: number,
    now: number,
    opts: AppendOptions = {},
  ): AppendResult {
    return (
      this.refuseLeaderAppend(requiredAcks, minInsyncReplicas) ??
      this.appendedAsLeader(this.log.append(records, this.leaderEpoch, now, opts))
    );
  }

  /**
   * Appends a transaction marker as leader (WriteTxnMarkers), acks=all: NOT_ENOUGH_REPLICAS when the ISR is
   * below min.insync.replicas. The caller waits for the high watermark to pass it.
   */
  appendTxnMarkerAsLeader(marker: TxnMarkerInput, minInsyncReplicas: number, now: number): AppendResult {
    return (
      this.refuseLeaderAppend(-1, minInsyncReplicas) ??
      this.appendedAsLeader(this.log.appendTxnMarker(marker, this.leaderEpoch, now))
    );
  }

  /** NOT_LEADER_OR_FOLLOWER, or NOT_ENOUGH_REPLICAS for acks=all with too small an ISR; null to go ahead. */
  private refuseLeaderAppend(requiredAcks: number, minInsyncReplicas: number): AppendResult | null {
    if (!this.isLeader) {
      return failed(ErrorCode.NOT_LEADER_OR_FOLLOWER, `this broker is not the leader of ${this.name}`);
    }
    if (requiredAcks === -1 && this.isr.length < minInsyncReplicas) {
      return failed(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR [${this.isr.join(', ')}] is insufficient to satisfy the min.isr requirement of ${minInsyncReplicas} for partition ${this.name}`,
      );
    }
    return null;
  }

  /** After a leader append: followers and the high watermark learn of new data. */
  private appendedAsLeader(res: AppendResult): AppendResult {
    if (res.errorCode === ErrorCode.NONE && !res.duplicate) {
      this.appendWaiters.fire();
      this.maybeIncrementHighWatermark();
    }
    return res;
  }

  // ---- follower side -------------------------------------------------------------------------------

  /** Appends batches fetched from the leader, as they are (replica-fetcher.ts). */
  appendAsFollower(records: Buffer): AppendResult {
    const res = this.log.appendAsFollower(records);
    if (res.errorCode === ErrorCode.NONE) this.appendWaiters.fire();
    return res;
  }

  /** Cuts a diverged tail (truncation by leader epoch). */
  truncateTo(offset: number): void {
    this.log.truncateTo(offset);
  }

  /** The follower's log restarts empty at the leader's log start (it fell behind the leader's retention). */
  truncateFullyAndStartAt(offset: number): void {
    this.log.truncateFullyAndStartAt(offset);
  }

  /** A follower learns the leader's high watermark and log start offset from each fetch response. */
  updateFollowerOffsets(leaderHighWatermark: number, leaderLogStartOffset: number): void {
    if (this.isLeader) return;
    const hw = Math.min(leaderHighWatermark, this.log.logEndOffset);
    if (hw > this.log.highWatermark) {
      this.log.highWatermark = hw;
      this.hwWaiters.fire();
    }
    const start = Math.min(leaderLogStartOffset, this.log.highWatermark);
    if (start > this.log.logStartOffset) this.log.deleteRecordsBefore(start);
  }

  // ---- followers' progress (leader side) --------------------------------------------------------

  /**
   * A follower fetched from `fetchOffset`: records its progress, may add it to the ISR and may advance the high
   * watermark. Returns NONE, or an error for a replica that is not one of this partition's.
   */
  updateFollowerFetchState(
    replicaId: number,
    fetchOffset: number,
    logStartOffset: number,
    now: number,
  ): number {
    const r = this.remote.get(replicaId);
    if (r === undefined) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    r.updateFetchState(fetchOffset, logStartOffset, now, this.log.logEndOffset);
    this.maybeExpandIsr(r);
    this.maybeIncrementHighWatermark();
    return ErrorCode.NONE;
  }

  /**
   * The high watermark is the smallest log end offset over the maximal ISR; it never moves back. Returns true
   * (and wakes consumers and acks=all produces) when it moved.
   */
  maybeIncrementHighWatermark(): boolean {
    if (!this.isLeader) return false;
    let hw = this.log.logEndOffset;
    for (const id of this.maximalIsr) {
      if (id === this.env.localBrokerId) continue;
      const r = this.remote.get(id);
      hw = Math.min(hw, r === undefined ? -1 : r.logEndOffset);
    }
    if (hw <= this.log.highWatermark) return false;
    this.log.highWatermark = hw;
    this.hwWaiters.fire();
    return true;
  }

  private maybeExpandIsr(r: ReplicaState): void {
    if (this.pendingIsr !== null || this.isr.includes(r.brokerId)) return;
    if (!this.env.isBrokerAlive(r.brokerId)) return;
    // Kafka's isFollowerInSync: caught up to the high watermark, and past the start of this leader's epoch
    // (so it holds nothing of a diverged tail).
    if (r.logEndOffset < this.log.highWatermark || r.logEndOffset < this.leaderEpochStartOffset) return;
    this.proposeIsr([...this.isr, r.brokerId], 'expand');
  }

  /** Drops followers that have not caught up for replica.lag.time.max.ms (the leader checks periodically). */
  maybeShrinkIsr(now: number): void {
    if (!this.isLeader || this.pendingIsr !== null) return;
    const lagging = this.isr.filter((id) => {
      if (id === this.env.localBrokerId) return false;
      const r = this.remote.get(id);
      return r === undefined || now - r.lastCaughtUpTimeMs > this.env.replicaLagTimeMaxMs;
    });
    if (lagging.length === 0) return;
    this.proposeIsr(
      this.isr.filter((id) => !lagging.includes(id)),
      'shrink',
    );
  }

  private proposeIsr(newIsr: number[], kind: 'expand' | 'shrink'): void {
    const epoch = this.leaderEpoch;
    this.pendingIsr = newIsr;
    this.env.logger.info(kind === 'expand' ? 'expanding the ISR' : 'shrinking the ISR', {
      partition: this.name,
      from: this.isr,
      to: newIsr,
      leaderEpoch: epoch,
    });
    this.env.alterIsr(this, newIsr).then(
      (res) => this.onIsrResult(epoch, newIsr, res),
      (err: unknown) => this.onIsrResult(epoch, newIsr, { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, err }),
    );
  }

  private onIsrResult(
    epoch: number,
    proposed: number[],
    res: {
      errorCode: number;
      state?: { leaderEpoch: number; isr: number[]; partitionEpoch: number };
      err?: unknown;
    },
  ): void {
    if (this.pendingIsr !== proposed) return; // a LeaderAndIsr replaced the state meanwhile
    this.pendingIsr = null;
    if (res.errorCode !== ErrorCode.NONE || res.state === undefined) {
      this.env.logger.warn('ISR change not committed', {
        partition: this.name,
        proposed,
        errorCode: res.errorCode,
        error: res.err,
      });
      return;
    }
    if (res.state.leaderEpoch !== epoch || this.leaderEpoch !== epoch) return;
    this.isr = [...res.state.isr];
    this.partitionEpoch = res.state.partitionEpoch;
    this.maybeIncrementHighWatermark();
    // A shrink can let acks=all produces complete (or fail NOT_ENOUGH_REPLICAS_AFTER_APPEND).
    this.hwWaiters.fire();
  }

  // ---- waiting for commitment -------------------------------------------------------------------

  /**
   * Resolves once `offset` is below the high watermark (the write is committed): NONE; or with
   * NOT_LEADER_OR_FOLLOWER when this broker stops leading (even for a moment: a follower may have truncated the
   * offset), NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR fell below min.insync.replicas meanwhile,
   * REQUEST_TIMED_OUT after timeoutMs. A new leader epoch with this broker still leading (the controller changed
   * the ISR) is no failure: the write is still in the log, as in Kafka's DelayedProduce.
   */
  waitForHighWatermark(offset: number, minInsyncReplicas: number, timeoutMs: number): Promise<number> {
    const losses = this.leadershipLosses;
    const check = (): number | null => {
      if (!this.isLeader || this.leadershipLosses !== losses) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
      if (this.log.highWatermark > offset) return ErrorCode.NONE;
      if (this.isr.length < minInsyncReplicas) return ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
      return null;
    };
    const now = check();
    if (now !== null) return Promise.resolve(now);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.hwWaiters.remove(onChange);
        resolve(ErrorCode.REQUEST_TIMED_OUT);
      }, timeoutMs);
      const onChange = (): void => {
        const r = check();
        if (r === null) {
          this.hwWaiters.add(onChange);
          return;
        }
        clearTimeout(timer);
        resolve(r);
      };
      this.hwWaiters.add(onChange);
    });
  }
}

function failed(errorCode: number, errorMessage: string): AppendResult {
  return {
    errorCode,
    errorMessage,
    baseOffset: -1,
    lastOffset: -1,
    logAppendTime: -1,
    logStartOffset: -1,
    duplicate: false,
  };
}
