// `samsa transactions` (kafka-transactions.sh) run as a process against the target broker (SAMSA_INTEROP_TARGET),
// with open transactions made by the Java client (test/txn/txn-clients.ts): list (filters), describe,
// describe-producers, find-hanging, abort by start offset and by producer id/epoch; errors and usage. Then a
// hanging transaction (a transactional batch no coordinator knows about, written with the internal client) found
// by find-hanging and released by abort.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from '../../src/client/cluster.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { InitProducerIdResponse } from '../../src/protocol/generated/init-producer-id-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { requireAll, skipUnless, targetName, tool, withBrokerLogs } from '../interop/harness.js';
import {
  JavaTxnSession,
  javaRead,
  kafkaFeatures,
  makeTopic,
  producePlain,
  txnBrokerOverrides,
} from '../txn/txn-clients.js';
import { type CliResult, oneLineFailure, samsa } from './cli-helpers.js';

/** Kafka's table: a header row and data rows, cells tab-separated (and padded). */
function rows(out: string): string[][] {
  return out
    .trimEnd()
    .split('\n')
    .map((l) =>
      l
        .split('\t')
        .map((c) => c.trim())
        .filter((c, i, all) => c !== '' || i < all.length - 1),
    );
}

/** The rows of a table as objects keyed by its header. */
function records(r: CliResult): Record<string, string>[] {
  assert.equal(r.code, 0, r.stderr);
  const [header, ...body] = rows(r.stdout);
  assert.ok(header !== undefined, r.stdout);
  return body.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
}

describe('samsa transactions: usage', () => {
  test('bad usage exits 2 with one line and a pointer to --help', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['abort', '--topic', 't', '--partition', '0'],
      ['abort', '--topic', 't', '--partition', '0', '--producer-id', '5'],
      ['find-hanging'],
      ['find-hanging', '--partition', '1', '--broker-id', '1'],
      ['describe'],
      ['list', '--transactional-id-pattern', '('],
      ['list', '--topic', 't'],
      ['describe', '--transactional-id', 'x', '--start-offset', '1'],
    ]) {
      const r = await samsa(['transactions', '--bootstrap-server', '127.0.0.1:1', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), /^samsa transactions: /);
    }
  });

  test('--help lists the commands', async () => {
    const r = await samsa(['transactions', '--help']);
    assert.equal(r.code, 0);
    for (const c of ['list', 'describe', 'describe-producers', 'abort', 'find-hanging'])
      assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
  });
});

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('javac', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

describe(`samsa transactions against ${targetName()}`, { skip: skipUnless(requirements) }, () => {
  let broker: BrokerHandle | undefined;
  let bootstrap = '';
  const sessions: JavaTxnSession[] = [];
  const run = Date.now().toString(36);
  const topic = `cli-txn-${run}`;
  // The most the brokers allow (txnBrokerOverrides): the broker must not abort these on its own mid-test.
  const transactionTimeoutMs = 30_000;
  const tx = (...args: string[]): Promise<CliResult> =>
    samsa(['transactions', '--bootstrap-server', bootstrap, ...args]);

  before(async () => {
    requireAll(requirements);
    broker = await startTarget({ overrides: txnBrokerOverrides, kafkaFeatures });
    bootstrap = broker.bootstrap;
  });

  after(async () => {
    await Promise.all(sessions.map((s) => s.kill9()));
    await broker?.destroy();
  });

  test(
    'list, describe, describe-producers and find-hanging show an open transaction; abort ends it',
    {
      timeout: 180_000,
    },
    () =>
      withBrokerLogs(broker, async () => {
        await makeTopic(bootstrap, topic, 2);
        const a = await JavaTxnSession.start(bootstrap, `cli-a-${run}`, { transactionTimeoutMs });
        sessions.push(a);
        await a.ok('init');
        await a.ok('begin');
        await a.send(topic, 0, 'a', 3); // offsets 0-2, open
        const b = await JavaTxnSession.start(bootstrap, `cli-b-${run}`, { transactionTimeoutMs });
        sessions.push(b);
        await b.ok('init');
        await b.ok('begin');
        await b.send(topic, 1, 'b', 2); // offsets 0-1, open

        const listed = records(await tx('list'));
        const rowA = listed.find((r) => r.TransactionalId === a.transactionalId);
        assert.ok(rowA !== undefined, JSON.stringify(listed));
        assert.equal(rowA.TransactionState, 'Ongoing');
        assert.match(rowA.Coordinator ?? '', /^\d+$/);
        assert.deepEqual(
          records(await tx('list', '--transactional-id-pattern', `^cli-b-${run}$`)).map(
            (r) => r.TransactionalId,
          ),
          [b.transactionalId],
        );
        const longRunning = records(await tx('list', '--duration-filter', '3600000'));
        assert.ok(
          !longRunning.some((r) => r.TransactionalId === a.transactionalId),
          JSON.stringify(longRunning),
        );

        const [described] = records(await tx('describe', '--transactional-id', a.transactionalId));
        assert.equal(described?.TransactionState, 'Ongoing');
        assert.equal(described?.ProducerId, rowA.ProducerId);
        assert.equal(described?.TransactionTimeoutMs, String(transactionTimeoutMs));
        assert.equal(described?.TopicPartitions, `${topic}-0`);
        assert.match(described?.TransactionDurationMs ?? '', /^\d+$/);
        assert.equal(described?.CoordinatorId, rowA.Coordinator);

        const producers = records(await tx('describe-producers', '--topic', topic, '--partition', '0'));
        const pa = producers.find((p) => p.ProducerId === rowA.ProducerId);
        assert.equal(pa?.CurrentTransactionStartOffset, '0', JSON.stringify(producers));
        assert.equal(pa?.LastSequence, '2');

        // Open, but its coordinator still tracks the partition: not hanging.
        const hanging = await tx('find-hanging', '--topic', topic, '--max-transaction-timeout', '0');
        assert.deepEqual(records(hanging), []);
        assert.match(
          hanging.stdout,
          /^Topic\s+Partition\s+ProducerId\s+ProducerEpoch\s+CoordinatorEpoch\s+StartOffset/,
        );

        // Abort by start offset (partition 0), then by producer id and epochs (partition 1).
        const aborted = await tx('abort', '--topic', topic, '--partition', '0', '--start-offset', '0');
        assert.equal(aborted.code, 0, aborted.stderr);
        const [pb] = records(await tx('describe-producers', '--topic', topic, '--partition', '1'));
        assert.equal(pb?.CurrentTransactionStartOffset, '0');
        const abortedB = await tx(
          ...['abort', '--topic', topic, '--partition', '1', '--producer-id', pb?.ProducerId ?? ''],
          ...[
            '--producer-epoch',
            pb?.ProducerEpoch ?? '',
            '--coordinator-epoch',
            pb?.LatestCoordinatorEpoch ?? '',
          ],
        );
        assert.equal(abortedB.code, 0, abortedB.stderr);
        for (const p of ['0', '1']) {
          const after = records(await tx('describe-producers', '--topic', topic, '--partition', p));
          assert.ok(
            after.every((s) => s.CurrentTransactionStartOffset === 'None'),
            `partition ${p}: ${JSON.stringify(after)}`,
          );
        }
        // The abort markers end the transactions on the partitions: read_committed reads to the log end.
        const read = await javaRead(bootstrap, topic, 'read_committed');
        assert.deepEqual(read.values, []);
        assert.deepEqual(read.ends, [4, 3]);

        const again = await tx('abort', '--topic', topic, '--partition', '0', '--start-offset', '0');
        assert.equal(again.code, 1);
        assert.match(oneLineFailure(again), /Could not find any open transactions starting at offset 0/);
      }),
  );

  test('describe of an unknown transactional id fails with one line', { timeout: 60_000 }, async () => {
    const r = await tx('describe', '--transactional-id', `never-${run}`);
    assert.equal(r.code, 1, r.stdout);
    assert.match(oneLineFailure(r), /TRANSACTIONAL_ID_NOT_FOUND/);
  });
});

/**
 * A transactional batch written straight to a partition, as a producer whose coordinator lost track of it would
 * leave it: the producer id of an idempotent producer (no transactional id known to any coordinator), records
 * two hours old. Returns the producer id.
 */
async function writeHangingTransaction(
  bootstrap: string,
  topic: string,
  transactionalId: string,
): Promise<number> {
  const c = await Cluster.connect({ bootstrap, clientId: 'samsa-txn-hanging' });
  try {
    // Kafka answers COORDINATOR_LOAD_IN_PROGRESS while its transaction coordinator starts: ask again.
    let init: InitProducerIdResponse;
    for (let tries = 0; ; tries++) {
      init = await c.request<InitProducerIdResponse>(ApiKey.InitProducerId, {
        transactionalId: null,
        transactionTimeoutMs: -1,
        producerId: -1,
        producerEpoch: -1,
      });
      const retriable = [
        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
      ] as number[];
      if (!retriable.includes(init.errorCode) || tries >= 100) break;
      await sleep(200);
    }
    assert.equal(init.errorCode, ErrorCode.NONE);
    const old = Date.now() - 2 * 3600_000;
    const records = encodeRecordBatch({
      records: [0, 1, 2].map((i) => ({ value: `hanging-${i}`, timestamp: old })),
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
      baseSequence: 0,
      isTransactional: true,
    });
    const conn = await c.leaderFor(topic, 0);
    // v11: a transaction version 1 producer's write (v12 would have the leader add the partition to a transaction).
    const res = await conn.request<ProduceResponse>(
      ApiKey.Produce,
      {
        transactionalId,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
      },
      11,
    );
    const p = res.responses[0]?.partitionResponses[0];
    assert.equal(p?.errorCode, ErrorCode.NONE, JSON.stringify(p));
    assert.equal(p?.baseOffset, 0);
    return init.producerId;
  } finally {
    c.close();
  }
}

describe(`samsa transactions find-hanging and abort on ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;
  let bootstrap = '';
  const run = Date.now().toString(36);
  const tx = (...args: string[]): Promise<CliResult> =>
    samsa(['transactions', '--bootstrap-server', bootstrap, ...args]);

  before(async () => {
    requireAll(requirements);
    // Kafka 3.6+ (and Samsa) check with the coordinator that a transactional batch's partition is in a transaction
    // (KIP-890 part 1); switched off so that the test can write a hanging transaction as older brokers allowed.
    const overrides = { ...txnBrokerOverrides, 'transaction.partition.verification.enable': 'false' };
    broker = await startTarget({ overrides, kafkaFeatures });
    bootstrap = broker.bootstrap;
  });

  after(async () => {
    await broker?.destroy();
  });

  test(
    'a transaction no coordinator knows is found by find-hanging and released by abort',
    {
      timeout: 120_000,
    },
    () =>
      withBrokerLogs(broker, async () => {
        const topic = `cli-hanging-${run}`;
        await makeTopic(bootstrap, topic, 1);
        const producerId = await writeHangingTransaction(bootstrap, topic, `hanging-${run}`);
        await producePlain(bootstrap, topic, 1, 'plain', 1); // offset 3, behind the open transaction
        const held = await javaRead(bootstrap, topic, 'read_committed', { minCount: 1, timeoutMs: 2000 });
        assert.deepEqual(held.ends, [0], 'the hanging transaction holds the last stable offset at its start');

        const leader = await (async () => {
          const c = await Cluster.connect({ bootstrap, clientId: 'samsa-txn-test' });
          try {
            return (await c.topic(topic)).partitions[0]?.leader;
          } finally {
            c.close();
          }
        })();
        for (const scope of [
          ['--topic', topic],
          ['--topic', topic, '--partition', '0'],
          ['--broker-id', String(leader)],
        ]) {
          const found = records(await tx('find-hanging', ...scope, '--max-transaction-timeout', '60'));
          const row = found.find((r) => r.Topic === topic);
          assert.ok(row !== undefined, `${scope.join(' ')}: ${JSON.stringify(found)}`);
          assert.equal(row.Partition, '0');
          assert.equal(row.ProducerId, String(producerId));
          assert.equal(row.StartOffset, '0');
          assert.ok(Number(row['Duration(min)']) >= 119, JSON.stringify(row));
        }
        // Younger than the timeout given: not a candidate.
        assert.deepEqual(
          records(await tx('find-hanging', '--topic', topic, '--max-transaction-timeout', '180')),
          [],
        );

        const aborted = await tx('abort', '--topic', topic, '--partition', '0', '--start-offset', '0');
        assert.equal(aborted.code, 0, aborted.stderr);
        assert.deepEqual(
          records(await tx('find-hanging', '--topic', topic, '--max-transaction-timeout', '60')),
          [],
        );
        const released = await javaRead(bootstrap, topic, 'read_committed', { minCount: 1 });
        assert.deepEqual(released.values, ['plain-p0-0']);
        assert.deepEqual(released.ends, [5], '3 aborted records, the plain one, the abort marker');
      }),
  );
});
