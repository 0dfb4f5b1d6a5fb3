// samsa mirror: copies topics from one cluster to another, record for record, into the same partition
// numbers (MirrorMaker 2's MirrorSourceConnector, as one process). docs/pipeline.md describes it for users.
//
//   const m = new Mirror({ source: 'a:9092', target: 'b:9092', filter, groupId: 'samsa-mirror', ... });
//   const done = m.run();        // resolves after stop() once the progress is committed
//   m.stop();
//
// States. run() loops over sessions: Starting -> Copying -> (Stopping | Failed). A session opens both clusters,
// initialises the producer (InitProducerId: with --exactly-once this fences an earlier mirror with the same
// transactional id and aborts its open transaction), loads the committed offsets, looks up the topics and
// then copies in rounds until stop() or an error:
//   fetch round N+1 is sent while round N is produced (one Produce round in flight at a time, so a partition's
//   batches reach the target in source order; sequence numbers refuse anything after a gap), and when the
//   target acknowledged round N each partition's `acked` offset moves to where round N ended.
//   Every offset.flush.interval.ms the acked offsets are committed: OffsetCommit to the group on the source
//   (at-least-once), or, with --exactly-once, TxnOffsetCommit to the group on the target inside the open
//   transaction, then EndTxn(commit): records and progress become visible together or not at all.
//   Every metadata.max.age.ms the source's topics are listed again (new topics, added partitions).
// Failed: the session commits what the target acknowledged (at-least-once; the open transaction is aborted
// with --exactly-once), closes its connections, waits retry.backoff.ms (doubling, at most 10 s) and a new
// session starts from the committed offsets. Stopping: the round being fetched is dropped, the last commit
// is made, run() resolves.

import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, KafkaError } from '../client/cluster.js';
import type { ClientSecurity } from '../client/connection.js';
import { BatchProducer } from '../client/txn-producer.js';
import {
  mirrorJoinedBatchBytesMax,
  mirrorRetryBackoffMsMax,
  mirrorTargetLeaderWaitMs,
  mirrorStaleMetadataBackoffMs as staleMetadataBackoffMs,
} from '../limits.js';
import { createLogger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { type FetchOptions, type FetchRound, type MirrorPartition, SourceFetcher } from './mirror-fetch.js';
import { coalesce } from './mirror-merge.js';
import { GroupOffsets, offsetKey } from './mirror-offsets.js';
import { discover, ensureTargets, type TopicFilter } from './mirror-topics.js';

const log = createLogger('mirror');

export interface MirrorOptions {
  source: string;
  target: string;
  filter: TopicFilter;
  groupId: string;
  exactlyOnce: boolean;
  /** transactional.id on the target (exactly-once); default the group id. */
  transactionalId: string;
  /** metadata.max.age.ms: how often the source's topics are listed again. */
  metadataMaxAgeMs: number;
  /** offset.flush.interval.ms: how often progress is committed (and, exactly-once, a transaction ends). */
  commitIntervalMs: number;
  /** replication.factor of created target topics (-1: the target's default). */
  replicationFactor: number;
  transactionTimeoutMs: number;
  retryBackoffMs: number;
  fetch: FetchOptions;
  clientId: string;
  /** TLS and SASL towards the source and the target (undefined: PLAINTEXT). */
  sourceSecurity?: ClientSecurity;
  targetSecurity?: ClientSecurity;
}

export interface MirrorStats {
  /** Records and bytes (as produced) acknowledged by the target since start. */
  records: number;
  bytes: number;
  commits: number;
  errors: number;
  sessions: number;
  /** Per source topic: records behind the source's high watermark (acked offsets). */
  lag: Map<string, number>;
  partitions: number;
  lastCommitAt: number;
}

export interface MirrorEvents {
  copied?(topic: string, records: number, bytes: number): void;
}

export class Mirror {
  readonly stats: MirrorStats = {
    records: 0,
    bytes: 0,
    commits: 0,
    errors: 0,
    sessions: 0,
    lag: new Map(),
    partitions: 0,
    lastCommitAt: 0,
  };
  private stopping = false;
  private readonly abort = new AbortController();
  private parts: MirrorPartition[] = [];
  /** Source topics whose batches are copied without joining them (see mirror-merge.ts). */
  readonly unjoined = new Set<string>();

  constructor(
    readonly opts: MirrorOptions,
    private readonly events: MirrorEvents = {},
  ) {}

  stop(): void {
    this.stopping = true;
    this.abort.abort();
  }

  /** Waits ms, or less if stop() is called meanwhile. */
  async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.abort.signal });
    } catch {
      // stopped
    }
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Copies until stop(); sessions that fail are started again. */
  async run(): Promise<void> {
    let backoff = this.opts.retryBackoffMs;
    while (!this.stopping) {
      this.stats.sessions++;
      let copiedBefore = this.stats.records;
      try {
        await this.session();
        return;
      } catch (e) {
        if (this.stopping) return;
        this.stats.errors++;
        if (this.stats.records > copiedBefore) backoff = this.opts.retryBackoffMs;
        copiedBefore = this.stats.records;
        log.warn('mirror session failed; starting again from the committed offsets', {
          error: e as Error,
          retryInMs: backoff,
        });
        try {
          await sleep(backoff, undefined, { signal: this.abort.signal });
        } catch {
          return;
        }
        backoff = Math.min(mirrorRetryBackoffMsMax, backoff * 2);
      }
    }
  }

  /** Per-topic lag from the partitions' acked offsets and the last high watermarks seen. */
  private updateLag(): void {
    const lag = new Map<string, number>();
    for (const p of this.parts) {
      const behind = p.highWatermark >= 0 && p.acked >= 0 ? Math.max(0, p.highWatermark - p.acked) : 0;
      lag.set(p.topic, (lag.get(p.topic) ?? 0) + behind);
    }
    this.stats.lag = lag;
    this.stats.partitions = this.parts.length;
  }

  private async session(): Promise<void> {
    const o = this.opts;
    const source = await Cluster.connect({
      bootstrap: o.source,
      clientId: o.clientId,
      ...(o.sourceSecurity === undefined ? {} : { security: o.sourceSecurity }),
    });
    let target: Cluster | null = null;
    try {
      target = await Cluster.connect({
        bootstrap: o.target,
        clientId: o.clientId,
        ...(o.targetSecurity === undefined ? {} : { security: o.targetSecurity }),
      });
      await new Copy(this, source, target).run();
    } finally {
      source.close();
      target?.close();
    }
  }

  /** Called by a session: the partitions being copied (for lag and the progress line). */
  setPartitions(parts: MirrorPartition[]): void {
    this.parts = parts;
    this.updateLag();
  }

  noteCopied(round: FetchRound): void {
    const byTopic = new Map<string, { records: number; bytes: number }>();
    for (const b of round.batches) {
      const t = byTopic.get(b.part.topic) ?? { records: 0, bytes: 0 };
      t.records += b.records;
      t.bytes += b.batch.length;
      byTopic.set(b.part.topic, t);
    }
    for (const [topic, t] of byTopic) {
      this.stats.records += t.records;
      this.stats.bytes += t.bytes;
      this.events.copied?.(topic, t.records, t.bytes);
    }
    this.updateLag();
  }

  noteCommit(): void {
    this.stats.commits++;
    this.stats.lastCommitAt = Date.now();
  }
}

/** One session's copying (see the state description at the top). */
class Copy {
  private readonly parts = new Map<string, MirrorPartition>();
  private readonly producerReady: Promise<BatchProducer>;
  private producer: BatchProducer | null = null;
  private readonly store: GroupOffsets;
  private readonly fetcher: SourceFetcher;
  private committed = new Map<string, number>();
  private txnOpen = false;
  private warnedLoop = new Set<string>();

  constructor(
    private readonly mirror: Mirror,
    private readonly source: Cluster,
    private readonly target: Cluster,
  ) {
    const o = mirror.opts;
    this.producerReady = BatchProducer.init(target, {
      transactionalId: o.exactlyOnce ? o.transactionalId : null,
      transactionTimeoutMs: o.transactionTimeoutMs,
    });
    this.producerReady.catch(() => {});
    this.store = o.exactlyOnce
      ? new GroupOffsets(target, o.groupId, 'target')
      : new GroupOffsets(source, o.groupId, 'source');
    this.fetcher = new SourceFetcher(source, o.fetch);
  }

  private list(): MirrorPartition[] {
    return [...this.parts.values()];
  }

  async run(): Promise<void> {
    const o = this.mirror.opts;
    // The producer first: with --exactly-once its InitProducerId aborts a crashed mirror's open transaction,
    // so the offsets read next are settled.
    this.producer = await this.producerReady;
    this.committed = await this.store.load();
    await this.refresh();
    log.info('mirroring', {
      from: o.source,
      to: o.target,
      partitions: this.parts.size,
      group: o.groupId,
      exactlyOnce: o.exactlyOnce,
      producerId: this.producer.producerId,
      producerEpoch: this.producer.producerEpoch,
    });
    let lastCommit = Date.now();
    let lastRefresh = Date.now();
    let inflight = this.fetchRound();
    try {
      for (;;) {
        const round = await inflight;
        if (this.mirror.stopped) break;
        if (round.stale.length > 0) {
          await this.mirror.pause(staleMetadataBackoffMs);
          await this.refreshLeaders(round);
        }
        inflight = this.fetchRound();
        await this.write(round);
        const now = Date.now();
        if (now - lastCommit >= o.commitIntervalMs) {
          await this.commit();
          lastCommit = Date.now();
        }
        if (now - lastRefresh >= o.metadataMaxAgeMs) {
          await this.refresh();
          lastRefresh = Date.now();
        }
      }
    } catch (e) {
      inflight.catch(() => {});
      await this.settleAfterError();
      throw e;
    }
    inflight.catch(() => {});
    await this.commit();
  }

  private async fetchRound(): Promise<FetchRound> {
    const list = this.list();
    if (list.length === 0) {
      // Nothing matches yet: wait as a fetch would, so the loop does not spin until the next metadata refresh.
      await this.mirror.pause(this.mirror.opts.fetch.maxWaitMs);
      return { batches: [], ends: new Map(), stale: [] };
    }
    await this.fetcher.resolve(list);
    return this.fetcher.fetch(list);
  }

  private async write(round: FetchRound): Promise<void> {
    const producer = this.producer as BatchProducer;
    if (round.batches.length > 0) {
      const batches = coalesce(round.batches, mirrorJoinedBatchBytesMax, this.mirror.unjoined);
      const out = batches.map((b) => ({
        topic: b.part.targetTopic,
        partition: b.part.partition,
        batch: b.batch,
      }));
      if (producer.transactional) {
        if (!this.txnOpen) {
          producer.beginTransaction();
          this.txnOpen = true;
        }
        await producer.addPartitions(out);
      }
      try {
        await producer.send(out);
      } catch (e) {
        // A target topic with a smaller max.message.bytes than a joined batch: send its batches as they came.
        if (
          e instanceof KafkaError &&
          (e.code === ErrorCode.MESSAGE_TOO_LARGE || e.code === ErrorCode.RECORD_LIST_TOO_LARGE)
        ) {
          for (const b of batches) if (b.records > 1) this.mirror.unjoined.add(b.part.topic);
        }
        throw e;
      }
    }
    for (const [p, end] of round.ends) if (end >= 0) p.acked = end;
    this.mirror.noteCopied(round);
  }

  /** Commits the acked offsets: OffsetCommit on the source, or the open transaction on the target. */
  private async commit(): Promise<void> {
    const producer = this.producer as BatchProducer;
    if (!producer.transactional) {
      if ((await this.store.commit(this.list())) > 0) this.mirror.noteCommit();
      return;
    }
    const moved = this.list().filter((p) => p.acked >= 0 && p.acked !== p.committed);
    if (!this.txnOpen && moved.length === 0) return;
    if (!this.txnOpen) {
      producer.beginTransaction();
      this.txnOpen = true;
    }
    const offsets = moved.map((p) => ({ p, offset: p.acked }));
    await producer.sendOffsetsToTransaction(
      this.store.groupId,
      offsets.map(({ p, offset }) => ({
        topic: p.targetTopic,
        partition: p.partition,
        offset,
        metadata: `source:${p.topic}`,
      })),
    );
    await producer.commitTransaction();
    this.txnOpen = false;
    for (const { p, offset } of offsets) p.committed = offset;
    this.mirror.noteCommit();
  }

  /** After a failure: keep what the target acknowledged (at-least-once) or abort the transaction. */
  private async settleAfterError(): Promise<void> {
    const producer = this.producer;
    if (producer === null) return;
    try {
      if (!producer.transactional) await this.commit();
      else if (this.txnOpen) await producer.abortTransaction();
    } catch (e) {
      log.debug('could not settle after the failure', { error: e as Error });
    }
  }

  private async refreshLeaders(round: FetchRound): Promise<void> {
    const topics = [...new Set(round.stale.map((p) => p.topic))];
    try {
      await this.source.metadata(topics);
    } catch {
      // a deleted topic: the next full refresh drops it
      await this.refresh();
    }
  }

  /** Lists the source topics again; creates or grows target topics; adds and drops partitions. */
  private async refresh(): Promise<void> {
    const o = this.mirror.opts;
    const sameCluster = this.source.clusterId !== null && this.source.clusterId === this.target.clusterId;
    const topics = (await discover(this.source, o.filter)).filter((t) => {
      if (!sameCluster || t.target !== t.source.name) return true;
      if (!this.warnedLoop.has(t.target)) {
        this.warnedLoop.add(t.target);
        log.warn('not mirroring a topic onto itself (source and target are one cluster)', {
          topic: t.target,
        });
      }
      return false;
    });
    await ensureTargets(this.source, this.target, topics, o.replicationFactor, mirrorTargetLeaderWaitMs);
    const seen = new Set<string>();
    for (const t of topics) {
      for (const sp of t.source.partitions) {
        const k = offsetKey(t.source.name, sp.partition);
        seen.add(k);
        if (this.parts.has(k)) continue;
        const name = this.store.keyedBy === 'source' ? t.source.name : t.target;
        const c = this.committed.get(offsetKey(name, sp.partition)) ?? -1;
        this.parts.set(k, {
          topic: t.source.name,
          partition: sp.partition,
          targetTopic: t.target,
          position: c,
          acked: c,
          committed: c,
          highWatermark: -1,
        });
        if (this.mirror.stats.sessions === 1 || c < 0)
          log.debug('partition added', { topic: t.source.name, partition: sp.partition, from: c });
      }
    }
    for (const k of [...this.parts.keys()]) if (!seen.has(k)) this.parts.delete(k);
    this.mirror.setPartitions(this.list());
  }
}
