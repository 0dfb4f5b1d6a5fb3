// Interop with librdkafka through confluent-kafka-python (Debian's python3-confluent-kafka):
// idempotent producer, acks=all, every codec, a broker restart between produce and read-back.
// The client program is test/interop/clients/confluent_kafka_client.py; see docs/interop.md.

import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import {
  clientScript,
  codecs,
  python,
  pythonModule,
  recordCount,
  requireAll,
  roundTripThroughRestart,
  skipUnless,
  targetName,
  withBrokerLogs,
} from './harness.js';

const requirements = [pythonModule('confluent_kafka', 'python3-confluent-kafka')];

describe(`interop: confluent-kafka (librdkafka) against ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;

  before(async () => {
    requireAll(requirements);
    broker = await startTarget();
  });

  after(async () => {
    await broker?.destroy();
  });

  test(`${recordCount} records per codec survive a restart byte for byte`, {
    timeout: 240_000,
  }, async (t) => {
    const client = {
      name: 'confluent-kafka',
      cmd: python,
      args: [clientScript('confluent_kafka_client.py')],
      codecs,
    };
    await withBrokerLogs(broker, () => roundTripThroughRestart(broker!, client, (m) => t.diagnostic(m)));
  });
});
