// Transactions version 2 (KIP-890 part 2) with the reference client (kafka-clients 4.x, TxnWorkload) against
// Samsa, which finalizes transaction.version 2: the client must negotiate it, which the broker's request metrics
// show (EndTxn v5, Produce v13 (v12's semantics, by topic id), TxnOffsetCommit v5, and no AddPartitionsToTxn / AddOffsetsToTxn from the
// client, which v2 drops; the coordinator's markers go out as WriteTxnMarkers v2). Commit and abort as
// read_committed consumers see them; a producer killed mid-transaction is fenced by its successor and its
// transaction aborted; exactly-once consume-transform-produce (TxnOffsetCommit v5) without duplicates after the
// processor dies mid-transaction. Samsa only (Apache Kafka's side of TV2 is Kafka's own business).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { requireAll, skipUnless, tool, withBrokerLogs } from '../interop/harness.js';
import {
  duplicates,
  JavaTxnSession,
  javaRead,
  makeTopic,
  producePlain,
  startProcessor,
  txnBrokerOverrides,
} from './txn-clients.js';

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('javac', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

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
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;
  let bootstrap = '';
  let metricsPort = -1;
  const sessions: JavaTxnSession[] = [];

  const session = async (id: string): Promise<JavaTxnSession> => {
    const s = await JavaTxnSession.start(bootstrap, `${id}-${run}`);
    sessions.push(s);
    return s;
  };

  before(async () => {
    requireAll(requirements);
    metricsPort = await freePort();
    broker = await startBroker({
      overrides: { ...txnBrokerOverrides, 'metrics.http.port': String(metricsPort) },
    });
    bootstrap = broker.bootstrap;
  });

  after(async () => {
    await Promise.all(sessions.map((s) => s.kill9()));
    await broker?.destroy();
  });

  test('commit and abort: read_committed sees the committed records only', { timeout: 120_000 }, () =>
    withBrokerLogs(broker, async () => {
      const topic = `tv2-visibility-${run}`;
      await makeTopic(bootstrap, topic, 2);
      const p = await session('tv2-visibility');
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
      const committed = await javaRead(bootstrap, topic, 'read_committed');
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
      const raw = await javaRead(bootstrap, topic, 'read_uncommitted');
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
      withBrokerLogs(broker, async () => {
        const topic = `tv2-killed-${run}`;
        await makeTopic(bootstrap, topic, 1);
        const first = await session('tv2-killed');
        await first.ok('init');
        await first.ok('begin');
        await first.send(topic, 0, 'done', 2);
        await first.ok('commit');
        await first.ok('begin');
        await first.send(topic, 0, 'killed', 3);
        await first.kill9();
        const successor = await session('tv2-killed');
        await successor.ok('init'); // aborts the killed producer's transaction, bumping the epoch past it
        await successor.ok('begin');
        await successor.send(topic, 0, 'successor', 2);
        await successor.ok('commit');
        const read = await javaRead(bootstrap, topic, 'read_committed');
        assert.deepEqual(read.values, ['done-0', 'done-1', 'successor-0', 'successor-1']);
      }),
  );

  test(
    'exactly-once consume-transform-produce (TxnOffsetCommit v5): no duplicate after the processor dies',
    {
      timeout: 180_000,
    },
    (t) =>
      withBrokerLogs(broker, async () => {
        const input = `tv2-ctp-in-${run}`;
        const output = `tv2-ctp-out-${run}`;
        const group = `tv2-ctp-${run}`;
        const transactionalId = `tv2-ctp-${run}`;
        await makeTopic(bootstrap, input, 2);
        await makeTopic(bootstrap, output, 2);
        const values = await producePlain(bootstrap, input, 2, 'in', 100);
        const first = await startProcessor({
          bootstrap,
          input,
          output,
          group,
          transactionalId,
          hangAfter: 60,
        });
        try {
          await first.waitFor(/^H$/, 90_000);
        } finally {
          await first.kill9();
        }
        const before = first.committed();
        assert.ok(before >= 60 && before < values.length, `first run committed ${before}`);
        const second = await startProcessor({ bootstrap, input, output, group, transactionalId });
        const end = await second.done;
        assert.equal(end.code, 0, `second run failed:\n${end.stderr.slice(-3000)}`);
        t.diagnostic(`first run committed ${before}, the second ${second.committed()} of ${values.length}`);
        const out = await javaRead(bootstrap, output, 'read_committed', { minCount: values.length });
        assert.deepEqual(duplicates(out.values), [], 'read_committed output has duplicates');
        assert.deepEqual([...out.values].sort(), values.map((v) => `out:${v}`).sort());
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
