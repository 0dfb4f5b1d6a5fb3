// Java's KafkaConsumer (kafka-clients 4.x) against the transactional log: transactional batches and markers are
// written with the internal client (InitProducerId, Produce, WriteTxnMarkers, as a transaction coordinator
// would), then read with isolation.level=read_committed (aborted records skipped through aborted_transactions,
// stops at the last stable offset of a still open transaction) and read_uncommitted (everything to the high
// watermark). Samsa only: Kafka refuses transactional writes its own coordinator did not register.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { repoRoot, run } from '../helpers/run.js';
import {
  NO_TXN_VERIFICATION,
  produce,
  producerId,
  txnBatch,
  writeMarkers,
} from '../helpers/txn-log-client.js';
import { javaClientJar, jsonLines, requireAll, skipUnless, tool, withBrokerLogs } from './harness.js';

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];
const TOPIC = 'read-committed';

describe('interop: Java read_committed consumer on the transactional log', {
  skip: skipUnless(requirements),
  timeout: 240_000,
}, () => {
  let broker: BrokerHandle | undefined;
  let libs = '';

  before(async () => {
    requireAll(requirements);
    libs = join(dirname(await javaClientJar()), 'lib', '*');
    broker = await startBroker({ overrides: NO_TXN_VERIFICATION });
  });

  after(async () => {
    await broker?.destroy();
  });

  async function consume(
    isolation: string,
  ): Promise<{ endOffset: number; position: number; records: unknown[] }> {
    const source = join(repoRoot(), 'test', 'interop', 'java', 'ReadCommittedConsumer.java');
    const r = await run('java', ['-cp', libs, source, broker!.bootstrap, TOPIC, isolation], {
      timeoutMs: 120_000,
    });
    const line = jsonLines(r)[0];
    assert.ok(line !== undefined, `no result from the consumer:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
    return line as { endOffset: number; position: number; records: unknown[] };
  }

  test('aborted records are skipped, committed ones delivered, an open transaction holds the end', async () => {
    await withBrokerLogs(broker, async () => {
      const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker!.port });
      try {
        const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
          topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
          timeoutMs: 10_000,
          validateOnly: false,
        });
        assert.equal(res.topics[0]!.errorCode, ErrorCode.NONE);
        const [a, b, c] = [await producerId(conn), await producerId(conn), await producerId(conn)];
        const plain = (value: string) =>
          produce(conn, TOPIC, encodeRecordBatch({ records: [{ value }] }), null);
        await plain('plain0'); // 0
        await produce(conn, TOPIC, txnBatch(a, 0, ['A-aborted-1', 'A-aborted-2']), 'ta'); // 1-2
        await produce(conn, TOPIC, txnBatch(b, 0, ['B-committed-1']), 'tb'); // 3
        await produce(conn, TOPIC, txnBatch(a, 2, ['A-aborted-3']), 'ta'); // 4
        await produce(conn, TOPIC, txnBatch(b, 1, ['B-committed-2']), 'tb'); // 5
        assert.deepEqual(
          await writeMarkers(conn, TOPIC, [
            { pid: a, commit: false }, // 6
            { pid: b, commit: true }, // 7
          ]),
          [ErrorCode.NONE, ErrorCode.NONE],
        );
        await plain('plain1'); // 8
        await produce(conn, TOPIC, txnBatch(c, 0, ['C-open']), 'tc'); // 9
        await plain('plain-after-open'); // 10
      } finally {
        conn.close();
      }
      assert.deepEqual(await consume('read_committed'), {
        endOffset: 9,
        position: 9,
        records: [
          [0, 'plain0'],
          [3, 'B-committed-1'],
          [5, 'B-committed-2'],
          [8, 'plain1'],
        ],
      });
      const all = await consume('read_uncommitted');
      assert.equal(all.endOffset, 11);
      assert.equal(all.records.length, 9);
    });
  });
});
