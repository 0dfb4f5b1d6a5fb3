// Sessions against a real ZooKeeper: expiry and the automatic new session, server restarts (the session
// kept), a silent server noticed. Each test leaves the server running.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import {
  ZkClient,
  type ZkClientEvents,
  ZkError,
  ZkSessionExpiredError,
} from '../../../src/cluster/zk/zk-client.js';
import {
  expireSession,
  recorder,
  startTcpProxy,
  startTestZooKeeper,
  type TestZooKeeper,
  zooKeeperSkip,
} from '../../helpers/zookeeper.js';

/** Resolves with the next `event` of `client`, failing after `ms`. */
async function next<K extends keyof ZkClientEvents>(
  client: ZkClient,
  event: K,
  ms = 15_000,
): Promise<ZkClientEvents[K]> {
  return (await once(client as never, event, { signal: AbortSignal.timeout(ms) })) as ZkClientEvents[K];
}

describe('ZkClient sessions', { skip: zooKeeperSkip(), timeout: 240_000 }, () => {
  let server: TestZooKeeper;
  let observer: ZkClient;

  before(async () => {
    server = await startTestZooKeeper();
    observer = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 20_000 });
  });

  after(async () => {
    await observer?.close();
    await server?.destroy();
  });

  test('an expired session is replaced by a new one, announced with the session event', async () => {
    const zk = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 3000 });
    try {
      const first = zk.sessionId;
      assert.match(first, /^0x[0-9a-f]+$/);
      assert.equal(zk.generation, 1);
      const epoch1 = zk.sessionEpoch;
      assert.ok(epoch1 > 0);
      await zk.create('/expiring', Buffer.from('e'), { mode: 'ephemeral' });
      const watch = recorder();
      await zk.getWithWatch('/expiring', watch.watcher);

      const sessionEvent = next(zk, 'session');
      const expiredId = await expireSession(zk, server.connectString);
      assert.equal(expiredId, first);
      const [{ sessionId, generation, epoch }] = await sessionEvent;
      assert.notEqual(sessionId, first);
      assert.equal(sessionId, zk.sessionId);
      assert.equal(generation, 2);
      assert.equal(zk.generation, 2);
      assert.ok(epoch > epoch1, `epoch ${epoch} after ${epoch1}`);
      assert.equal(zk.sessionEpoch, epoch);
      assert.equal(zk.state, 'connected');

      // The old session's ephemeral is gone, and its watch with it.
      assert.equal(await zk.exists('/expiring'), null);
      await zk.create('/expiring', Buffer.from('again'), { mode: 'ephemeral' });
      assert.equal((await observer.exists('/expiring'))?.ephemeralOwner, sessionId);
      await zk.set('/expiring', Buffer.from('changed'), -1);
      await zk.exists('/');
      // The old watch may have seen its znode deleted when the session closed (if the client had
      // reconnected to the session just before), but hears nothing from the new session.
      assert.ok(watch.count() <= 1);
      if (watch.count() === 1) assert.deepEqual(await watch.next(), { type: 'deleted', path: '/expiring' });
    } finally {
      await zk.close();
    }
    assert.equal(await observer.exists('/expiring'), null);
  });

  test('a partition outliving the session: queued calls fail with SESSIONEXPIRED, then a new session', async () => {
    const proxy = await startTcpProxy(server.port);
    const zk = await ZkClient.connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 2000 });
    try {
      const first = zk.sessionId;
      await zk.create('/partitioned', Buffer.alloc(0), { mode: 'ephemeral' });
      const disconnected = next(zk, 'disconnected');
      proxy.cut();
      await disconnected;
      // Sent nowhere: node-zookeeper-client queues it until it reconnects.
      const queued = zk.get('/').then(
        () => 'answered',
        (e: unknown) => e,
      );
      // The server expires the session it no longer hears from; its ephemeral goes.
      const gone = recorder();
      if (await observer.existsWithWatch('/partitioned', gone.watcher)) {
        assert.deepEqual(await gone.next(), { type: 'deleted', path: '/partitioned' });
      }
      const expired = next(zk, 'expired');
      const session = next(zk, 'session');
      proxy.restore();
      const [{ sessionId: expiredId }] = await expired;
      assert.equal(expiredId, first);
      const outcome = await queued;
      assert.ok(outcome instanceof ZkSessionExpiredError, String(outcome));
      assert.equal(
        (outcome as ZkError).message,
        `ZooKeeper getData /: SESSIONEXPIRED (session ${first} expired)`,
      );
      const [{ sessionId, generation }] = await session;
      assert.notEqual(sessionId, first);
      assert.equal(generation, 2);
      assert.ok(await zk.exists('/'));
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  test('a ZooKeeper restart within the session timeout keeps the session, its ephemerals and watches', async () => {
    const zk = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 6000 });
    try {
      const session = zk.sessionId;
      await zk.create('/kept', Buffer.from('k'), { mode: 'ephemeral' });
      await observer.create('/watched', Buffer.from('0'));
      const watch = recorder();
      await zk.getWithWatch('/watched', watch.watcher);
      let expired = false;
      zk.on('expired', () => {
        expired = true;
      });

      const disconnected = next(zk, 'disconnected');
      await server.kill9();
      await disconnected;
      const connected = next(zk, 'connected');
      await server.start();
      const [{ sessionId }] = await connected;
      assert.equal(sessionId, session);

      assert.equal((await observer.exists('/kept'))?.ephemeralOwner, session);
      await observer.set('/watched', Buffer.from('1'), -1);
      assert.deepEqual(await watch.next(), { type: 'dataChanged', path: '/watched' });
      assert.equal(expired, false);
      assert.equal(zk.generation, 1);
    } finally {
      await zk.close();
      await observer.delete('/watched');
    }
  });

  test('an outage longer than the session timeout does not expire it (ZooKeeper restarts session timers)', async () => {
    const zk = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 2000 });
    try {
      const session = zk.sessionId;
      await zk.create('/outlived', Buffer.alloc(0), { mode: 'ephemeral' });
      await server.stop();
      await new Promise((r) => setTimeout(r, 3500));
      const connected = next(zk, 'connected');
      await server.start();
      await connected;
      assert.equal(zk.sessionId, session);
      assert.equal(zk.generation, 1);
      assert.ok(await zk.exists('/outlived'));
    } finally {
      await zk.close();
    }
  });

  test('a silent server is noticed within the read timeout (2/3 of the session timeout)', async () => {
    const zk = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 3000 });
    const pid = server.pid!;
    try {
      const disconnected = next(zk, 'disconnected');
      const stoppedAt = Date.now();
      process.kill(pid, 'SIGSTOP');
      try {
        await disconnected;
        const silentMs = Date.now() - stoppedAt;
        // 2000 ms of silence, checked every 300 ms; node-zookeeper-client alone never notices.
        assert.ok(silentMs >= 1900 && silentMs < 4500, `noticed after ${silentMs} ms`);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Back in service: the same session or, if the server's clock ran out meanwhile, a new one.
      assert.ok(await zk.exists('/'));
      assert.equal(zk.state, 'connected');
    } finally {
      await zk.close();
    }
  });

  test('close() ends the session at once and stops the client for good', async () => {
    const zk = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 20_000 });
    await zk.create('/closing', Buffer.alloc(0), { mode: 'ephemeral' });
    const closed = next(zk, 'closed');
    await zk.close();
    await closed;
    assert.equal(zk.state, 'closed');
    assert.equal(await observer.exists('/closing'), null);
    await assert.rejects(zk.exists('/'), (e: Error) => e instanceof ZkError && e.code === 'CLOSED');
  });
});
