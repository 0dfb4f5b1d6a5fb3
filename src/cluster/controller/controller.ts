// The cluster's controller (Kafka's ZooKeeper-mode KafkaController). Every broker runs one; the one that
// creates the ephemeral /controller znode is active and decides, the others wait for that znode to go.
//
// Election: create /controller (ephemeral, our id) and bump /controller_epoch in one multi, conditional on the
// epoch znode's version, so two brokers can never both win the same epoch. Every later decision is written
// with a check of /controller_epoch at the version we wrote (zk-state.ts): a deposed controller (its session
// expired, a successor elected) fails its writes instead of overwriting the successor's.
//
// Events run one at a time, in arrival order, on one queue (Kafka's ControllerEventManager): watches fire
// events, never change state themselves. Events:
//   elect              startup, /controller deleted or changed, a new ZooKeeper session
//   broker change      children of /brokers/ids: new brokers get a full UpdateMetadata and LeaderAndIsr
//                      (type FULL: a broker deletes the logs it holds that are not listed); partitions led by
//                      a dead broker get a new leader from the live ISR, dead replicas leave ISRs
//   topic change       children of /brokers/topics: new topics' partitions get leaders (first live replica,
//                      ISR = live replicas), LeaderAndIsr to the replicas, UpdateMetadata to all
//   partition change   data of /brokers/topics/<t>: partitions added by CreatePartitions
//   topic deletion     children of /admin/delete_topics: UpdateMetadata marks the partitions deleted everywhere,
//                      StopReplica(delete) to the live replicas; once they answered, the znodes go
//   AlterPartition     a leader's ISR change, applied if its leader epoch and partition epoch are current
//   controlled shutdown / preferred election / reassignment: replication-time events (controlled-shutdown.ts).
// Every event catches its own errors: a ControllerMovedError resigns; anything else is logged and the
// controller re-reads ZooKeeper (a failover onto itself) so its view is never half-applied.

import type { ClientSecurity } from '../../client/connection.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { AlterPartitionRequest } from '../../protocol/generated/alter-partition-request.js';
import type { AlterPartitionResponseInput } from '../../protocol/generated/alter-partition-response.js';
import type { Endpoint } from '../metadata-cache.js';
import { newTopicId } from '../metadata-store.js';
import { isZkError, type Watcher, type ZkClient } from '../zk/zk-client.js';
import { decodeController, encodeTopicAssignment, zkPaths } from '../zk/zk-data.js';
import { handleAlterPartition } from './alter-partition.js';
import { ChannelManager } from './channel-manager.js';
import { ControllerContext, type LiveBroker } from './context.js';
import type { ControllerCore } from './core.js';
import { TopicDeleter } from './deletion.js';
import {
  controlledShutdown,
  electPreferredLeaders,
  imbalancedPartitions,
  type TopicPartitionRef,
} from './leadership.js';
import { failedBrokerStates, onlineStates } from './partition-states.js';
import {
  alterReassignments,
  maybeCompleteReassignments,
  type Outcome,
  type ReassignmentRequest,
  reassignmentSets,
  resumeReassignment,
} from './reassignment.js';
import { RequestBatch } from './request-batch.js';
import {
  ControllerMovedError,
  currentControllerEpoch,
  readBrokers,
  readPartitionState,
  readTopic,
  registerAsController,
  type StateWrite,
  writePartitionStates,
} from './zk-state.js';

export interface ControllerOptions {
  zk: ZkClient;
  brokerId: number;
  logger: Logger;
  /** inter.broker.listener.name: the listener the controller sends its requests to. */
  interBrokerListener: string;
  /** unclean.leader.election.enable */
  uncleanLeaderElection: boolean;
  /** controller.socket.timeout.ms */
  socketTimeoutMs: number;
  /** auto.leader.rebalance.enable */
  autoLeaderRebalance: boolean;
  /** leader.imbalance.check.interval.seconds, in ms */
  leaderImbalanceCheckIntervalMs: number;
  /** leader.imbalance.per.broker.percentage */
  leaderImbalancePerBrokerPercentage: number;
  /** The inter-broker listener's TLS/SASL; undefined for PLAINTEXT. */
  interBrokerSecurity?: ClientSecurity;
}

interface TopicPartition {
  topic: string;
  partition: number;
}

export class Controller implements ControllerCore {
  private readonly queue: { name: string; run: () => Promise<void> }[] = [];
  private processing = false;
  private stopped = false;
  private ctx: ControllerContext | null = null;
  private channels: ChannelManager | null = null;
  /** The active controller's broker id as last read from /controller (-1: none). */
  activeControllerId = -1;
  /** Topic deletions in progress (deletion.ts). */
  private readonly deleter: TopicDeleter;
  /** Topics whose /brokers/topics/<t> data is watched (partition additions). */
  private readonly watchedTopics = new Set<string>();
  private rebalanceTimer: NodeJS.Timeout | null = null;
  readonly log: Logger;

  constructor(readonly opts: ControllerOptions) {
    this.log = opts.logger;
    this.deleter = new TopicDeleter(
      this,
      (name, run) => this.enqueue(name, run),
      (topic) => this.watchedTopics.delete(topic),
    );
  }

  get isActive(): boolean {
    return this.ctx !== null;
  }

  /** The epoch of the active controller as this one knows it (its own when active). */
  get epoch(): number {
    return this.ctx?.epoch ?? -1;
  }

  start(): void {
    this.enqueue('startup', () => this.elect());
  }

  /** A new ZooKeeper session replaced an expired one: the old /controller is gone with it. */
  onNewSession(): void {
    this.enqueue('new session', async () => {
      this.resign('the ZooKeeper session expired');
      await this.elect();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    const wasActive = this.isActive;
    this.resign('shutting down');
    if (wasActive) {
      // Let another broker take over at once instead of after our session times out.
      await this.opts.zk.delete(zkPaths.controller).catch(() => {});
    }
  }

  // ---- the event queue ---------------------------------------------------------------------------

  private enqueue(name: string, run: () => Promise<void>): void {
    if (this.stopped) return;
    this.queue.push({ name, run });
    if (!this.processing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.processing = true;
    while (this.queue.length > 0 && !this.stopped) {
      const ev = this.queue.shift() as { name: string; run: () => Promise<void> };
      try {
        await ev.run();
      } catch (err) {
        if (err instanceof ControllerMovedError) {
          this.resign(err.message);
          this.enqueue('re-elect', () => this.elect());
        } else if (this.isActive) {
          this.log.error('controller event failed; reloading the cluster state from ZooKeeper', {
            event: ev.name,
            error: err instanceof Error ? err.message : String(err),
          });
          this.resign('event failure');
          this.enqueue('re-elect', () => this.elect());
        } else {
          this.log.warn('controller event failed', { event: ev.name, error: err });
          if (ev.name === 'startup' || ev.name === 're-elect' || ev.name === 'controller change') {
            setTimeout(() => this.enqueue('re-elect', () => this.elect()), 1000).unref();
          }
        }
      }
    }
    this.processing = false;
  }

  // ---- election ----------------------------------------------------------------------------------

  private readonly onControllerZnode: Watcher = () => this.enqueue('controller change', () => this.elect());

  private async elect(): Promise<void> {
    if (this.stopped) return;
    const zk = this.opts.zk;
    const stat = await zk.existsWithWatch(zkPaths.controller, this.onControllerZnode);
    if (stat !== null) {
      const r = await zk.get(zkPaths.controller);
      if (r !== null) {
        const id = decodeController(r.data).brokerId;
        const ours = id === this.opts.brokerId && r.stat.ephemeralOwner === zk.sessionId;
        if (this.isActive && !ours) this.resign(`broker ${id} is the controller now`);
        if (!ours && id !== this.activeControllerId)
          this.log.info('controller is elsewhere', { controller: id });
        this.activeControllerId = id;
        if (ours && !this.isActive) {
          // Our own znode from before a failure of this controller: take the role up again.
          await this.failover(await currentControllerEpoch(this.opts.zk));
        }
        return;
      }
    }
    let won: { epoch: number; version: number } | { activeId: number };
    try {
      won = await registerAsController(zk, this.opts.brokerId);
    } catch (err) {
      if (isZkError(err, 'NODEEXISTS')) {
        await this.elect();
        return;
      }
      throw err;
    }
    if ('activeId' in won) {
      this.activeControllerId = won.activeId;
      return;
    }
    await this.failover(won);
  }

  private resign(why: string): void {
    if (this.ctx === null) return;
    this.log.info('resigning as controller', { epoch: this.ctx.epoch, why });
    this.ctx = null;
    if (this.rebalanceTimer !== null) clearInterval(this.rebalanceTimer);
    this.rebalanceTimer = null;
    this.channels?.close();
    this.channels = null;
    this.deleter.clear();
    this.watchedTopics.clear();
    if (this.activeControllerId === this.opts.brokerId) this.activeControllerId = -1;
  }

  // ---- failover: load everything, bring partitions online, tell every broker ----------------------

  private readonly onBrokersChanged: Watcher = () => this.enqueue('broker change', () => this.brokerChange());
  private readonly onTopicsChanged: Watcher = () => this.enqueue('topic change', () => this.topicChange());
  private readonly onDeletionsChanged: Watcher = () =>
    this.enqueue('topic deletion', () => this.topicDeletion());

  private topicWatcher(topic: string): Watcher {
    return () => this.enqueue(`partition change ${topic}`, () => this.partitionChange(topic));
  }

  private async failover(won: { epoch: number; version: number }): Promise<void> {
    const started = Date.now();
    const ctx = new ControllerContext();
    ctx.epoch = won.epoch;
    ctx.epochZkVersion = won.version;
    this.ctx = ctx;
    this.activeControllerId = this.opts.brokerId;
    this.channels = new ChannelManager(
      this.opts.brokerId,
      this.log.child('channel'),
      this.opts.socketTimeoutMs,
      this.opts.interBrokerSecurity,
    );
    this.log.info('became the controller', { epoch: ctx.epoch });
    const zk = this.opts.zk;
    for (const [id, b] of await readBrokers(zk, this.onBrokersChanged, this.log)) this.addLiveBroker(id, b);
    const names = (await zk.getChildrenWithWatch(zkPaths.topics, this.onTopicsChanged)) ?? [];
    for (const topic of names) await this.loadTopic(topic);
    const batch = new RequestBatch(ctx, this.opts.brokerId);
    // Brokers that died while no controller was active are still in ISRs (and may still lead): as if their
    // failure happened now.
    const gone = new Set<number>();
    for (const s of ctx.states.values()) {
      for (const id of [s.leader, ...s.isr]) if (id >= 0 && !ctx.isRegistered(id)) gone.add(id);
    }
    if (gone.size > 0) await this.onBrokersFailed(batch, [...gone]);
    await this.bringOnline(batch, [...ctx.partitions()]);
    for (const id of ctx.liveBrokers.keys()) {
      batch.markFull(id);
      for (const p of ctx.partitionsOn(id)) batch.addLeaderAndIsr([id], p.topic, p.partition);
    }
    batch.addFullMetadata(ctx.liveBrokers.keys());
    batch.send(this.channelsOrThrow());
    await this.topicDeletion();
    if (this.opts.autoLeaderRebalance) {
      this.rebalanceTimer = setInterval(
        () => this.enqueue('auto leader rebalance', () => this.autoRebalance()),
        this.opts.leaderImbalanceCheckIntervalMs,
      );
      this.rebalanceTimer.unref();
    }
    this.log.info('controller failover done', {
      epoch: ctx.epoch,
      brokers: [...ctx.liveBrokers.keys()],
      topics: ctx.topics.size,
      ms: Date.now() - started,
    });
  }

  channelsOrThrow(): ChannelManager {
    if (this.channels === null) throw new ControllerMovedError('sending requests');
    return this.channels;
  }

  context(): ControllerContext {
    if (this.ctx === null) throw new ControllerMovedError('an event');
    return this.ctx;
  }

  private endpointOf(b: LiveBroker): Endpoint | undefined {
    return b.info.endpoints.find((e) => e.listener === this.opts.interBrokerListener) ?? b.info.endpoints[0];
  }

  private addLiveBroker(id: number, b: LiveBroker): void {
    const ctx = this.context();
    ctx.liveBrokers.set(id, b);
    const ep = this.endpointOf(b);
    if (ep !== undefined) this.channelsOrThrow().addBroker(id, ep);
    else this.log.error('a broker registered without an inter-broker endpoint', { broker: id });
  }

  /** Reads a topic's assignment (watching it) and its partition states into the context. */
  private async loadTopic(topic: string): Promise<TopicPartition[]> {
    const ctx = this.context();
    const zk = this.opts.zk;
    const t = await readTopic(
      zk,
      topic,
      this.watchedTopics.has(topic) ? undefined : this.topicWatcher(topic),
    );
    this.watchedTopics.add(topic);
    if (t === null) return [];
    let topicId = t.topicId;
    if (topicId === null) {
      // A topic written without an id (by an older tool): give it one, as Kafka's controller does.
      topicId = newTopicId();
      const assignment = new Map(
        t.assignment.map((replicas, p) => [p, { replicas, addingReplicas: [], removingReplicas: [] }]),
      );
      await zk.set(zkPaths.topic(topic), encodeTopicAssignment({ topicId, partitions: assignment }), -1);
    }
    const known = ctx.topics.get(topic)?.assignment.length ?? 0;
    ctx.topics.set(topic, { topicId, assignment: t.assignment });
    for (let p = 0; p < t.assignment.length; p++) {
      resumeReassignment(ctx, topic, p, t.assignment[p] ?? [], t.adding[p] ?? [], t.removing[p] ?? []);
    }
    const added: TopicPartition[] = [];
    for (let p = 0; p < t.assignment.length; p++) {
      const s = await readPartitionState(zk, topic, p);
      if (s !== null) ctx.states.set(`${topic}\u0000${p}`, s);
      if (p >= known) added.push({ topic, partition: p });
    }
    return added;
  }

  /**
   * Elects leaders for partitions that have none (new ones, or led by a dead broker), writes their states and
   * queues LeaderAndIsr for their live replicas.
   */
  private async bringOnline(batch: RequestBatch, partitions: readonly TopicPartition[]): Promise<void> {
    const { writes, isNew } = onlineStates(
      this.context(),
      partitions,
      this.opts.uncleanLeaderElection,
      this.log,
    );
    await this.applyWrites(batch, writes, isNew);
  }

  /** Writes states, records them and queues LeaderAndIsr; a state changed meanwhile is re-read. */
  async applyWrites(
    batch: RequestBatch,
    writes: StateWrite[],
    isNew: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    if (writes.length === 0) return;
    const ctx = this.context();
    const results = await writePartitionStates(this.opts.zk, ctx, writes);
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i] as StateWrite;
      const k = `${w.topic}\u0000${w.partition}`;
      let s = results[i] ?? null;
      if (s === null) {
        this.log.warn('a partition state changed under the controller; re-reading it', {
          topic: w.topic,
          partition: w.partition,
        });
        s = await readPartitionState(this.opts.zk, w.topic, w.partition);
        if (s === null) continue;
      }
      ctx.states.set(k, s);
      batch.addLeaderAndIsr(ctx.replicas(w.topic, w.partition), w.topic, w.partition, isNew.has(k));
    }
  }

  // ---- brokers come and go ----------------------------------------------------------------------

  private async brokerChange(): Promise<void> {
    const ctx = this.ctx;
    if (ctx === null) return;
    const current = await readBrokers(this.opts.zk, this.onBrokersChanged, this.log);
    const dead: number[] = [];
    const born: number[] = [];
    for (const [id, b] of ctx.liveBrokers) {
      const now = current.get(id);
      if (now === undefined || now.epoch !== b.epoch) dead.push(id);
    }
    for (const [id, b] of current) {
      const before = ctx.liveBrokers.get(id);
      if (before === undefined || before.epoch !== b.epoch) born.push(id);
    }
    if (dead.length === 0 && born.length === 0) return;
    this.log.info('brokers changed', { dead, new: born, live: [...current.keys()] });
    for (const id of dead) {
      ctx.liveBrokers.delete(id);
      ctx.shuttingDown.delete(id);
      this.channels?.removeBroker(id);
    }
    const batch = new RequestBatch(ctx, this.opts.brokerId);
    batch.markBrokersChanged();
    if (dead.length > 0) await this.onBrokersFailed(batch, dead);
    for (const id of born) this.addLiveBroker(id, current.get(id) as LiveBroker);
    if (born.length > 0) {
      batch.addFullMetadata(born);
      const offline: TopicPartition[] = [];
      for (const p of ctx.partitions()) {
        const s = ctx.state(p.topic, p.partition);
        if (
          (s === undefined || s.leader < 0 || !ctx.isLive(s.leader)) &&
          p.replicas.some((r) => born.includes(r))
        ) {
          offline.push(p);
        }
      }
      await this.bringOnline(batch, offline);
      for (const id of born) {
        batch.markFull(id);
        for (const p of ctx.partitionsOn(id)) batch.addLeaderAndIsr([id], p.topic, p.partition);
      }
    }
    batch.send(this.channelsOrThrow());
    if (born.length > 0 && ctx.deleting.size > 0) await this.topicDeletion();
  }

  /** Partitions led by dead brokers get new leaders; dead replicas leave every ISR. */
  private async onBrokersFailed(batch: RequestBatch, dead: readonly number[]): Promise<void> {
    await this.applyWrites(
      batch,
      failedBrokerStates(this.context(), dead, this.opts.uncleanLeaderElection, this.log),
    );
  }

  // ---- topics ----------------------------------------------------------------------------------

  private async topicChange(): Promise<void> {
    const ctx = this.ctx;
    if (ctx === null) return;
    const names = new Set(
      (await this.opts.zk.getChildrenWithWatch(zkPaths.topics, this.onTopicsChanged)) ?? [],
    );
    for (const t of [...ctx.topics.keys()]) {
      if (!names.has(t)) {
        ctx.removeTopic(t);
        this.watchedTopics.delete(t);
      }
    }
    const added: TopicPartition[] = [];
    for (const t of names) {
      if (ctx.topics.has(t)) continue;
      added.push(...(await this.loadTopic(t)));
    }
    if (added.length === 0) return;
    this.log.info('new topics', { topics: [...new Set(added.map((p) => p.topic))] });
    const batch = new RequestBatch(ctx, this.opts.brokerId);
    await this.bringOnline(batch, added);
    batch.send(this.channelsOrThrow());
  }

  private async partitionChange(topic: string): Promise<void> {
    const ctx = this.ctx;
    if (ctx === null || !ctx.topics.has(topic)) return;
    this.watchedTopics.delete(topic);
    const added = await this.loadTopic(topic);
    if (added.length === 0) return;
    this.log.info('partitions added', { topic, partitions: added.map((p) => p.partition) });
    const batch = new RequestBatch(ctx, this.opts.brokerId);
    await this.bringOnline(batch, added);
    batch.send(this.channelsOrThrow());
  }

  private async topicDeletion(): Promise<void> {
    if (this.ctx === null) return;
    const marked =
      (await this.opts.zk.getChildrenWithWatch(zkPaths.deleteTopics, this.onDeletionsChanged)) ?? [];
    await this.deleter.process(marked);
  }

  // ---- moving leadership on purpose (leadership.ts) ----------------------------------------------

  /** ControlledShutdown from a broker about to stop: resolves with the partitions it still leads. */
  controlledShutdown(
    brokerId: number,
    brokerEpoch: number,
  ): Promise<{ errorCode: number; remaining: TopicPartitionRef[] }> {
    return this.onActive('controlled shutdown', { errorCode: ErrorCode.NOT_CONTROLLER, remaining: [] }, () =>
      controlledShutdown(this, brokerId, brokerEpoch),
    );
  }

  /** ElectLeaders (preferred): null partitions means every partition. */
  electPreferredLeaders(
    partitions: TopicPartitionRef[] | null,
  ): Promise<Map<string, { errorCode: number; message: string | null }> | null> {
    return this.onActive('elect leaders', null, () =>
      electPreferredLeaders(this, partitions ?? [...this.context().partitions()]),
    );
  }

  private async autoRebalance(): Promise<void> {
    if (this.ctx === null) return;
    const partitions = imbalancedPartitions(this, this.opts.leaderImbalancePerBrokerPercentage);
    if (partitions.length === 0) return;
    this.log.info(
      'leader imbalance above leader.imbalance.per.broker.percentage: electing preferred leaders',
      {
        partitions: partitions.length,
      },
    );
    await electPreferredLeaders(this, partitions);
  }

  /** Runs `fn` as a controller event when active; resolves with `inactive` otherwise (or if the event fails). */
  private onActive<T>(name: string, inactive: T, fn: () => Promise<T>): Promise<T> {
    return new Promise((resolve) => {
      if (!this.isActive) {
        resolve(inactive);
        return;
      }
      this.enqueue(name, async () => {
        if (!this.isActive) {
          resolve(inactive);
          return;
        }
        try {
          resolve(await fn());
        } catch (err) {
          resolve(inactive);
          throw err;
        }
      });
    });
  }

  // ---- partition reassignment (reassignment.ts) ----------------------------------------------------

  /** AlterPartitionReassignments: null when this broker is not the active controller. */
  alterPartitionReassignments(requests: ReassignmentRequest[]): Promise<Map<string, Outcome> | null> {
    return this.onActive('alter reassignments', null, () => alterReassignments(this, requests));
  }

  /** ListPartitionReassignments: the moves in progress (all, or those of the given partitions). */
  listPartitionReassignments(
    filter: { topic: string; partition: number }[] | null,
  ): Promise<
    { topic: string; partition: number; replicas: number[]; adding: number[]; removing: number[] }[] | null
  > {
    return this.onActive('list reassignments', null, async () => {
      const ctx = this.context();
      const out: {
        topic: string;
        partition: number;
        replicas: number[];
        adding: number[];
        removing: number[];
      }[] = [];
      const wanted = filter === null ? null : new Set(filter.map((p) => `${p.topic}\u0000${p.partition}`));
      for (const key of ctx.reassignments.keys()) {
        if (wanted !== null && !wanted.has(key)) continue;
        const [topic, p] = key.split('\u0000') as [string, string];
        const partition = Number(p);
        out.push({
          topic,
          partition,
          replicas: ctx.replicas(topic, partition),
          ...reassignmentSets(ctx, topic, partition),
        });
      }
      return out;
    });
  }

  /** After committed ISR changes: partitions whose target replicas all caught up finish their move. */
  async afterIsrChange(partitions: { topic: string; partition: number }[]): Promise<void> {
    const ctx = this.ctx;
    if (ctx === null) return;
    const moving = partitions.filter((p) => ctx.reassignments.has(`${p.topic}\u0000${p.partition}`));
    if (moving.length > 0) await maybeCompleteReassignments(this, moving);
  }

  // ---- AlterPartition: a leader's ISR change -------------------------------------------------------

  /** Handles AlterPartition from a partition leader (handlers/56-alter-partition.ts). */
  alterPartition(req: AlterPartitionRequest, version: number): Promise<AlterPartitionResponseInput> {
    return new Promise((resolve) => {
      if (!this.isActive) {
        resolve({ throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] });
        return;
      }
      this.enqueue('alter partition', async () => {
        try {
          resolve(await handleAlterPartition(this, req, version));
        } catch (err) {
          resolve({ throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] });
          throw err;
        }
      });
    });
  }
}
