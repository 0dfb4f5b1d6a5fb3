// The ZooKeeper client against a real ZooKeeper 3.8 server: CRUD, conditional writes, multi, watches,
// ephemerals, chroot, limits and timeouts. Session expiry and server restarts: zk-session.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ZkBadVersionError,
  ZkClient,
  ZkConnectTimeoutError,
  ZkError,
  ZkMultiError,
  ZkNodeExistsError,
  ZkNoNodeError,
  ZkNotEmptyError,
  ZkTimeoutError,
} from '../../../src/cluster/zk/zk-client.js';
import { freeTcpPort } from '../../../src/cluster/zk/zookeeper-process.js';
import * as limits from '../../../src/limits.js';
import { recorder, startTestZooKeeper, type TestZooKeeper, zooKeeperSkip } from '../../helpers/zookeeper.js';

describe('ZkClient', { skip: zooKeeperSkip(), timeout: 180_000 }, () => {
  let server: TestZooKeeper;
  let zk: ZkClient;
  let seq = 0;
  const fresh = (): string => `/t${++seq}`;

  before(async () => {
    server = await startTestZooKeeper();
    zk = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 4000 });
  });

  after(async () => {
    await zk?.close();
    await server?.destroy();
  });

  test('create, get, set, getChildren, exists, delete', async () => {
    const root = fresh();
    assert.equal(await zk.create(root, Buffer.from('r')), root);
    assert.equal(await zk.create(`${root}/a`), `${root}/a`);
    assert.equal(await zk.create(`${root}/b`, Buffer.from('b')), `${root}/b`);

    const got = await zk.get(root);
    assert.equal(got?.data.toString(), 'r');
    assert.equal(got?.stat.version, 0);
    assert.equal(got?.stat.numChildren, 2);
    assert.equal(got?.stat.ephemeralOwner, null);
    assert.ok((got?.stat.czxid ?? 0) > 0 && got?.stat.ctime !== undefined && got.stat.ctime > 1.6e12);
    assert.deepEqual((await zk.get(`${root}/a`))?.data, Buffer.alloc(0));
    assert.equal(await zk.get(`${root}/missing`), null);

    assert.deepEqual((await zk.getChildren(root))?.sort(), ['a', 'b']);
    assert.equal(await zk.getChildren(`${root}/missing`), null);
    assert.equal((await zk.exists(`${root}/b`))?.dataLength, 1);
    assert.equal(await zk.exists(`${root}/missing`), null);

    assert.equal(await zk.set(`${root}/b`, Buffer.from('b2'), 0), 1);
    assert.equal(await zk.set(`${root}/b`, Buffer.from('b3'), -1), 2);
    assert.equal((await zk.get(`${root}/b`))?.data.toString(), 'b3');

    await zk.delete(`${root}/a`, 0);
    await zk.delete(`${root}/b`);
    await zk.delete(root);
    assert.equal(await zk.exists(root), null);
  });

  test('errors are typed and name the operation, path and ZooKeeper code', async () => {
    const root = fresh();
    await zk.create(root);
    await zk.create(`${root}/child`);
    await assert.rejects(zk.create(root), (e: Error) => {
      assert.ok(e instanceof ZkNodeExistsError);
      assert.equal(e.message, `ZooKeeper create ${root}: NODEEXISTS`);
      return true;
    });
    await assert.rejects(zk.create(`${root}/no/parent`), (e: Error) => {
      assert.ok(e instanceof ZkNoNodeError);
      assert.equal(e.path, `${root}/no/parent`);
      return true;
    });
    await assert.rejects(
      zk.delete(root),
      (e: Error) => e instanceof ZkNotEmptyError && /NOTEMPTY/.test(e.message),
    );
    await assert.rejects(zk.set(`${root}/missing`, Buffer.from('x'), 0), ZkNoNodeError);
    await assert.rejects(zk.get('bad/path'), (e: Error) => e instanceof ZkError && e.code === 'BADPATH');
    await assert.rejects(zk.get('/a//b'), (e: Error) => e instanceof ZkError && e.code === 'BADPATH');
  });

  test('a conditional set at a stale version fails with BADVERSION and changes nothing', async () => {
    const path = fresh();
    await zk.create(path, Buffer.from('v0'));
    assert.equal(await zk.set(path, Buffer.from('v1'), 0), 1);
    await assert.rejects(zk.set(path, Buffer.from('stale'), 0), (e: Error) => {
      assert.ok(e instanceof ZkBadVersionError);
      assert.equal(e.code, 'BADVERSION');
      assert.equal(e.message, `ZooKeeper setData ${path}: BADVERSION (expected version 0)`);
      return true;
    });
    await assert.rejects(zk.delete(path, 0), ZkBadVersionError);
    const got = await zk.get(path);
    assert.equal(got?.data.toString(), 'v1');
    assert.equal(got?.stat.version, 1);
  });

  test('sequential and recursive creates', async () => {
    const root = fresh();
    const created = await zk.createRecursive(`${root}/x/y/z`, Buffer.from('deep'));
    assert.equal(created, `${root}/x/y/z`);
    assert.equal((await zk.get(`${root}/x/y/z`))?.data.toString(), 'deep');
    assert.deepEqual((await zk.get(`${root}/x`))?.data, Buffer.alloc(0));
    await assert.rejects(zk.createRecursive(`${root}/x/y/z`), ZkNodeExistsError);

    const first = await zk.create(`${root}/change_`, Buffer.from('1'), { mode: 'persistentSequential' });
    const second = await zk.create(`${root}/change_`, Buffer.from('2'), { mode: 'persistentSequential' });
    assert.match(first, new RegExp(`^${root}/change_\\d{10}$`));
    assert.ok(second > first);

    assert.equal(await zk.deleteRecursive(root), true);
    assert.equal(await zk.exists(root), null);
    assert.equal(await zk.deleteRecursive(root), false);
  });

  test('multi applies all or nothing, and names the failing operation', async () => {
    const root = fresh();
    await zk.create(root);
    await zk.create(`${root}/versioned`, Buffer.from('v0'));
    await zk.set(`${root}/versioned`, Buffer.from('v1'), 0);

    const results = await zk.multi([
      { type: 'check', path: `${root}/versioned`, version: 1 },
      { type: 'create', path: `${root}/a`, data: Buffer.from('a') },
      { type: 'set', path: `${root}/versioned`, data: Buffer.from('v2'), version: 1 },
      { type: 'create', path: `${root}/seq_`, mode: 'persistentSequential' },
    ]);
    assert.equal(results.length, 4);
    assert.deepEqual(results[0], { type: 'check' });
    assert.deepEqual(results[1], { type: 'create', path: `${root}/a` });
    assert.equal(results[2]?.type === 'set' && results[2].stat.version, 2);
    assert.match(results[3]?.type === 'create' ? results[3].path : '', /\/seq_\d{10}$/);

    // A failing check (the version moved on) rolls everything back: nothing created, deleted or set.
    await assert.rejects(
      zk.multi([
        { type: 'create', path: `${root}/b` },
        { type: 'delete', path: `${root}/a`, version: -1 },
        { type: 'check', path: `${root}/versioned`, version: 1 },
        { type: 'set', path: `${root}/versioned`, data: Buffer.from('lost'), version: -1 },
      ]),
      (e: Error) => {
        assert.ok(e instanceof ZkMultiError);
        assert.equal(e.failedIndex, 2);
        assert.equal(e.code, 'BADVERSION');
        assert.ok(e.failure instanceof ZkBadVersionError);
        assert.equal(e.failure.path, `${root}/versioned`);
        assert.deepEqual(e.opCodes, ['OK', 'OK', 'BADVERSION', 'RUNTIMEINCONSISTENCY']);
        assert.match(e.message, /multi .*BADVERSION.*operation 2 \(check\)/);
        return true;
      },
    );
    assert.equal(await zk.exists(`${root}/b`), null);
    assert.ok(await zk.exists(`${root}/a`));
    assert.equal((await zk.get(`${root}/versioned`))?.data.toString(), 'v2');

    // Version 0 is a real version (node-zookeeper-client's Transaction would have sent -1, "any").
    await zk.create(`${root}/zero`);
    await zk.set(`${root}/zero`, Buffer.from('1'), 0);
    await assert.rejects(zk.multi([{ type: 'check', path: `${root}/zero`, version: 0 }]), ZkMultiError);
    await assert.rejects(
      zk.multi([{ type: 'set', path: `${root}/zero`, data: Buffer.from('x'), version: 0 }]),
      (e: Error) => e instanceof ZkMultiError && e.failure instanceof ZkBadVersionError,
    );
    await assert.rejects(zk.multi([{ type: 'delete', path: `${root}/zero`, version: 0 }]), ZkMultiError);
    assert.ok(await zk.exists(`${root}/zero`));
  });

  test('watches fire once, for the first change only', async () => {
    const path = fresh();
    await zk.create(path, Buffer.from('0'));
    const data = recorder();
    assert.equal((await zk.getWithWatch(path, data.watcher))?.data.toString(), '0');
    await zk.set(path, Buffer.from('1'), -1);
    assert.deepEqual(await data.next(), { type: 'dataChanged', path });
    await zk.set(path, Buffer.from('2'), -1);
    await zk.delete(path);
    // A round trip after the changes: any notification for them has arrived by now.
    await zk.exists('/');
    assert.equal(data.count(), 1);

    // exists() on a missing znode watches for its creation; getWithWatch() there sets nothing.
    const created = recorder();
    const nothing = recorder();
    assert.equal(await zk.existsWithWatch(path, created.watcher), null);
    assert.equal(await zk.getWithWatch(path, nothing.watcher), null);
    await zk.create(path);
    assert.deepEqual(await created.next(), { type: 'created', path });

    const children = recorder();
    assert.deepEqual(await zk.getChildrenWithWatch(path, children.watcher), []);
    await zk.create(`${path}/c1`);
    assert.deepEqual(await children.next(), { type: 'childrenChanged', path });
    await zk.create(`${path}/c2`);

    const deleted = recorder();
    await zk.getWithWatch(`${path}/c1`, deleted.watcher);
    await zk.delete(`${path}/c1`);
    assert.deepEqual(await deleted.next(), { type: 'deleted', path: `${path}/c1` });
    await zk.exists('/');
    assert.equal(children.count(), 1);
    assert.equal(nothing.count(), 0);

    // One watcher set three ways on one znode hears each event once (the Java client's rule).
    const once = recorder();
    await zk.getWithWatch(`${path}/c2`, once.watcher);
    await zk.getWithWatch(`${path}/c2`, once.watcher);
    await zk.existsWithWatch(`${path}/c2`, once.watcher);
    await zk.getChildrenWithWatch(`${path}/c2`, once.watcher);
    await zk.delete(`${path}/c2`);
    assert.deepEqual(await once.next(), { type: 'deleted', path: `${path}/c2` });
    await zk.exists('/');
    assert.equal(once.count(), 1);
  });

  test('an ephemeral znode goes when its session closes, and watchers hear it', async () => {
    const owner = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 4000 });
    const path = fresh();
    const { stat } = await owner.createWithStat(path, Buffer.from('{"v":1}'), { mode: 'ephemeral' });
    assert.equal(stat.ephemeralOwner, owner.sessionId);
    assert.equal(stat.version, 1);
    assert.ok(stat.czxid > 0 && stat.czxid < stat.mzxid + 1);
    assert.equal((await zk.get(path))?.stat.czxid, stat.czxid);
    await assert.rejects(
      owner.createWithStat(path, Buffer.from('again'), { mode: 'ephemeral' }),
      ZkNodeExistsError,
    );

    const gone = recorder();
    assert.ok(await zk.existsWithWatch(path, gone.watcher));
    await owner.close();
    assert.deepEqual(await gone.next(), { type: 'deleted', path });
    assert.equal(await zk.exists(path), null);
    await assert.rejects(owner.get(path), (e: Error) => e instanceof ZkError && e.code === 'CLOSED');
  });

  test('a chroot is created when missing and every path is under it', async () => {
    const chrooted = await ZkClient.connect(`${server.connectString}/samsa/cluster-a`, {
      sessionTimeoutMs: 4000,
    });
    try {
      assert.equal(chrooted.chroot, '/samsa/cluster-a');
      assert.ok(await zk.exists('/samsa/cluster-a'));
      assert.equal(await chrooted.create('/brokers'), '/brokers');
      const seqPath = await chrooted.create('/brokers/n_', Buffer.alloc(0), { mode: 'persistentSequential' });
      assert.match(seqPath, /^\/brokers\/n_\d{10}$/);
      assert.ok(await zk.exists('/samsa/cluster-a/brokers'));
      assert.equal(await zk.exists('/brokers'), null);

      const w = recorder();
      await chrooted.getChildrenWithWatch('/brokers', w.watcher);
      await zk.create('/samsa/cluster-a/brokers/from-root');
      assert.deepEqual(await w.next(), { type: 'childrenChanged', path: '/brokers' });
      const r = await chrooted.multi([{ type: 'create', path: '/brokers/m' }]);
      assert.deepEqual(r, [{ type: 'create', path: '/brokers/m' }]);
    } finally {
      await chrooted.close();
    }
    // A second connect finds the chroot there already.
    const again = await ZkClient.connect(`${server.connectString}/samsa/cluster-a`, {
      sessionTimeoutMs: 4000,
    });
    assert.ok(await again.exists('/brokers/m'));
    await again.close();
  });

  test('data over the znode limit is refused before it reaches the server', async () => {
    const path = fresh();
    await zk.create(path);
    const big = Buffer.alloc(limits.znodeDataBytesMax + 1);
    await assert.rejects(zk.set(path, big, -1), (e: Error) => e instanceof ZkError && e.code === 'TOOLARGE');
    await assert.rejects(
      zk.create(`${path}/x`, big),
      (e: Error) => e instanceof ZkError && e.code === 'TOOLARGE',
    );
    const halves = Buffer.alloc(600_000);
    await assert.rejects(
      zk.multi([
        { type: 'set', path, data: halves, version: -1 },
        { type: 'create', path: `${path}/y`, data: halves },
      ]),
      (e: Error) => e instanceof ZkError && e.code === 'TOOLARGE',
    );
    // The largest allowed write goes through, and the connection was never dropped.
    assert.equal(await zk.set(path, Buffer.alloc(limits.znodeDataBytesMax, 7), -1), 1);
    assert.equal((await zk.get(path))?.data.length, limits.znodeDataBytesMax);
    assert.equal(zk.state, 'connected');
  });

  test('many concurrent calls pass through a small in-flight limit', async () => {
    const narrow = await ZkClient.connect(server.connectString, {
      sessionTimeoutMs: 4000,
      maxInFlightRequests: 2,
    });
    try {
      const root = fresh();
      await narrow.create(root);
      const paths = await Promise.all(Array.from({ length: 40 }, (_, i) => narrow.create(`${root}/n${i}`)));
      assert.equal(new Set(paths).size, 40);
      assert.equal((await narrow.getChildren(root))?.length, 40);
    } finally {
      await narrow.close();
    }
  });

  test('connect names zookeeper.connect when nothing answers', async () => {
    const port = await freeTcpPort();
    const began = Date.now();
    await assert.rejects(
      ZkClient.connect(`127.0.0.1:${port}`, { sessionTimeoutMs: 4000, connectionTimeoutMs: 700 }),
      (e: Error) => {
        assert.ok(e instanceof ZkConnectTimeoutError);
        assert.match(
          e.message,
          new RegExp(`127\\.0\\.0\\.1:${port} \\(zookeeper\\.connect\\) within 700 ms`),
        );
        return true;
      },
    );
    assert.ok(Date.now() - began < 5000);
    await assert.rejects(
      ZkClient.connect('127.0.0.1:2181,', {}),
      /zookeeper.connect '127.0.0.1:2181,' is invalid/,
    );
  });

  test('a call times out when the server does not answer', async (t) => {
    const slow = await ZkClient.connect(server.connectString, {
      sessionTimeoutMs: 20_000,
      requestTimeoutMs: 600,
    });
    const pid = server.pid!;
    process.kill(pid, 'SIGSTOP');
    t.after(() => {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {}
    });
    try {
      await assert.rejects(slow.get('/'), (e: Error) => {
        assert.ok(e instanceof ZkTimeoutError);
        assert.equal(e.message, 'ZooKeeper getData /: OPERATIONTIMEOUT (no answer within 600 ms)');
        return true;
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.ok(await slow.exists('/'));
    await slow.close();
  });
});
