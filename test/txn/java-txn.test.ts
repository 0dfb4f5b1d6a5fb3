// Transactions with the reference client (kafka-clients 4.x, test/interop/java/.../TxnWorkload.java) against one
// broker (SAMSA_INTEROP_TARGET: samsa by default, kafka for Apache Kafka): committed records read exactly once
// and aborted ones never under read_committed; consume-transform-produce with sendOffsetsToTransaction and no
// duplicate after the processor dies mid-transaction; a zombie producer fenced by a newer one with the same
// transactional.id; an open transaction holding read_committed readers at the last stable offset while
// read_uncommitted readers see its records; a transaction left open past its timeout aborted by the broker.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeTransactions, type TransactionDescription } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { startTarget } from '../helpers/broker.js';
import { skipUnless, targetName, withBrokerLogs } from '../interop/harness.js';
import { consumeTransformProduceThroughKill, javaTxnBroker, javaTxnRequirements } from './java-txn-setup.js';
import {
  duplicates,
  javaRead,
  kafkaFeatures,
  makeTopic,
  producePlain,
  supportsTransactions,
  txnBrokerOverrides,
} from './txn-clients.js';

const run = Date.now().toString(36);

describe(`transactions: Java kafka-clients 4.x against ${targetName()}`, {
  skip: skipUnless(javaTxnRequirements),
}, () => {
  const target = javaTxnBroker(
    run,
    () => startTarget({ overrides: txnBrokerOverrides, kafkaFeatures }),
    async (bootstrap) => {
      if (!(await supportsTransactions(bootstrap)))
        process.stderr.write(
          `# ${targetName()} does not advertise EndTxn: these tests are expected to fail\n`,
        );
    },
  );

  test(
    'committed records are read exactly once, aborted records never (read_committed)',
    {
      timeout: 120_000,
    },
    () =>
      withBrokerLogs(target.broker, async () => {
        const topic = `txn-visibility-${run}`;
        await makeTopic(target.bootstrap, topic, 2);
        const p = await target.session('visibility');
        await p.ok('init');
        await p.ok('begin');
        await p.send(topic, 0, 'c1p0', 5);
        await p.send(topic, 1, 'c1p1', 5);
        await p.ok('commit');
        await p.ok('begin');
        await p.send(topic, 0, 'a1p0', 4);
        await p.send(topic, 1, 'a1p1', 4);
        await p.ok('abort');
        await p.ok('begin');
        await p.send(topic, 0, 'c2p0', 3);
        await p.ok('commit');

        const committed = await javaRead(target.bootstrap, topic, 'read_committed');
        const expected = [
          ...[0, 1, 2, 3, 4].flatMap((i) => [`c1p0-${i}`, `c1p1-${i}`]),
          ...[0, 1, 2].map((i) => `c2p0-${i}`),
        ];
        assert.deepEqual(
          [...committed.values].sort(),
          expected.sort(),
          'read_committed: committed records only',
        );
        assert.deepEqual(duplicates(committed.values), []);
        const uncommitted = await javaRead(target.bootstrap, topic, 'read_uncommitted');
        assert.equal(
          uncommitted.values.filter((v) => v.startsWith('a1')).length,
          8,
          'aborted data is in the log',
        );
        // Every transaction ended: the last stable offset is the log end offset (markers included).
        assert.deepEqual(committed.ends, uncommitted.ends);
        // p0: 5 + marker + 4 + marker + 3 + marker; p1: 5 + marker + 4 + marker.
        assert.deepEqual(uncommitted.ends, [15, 11]);
      }),
  );

  test(
    'consume-transform-produce with sendOffsetsToTransaction: no duplicate after the processor dies',
    {
      timeout: 180_000,
    },
    (t) =>
      withBrokerLogs(target.broker, async () => {
        const { output, values } = await consumeTransformProduceThroughKill(t, target.bootstrap, 'txn', run);
        const raw = await javaRead(target.bootstrap, output, 'read_uncommitted');
        assert.ok(
          raw.values.length > values.length,
          `the killed run's uncommitted batch should be in the log (read_uncommitted read ${raw.values.length})`,
        );
      }),
  );

  test(
    'a zombie producer is fenced once a new producer with its transactional.id initialises',
    {
      timeout: 120_000,
    },
    () =>
      withBrokerLogs(target.broker, async () => {
        const topic = `txn-zombie-${run}`;
        await makeTopic(target.bootstrap, topic, 1);
        const zombie = await target.session('zombie');
        await zombie.ok('init');
        await zombie.ok('begin');
        await zombie.send(topic, 0, 'zombie', 3);

        const successor = await target.session('zombie'); // the zombie's transactional.id
        await successor.ok('init');

        // The successor's InitProducerId aborted the zombie's transaction and bumped the epoch: EndTxn with the
        // old epoch is refused with PRODUCER_FENCED.
        const commit = await zombie.cmd('commit');
        assert.match(commit, /^err commit ProducerFencedException/, commit);

        await successor.ok('begin');
        await successor.send(topic, 0, 'successor', 3);
        await successor.ok('commit');
        const read = await javaRead(target.bootstrap, topic, 'read_committed');
        assert.deepEqual(read.values, ['successor-0', 'successor-1', 'successor-2']);
      }),
  );

  test(
    'an open transaction holds read_committed readers at the last stable offset',
    {
      timeout: 120_000,
    },
    () =>
      withBrokerLogs(target.broker, async () => {
        const topic = `txn-lso-${run}`;
        await makeTopic(target.bootstrap, topic, 1);
        const p = await target.session('lso');
        await p.ok('init');
        await p.ok('begin');
        await p.send(topic, 0, 'done', 5); // offsets 0-4, commit marker 5
        await p.ok('commit');
        await p.ok('begin');
        const [first, last] = await p.send(topic, 0, 'open', 5);
        assert.deepEqual([first, last], [6, 10]);
        // A plain record after the open transaction: held back too (the LSO is a position, not a filter).
        await producePlain(target.bootstrap, topic, 1, 'plain', 1);

        const uncommitted = await javaRead(target.bootstrap, topic, 'read_uncommitted');
        assert.equal(uncommitted.values.length, 11);
        assert.deepEqual(uncommitted.ends, [12]);
        const held = await javaRead(target.bootstrap, topic, 'read_committed', {
          minCount: 6,
          timeoutMs: 3000,
        });
        assert.deepEqual(held.values, ['done-0', 'done-1', 'done-2', 'done-3', 'done-4']);
        assert.deepEqual(
          held.ends,
          [6],
          "read_committed end offset = the LSO = the open transaction's first offset",
        );
        assert.deepEqual(held.positions, [6]);
        assert.equal(held.timedOut, true);

        await p.ok('commit');
        const released = await javaRead(target.bootstrap, topic, 'read_committed', { minCount: 11 });
        assert.equal(released.values.length, 11);
        assert.deepEqual(released.ends, [13]);
        assert.deepEqual(released.values.slice(5, 10), ['open-0', 'open-1', 'open-2', 'open-3', 'open-4']);
      }),
  );
});

describe(`transactions: a timed-out transaction aborted by ${targetName()}`, {
  skip: skipUnless(javaTxnRequirements),
}, () => {
  const target = javaTxnBroker(run, () =>
    startTarget({
      overrides: {
        ...txnBrokerOverrides,
        'transaction.abort.timed.out.transaction.cleanup.interval.ms': '500',
      },
      kafkaFeatures,
    }),
  );

  test('a transaction left open past its timeout is aborted by the broker', { timeout: 120_000 }, () =>
    withBrokerLogs(target.broker, async () => {
      const topic = `txn-timeout-${run}`;
      await makeTopic(target.bootstrap, topic, 1);
      // Above transaction.max.timeout.ms: refused.
      const greedy = await target.session('greedy', { transactionTimeoutMs: 60_000 });
      assert.match(
        await greedy.cmd('init'),
        /^err init .*The transaction timeout is larger than the maximum value allowed by the broker/,
      );

      const p = await target.session('timeout', { transactionTimeoutMs: 2000 });
      await p.ok('init');
      await p.ok('begin');
      await p.send(topic, 0, 'late', 5);
      const began = Date.now();
      const aborted = await waitForState(target.bootstrap, p.transactionalId, 'CompleteAbort', 30_000);
      const waited = Date.now() - began;
      assert.ok(waited < 20_000, `aborted after ${waited} ms`);
      assert.ok(aborted.producerEpoch >= 1, `the abort bumps the epoch: ${JSON.stringify(aborted)}`);

      const read = await javaRead(target.bootstrap, topic, 'read_committed');
      assert.deepEqual(read.values, []);
      assert.deepEqual(read.ends, [6], 'the abort marker follows the 5 records; nothing holds the LSO');
      const commit = await p.cmd('commit');
      assert.match(commit, /^err commit .*(ProducerFenced|InvalidProducerEpoch)/, commit);
    }),
  );
});

/** Polls DescribeTransactions until the transactional id is in `state`. */
async function waitForState(
  bootstrap: string,
  transactionalId: string,
  state: string,
  timeoutMs: number,
): Promise<TransactionDescription> {
  const c = await Cluster.connect({ bootstrap, clientId: 'samsa-txn-test' });
  const deadline = Date.now() + timeoutMs;
  let last: TransactionDescription | undefined;
  try {
    while (Date.now() < deadline) {
      [last] = await describeTransactions(c, [transactionalId]);
      if (last?.state === state) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    c.close();
  }
  throw new Error(`${transactionalId} not ${state} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}
