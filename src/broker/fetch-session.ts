// Fetch sessions (KIP-227, Kafka's FetchSession / FetchSessionCache / FetchManager). A fetcher that asks for
// the same partitions again and again (a follower, a consumer) sends them once, in a FULL fetch; the broker
// keeps them in a session and answers with its id. Later INCREMENTAL fetches name the session and its epoch
// and list only what changed: partitions added or whose fetch position moved, and partitions to forget. The
// broker reads every partition of the session and answers only those with something new (records, a changed
// high watermark, log start offset or last stable offset, an error, a preferred read replica).
//
// The request's (session_id, session_epoch) says what it is:
//   (0, -1)        sessionless full fetch: no session is created (pre-KIP-227 clients, or a client that wants none)
//   (0 | id, 0)    FULL: closes session `id` if given, and creates a new session when a slot is free
//   (id, -1)       FULL that closes session `id` (FINAL) and creates none
//   (id, n > 0)    INCREMENTAL: session `id` must exist (FETCH_SESSION_ID_NOT_FOUND) and expect epoch n
//                  (INVALID_FETCH_SESSION_EPOCH); a session created with topic ids (v13+) must be used with them
//                  and one created with names without them (FETCH_SESSION_TOPIC_ID_ERROR)
// A new session expects epoch 1; each incremental fetch moves it on by one, from 2^31-1 back to 1. A session
// error is answered with session id 0 and no partitions: the fetcher goes back to a full fetch.
//
// The cache holds at most max.incremental.fetch.session.cache.slots sessions. When it is full, a new session
// may take the slot of (Kafka's FetchSessionCacheShard.tryEvict):
//   1. the least recently used session, if unused for longer than fetchSessionEvictionMsMin; else
//   2. the least valuable evictable session, ordered by (privileged, partition count, id), if the new one is
//      worth more: follower sessions (privileged) beat consumer sessions, more partitions beat fewer. A
//      session younger than fetchSessionEvictionMsMin is evictable by nobody, except a consumer session,
//      which a follower may evict at any age.
// Sessions live on this broker only; a partition whose topic is deleted stays in its sessions and is answered
// with UNKNOWN_TOPIC_ID (ids) or UNKNOWN_TOPIC_OR_PARTITION (names) until the fetcher forgets it.

import { randomInt } from 'node:crypto';
import { ErrorCode } from '../protocol/errors.js';

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
const INT32_MAX = 0x7fffffff;

/** The epoch that follows `epoch` in a session (Kafka's FetchMetadata.nextEpoch): wraps to 1, never to 0. */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch === INT32_MAX ? 1 : epoch + 1;
}

/** What a fetcher asks of one partition (the request's FetchPartition fields). */
export interface FetchParams {
  fetchOffset: number;
  currentLeaderEpoch: number;
  logStartOffset: number;
  partitionMaxBytes: number;
  lastFetchedEpoch: number;
  /** v18: the high watermark the follower knows (KIP-1166); Long.MAX_VALUE read as 2^63 when unsupported. */
  highWatermark: number;
}

/** One partition of a request or of a session: the topic by name (v4-12) or by id (v13+). */
export interface FetchPartitionKey {
  topic: string;
  topicId: string;
  partition: number;
}

export interface CachedPartition extends FetchPartitionKey {
  params: FetchParams;
  /** What the last response told the fetcher, to leave unchanged partitions out of the next one. */
  highWatermark: number;
  logStartOffset: number;
  lastStableOffset: number;
}

/** What a response says of a partition, as far as the session compares it. */
export interface PartitionAnswer {
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  lastStableOffset: number;
  preferredReadReplica: number;
  recordsBytes: number;
  diverging: boolean;
}

export class FetchSession {
  /** The session's partitions in fetch order; partitions answered with records move to the end (fairness). */
  readonly partitions = new Map<string, CachedPartition>();
  lastUsedMs: number;
  /** Partition count when last touched (Kafka's cachedSize), for the evictable order and the totals. */
  cachedSize = -1;
  evictableByAll = false;
  evictableByPrivileged = false;

  constructor(
    readonly id: number,
    readonly privileged: boolean,
    readonly usesTopicIds: boolean,
    readonly creationMs: number,
    /** The epoch the next incremental fetch must carry. */
    public epoch: number,
  ) {
    this.lastUsedMs = creationMs;
  }

  keyOf(p: FetchPartitionKey): string {
    return partitionKey(p, this.usesTopicIds);
  }

  /** Applies an incremental request: new partitions are added, listed ones updated, forgotten ones removed. */
  update(
    fetchData: readonly (FetchPartitionKey & { params: FetchParams })[],
    toForget: readonly FetchPartitionKey[],
  ): { added: number; updated: number; removed: number } {
    let added = 0;
    let updated = 0;
    let removed = 0;
    for (const d of fetchData) {
      const k = this.keyOf(d);
      const cached = this.partitions.get(k);
      if (cached === undefined) {
        this.partitions.set(k, {
          topic: d.topic,
          topicId: d.topicId,
          partition: d.partition,
          params: d.params,
          highWatermark: -1,
          logStartOffset: -1,
          lastStableOffset: -1,
        });
        added++;
      } else {
        cached.params = d.params;
        updated++;
      }
    }
    for (const f of toForget) if (this.partitions.delete(this.keyOf(f))) removed++;
    return { added, updated, removed };
  }

  /**
   * Whether a partition's answer must be in an incremental response; with `commit`, remembers what it told
   * (Kafka's CachedPartition.maybeUpdateResponseData and the fairness move of IncrementalFetchContext).
   */
  mustRespond(key: string, a: PartitionAnswer, commit: boolean): boolean {
    const c = this.partitions.get(key);
    if (c === undefined) return false;
    let must = a.recordsBytes > 0 || a.preferredReadReplica >= 0 || a.diverging;
    if (c.highWatermark !== a.highWatermark) {
      must = true;
      if (commit) c.highWatermark = a.highWatermark;
    }
    if (c.logStartOffset !== a.logStartOffset) {
      must = true;
      if (commit) c.logStartOffset = a.logStartOffset;
    }
    if (c.lastStableOffset !== a.lastStableOffset) {
      must = true;
      if (commit) c.lastStableOffset = a.lastStableOffset;
    }
    if (a.errorCode !== ErrorCode.NONE) {
      // Errors are always sent; the cached high watermark is made invalid so that the partition is sent again
      // once the error is gone.
      must = true;
      if (commit) c.highWatermark = -1;
    }
    if (commit && a.recordsBytes > 0) {
      this.partitions.delete(key);
      this.partitions.set(key, c);
    }
    return must;
  }
}

export function partitionKey(p: FetchPartitionKey, usesTopicIds: boolean): string {
  return `${usesTopicIds ? p.topicId : p.topic}\u0000${p.partition}`;
}

/** How a fetch request is served (Kafka's FetchContext kinds). */
export type FetchContext =
  | { kind: 'error'; errorCode: number }
  | { kind: 'sessionless' }
  | { kind: 'full' }
  | { kind: 'incremental'; session: FetchSession; epoch: number };

export interface FetchSessionStats {
  sessions: number;
  partitions: number;
  evictions: number;
  /** Sessions created since start. */
  created: number;
  /** Incremental fetches served since start (session errors not counted). */
  incremental: number;
}

export interface FetchSessionCacheOptions {
  /** max.incremental.fetch.session.cache.slots */
  maxEntries: number;
  /** A session unused this long may be evicted by anyone (Kafka: 120 s, not configurable). */
  evictionMs: number;
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private numPartitions = 0;
  private evictionsTotal = 0;
  private createdTotal = 0;
  private incrementalTotal = 0;

  constructor(private readonly opts: FetchSessionCacheOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  stats(): FetchSessionStats {
    return {
      sessions: this.sessions.size,
      partitions: this.numPartitions,
      evictions: this.evictionsTotal,
      created: this.createdTotal,
      incremental: this.incrementalTotal,
    };
  }

  /**
   * Decides how a request is served (Kafka's FetchManager.newContext). For an incremental fetch the session is
   * updated with the request's partitions and forgotten partitions, and its epoch moves on.
   */
  newContext(
    req: {
      sessionId: number;
      sessionEpoch: number;
      usesTopicIds: boolean;
      privileged: boolean;
      fetchData: readonly (FetchPartitionKey & { params: FetchParams })[];
      toForget: readonly FetchPartitionKey[];
    },
    now: number,
  ): FetchContext {
    if (req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH) {
      // Any session named in a full fetch is closed.
      if (req.sessionId !== INVALID_SESSION_ID) this.remove(req.sessionId);
      return req.sessionEpoch === FINAL_EPOCH ? { kind: 'sessionless' } : { kind: 'full' };
    }
    const session = this.sessions.get(req.sessionId);
    if (session === undefined) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== req.sessionEpoch)
      return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    if (session.usesTopicIds !== req.usesTopicIds)
      return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
    session.update(req.fetchData, req.toForget);
    if (session.partitions.size === 0) {
      // Nothing left to fetch: the session closes and the (empty) request is served without one.
      this.remove(session.id);
      return { kind: 'sessionless' };
    }
    this.touch(session, now);
    session.epoch = nextEpoch(session.epoch);
    this.incrementalTotal++;
    return { kind: 'incremental', session, epoch: session.epoch };
  }

  /**
   * Creates a session for a full fetch once it is answered, when a slot is free or can be freed; returns its
   * id, or INVALID_SESSION_ID (the fetcher keeps sending full fetches).
   */
  maybeCreateSession(
    now: number,
    privileged: boolean,
    usesTopicIds: boolean,
    partitions: readonly CachedPartition[],
  ): number {
    if (this.opts.maxEntries <= 0) return INVALID_SESSION_ID;
    if (this.sessions.size >= this.opts.maxEntries && !this.tryEvict(privileged, partitions.length, now))
      return INVALID_SESSION_ID;
    const session = new FetchSession(
      this.newSessionId(),
      privileged,
      usesTopicIds,
      now,
      nextEpoch(INITIAL_EPOCH),
    );
    for (const p of partitions) session.partitions.set(session.keyOf(p), p);
    this.sessions.set(session.id, session);
    this.touch(session, now);
    this.createdTotal++;
    return session.id;
  }

  remove(id: number): FetchSession | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    this.sessions.delete(id);
    if (session.cachedSize >= 0) this.numPartitions -= session.cachedSize;
    session.cachedSize = -1;
    return session;
  }

  /** Marks a session used now and refreshes its size and evictability (Kafka's touch). */
  touch(session: FetchSession, now: number): void {
    session.lastUsedMs = now;
    if (session.cachedSize >= 0) this.numPartitions -= session.cachedSize;
    session.cachedSize = session.partitions.size;
    this.numPartitions += session.cachedSize;
    const old = now - session.creationMs > this.opts.evictionMs;
    session.evictableByPrivileged = !session.privileged || old;
    session.evictableByAll = old;
  }

  /** A random positive id not in use on this broker. */
  private newSessionId(): number {
    let id: number;
    do id = randomInt(1, INT32_MAX);
    while (this.sessions.has(id));
    return id;
  }

  private tryEvict(privileged: boolean, size: number, now: number): boolean {
    let lru: FetchSession | undefined;
    for (const s of this.sessions.values())
      if (
        lru === undefined ||
        s.lastUsedMs < lru.lastUsedMs ||
        (s.lastUsedMs === lru.lastUsedMs && s.id < lru.id)
      )
        lru = s;
    if (lru === undefined) return false;
    if (now - lru.lastUsedMs > this.opts.evictionMs) return this.evict(lru);
    let least: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (!(privileged ? s.evictableByPrivileged : s.evictableByAll)) continue;
      if (least === undefined || compareEvictable(s, least) < 0) least = s;
    }
    if (least === undefined) return false;
    // The new entry is keyed (privileged, size, id 0): it must rank at least as high as the one it evicts.
    if (compareKey(privileged, size, 0, least.privileged, least.cachedSize, least.id) < 0) return false;
    return this.evict(least);
  }

  private evict(s: FetchSession): boolean {
    this.remove(s.id);
    this.evictionsTotal++;
    return true;
  }
}

function compareEvictable(a: FetchSession, b: FetchSession): number {
  return compareKey(a.privileged, a.cachedSize, a.id, b.privileged, b.cachedSize, b.id);
}

function compareKey(ap: boolean, as: number, aid: number, bp: boolean, bs: number, bid: number): number {
  if (ap !== bp) return ap ? 1 : -1;
  if (as !== bs) return as - bs;
  return aid - bid;
}
