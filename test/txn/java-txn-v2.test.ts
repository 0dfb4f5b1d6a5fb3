// Transactions version 2 (KIP-890 part 2) with the reference client (kafka-clients 4.x, TxnWorkload) against
// Samsa, which finalizes transaction.version 2: the client must negotiate it, which the broker's request metrics
// show (EndTxn v5, Produce v13 (v12's semantics, by topic id), TxnOffsetCommit v5, and no AddPartitionsToTxn / AddOffsetsToTxn from the
// client, which v2 drops; the coordinator's markers go out as WriteTxnMarkers v2). Commit and abort as
// read_committed consumers see them; a producer killed mid-transaction is fenced by its successor and its
// transaction aborted; exactly-once consume-transform-produce (TxnOffsetCommit v5) without duplicates after the
// processor dies mid-transaction. Samsa only (Apache Kafka's side of TV2 is Kafka's own business).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort, startBroker } from '../helpers/broker.js';
import { skipUnless, withBrokerLogs } from '../interop/harness.js';
import { consumeTransformProduceThroughKill, javaTxnBroker, javaTxnRequirements } from './java-txn-setup.js';
import { javaRead, makeTopic, txnBrokerOverrides } from './txn-clients.js';

const run = Date.now().toString(36);

/** samsa_requests_total by "API vVERSION". */
async function requestCounts(metricsPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^samsa_requests_total\{api="([^"]+)",version="(\d+)"\} (\d+)/gm))
    out.set(`${m[1]} v${m[2]}`, Number(m[3]));
  return out;
}

function sumOf(counts: Map<string, number>, api: string, versions: (v: number) => boolean): number {
  let n = 0;
  for (const [k, c] of counts) {
    const [name, v] = k.split(' v');
    if (name === api && versions(Number(v))) n += c;
  }
  return n;
}

describe('transactions version 2: Java kafka-clients 4.x against Samsa', {
  skip: skipUnless(javaTxnRequirements),
}, () => {
  let metricsPort = -1;
  const target = javaTxnBroker(run, async () => {
    metricsPort = await freePort();
    return startBroker({ overrides: { ...txnBrokerOverrides, 'metrics.http.port': String(metricsPort) } });
  });

  test('commit and abort: read_committed sees the committed records only', { timeout: 120_000 }, () =>
    withBrokerLogs(target.broker, async () => {
      const topic = `tv2-visibility-${run}`;
      await makeTopic(target.bootstrap, topic, 2);
      const p = await target.session('tv2-visibility');
      await p.ok('init');
      for (const [round, outcome] of [
        ['c1', 'commit'],
        ['a1', 'abort'],
        ['c2', 'commit'],
        ['a2', 'abort'],
      ] as const) {
        await p.ok('begin');
        await p.send(topic, 0, `${round}p0`, 3);
        await p.send(topic, 1, `${round}p1`, 2);
        await p.ok(outcome);
      }
      const committed = await javaRead(target.bootstrap, topic, 'read_committed');
      assert.deepEqual([...committed.values].sort(), [
        'c1p0-0',
        'c1p0-1',
        'c1p0-2',
        'c1p1-0',
        'c1p1-1',
        'c2p0-0',
        'c2p0-1',
        'c2p0-2',
        'c2p1-0',
        'c2p1-1',
      ]);
      const raw = await javaRead(target.bootstrap, topic, 'read_uncommitted');
      assert.equal(raw.values.filter((v) => v.startsWith('a')).length, 10, 'aborted data is in the log');
      // p0: 4 transactions of 3 records + 4 markers; p1: 4 of 2 + 4 markers.
      assert.deepEqual(raw.ends, [16, 12]);
    }),
  );

  test(
    'a producer killed mid-transaction is fenced by its successor; its transaction is aborted',
    {
      timeout: 120_000,
    },
    () =>
      withBrokerLogs(target.broker, async () => {
        const topic = `tv2-killed-${run}`;
        await makeTopic(target.bootstrap, topic, 1);
        const first = await target.session('tv2-killed');
        await first.ok('init');
        await first.ok('begin');
        await first.send(topic, 0, 'done', 2);
        await first.ok('commit');
        await first.ok('begin');
        await first.send(topic, 0, 'killed', 3);
        await first.kill9();
        const successor = await target.session('tv2-killed');
        await successor.ok('init'); // aborts the killed producer's transaction, bumping the epoch past it
        await successor.ok('begin');
        await successor.send(topic, 0, 'successor', 2);
        await successor.ok('commit');
        const read = await javaRead(target.bootstrap, topic, 'read_committed');
        assert.deepEqual(read.values, ['done-0', 'done-1', 'successor-0', 'successor-1']);
      }),
  );

  test(
    'exactly-once consume-transform-produce (TxnOffsetCommit v5): no duplicate after the processor dies',
    {
      timeout: 180_000,
    },
    (t) =>
      withBrokerLogs(target.broker, async () => {
        await consumeTransformProduceThroughKill(t, target.bootstrap, 'tv2', run);
      }),
  );

  test('the client negotiated transaction version 2 (request metrics)', async (t) => {
    const counts = await requestCounts(metricsPort);
    t.diagnostic(
      [...counts]
        .filter(([k]) =>
          /^(EndTxn|Produce|TxnOffsetCommit|AddPartitionsToTxn|AddOffsetsToTxn|WriteTxnMarkers|InitProducerId) /.test(
            k,
          ),
        )
        .map(([k, n]) => `${k}: ${n}`)
        .join(', '),
    );
    assert.ok(sumOf(counts, 'EndTxn', (v) => v === 5) > 0, 'EndTxn v5');
    assert.equal(
      sumOf(counts, 'EndTxn', (v) => v < 5),
      0,
      'no EndTxn below v5',
    );
    // kafka-clients 4.1 names topics by id (v13, which keeps v12's TV2 semantics); Samsa's own client sends v12.
    assert.ok(sumOf(counts, 'Produce', (v) => v === 13) > 0, 'Produce v13 from the Java client');
    assert.ok(sumOf(counts, 'TxnOffsetCommit', (v) => v === 5) > 0, 'TxnOffsetCommit v5');
    assert.equal(
      sumOf(counts, 'AddPartitionsToTxn', (v) => v <= 3),
      0,
      'no client AddPartitionsToTxn',
    );
    assert.equal(
      sumOf(counts, 'AddOffsetsToTxn', () => true),
      0,
      'no AddOffsetsToTxn',
    );
    assert.ok(
      sumOf(counts, 'WriteTxnMarkers', (v) => v === 2) > 0,
      'the markers go out as WriteTxnMarkers v2',
    );
  });
});
