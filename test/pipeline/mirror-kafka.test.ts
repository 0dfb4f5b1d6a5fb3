// samsa mirror with Apache Kafka 4.x (scripts/kafka-start.sh) on one side and Samsa on the other: Samsa to
// Kafka exactly-once (transactions and group offsets on Kafka), Kafka to Samsa at-least-once.

import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startBroker, startKafka } from '../helpers/broker.js';
import { which } from '../helpers/run.js';
import {
  assertSameRecords,
  endOffsets,
  killMirrors,
  makeTopic,
  produceRecords,
  readTopic,
  singleBrokerTxn,
  startMirror,
  waitForCommitted,
} from './mirror-helpers.js';

const skip =
  which('java') === undefined
    ? 'Java is not installed, so Apache Kafka cannot run (apt-get install openjdk-17-jdk-headless)'
    : false;

describe('samsa mirror between Apache Kafka and Samsa', { skip, timeout: 600_000 }, () => {
  let kafka: BrokerHandle;
  let samsa: BrokerHandle;

  before(async () => {
    [kafka, samsa] = await Promise.all([
      startKafka({ overrides: singleBrokerTxn, kafkaFeatures: { 'transaction.version': 1 } }),
      startBroker({ overrides: singleBrokerTxn }),
    ]);
  });

  after(async () => {
    await killMirrors();
    await Promise.all([kafka?.destroy(), samsa?.destroy()]);
  });

  test('Samsa to Kafka, exactly-once', async () => {
    await makeTopic(samsa.bootstrap, 'to-kafka', 2, { 'retention.ms': '1209600000' });
    const expected = await produceRecords(samsa.bootstrap, 'to-kafka', 2, 3000, { chunk: 100 });
    const m = startMirror([
      '--from',
      samsa.bootstrap,
      '--to',
      kafka.bootstrap,
      '--topics',
      'to-kafka',
      '--exactly-once',
      '--group',
      'to-kafka-mirror',
    ]);
    await waitForCommitted(
      kafka.bootstrap,
      'to-kafka-mirror',
      'to-kafka',
      await endOffsets(samsa.bootstrap, 'to-kafka'),
    );
    m.run.kill('SIGTERM');
    await m.run.done;
    assertSameRecords(
      expected,
      await readTopic(kafka.bootstrap, 'to-kafka', { committedOnly: true }),
      'to-kafka',
    );
  });

  test('Kafka to Samsa, at-least-once', async () => {
    await makeTopic(kafka.bootstrap, 'from-kafka', 3, { 'max.message.bytes': '2000000' });
    const expected = await produceRecords(kafka.bootstrap, 'from-kafka', 3, 2000, {
      chunk: 100,
      compression: 'lz4',
    });
    const m = startMirror([
      '--from',
      kafka.bootstrap,
      '--to',
      samsa.bootstrap,
      '--topics',
      'from-.*',
      '--group',
      'from-kafka-mirror',
    ]);
    await waitForCommitted(
      kafka.bootstrap,
      'from-kafka-mirror',
      'from-kafka',
      await endOffsets(kafka.bootstrap, 'from-kafka'),
    );
    m.run.kill('SIGTERM');
    await m.run.done;
    assertSameRecords(expected, await readTopic(samsa.bootstrap, 'from-kafka'), 'from-kafka');
  });
});
