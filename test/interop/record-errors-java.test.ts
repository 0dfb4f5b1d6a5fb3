// Produce record errors (KIP-467) with the reference client: kafka-clients 4.x (test/interop/java/.../
// RecordErrors.java) sends one batch mixing keyed and keyless records to a compacted topic. As with Apache Kafka
// (SAMSA_INTEROP_TARGET=kafka runs the same test against it), the batch is refused whole: the keyless sends fail
// with InvalidRecordException naming the compacted topic, the keyed ones with the Java producer's KafkaException
// for the other records of a refused batch, nothing is appended; the keyed records sent again are appended once.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { repoRoot, run } from '../helpers/run.js';
import { javaClientJar, requireAll, skipUnless, targetName, tool, withBrokerLogs } from './harness.js';

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

const KEYS = ['k0', null, 'k2', null, null, 'k5'];
const PART_OF_BATCH =
  'KafkaException Failed to append record because it was part of a batch which had one more more invalid records';

describe(`interop: Java producer record errors against ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;
  let lib = '';

  before(async () => {
    requireAll(requirements);
    lib = join(await javaClientJar(), '..', 'lib', '*');
    broker = await startTarget();
  });

  after(async () => {
    await broker?.destroy();
  });

  for (const codec of ['none', 'zstd']) {
    test(`keyless records in a batch to a compacted topic fail alone (${codec})`, {
      timeout: 120_000,
    }, async () => {
      const b = broker!;
      const topic = `record-errors-java-${codec}`;
      const cluster = await Cluster.connect({ bootstrap: b.bootstrap });
      try {
        await createTopic(cluster, topic, { partitions: 1, configs: { 'cleanup.policy': 'compact' } });
      } finally {
        cluster.close();
      }
      const source = join(repoRoot(), 'test/interop/java/src/main/java/samsa/interop/RecordErrors.java');
      const r = await withBrokerLogs(b, () =>
        run(
          'java',
          [
            '-Xmx256m',
            '-XX:+UseSerialGC',
            '-Dorg.slf4j.simpleLogger.defaultLogLevel=error',
            '-cp',
            lib,
            source,
            ...['--bootstrap', b.bootstrap, '--topic', topic, '--compression', codec],
          ],
          { timeoutMs: 90_000 },
        ),
      );
      const lines = r.stdout.trim().split('\n');
      const noKey = `InvalidRecordException Compacted topic cannot accept message without key in topic partition ${topic}-0`;
      assert.deepEqual(
        lines.filter((l) => l.startsWith('send ')),
        KEYS.map((k, i) => `send ${i} ${k} ${k === null ? noKey : PART_OF_BATCH}`),
        r.stdout + r.stderr.slice(-3000),
      );
      assert.deepEqual(
        lines.filter((l) => l.startsWith('resend ')),
        ['resend 0 k0 ok 0', 'resend 2 k2 ok 1', 'resend 5 k5 ok 2'],
      );
      assert.deepEqual(
        lines.filter((l) => l.startsWith('read ') || l.startsWith('end ')),
        ['read 0 k0', 'read 1 k2', 'read 2 k5', 'end 3'],
      );
    });
  }
});
