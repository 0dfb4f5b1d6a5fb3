// Followers fetch in fetch sessions (KIP-227), as Kafka's do: three real broker processes, each leading some
// partitions of an RF 3 topic and following the others. Each leader holds one session per follower; after the
// full fetch that opened it, the followers' requests are incremental. A follower killed and restarted opens
// new sessions and catches up, and a follower whose session a leader no longer has falls back to a full fetch.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import { freePort } from '../helpers/broker.js';
import {
  createAssignedTopic,
  startCluster,
  type TestCluster,
  waitFor,
  withClusterLogs,
  withConnection,
} from '../helpers/cluster.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';

const topic = 'sessions';
const followerWaitMs = 4000;
const partitions = 6;
/** Partition p is led by broker (p % 3) + 1 and followed by the two others. */
const assignment = Array.from({ length: partitions }, (_, p) => [0, 1, 2].map((i) => ((p + i) % 3) + 1));

/** Waits until `cond` holds (polling every 100 ms). */
function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<true> {
  return waitFor(what, async () => ((await cond()) ? true : undefined), timeoutMs);
}

async function scrape(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('fetch sessions between replicas', { skip: zooKeeperSkip(), timeout: 240_000 }, () => {
  let c: TestCluster;
  const metricsPort = new Map<number, number>();

  before(async () => {
    for (const id of [1, 2, 3]) metricsPort.set(id, await freePort());
    c = await startCluster({
      brokers: 3,
      // A long follower wait: a follower learns a new high watermark at once only through KIP-1166 (Fetch v18).
      overrides: { 'replica.fetch.wait.max.ms': String(followerWaitMs) },
      brokerOverrides: Object.fromEntries(
        [1, 2, 3].map((id) => [id, { 'metrics.http.port': String(metricsPort.get(id)) }]),
      ),
    });
    await createAssignedTopic(c, 1, topic, assignment);
  });
  after(async () => {
    await c?.destroy();
  });

  async function metrics(id: number): Promise<Map<string, number>> {
    return scrape(metricsPort.get(id) as number);
  }

  async function produce(n: number, acks: -1 | 1 = -1): Promise<void> {
    const producer = await Producer.connect({ bootstrap: c.bootstrapOf(c.running()[0] as number), acks });
    try {
      for (let p = 0; p < partitions; p++) {
        await producer.send(
          topic,
          Array.from({ length: n }, (_, i) => ({ value: `v${i}`, partition: p })),
        );
      }
    } finally {
      await producer.close();
    }
  }

  /** Waits until every replica of every partition has the same log end offset and high watermark. */
  async function waitInSync(what: string): Promise<void> {
    await until(
      what,
      async () => {
        const per = await Promise.all([1, 2, 3].map((id) => metrics(id)));
        for (let p = 0; p < partitions; p++) {
          const label = `{topic="${topic}",partition="${p}"}`;
          const ends = per.map((m) => m.get(`samsa_partition_log_end_offset${label}`));
          const hws = per.map((m) => m.get(`samsa_partition_high_watermark${label}`));
          if (ends.some((e) => e === undefined || e !== ends[0])) return false;
          if (hws.some((h) => h !== ends[0])) return false;
        }
        return true;
      },
      60_000,
    );
  }

  /** Session ids follower `id` logged as opened with `leader`, in order. */
  function sessionsOpened(id: number, leader: number): number[] {
    const out: number[] = [];
    for (const line of c.broker(id).logs().split('\n')) {
      if (!line.includes('fetch session opened')) continue;
      if (!new RegExp(`"leader":${leader}\\b`).test(line)) continue;
      const m = /"sessionId":(\d+)/.exec(line);
      if (m !== null) out.push(Number(m[1]));
    }
    return out;
  }

  test('each leader holds a session per follower, and the followers fetch incrementally', () =>
    withClusterLogs(c, async () => {
      await produce(20);
      await waitInSync('all replicas in sync after the first records');
      for (const id of [1, 2, 3]) {
        const first = await metrics(id);
        assert.ok(
          (first.get('samsa_fetch_sessions') ?? 0) >= 2,
          `broker ${id} holds a session for each of its two followers`,
        );
        assert.ok((first.get('samsa_fetch_session_partitions') ?? 0) >= 4, 'two partitions per follower');
        const before = first.get('samsa_fetch_session_incremental_requests_total') ?? 0;
        await until(
          `broker ${id} serves more incremental fetches`,
          async () =>
            ((await metrics(id)).get('samsa_fetch_session_incremental_requests_total') ?? 0) > before + 2,
          10_000,
        );
        for (const other of [1, 2, 3].filter((o) => o !== id)) {
          assert.ok(sessionsOpened(other, id).length >= 1, `broker ${other} opened a session with ${id}`);
        }
      }
      // Produced records reached the followers through incremental fetches.
      await produce(5);
      await waitInSync('all replicas in sync after more records');
    }));

  test('followers learn a new high watermark at once (Fetch v18, KIP-1166), not at replica.fetch.wait.max.ms', () =>
    withClusterLogs(c, async () => {
      await waitInSync('in sync before');
      const producer = await Producer.connect({ bootstrap: c.bootstrapOf(1), acks: -1 });
      try {
        for (let round = 0; round < 3; round++) {
          // acks=all: answered once the followers' next fetches moved the leader's high watermark; those
          // fetches are then answered at once (their high watermark is behind), not after the 4 s wait.
          await producer.send(topic, [{ value: `hw-${round}`, partition: 0 }]);
          const sent = Date.now();
          await waitInSync('followers have the new high watermark');
          const ms = Date.now() - sent;
          assert.ok(ms < followerWaitMs / 2, `followers learned the high watermark in ${ms} ms`);
        }
      } finally {
        await producer.close();
      }
    }));

  test('a restarted follower opens new sessions and catches up', () =>
    withClusterLogs(c, async () => {
      const opened = sessionsOpened(3, 1).length;
      await c.kill9(3);
      await c.waitForMetadata(
        `${topic}: no partition led by the dead broker 3`,
        (m) => (m.topics[0]?.partitions ?? []).every((p) => p.leaderId !== 3 && p.leaderId >= 0),
        { topics: [topic], timeoutMs: 60_000 },
      );
      await produce(10, 1);
      await c.restart(3);
      await until(
        'broker 3 opens a new session with broker 1',
        () => sessionsOpened(3, 1).length > opened,
        60_000,
      );
      await c.waitForMetadata(
        `${topic}: every ISR full again`,
        (m) => (m.topics[0]?.partitions ?? []).every((p) => p.isrNodes.length === 3),
        { topics: [topic], timeoutMs: 90_000 },
      );
      await waitInSync('broker 3 caught up');
    }));

  test('a follower whose session the leader closed falls back to a full fetch', () =>
    withClusterLogs(c, async () => {
      const ids = sessionsOpened(2, 1);
      const sessionId = ids[ids.length - 1] as number;
      assert.ok(sessionId > 0);
      // Any client may close a session by its id (a FINAL fetch): broker 1 forgets broker 2's session.
      const res = await withConnection(c.bootstrapOf(1), (conn) =>
        conn.request<FetchResponse>(
          ApiKey.Fetch,
          {
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 1,
            maxBytes: 1024,
            isolationLevel: 0,
            sessionId,
            sessionEpoch: -1,
            topics: [],
            forgottenTopicsData: [],
            rackId: '',
          },
          17,
        ),
      );
      assert.equal(res.errorCode, ErrorCode.NONE);
      await until(
        'broker 2 is told FETCH_SESSION_ID_NOT_FOUND and opens a new session',
        () =>
          c.broker(2).logs().includes('FETCH_SESSION_ID_NOT_FOUND') &&
          sessionsOpened(2, 1).length > ids.length,
        30_000,
      );
      await produce(5);
      await waitInSync('broker 2 still replicates from broker 1');
    }));
});
