// The fetch session cache's eviction policy (Kafka's FetchSessionCacheShard.tryEvict), on its own clock:
// the broker uses Kafka's 120 s minimum eviction time, too long for a test over sockets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CachedPartition, FetchSessionCache, nextEpoch } from '../../src/broker/fetch-session.js';

function partitions(n: number): CachedPartition[] {
  return Array.from({ length: n }, (_, i) => ({
    topic: 't',
    topicId: '0'.repeat(32),
    partition: i,
    params: {
      fetchOffset: 0,
      currentLeaderEpoch: -1,
      logStartOffset: -1,
      partitionMaxBytes: 1,
      lastFetchedEpoch: -1,
      highWatermark: -1,
    },
    highWatermark: 0,
    logStartOffset: 0,
    lastStableOffset: 0,
  }));
}

describe('FetchSessionCache eviction', () => {
  it('evicts the least recently used session once it is unused for longer than the minimum eviction time', () => {
    const cache = new FetchSessionCache({ maxEntries: 2, evictionMs: 1000 });
    const a = cache.maybeCreateSession(0, false, false, partitions(5));
    const b = cache.maybeCreateSession(10, false, false, partitions(5));
    assert.equal(cache.maybeCreateSession(500, false, false, partitions(1)), 0, 'both are fresh');
    // a is used at 600 (an incremental fetch), b is not: at 1100 b is stale, a is not.
    const ctx = cache.newContext(
      { sessionId: a, sessionEpoch: 1, usesTopicIds: false, privileged: false, fetchData: [], toForget: [] },
      600,
    );
    assert.equal(ctx.kind, 'incremental');
    const c = cache.maybeCreateSession(1100, false, false, partitions(1));
    assert.notEqual(c, 0);
    assert.equal(cache.get(b), undefined, 'the stale session went');
    assert.ok(cache.get(a) !== undefined);
    assert.deepEqual(cache.stats(), { sessions: 2, partitions: 6, evictions: 1, created: 3, incremental: 1 });
  });

  it('lets a larger consumer session evict an older, smaller one that is still in use', () => {
    const cache = new FetchSessionCache({ maxEntries: 1, evictionMs: 1000 });
    const small = cache.maybeCreateSession(0, false, false, partitions(2));
    // Used at 1500: not stale, but created more than evictionMs ago, so evictable by all (from this touch on).
    cache.newContext(
      {
        sessionId: small,
        sessionEpoch: 1,
        usesTopicIds: false,
        privileged: false,
        fetchData: [],
        toForget: [],
      },
      1500,
    );
    assert.equal(cache.maybeCreateSession(1600, false, false, partitions(2)), 0, 'not larger: kept');
    const big = cache.maybeCreateSession(1600, false, false, partitions(3));
    assert.notEqual(big, 0);
    assert.equal(cache.get(small), undefined);
  });

  it('keeps follower sessions from consumers, and old follower sessions evictable by followers', () => {
    const cache = new FetchSessionCache({ maxEntries: 1, evictionMs: 1000 });
    const f = cache.maybeCreateSession(0, true, true, partitions(1));
    cache.newContext(
      { sessionId: f, sessionEpoch: 1, usesTopicIds: true, privileged: true, fetchData: [], toForget: [] },
      1500,
    );
    assert.equal(cache.maybeCreateSession(1600, false, true, partitions(100)), 0, 'consumers never win');
    const f2 = cache.maybeCreateSession(1600, true, true, partitions(2));
    assert.notEqual(f2, 0, 'a larger follower session evicts an old one');
  });

  it('creates no session with 0 slots', () => {
    const cache = new FetchSessionCache({ maxEntries: 0, evictionMs: 1000 });
    assert.equal(cache.maybeCreateSession(0, true, true, partitions(1)), 0);
  });

  it('numbers epochs 1..2^31-1 and then 1 again', () => {
    assert.equal(nextEpoch(0), 1);
    assert.equal(nextEpoch(41), 42);
    assert.equal(nextEpoch(0x7fffffff), 1);
    assert.equal(nextEpoch(-1), -1);
  });
});
