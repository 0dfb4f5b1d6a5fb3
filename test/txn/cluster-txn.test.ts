// Transactions on three brokers (test/txn/txn-cluster.ts; Samsa, or Apache Kafka with
// SAMSA_INTEROP_TARGET=kafka): the Java client's transaction coordinator is killed with SIGKILL while a
// transaction is open on three replicated partitions. The transaction must end one way or the other, on every
// partition alike: committed (all its records readable under read_committed) or aborted (none), nothing held
// open and nothing half visible, before and after the killed broker comes back; the transactional id then
// works again.
//
// Then a partition leader (not the coordinator) is killed while a transaction is open: the commit must still
// reach every partition (the coordinator retries its markers until the partition's new leader takes them).
//
// Skipped with a message when the target does not offer transactions yet (ApiVersions without EndTxn).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeTransactions,
  findTransactionCoordinator,
  type TransactionDescription,
} from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { interopTarget } from '../helpers/broker.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';
import { requireAll, skipUnless, targetName, tool } from '../interop/harness.js';
import { duplicates, JavaTxnSession, javaRead, makeTopic, supportsTransactions } from './txn-clients.js';
import { startTxnCluster, type TxnCluster } from './txn-cluster.js';

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('javac', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

function skipReason(): string | false {
  const s = skipUnless(requirements);
  if (s !== false) return s;
  return interopTarget() === 'samsa' ? zooKeeperSkip() : false;
}

/** Runs fn with a fresh admin connection to the cluster (any live broker). */
async function withAdmin<T>(bootstrap: string, fn: (c: Cluster) => Promise<T>): Promise<T> {
  const c = await Cluster.connect({ bootstrap, clientId: 'samsa-txn-cluster-test' });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Waits until the transactional id's coordinator reports its transaction ended (CompleteCommit/CompleteAbort). */
async function waitForEnd(bootstrap: string, id: string, timeoutMs: number): Promise<TransactionDescription> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const [d] = await withAdmin(bootstrap, (c) => describeTransactions(c, [id]));
      if (d?.state === 'CompleteCommit' || d?.state === 'CompleteAbort') return d;
      last = JSON.stringify(d);
    } catch (e) {
      last = (e as Error).message; // a coordinator moving: NOT_COORDINATOR, load in progress, a dead broker
    }
    await sleep(250);
  }
  throw new Error(`${id}: the transaction did not end within ${timeoutMs} ms (last: ${last})`);
}

describe(`transactions on 3 brokers (${targetName()}): brokers killed mid-transaction`, {
  skip: skipReason(),
}, () => {
  let cluster: TxnCluster | undefined;
  let unsupported: string | undefined;
  const sessions: JavaTxnSession[] = [];

  before(async () => {
    requireAll(requirements);
    cluster = await startTxnCluster();
    if (!(await supportsTransactions(cluster.bootstrap())))
      unsupported = `${targetName()} does not advertise EndTxn (ApiVersions): no transaction support yet`;
  });

  after(async () => {
    await Promise.all(sessions.map((s) => s.kill9()));
    await cluster?.destroy();
  });

  test('a transaction open when its coordinator dies ends committed or aborted on every partition', {
    timeout: 300_000,
  }, async (t) => {
    if (unsupported !== undefined) {
      t.skip(unsupported);
      return;
    }
    const c = cluster!;
    try {
      const run = Date.now().toString(36);
      const topic = `txn-cluster-${run}`;
      const id = `cluster-${run}`;
      await makeTopic(c.bootstrap(), topic, 3, 3, { 'min.insync.replicas': '2' });
      const p = await JavaTxnSession.start(c.bootstrap(), id, {
        transactionTimeoutMs: 20_000,
        maxBlockMs: 60_000,
      });
      sessions.push(p);
      await p.ok('init');
      await p.ok('begin');
      for (const part of [0, 1, 2]) await p.send(topic, part, `pre${part}`, 3);
      await p.ok('commit');
      await p.ok('begin');
      for (const part of [0, 1, 2]) await p.send(topic, part, `mid${part}`, 3);

      const coordinator = await withAdmin(c.bootstrap(), (a) => findTransactionCoordinator(a, id));
      t.diagnostic(`killing the coordinator of ${id}, broker ${coordinator}`);
      await c.kill9(coordinator);
      const commit = await p.cmd('commit', 120_000);
      const ended = await waitForEnd(c.bootstrap(), id, 90_000);
      t.diagnostic(`commit after the kill: ${commit}; the coordinator says ${ended.state}`);
      if (commit.startsWith('ok')) assert.equal(ended.state, 'CompleteCommit');

      const check = async (when: string): Promise<void> => {
        const committed = await javaRead(c.bootstrap(), topic, 'read_committed');
        const all = await javaRead(c.bootstrap(), topic, 'read_uncommitted');
        assert.deepEqual(
          committed.ends,
          all.ends,
          `${when}: read_committed ends at the log end (no open transaction)`,
        );
        assert.deepEqual(duplicates(committed.values), [], when);
        const pre = committed.values.filter((v) => v.startsWith('pre'));
        const mid = committed.values.filter((v) => v.startsWith('mid'));
        assert.equal(
          pre.length,
          9,
          `${when}: the first transaction's records: ${JSON.stringify(committed.values)}`,
        );
        const expectedMid = ended.state === 'CompleteCommit' ? 9 : 0;
        assert.equal(mid.length, expectedMid, `${when}: ${ended.state}, yet ${JSON.stringify(mid)} visible`);
      };
      await check('after the kill');

      // The transactional id works again (a new producer: the first may be left in a fatal state).
      const q = await JavaTxnSession.start(c.bootstrap(), id, {
        transactionTimeoutMs: 20_000,
        maxBlockMs: 60_000,
      });
      sessions.push(q);
      await q.ok('init');
      await q.ok('begin');
      for (const part of [0, 1, 2]) await q.send(topic, part, `post${part}`, 1);
      await q.ok('commit');

      await c.restart(coordinator);
      await check('after the restart');
      const last = await javaRead(c.bootstrap(), topic, 'read_committed');
      assert.equal(last.values.filter((v) => v.startsWith('post')).length, 3);
    } catch (e) {
      if (e instanceof Error) e.message += `\n${c.logs()}`;
      throw e;
    }
  });
  test('markers reach a partition whose leader died while the transaction was open', {
    timeout: 300_000,
  }, async (t) => {
    if (unsupported !== undefined) {
      t.skip(unsupported);
      return;
    }
    const c = cluster!;
    try {
      const run = Date.now().toString(36);
      const topic = `txn-cluster-leader-${run}`;
      const id = `cluster-leader-${run}`;
      await makeTopic(c.bootstrap(), topic, 3, 3, { 'min.insync.replicas': '2' });
      const p = await JavaTxnSession.start(c.bootstrap(), id, {
        transactionTimeoutMs: 30_000,
        maxBlockMs: 60_000,
      });
      sessions.push(p);
      await p.ok('init');
      await p.ok('begin');
      for (const part of [0, 1, 2]) await p.send(topic, part, `m${part}`, 3);

      // A broker other than the coordinator, leading a partition of the transaction if one does.
      const { coordinator, leaders } = await withAdmin(c.bootstrap(), async (a) => ({
        coordinator: await findTransactionCoordinator(a, id),
        leaders: (await a.topic(topic, true)).partitions.map((x) => x.leader),
      }));
      const victim = leaders.find((l) => l !== coordinator) ?? c.ids.find((b) => b !== coordinator)!;
      t.diagnostic(
        `coordinator ${coordinator}, partition leaders ${leaders.join(',')}: killing broker ${victim}`,
      );
      await c.kill9(victim);
      await p.ok('commit', 120_000);
      const ended = await waitForEnd(c.bootstrap(), id, 90_000);
      assert.equal(ended.state, 'CompleteCommit');

      const committed = await javaRead(c.bootstrap(), topic, 'read_committed');
      const all = await javaRead(c.bootstrap(), topic, 'read_uncommitted');
      assert.deepEqual(committed.ends, all.ends, 'every partition has its commit marker: nothing left open');
      assert.deepEqual(
        [...committed.values].sort(),
        [0, 1, 2].flatMap((part) => [0, 1, 2].map((i) => `m${part}-${i}`)).sort(),
      );
      await c.restart(victim);
    } catch (e) {
      if (e instanceof Error) e.message += `\n${c.logs()}`;
      throw e;
    }
  });
});
