// `samsa dev-cluster` as a developer runs it: the real command on free ports (--port 0) in a fresh folder,
// records produced through one of its brokers and read through another, Ctrl-C (SIGINT) stopping every
// broker and ZooKeeper with exit status 0, and a second run on the same folder finding the data again.
// A second dev cluster on a running one's folder is refused; bad usage exits 2.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { metadataOf } from '../helpers/cluster.js';
import { type Running, start } from '../helpers/run.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';
import { oneLineFailure, repoRoot, samsa, samsaArgv } from './cli-helpers.js';

interface DevCluster {
  running: Running;
  bootstrap: string[];
  /** Every pid the dev cluster wrote to its pid file (itself, ZooKeeper, the brokers). */
  pids: number[];
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether pid is still one of this test's processes: its command line names the test's folder (pids are reused). */
const ours = (pid: number, dir: string): boolean => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
};

describe('samsa dev-cluster', { skip: zooKeeperSkip(), timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'samsa-dev-cluster-'));
  const started: DevCluster[] = [];

  after(() => {
    // A failed test may leave a cluster behind: its children live in their own process groups.
    for (const d of started) for (const pid of d.pids) if (ours(pid, dir)) process.kill(pid, 'SIGKILL');
    if (process.env.SAMSA_KEEP_DATA === undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function startDevCluster(): Promise<DevCluster> {
    let ready: (line: string) => void = () => {};
    const bootstrapLine = new Promise<string>((resolve) => {
      ready = resolve;
    });
    const running = start(
      process.execPath,
      samsaArgv(['dev-cluster', '--brokers', '3', '--port', '0', '--dir', path.join(dir, 'c')]),
      {
        cwd: repoRoot,
        allowFailure: true,
        timeoutMs: 110_000,
        onStdoutLine: (line) => {
          if (line.startsWith('bootstrap servers: ')) ready(line);
        },
      },
    );
    const line = await Promise.race([
      bootstrapLine,
      running.done.then((r) => {
        throw new Error(`dev-cluster exited with ${r.code} before it was ready:\n${r.stdout}\n${r.stderr}`);
      }),
    ]);
    const pidFile = JSON.parse(readFileSync(path.join(dir, 'c', 'dev-cluster.pids'), 'utf8')) as {
      pids: number[];
    };
    const d = { running, bootstrap: line.slice('bootstrap servers: '.length).split(','), pids: pidFile.pids };
    started.push(d);
    return d;
  }

  async function stopWithSigint(d: DevCluster): Promise<string> {
    d.running.kill('SIGINT');
    const r = await d.running.done;
    assert.equal(r.code, 0, `exit status after SIGINT\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /zookeeper stopped\ndev cluster stopped\n$/);
    for (const pid of d.pids) {
      assert.ok(!alive(pid) || !ours(pid, dir), `pid ${pid} still runs after the dev cluster stopped`);
    }
    assert.ok(!existsSync(path.join(dir, 'c', 'dev-cluster.pids')), 'pid file removed');
    return r.stdout;
  }

  test('starts ZooKeeper and three brokers, serves through any of them, stops on SIGINT; data survives a restart', async () => {
    const first = await startDevCluster();
    assert.equal(first.bootstrap.length, 3);
    assert.equal(first.pids.length, 5, 'itself, ZooKeeper and three brokers');
    const [b1, b2, b3] = first.bootstrap as [string, string, string];
    const m = await metadataOf(b2);
    assert.deepEqual(
      m.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).sort(),
      [`1@${b1}`, `2@${b2}`, `3@${b3}`].sort(),
    );
    const cl = await Cluster.connect({ bootstrap: b1 });
    try {
      await createTopic(cl, 'dev', { partitions: 3, replicationFactor: 3 });
    } finally {
      cl.close();
    }
    const producer = await Producer.connect({ bootstrap: b2 });
    try {
      for (let p = 0; p < 3; p++)
        await producer.send('dev', [{ key: `k${p}`, value: `v${p}`, partition: p }]);
    } finally {
      await producer.close();
    }
    const read = async (bootstrap: string): Promise<string[]> => {
      const consumer = await Consumer.connect({ bootstrap, maxWaitMs: 100 });
      try {
        await consumer.assign('dev', 'all', 'earliest');
        const got: string[] = [];
        const deadline = Date.now() + 20_000;
        while (got.length < 3 && Date.now() < deadline) {
          for (const r of await consumer.poll()) got.push(`${r.partition}:${r.value}`);
        }
        return got.sort();
      } finally {
        await consumer.close();
      }
    };
    assert.deepEqual(await read(b3), ['0:v0', '1:v1', '2:v2']);
    // A second dev cluster on the same folder is refused while this one runs.
    const twice = await samsa(['dev-cluster', '--port', '0', '--dir', path.join(dir, 'c')], {
      timeoutMs: 30_000,
    });
    assert.equal(twice.code, 1);
    assert.match(oneLineFailure(twice), /^samsa dev-cluster: a dev cluster already runs in .* \(pids \d+/);

    const stopped = await stopWithSigint(first);
    assert.match(stopped, /stopping the brokers \(controlled shutdown\), then ZooKeeper/);
    assert.equal((stopped.match(/^broker \d stopped/gm) ?? []).length, 3);

    // Same folder, new ports: the topic and its records are still there.
    const second = await startDevCluster();
    assert.deepEqual(await read(second.bootstrap[0]!), ['0:v0', '1:v1', '2:v2']);
    await stopWithSigint(second);
  });

  test('bad usage exits 2 with one line and a pointer to --help; --help exits 0', async () => {
    for (const args of [
      ['--brokers', '0'],
      ['--brokers', 'x'],
      ['--brokers', '99'],
      ['--frobnicate'],
      ['extra'],
    ]) {
      const r = await samsa(['dev-cluster', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), /^samsa dev-cluster: /);
    }
    const o = await samsa(['dev-cluster', '--override', 'broker.id=5']);
    assert.equal(o.code, 2);
    assert.match(oneLineFailure(o), /dev-cluster sets broker.id itself/);
    const h = await samsa(['dev-cluster', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: samsa dev-cluster/);
    assert.match(h.stdout, /--zookeeper-port/);
  });
});
