// Followers copy their leaders' logs (Kafka's ReplicaFetcherManager / ReplicaFetcherThread). One fetcher per
// leader broker carries every partition this broker follows from it, in one Fetch request per round.
//
// A partition joins a fetcher in state `truncating`: before fetching from a (new) leader the follower asks it,
// with OffsetForLeaderEpoch, where the follower's latest epoch ends in the leader's log, and truncates its
// own log there (Kafka's truncation by leader epoch, KIP-101/279): a tail written under an older leader that
// the new leader does not have is cut and never served. Then `fetching`: Fetch with this broker's replica id
// from the log end; batches are appended as they are (offsets and epochs kept, appendAsFollower), the
// follower's high watermark becomes min(leader's high watermark, own log end), and the leader's log start
// offset is followed. A fetch answered with an error for a partition pauses it (fenced or not-leader: until
// the controller's next LeaderAndIsr moves it; others: replica.fetch.backoff.ms).
//
// Fetches use a fetch session (KIP-227, fetch-session-handler.ts), as Kafka's followers do: after a full fetch
// the requests list only the partitions whose fetch position moved, and the leader answers only the partitions
// with something new; a session error sends a full fetch again.
//
// Every response is checked against the partition's current state before it is applied: a LeaderAndIsr that
// arrived meanwhile (a new leader or epoch) makes the fetched data stale, and it is dropped.

import type { ClientSecurity } from '../client/connection.js';
import { KafkaConnection } from '../client/connection.js';
import * as limits from '../limits.js';
import type { Logger } from '../logger.js';
import { ErrorCode, errorName } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { FetchResponse } from '../protocol/generated/fetch-response.js';
import type { ListOffsetsResponse } from '../protocol/generated/list-offsets-response.js';
import type { OffsetForLeaderEpochResponse } from '../protocol/generated/offset-for-leader-epoch-response.js';
import { FetchSessionHandler, type SessionPartition } from './fetch-session-handler.js';
import type { MetadataCache } from './metadata-cache.js';
import type { Partition } from './partition.js';
import type { FollowerDriver } from './replica-manager.js';

/**
 * Fetch v18 (topic ids, the replica id in replica_state, the follower's high watermark: KIP-1166), or the highest
 * version the leader has; v12 (topics by name) while a partition has no topic id.
 */
const FETCH_VERSION_MAX = 18;
const FETCH_VERSION_BY_NAME = 12;
const ZERO_UUID = '0'.repeat(32);
const OFFSET_FOR_LEADER_EPOCH_VERSION = 4;
const LIST_OFFSETS_VERSION = 4;
const EARLIEST = -2;

export interface ReplicaFetcherOptions {
  localBrokerId: number;
  /** inter.broker.listener.name: the listener followers connect to. */
  listener: string;
  metadata: MetadataCache;
  logger: Logger;
  /** replica.fetch.wait.max.ms */
  fetchWaitMaxMs: number;
  /** replica.fetch.min.bytes */
  fetchMinBytes: number;
  /** replica.fetch.max.bytes (per partition) */
  fetchMaxBytes: number;
  /** replica.fetch.response.max.bytes */
  fetchResponseMaxBytes: number;
  /** replica.fetch.backoff.ms */
  fetchBackoffMs: number;
  /** replica.socket.timeout.ms */
  socketTimeoutMs: number;
  /** TLS/SASL of the inter-broker listener; undefined for PLAINTEXT. */
  security?: ClientSecurity;
}

interface FetchState {
  partition: Partition;
  /** The leader epoch this state was created for; a different one on the partition means stale. */
  leaderEpoch: number;
  state: 'truncating' | 'fetching';
  /** Not fetched before this time (after an error). */
  delayedUntil: number;
}

function key(p: Partition): string {
  return `${p.topic}-${p.index}`;
}

export class ReplicaFetcherManager implements FollowerDriver {
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly leaderOf = new Map<string, number>();
  private stopped = false;

  constructor(private readonly opts: ReplicaFetcherOptions) {}

  follow(partitions: readonly Partition[]): void {
    if (this.stopped) return;
    for (const p of partitions) {
      const k = key(p);
      const previous = this.leaderOf.get(k);
      if (previous !== undefined) this.fetchers.get(previous)?.remove(p);
      if (p.leaderId < 0) {
        this.leaderOf.delete(k);
        continue;
      }
      let f = this.fetchers.get(p.leaderId);
      if (f === undefined) {
        f = new ReplicaFetcher(p.leaderId, this.opts);
        this.fetchers.set(p.leaderId, f);
      }
      f.add(p);
      this.leaderOf.set(k, p.leaderId);
    }
    this.closeIdle();
  }

  unfollow(partitions: readonly Partition[]): void {
    for (const p of partitions) {
      const k = key(p);
      const leader = this.leaderOf.get(k);
      if (leader === undefined) continue;
      this.fetchers.get(leader)?.remove(p);
      this.leaderOf.delete(k);
    }
    this.closeIdle();
  }

  private closeIdle(): void {
    for (const [id, f] of this.fetchers) {
      if (f.size === 0) {
        f.stop();
        this.fetchers.delete(id);
      }
    }
  }

  /** How far behind its leader each followed partition is, for metrics and tests. */
  *lags(): Generator<{ topic: string; partition: number; leader: number; lag: number }> {
    for (const f of this.fetchers.values()) yield* f.lags();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.fetchers.values()];
    this.fetchers.clear();
    this.leaderOf.clear();
    await Promise.all(all.map((f) => f.stop()));
  }
}

/** Fetches every partition followed from one leader broker, one request per round. */
class ReplicaFetcher {
  private readonly states = new Map<string, FetchState>();
  private conn: KafkaConnection | null = null;
  private running = true;
  private readonly loop: Promise<void>;
  /** Wakes the loop when partitions are added while it sleeps. */
  private wake: (() => void) | null = null;
  /** The leaders' high watermarks seen in the last responses: for lag reporting and Fetch v18. */
  private readonly leaderEnds = new Map<string, number>();
  private readonly log: Logger;
  /** This fetcher's fetch session with the leader (KIP-227): requests list only the partitions that changed. */
  readonly session = new FetchSessionHandler();

  constructor(
    readonly leaderId: number,
    private readonly opts: ReplicaFetcherOptions,
  ) {
    this.log = opts.logger.child(`replica-fetcher-${leaderId}`);
    this.loop = this.run();
  }

  get size(): number {
    return this.states.size;
  }

  add(p: Partition): void {
    this.states.set(key(p), {
      partition: p,
      leaderEpoch: p.leaderEpoch,
      state: 'truncating',
      delayedUntil: 0,
    });
    this.wake?.();
  }

  remove(p: Partition): void {
    this.states.delete(key(p));
    this.leaderEnds.delete(key(p));
  }

  *lags(): Generator<{ topic: string; partition: number; leader: number; lag: number }> {
    for (const [k, s] of this.states) {
      const end = this.leaderEnds.get(k);
      yield {
        topic: s.partition.topic,
        partition: s.partition.index,
        leader: this.leaderId,
        lag: end === undefined ? -1 : Math.max(0, end - s.partition.log.logEndOffset),
      };
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.conn?.close();
    await this.loop;
  }

  /** A state is current when its partition still follows this leader at the same epoch. */
  private current(s: FetchState): boolean {
    const p = s.partition;
    return (
      this.states.get(key(p)) === s &&
      !p.removed &&
      p.leaderId === this.leaderId &&
      p.leaderEpoch === s.leaderEpoch
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(t);
        if (self.wake === done) self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private async connection(): Promise<KafkaConnection> {
    if (this.conn !== null) return this.conn;
    const ep = this.opts.metadata.endpoint(this.leaderId, this.opts.listener);
    if (ep === undefined) throw new LeaderEndpointUnknown(this.leaderId, this.opts.listener);
    const conn = await KafkaConnection.connect({
      host: ep.host,
      port: ep.port,
      clientId: `samsa-replica-fetcher-${this.opts.localBrokerId}`,
      timeoutMs: this.opts.socketTimeoutMs,
      responseBytesMax: this.opts.fetchResponseMaxBytes + limits.replicaFetchResponseOverheadBytes,
      ...(this.opts.security === undefined ? {} : { security: this.opts.security }),
    });
    this.conn = conn;
    void conn.closed().then(() => {
      if (this.conn === conn) this.conn = null;
    });
    return conn;
  }

  /** Sends with a time limit: a leader that stops answering has its connection closed. */
  private async send<T>(apiKey: number, version: number, body: unknown): Promise<T> {
    const conn = await this.connection();
    return (await conn.sendWithin(
      apiKey,
      version,
      body,
      this.opts.socketTimeoutMs,
      'replica.socket.timeout.ms',
    )) as T;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      for (const [k, s] of this.states)
        if (!this.current(s) && this.states.get(k) === s) this.states.delete(k);
      const now = Date.now();
      const ready = [...this.states.values()].filter((s) => s.delayedUntil <= now);
      if (ready.length === 0) {
        const next = Math.min(...[...this.states.values()].map((s) => s.delayedUntil));
        await this.sleep(Number.isFinite(next) ? Math.max(10, next - now) : this.opts.fetchBackoffMs);
        continue;
      }
      try {
        const truncating = ready.filter((s) => s.state === 'truncating');
        if (truncating.length > 0) await this.truncate(truncating);
        const fetching = ready.filter((s) => s.state === 'fetching' && this.current(s));
        if (fetching.length > 0) await this.fetch(fetching);
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        failures++;
        this.conn?.close();
        this.conn = null;
        if (err instanceof LeaderEndpointUnknown && failures * endpointPollMs < this.opts.fetchBackoffMs) {
          // The controller's UpdateMetadata naming the leader follows its LeaderAndIsr (a broker that has just
          // started knows no other broker yet): look again shortly rather than after a whole backoff.
          await this.sleep(endpointPollMs);
          continue;
        }
        if (failures === 1 || failures % 30 === 0) {
          this.log.warn('fetching from the leader failed; retrying', {
            leader: this.leaderId,
            error: err instanceof Error ? err.message : String(err),
            failures,
          });
        }
        await this.sleep(this.opts.fetchBackoffMs);
      }
    }
    this.conn?.close();
  }

  /** OffsetForLeaderEpoch for the partitions that start following, then truncation of each log. */
  private async truncate(states: FetchState[]): Promise<void> {
    const byTopic = new Map<string, FetchState[]>();
    for (const s of states) {
      const list = byTopic.get(s.partition.topic) ?? [];
      list.push(s);
      byTopic.set(s.partition.topic, list);
    }
    const res = await this.send<OffsetForLeaderEpochResponse>(
      ApiKey.OffsetForLeaderEpoch,
      OFFSET_FOR_LEADER_EPOCH_VERSION,
      {
        replicaId: this.opts.localBrokerId,
        topics: [...byTopic].map(([topic, list]) => ({
          topic,
          partitions: list.map((s) => ({
            partition: s.partition.index,
            currentLeaderEpoch: s.leaderEpoch,
            leaderEpoch: s.partition.log.leaderEpochCache.latestEpoch(),
          })),
        })),
      },
    );
    const answers = new Map<string, { errorCode: number; leaderEpoch: number; endOffset: number }>();
    for (const t of res.topics) for (const p of t.partitions) answers.set(`${t.topic}-${p.partition}`, p);
    for (const s of states) {
      if (!this.current(s)) continue;
      const log = s.partition.log;
      const a = answers.get(key(s.partition));
      if (a === undefined || a.errorCode !== ErrorCode.NONE) {
        this.pause(s, a?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, 'OffsetForLeaderEpoch');
        continue;
      }
      let truncateTo: number;
      if (log.leaderEpochCache.latestEpoch() < 0 || a.endOffset < 0) {
        // No epoch history on one side: Kafka falls back to the high watermark, the last offset known committed.
        truncateTo = log.highWatermark;
      } else if (a.leaderEpoch !== log.leaderEpochCache.latestEpoch()) {
        // The leader does not know our latest epoch: cut where its largest epoch <= ours ends, in both logs.
        const ours = log.endOffsetForEpoch(a.leaderEpoch);
        truncateTo = Math.min(a.endOffset, ours.endOffset < 0 ? log.highWatermark : ours.endOffset);
      } else {
        truncateTo = Math.min(a.endOffset, log.logEndOffset);
      }
      truncateTo = Math.max(truncateTo, log.logStartOffset);
      if (truncateTo < log.logEndOffset) {
        this.log.info('truncating a diverged follower log', {
          partition: s.partition.name,
          leader: this.leaderId,
          leaderEpoch: s.leaderEpoch,
          from: log.logEndOffset,
          to: truncateTo,
        });
        s.partition.truncateTo(truncateTo);
      }
      s.state = 'fetching';
    }
  }

  private async fetch(states: FetchState[]): Promise<void> {
    const conn = await this.connection();
    const negotiated = Math.min(conn.version(ApiKey.Fetch), FETCH_VERSION_MAX);
    // Topic ids (v13+) when every partition has one; the leader's session is tied to one way or the other.
    const usesTopicIds = negotiated >= 13 && states.every((s) => s.partition.topicId !== ZERO_UUID);
    const version = usesTopicIds ? negotiated : Math.min(negotiated, FETCH_VERSION_BY_NAME);
    const wanted: SessionPartition[] = states.map((s) => ({
      key: key(s.partition),
      topic: s.partition.topic,
      topicId: usesTopicIds ? s.partition.topicId : ZERO_UUID,
      partition: s.partition.index,
      fetchOffset: s.partition.log.logEndOffset,
      currentLeaderEpoch: s.leaderEpoch,
      logStartOffset: s.partition.log.logStartOffset,
      partitionMaxBytes: this.opts.fetchMaxBytes,
      lastFetchedEpoch: -1,
      // The leader's high watermark as last heard (KIP-1166: the one this replica knows), not the local one,
      // which a lagging follower caps at its log end: the leader parks the fetch until its own moves on.
      highWatermark: version >= 18 ? (this.leaderEnds.get(key(s.partition)) ?? -1) : Number.MAX_SAFE_INTEGER,
    }));
    const session = this.session.build(wanted, usesTopicIds);
    const grouped = (list: SessionPartition[]): SessionPartition[][] => {
      const byTopic = new Map<string, SessionPartition[]>();
      for (const p of list) {
        const group = byTopic.get(p.topic) ?? [];
        group.push(p);
        byTopic.set(p.topic, group);
      }
      return [...byTopic.values()];
    };
    let res: FetchResponse;
    try {
      res = await this.send<FetchResponse>(ApiKey.Fetch, version, {
        replicaId: this.opts.localBrokerId,
        replicaState: { replicaId: this.opts.localBrokerId, replicaEpoch: -1 },
        maxWaitMs: this.opts.fetchWaitMaxMs,
        minBytes: this.opts.fetchMinBytes,
        maxBytes: this.opts.fetchResponseMaxBytes,
        isolationLevel: 0,
        sessionId: session.sessionId,
        sessionEpoch: session.sessionEpoch,
        topics: grouped(session.send).map((list) => ({
          topic: list[0]?.topic,
          topicId: list[0]?.topicId,
          partitions: list.map((p) => ({
            partition: p.partition,
            currentLeaderEpoch: p.currentLeaderEpoch,
            fetchOffset: p.fetchOffset,
            lastFetchedEpoch: p.lastFetchedEpoch,
            logStartOffset: p.logStartOffset,
            partitionMaxBytes: p.partitionMaxBytes,
            ...(version >= 18 ? { highWatermark: p.highWatermark } : {}),
          })),
        })),
        forgottenTopicsData: grouped(session.forget).map((list) => ({
          topic: list[0]?.topic,
          topicId: list[0]?.topicId,
          partitions: list.map((p) => p.partition),
        })),
        rackId: '',
      });
    } catch (err) {
      this.session.handleError();
      throw err;
    }
    const before = this.session.id;
    if (!this.session.handleResponse(session, res.errorCode, res.sessionId)) {
      // A session error (Kafka logs it at info too): the next round sends a full fetch, without back-off.
      this.log.info('fetch session error; the next fetch is a full fetch', {
        leader: this.leaderId,
        sessionId: session.sessionId,
        sessionEpoch: session.sessionEpoch,
        error: errorName(res.errorCode),
      });
      if (session.full) throw new Error(`Fetch failed: ${errorName(res.errorCode)}`);
      return;
    }
    if (session.full && this.session.id !== 0 && this.session.id !== before) {
      this.log.info('fetch session opened', {
        leader: this.leaderId,
        sessionId: this.session.id,
        partitions: session.send.length,
      });
    }
    const names = new Map(wanted.map((p) => [p.topicId, p.topic]));
    const answers = new Map<string, FetchResponse['responses'][number]['partitions'][number]>();
    for (const t of res.responses) {
      const topic = usesTopicIds ? names.get(t.topicId) : t.topic;
      if (topic === undefined) continue;
      for (const p of t.partitions) answers.set(`${topic}-${p.partitionIndex}`, p);
    }
    for (const s of states) {
      const a = answers.get(key(s.partition));
      if (a === undefined || !this.current(s)) continue;
      if (a.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        await this.handleOutOfRange(s);
        continue;
      }
      if (a.errorCode !== ErrorCode.NONE) {
        this.pause(s, a.errorCode, 'Fetch');
        continue;
      }
      const p = s.partition;
      if (a.records !== null && a.records.length > 0) {
        const r = p.appendAsFollower(a.records);
        if (r.errorCode !== ErrorCode.NONE) {
          this.log.error('follower append failed', {
            partition: p.name,
            errorCode: r.errorCode,
            error: r.errorMessage,
          });
          // A batch below our log end means the logs diverged: truncate again before fetching.
          s.state = 'truncating';
          s.delayedUntil = Date.now() + this.opts.fetchBackoffMs;
          continue;
        }
      }
      this.leaderEnds.set(key(p), a.highWatermark);
      p.updateFollowerOffsets(a.highWatermark, a.logStartOffset);
    }
  }

  /** The leader has no data at our fetch offset: behind its log start, or (unclean) past its end. */
  private async handleOutOfRange(s: FetchState): Promise<void> {
    const p = s.partition;
    const res = await this.send<ListOffsetsResponse>(ApiKey.ListOffsets, LIST_OFFSETS_VERSION, {
      replicaId: this.opts.localBrokerId,
      isolationLevel: 0,
      topics: [
        {
          name: p.topic,
          partitions: [{ partitionIndex: p.index, currentLeaderEpoch: s.leaderEpoch, timestamp: EARLIEST }],
        },
      ],
    });
    if (!this.current(s)) return;
    const a = res.topics[0]?.partitions[0];
    if (a === undefined || a.errorCode !== ErrorCode.NONE) {
      this.pause(s, a?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, 'ListOffsets');
      return;
    }
    if (p.log.logEndOffset < a.offset) {
      this.log.warn('follower is behind the leader log start; restarting its log there', {
        partition: p.name,
        logEndOffset: p.log.logEndOffset,
        leaderLogStartOffset: a.offset,
      });
      p.truncateFullyAndStartAt(a.offset);
    } else {
      // Past the leader's end: truncate again by epoch.
      s.state = 'truncating';
    }
  }

  private pause(s: FetchState, errorCode: number, what: string): void {
    const fenced =
      errorCode === ErrorCode.FENCED_LEADER_EPOCH ||
      errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
      errorCode === ErrorCode.UNKNOWN_LEADER_EPOCH;
    s.delayedUntil = Date.now() + this.opts.fetchBackoffMs;
    if (fenced) s.state = 'truncating';
    this.log.debug('follower fetch paused', {
      partition: s.partition.name,
      leader: this.leaderId,
      request: what,
      error: errorName(errorCode),
    });
  }
}

/** How often a fetcher looks for its leader's endpoint while the metadata does not have it yet. */
const endpointPollMs = 20;

/** The leader is not (yet) in this broker's metadata: retried every endpointPollMs for up to a fetch backoff. */
class LeaderEndpointUnknown extends Error {
  constructor(leaderId: number, listener: string) {
    super(`leader ${leaderId} has no ${listener} endpoint (not alive?)`);
    this.name = 'LeaderEndpointUnknown';
  }
}
