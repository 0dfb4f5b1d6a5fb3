// Fetch sessions (KIP-227) over real sockets against a real broker: full fetches open sessions, incremental
// fetches list only what changed and are answered only with what is new, forgotten partitions leave, and
// each session error is answered as Kafka answers it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { DeleteTopicsResponse } from '../../src/protocol/generated/delete-topics-response.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { decodeRecords, encodeRecordBatch, iterateBatches } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

const INT32_MAX = 0x7fffffff;

interface Part {
  partition: number;
  fetchOffset: number;
}

interface Topic {
  topic: string;
  topicId: string;
  partitions: Part[];
}

interface FetchArgs {
  sessionId: number;
  sessionEpoch: number;
  topics?: Topic[];
  forgotten?: { topic: string; topicId: string; partitions: number[] }[];
  maxWaitMs?: number;
  replicaId?: number;
  version?: number;
}

function fetch(conn: KafkaConnection, a: FetchArgs): Promise<FetchResponse> {
  const version = a.version ?? 17;
  return conn.request<FetchResponse>(
    ApiKey.Fetch,
    {
      replicaId: a.replicaId ?? -1,
      replicaState: { replicaId: a.replicaId ?? -1, replicaEpoch: -1 },
      maxWaitMs: a.maxWaitMs ?? 0,
      minBytes: 1,
      maxBytes: 1024 * 1024,
      isolationLevel: 0,
      sessionId: a.sessionId,
      sessionEpoch: a.sessionEpoch,
      topics: (a.topics ?? []).map((t) => ({
        topic: t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          fetchOffset: p.fetchOffset,
          partitionMaxBytes: 64 * 1024,
          currentLeaderEpoch: -1,
          logStartOffset: -1,
          lastFetchedEpoch: -1,
        })),
      })),
      forgottenTopicsData: a.forgotten ?? [],
      rackId: '',
    },
    version,
  );
}

/** (topic name or id, partition, error, record values) of every partition in a response. */
function answered(res: FetchResponse): { t: string; p: number; err: number; values: string[] }[] {
  const out: { t: string; p: number; err: number; values: string[] }[] = [];
  for (const t of res.responses) {
    for (const p of t.partitions) {
      const values: string[] = [];
      if (p.records !== null && p.records.length > 0) {
        for (const { pos, header } of iterateBatches(p.records)) {
          const batch = p.records.subarray(pos, pos + 12 + header.batchLength);
          for (const r of decodeRecords(batch).records) values.push(r.value?.toString() ?? '');
        }
      }
      out.push({ t: t.topic || t.topicId, p: p.partitionIndex, err: p.errorCode, values });
    }
  }
  return out;
}

describe('fetch sessions (KIP-227)', () => {
  let b: InProcessBroker;
  let conn: KafkaConnection;

  async function createTopic(name: string, partitions: number): Promise<string> {
    const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(res.topics[0]!.errorCode, ErrorCode.NONE);
    return res.topics[0]!.topicId;
  }

  async function produce(topic: string, partition: number, value: string): Promise<void> {
    const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: topic,
          partitionData: [{ index: partition, records: encodeRecordBatch({ records: [{ value }] }) }],
        },
      ],
    });
    assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
  }

  function parts(n: number): Part[] {
    return Array.from({ length: n }, (_, i) => ({ partition: i, fetchOffset: 0 }));
  }

  before(async () => {
    b = await startInProcess({ 'max.incremental.fetch.session.cache.slots': '3' });
    conn = await b.connect();
  });

  after(async () => {
    conn.close();
    await b.stop(true);
  });

  it('opens a session on a full fetch and answers incremental fetches with only what is new', async () => {
    const id = await createTopic('s-basic', 3);
    await produce('s-basic', 0, 'a');
    const full = await fetch(conn, {
      sessionId: 0,
      sessionEpoch: 0,
      topics: [{ topic: '', topicId: id, partitions: parts(3) }],
    });
    assert.equal(full.errorCode, ErrorCode.NONE);
    assert.notEqual(full.sessionId, 0, 'a full fetch at epoch 0 opens a session');
    assert.deepEqual(
      answered(full).map((a) => [a.p, a.values]),
      [
        [0, ['a']],
        [1, []],
        [2, []],
      ],
      'a full fetch answers every partition',
    );
    const session = b.broker.fetchSessions.get(full.sessionId);
    assert.equal(session?.partitions.size, 3);
    assert.equal(session?.privileged, false, 'a consumer session is not privileged');

    // Epoch 1: partition 0 moved on (listed), nothing new anywhere: the long poll waits max_wait_ms.
    let start = Date.now();
    const quiet = await fetch(conn, {
      sessionId: full.sessionId,
      sessionEpoch: 1,
      topics: [{ topic: '', topicId: id, partitions: [{ partition: 0, fetchOffset: 1 }] }],
      maxWaitMs: 400,
    });
    assert.ok(Date.now() - start >= 350, 'an incremental fetch with nothing new waits max_wait_ms');
    assert.equal(quiet.errorCode, ErrorCode.NONE);
    assert.equal(quiet.sessionId, full.sessionId);
    assert.deepEqual(answered(quiet), [], 'nothing new: no partition in the answer');

    // Epoch 2: data on partition 2 wakes the parked fetch; only partition 2 is answered.
    start = Date.now();
    const pending = fetch(conn, { sessionId: full.sessionId, sessionEpoch: 2, maxWaitMs: 10_000 });
    const other = await b.connect();
    await other.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: 's-basic',
          partitionData: [{ index: 2, records: encodeRecordBatch({ records: [{ value: 'b' }] }) }],
        },
      ],
    });
    other.close();
    const woke = await pending;
    assert.ok(Date.now() - start < 5_000, 'woken by the append');
    assert.deepEqual(
      answered(woke).map((a) => [a.p, a.values]),
      [[2, ['b']]],
    );
    // Epoch 3, nothing listed: partition 2 still at offset 0 in the session (the fetcher did not move it), so
    // its batch comes again; the high watermark did not change, partitions 0 and 1 stay out.
    const again = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: 3 });
    assert.deepEqual(
      answered(again).map((a) => [a.p, a.values]),
      [[2, ['b']]],
    );
    // Close it (FINAL): the session is gone.
    const fin = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: -1 });
    assert.equal(fin.sessionId, 0);
    assert.equal(b.broker.fetchSessions.get(full.sessionId), undefined, 'epoch -1 closes the session');
    const gone = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: 4 });
    assert.equal(gone.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('answers session errors as Kafka does: unknown id, wrong epoch, topic id usage', async () => {
    const id = await createTopic('s-errors', 1);
    const notFound = await fetch(conn, { sessionId: 123456, sessionEpoch: 1 });
    assert.equal(notFound.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    assert.equal(notFound.sessionId, 0);
    assert.deepEqual(notFound.responses, []);
    // Session id 0 with an epoch > 0 is an incremental fetch of no session.
    const zero = await fetch(conn, { sessionId: 0, sessionEpoch: 1 });
    assert.equal(zero.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

    const full = await fetch(conn, {
      sessionId: 0,
      sessionEpoch: 0,
      topics: [{ topic: '', topicId: id, partitions: parts(1) }],
    });
    assert.notEqual(full.sessionId, 0);
    for (const wrong of [0x10, 2, INT32_MAX]) {
      const res = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: wrong });
      assert.equal(res.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH, `epoch ${wrong}`);
      assert.equal(res.sessionId, 0);
      assert.deepEqual(res.responses, []);
    }
    // A wrong epoch does not move the session on: epoch 1 is still expected.
    const ok = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: 1 });
    assert.equal(ok.errorCode, ErrorCode.NONE);
    // The session uses topic ids (v13+): an incremental fetch by name (v12) is refused.
    const byName = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: 2, version: 12 });
    assert.equal(byName.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    // A full fetch naming the session closes it and opens a new one.
    const reopened = await fetch(conn, {
      sessionId: full.sessionId,
      sessionEpoch: 0,
      topics: [{ topic: '', topicId: id, partitions: parts(1) }],
    });
    assert.notEqual(reopened.sessionId, 0);
    assert.notEqual(reopened.sessionId, full.sessionId);
    assert.equal(b.broker.fetchSessions.get(full.sessionId), undefined);
    await fetch(conn, { sessionId: reopened.sessionId, sessionEpoch: -1 });
  });

  it('answers the older of two requests of one session INVALID_FETCH_SESSION_EPOCH when the newer came first', async () => {
    const id = await createTopic('s-race', 1);
    const full = await fetch(conn, {
      sessionId: 0,
      sessionEpoch: 0,
      topics: [{ topic: '', topicId: id, partitions: parts(1) }],
    });
    const other = await b.connect();
    const parkedFirst = fetch(conn, { sessionId: full.sessionId, sessionEpoch: 1, maxWaitMs: 1_500 });
    await new Promise((r) => setTimeout(r, 100));
    const second = await fetch(other, { sessionId: full.sessionId, sessionEpoch: 2 });
    other.close();
    assert.equal(second.errorCode, ErrorCode.NONE);
    const first = await parkedFirst;
    assert.equal(first.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    await fetch(conn, { sessionId: full.sessionId, sessionEpoch: -1 });
  });

  it('forgets partitions, adds new ones, and closes a session left empty', async () => {
    const id = await createTopic('s-forget', 3);
    const full = await fetch(conn, {
      sessionId: 0,
      sessionEpoch: 0,
      topics: [{ topic: '', topicId: id, partitions: parts(2) }],
    });
    const sid = full.sessionId;
    // Forget partition 0, add partition 2.
    const inc = await fetch(conn, {
      sessionId: sid,
      sessionEpoch: 1,
      topics: [{ topic: '', topicId: id, partitions: [{ partition: 2, fetchOffset: 0 }] }],
      forgotten: [{ topic: '', topicId: id, partitions: [0] }],
    });
    assert.equal(inc.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      answered(inc).map((a) => a.p),
      [2],
      'an added partition is answered (its high watermark is new to the fetcher)',
    );
    const session = b.broker.fetchSessions.get(sid)!;
    assert.deepEqual(
      [...session.partitions.values()].map((p) => p.partition),
      [1, 2],
    );
    await produce('s-forget', 0, 'x');
    await produce('s-forget', 1, 'y');
    const after1 = await fetch(conn, { sessionId: sid, sessionEpoch: 2 });
    assert.deepEqual(
      answered(after1).map((a) => [a.p, a.values]),
      [[1, ['y']]],
      'a forgotten partition is not fetched any more',
    );
    // Forgetting every partition closes the session; the request is answered without one.
    const empty = await fetch(conn, {
      sessionId: sid,
      sessionEpoch: 3,
      forgotten: [{ topic: '', topicId: id, partitions: [1, 2] }],
    });
    assert.equal(empty.errorCode, ErrorCode.NONE);
    assert.equal(empty.sessionId, 0);
    assert.equal(b.broker.fetchSessions.get(sid), undefined);
  });

  it('wraps the session epoch from 2^31-1 to 1', async () => {
    const id = await createTopic('s-wrap', 1);
    const full = await fetch(conn, {
      sessionId: 0,
      sessionEpoch: 0,
      topics: [{ topic: '', topicId: id, partitions: parts(1) }],
    });
    // Two billion requests are too many for a test: the session is moved to its last epoch.
    b.broker.fetchSessions.get(full.sessionId)!.epoch = INT32_MAX;
    const last = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: INT32_MAX });
    assert.equal(last.errorCode, ErrorCode.NONE);
    assert.equal(b.broker.fetchSessions.get(full.sessionId)!.epoch, 1, 'after 2^31-1 comes 1 (0 means full)');
    const wrapped = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: 1 });
    assert.equal(wrapped.errorCode, ErrorCode.NONE);
    assert.equal(wrapped.sessionId, full.sessionId);
    const stale = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: INT32_MAX });
    assert.equal(stale.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    await fetch(conn, { sessionId: full.sessionId, sessionEpoch: -1 });
  });

  it('answers a deleted topic in a session with its error, without cutting the wait of the others', async () => {
    const goneId = await createTopic('s-gone', 1);
    const liveId = await createTopic('s-live', 1);
    const full = await fetch(conn, {
      sessionId: 0,
      sessionEpoch: 0,
      topics: [
        { topic: '', topicId: goneId, partitions: parts(1) },
        { topic: '', topicId: liveId, partitions: parts(1) },
      ],
    });
    const byName = await fetch(conn, {
      version: 12,
      sessionId: 0,
      sessionEpoch: 0,
      topics: [
        { topic: 's-gone', topicId: '', partitions: parts(1) },
        { topic: 's-live', topicId: '', partitions: parts(1) },
      ],
    });
    assert.notEqual(byName.sessionId, 0);
    const del = await conn.request<DeleteTopicsResponse>(ApiKey.DeleteTopics, {
      topicNames: ['s-gone'],
      topics: [{ name: 's-gone', topicId: '0'.repeat(32) }],
      timeoutMs: 10_000,
    });
    assert.equal(del.responses[0]!.errorCode, ErrorCode.NONE);
    let start = Date.now();
    const inc = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: 1, maxWaitMs: 400 });
    assert.ok(Date.now() - start >= 350, 'the live partition kept its long poll');
    assert.deepEqual(
      answered(inc).map((a) => [a.t, a.err]),
      [[goneId, ErrorCode.UNKNOWN_TOPIC_ID]],
      'by id: UNKNOWN_TOPIC_ID, and only the deleted partition',
    );
    start = Date.now();
    const incByName = await fetch(conn, {
      version: 12,
      sessionId: byName.sessionId,
      sessionEpoch: 1,
      maxWaitMs: 400,
    });
    assert.ok(Date.now() - start >= 350);
    assert.deepEqual(
      answered(incByName).map((a) => [a.t, a.err]),
      [['s-gone', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
      'by name: UNKNOWN_TOPIC_OR_PARTITION',
    );
    // The error is sent every time, until the fetcher forgets the partition.
    const again = await fetch(conn, { sessionId: full.sessionId, sessionEpoch: 2 });
    assert.deepEqual(
      answered(again).map((a) => a.err),
      [ErrorCode.UNKNOWN_TOPIC_ID],
    );
    const forgot = await fetch(conn, {
      sessionId: full.sessionId,
      sessionEpoch: 3,
      forgotten: [{ topic: '', topicId: goneId, partitions: [0] }],
    });
    assert.deepEqual(answered(forgot), []);
    await fetch(conn, { sessionId: full.sessionId, sessionEpoch: -1 });
    await fetch(conn, { version: 12, sessionId: byName.sessionId, sessionEpoch: -1 });
  });

  it('keeps at most max.incremental.fetch.session.cache.slots sessions; followers evict consumers', async () => {
    const id = await createTopic('s-slots', 3);
    const cache = b.broker.fetchSessions;
    assert.equal(cache.size, 0, 'earlier tests closed their sessions');
    const open = async (n: number, replicaId = -1) =>
      (
        await fetch(conn, {
          sessionId: 0,
          sessionEpoch: 0,
          replicaId,
          topics: [{ topic: '', topicId: id, partitions: parts(n) }],
        })
      ).sessionId;
    const small = await open(1);
    const mid = await open(2);
    const big = await open(3);
    assert.equal(cache.size, 3);
    // Full: a consumer cannot evict young sessions, whatever its size.
    assert.equal(await open(3), 0, 'no slot: a full fetch is answered without a session');
    assert.equal(cache.size, 3);
    // A follower (privileged) evicts the least valuable consumer session: the one with the fewest partitions.
    const follower = await open(1, 7);
    assert.notEqual(follower, 0);
    assert.equal(cache.get(small), undefined, 'the smallest consumer session was evicted');
    assert.ok(cache.get(mid) !== undefined && cache.get(big) !== undefined);
    assert.equal(cache.stats().evictions, 1);
    assert.equal(cache.stats().partitions, 2 + 3 + 1);
    const evicted = await fetch(conn, { sessionId: small, sessionEpoch: 1 });
    assert.equal(evicted.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    // Followers evict the remaining consumer sessions, then find only young follower sessions: no slot.
    const f2 = await open(1, 8);
    const f3 = await open(1, 9);
    assert.ok(f2 !== 0 && f3 !== 0);
    assert.equal(cache.get(mid), undefined);
    assert.equal(cache.get(big), undefined);
    assert.equal(await open(5, 10), 0, 'a young follower session is evicted by nobody');
    assert.ok(cache.get(follower) !== undefined);
    assert.equal(cache.stats().evictions, 3);
    for (const sid of [follower, f2, f3]) await fetch(conn, { sessionId: sid, sessionEpoch: -1 });
    assert.equal(cache.size, 0);
  });
});
