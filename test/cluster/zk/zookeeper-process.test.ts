import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isZkError, ZkClient } from '../../../src/cluster/zk/zk-client.js';
import {
  fourLetterWord,
  freeTcpPort,
  serverMode,
  startZooKeeper,
  ZooKeeperUnavailableError,
} from '../../../src/cluster/zk/zookeeper-process.js';
import { canConnect } from '../../helpers/broker.js';
import {
  startTestEnsemble,
  startTestZooKeeper,
  type TestZooKeeper,
  zooKeeperSkip,
} from '../../helpers/zookeeper.js';

describe('ZooKeeper server process', { skip: zooKeeperSkip() }, () => {
  let zk: TestZooKeeper;

  before(async () => {
    zk = await startTestZooKeeper();
  });

  after(async () => {
    await zk?.destroy();
  });

  test('serves on 127.0.0.1 with the zoo.cfg it wrote', async () => {
    assert.equal(zk.connectString, `127.0.0.1:${zk.port}`);
    assert.equal(serverMode(await fourLetterWord(zk.host, zk.port, 'srvr')), 'standalone');
    assert.equal(await fourLetterWord(zk.host, zk.port, 'ruok'), 'imok');
    assert.ok(zk.pid !== undefined && zk.pid > 0);
    const cfg = await readFile(join(zk.confDir, 'zoo.cfg'), 'utf8');
    for (const line of [
      `clientPort=${zk.port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr,stat,mntr',
      'maxSessionTimeout=120000',
      `dataDir=${zk.dataDir}`,
    ]) {
      assert.ok(cfg.includes(`${line}\n`), `zoo.cfg lacks ${line}:\n${cfg}`);
    }
    // The server logs through log4j (INFO in tests), into logs().
    assert.match(zk.logs(), /binding to port/);
  });

  test('kill9 stops it dead; start brings it back on the same port with its data', async () => {
    const client = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: 4000 });
    try {
      await client.create('/survives', Buffer.from('kept'));
    } finally {
      await client.close();
    }
    const pid = zk.pid;
    await zk.kill9();
    assert.equal(zk.running(), false);
    assert.equal(zk.pid, undefined);
    assert.equal(await canConnect(zk.port), false);
    assert.match(zk.logs(), /exited with SIGKILL/);

    await zk.start();
    assert.notEqual(zk.pid, pid);
    const again = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: 4000 });
    try {
      assert.equal((await again.get('/survives'))?.data.toString(), 'kept');
    } finally {
      await again.close();
    }
  });

  test('restart keeps port and data; stop is clean', async () => {
    const before = zk.pid;
    await zk.restart();
    assert.ok(zk.running());
    assert.notEqual(zk.pid, before);
    assert.equal(serverMode(await fourLetterWord(zk.host, zk.port, 'srvr')), 'standalone');
    const client = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: 4000 });
    try {
      assert.equal((await client.get('/survives'))?.data.toString(), 'kept');
    } finally {
      await client.close();
    }
    await zk.stop();
    assert.equal(zk.running(), false);
    await zk.start();
  });

  test('a port in use fails the start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-zk-busy-'));
    try {
      await assert.rejects(
        startZooKeeper({ dir, port: zk.port, tickTimeMs: 200, startTimeoutMs: 30_000 }),
        (e: Error) => e.message.includes(`${zk.connectString}: the port is in use`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ZooKeeper server process without java or jars', () => {
  test('names what to install', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-zk-missing-'));
    try {
      await assert.rejects(
        startZooKeeper({ dir, java: '/nonexistent/bin/java' }),
        (e: Error) =>
          e instanceof ZooKeeperUnavailableError && /install Debian's zookeeper package/.test(e.message),
      );
      await assert.rejects(
        startZooKeeper({ dir, jarsDir: dir, port: await freeTcpPort() }),
        (e: Error) =>
          e instanceof ZooKeeperUnavailableError &&
          e.message.includes(join(dir, 'zookeeper.jar')) &&
          /install Debian's zookeeper package/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Runs `fn` until it does not fail with CONNECTIONLOSS (20 s at most). */
async function retryOnConnectionLoss<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isZkError(e, 'CONNECTIONLOSS') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('ZooKeeper ensemble of 3', { skip: zooKeeperSkip() }, () => {
  test('elects a leader, serves through any member, survives the leader killed', async () => {
    const ensemble = await startTestEnsemble(3);
    try {
      const modes = await Promise.all(
        ensemble.servers.map(async (s) => serverMode(await fourLetterWord(s.host, s.port, 'srvr'))),
      );
      assert.deepEqual([...modes].sort(), ['follower', 'follower', 'leader']);
      const client = await ZkClient.connect(ensemble.connectString, { sessionTimeoutMs: 6000 });
      try {
        await client.create('/replicated', Buffer.from('v1'));
        const leader = ensemble.servers[modes.indexOf('leader')]!;
        await leader.kill9();
        // The other two elect a new leader; meanwhile a follower drops its clients (CONNECTIONLOSS), and
        // the client reconnects, to whichever member serves first.
        assert.equal((await retryOnConnectionLoss(() => client.get('/replicated')))?.data.toString(), 'v1');
        await retryOnConnectionLoss(async () => {
          const now = await client.get('/replicated');
          // A lost answer may hide an applied write: look before writing again.
          if (now?.data.toString() !== 'v2') await client.set('/replicated', Buffer.from('v2'), 0);
        });
        assert.equal((await client.get('/replicated'))?.stat.version, 1);
      } finally {
        await client.close();
      }
    } finally {
      await ensemble.destroy();
    }
  });
});
