// Interop with kafka-python (Debian's python3-kafka 2.0.2, pure Python, its own protocol code):
// acks=all (it has no idempotent producer), every codec whose Python module is installed, a broker
// restart between produce and read-back. The client program is
// test/interop/clients/kafka_python_client.py; see docs/interop.md.

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

// snappy, lz4 and zstd need their Python modules (installed by .ci/run).
const requirements = [
  pythonModule('kafka', 'python3-kafka'),
  pythonModule('snappy', 'python3-snappy'),
  pythonModule('lz4.frame', 'python3-lz4'),
  pythonModule('zstandard', 'python3-zstandard'),
];

describe(`interop: kafka-python against ${targetName()}`, { skip: skipUnless(requirements) }, () => {
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
      name: 'kafka-python',
      cmd: python,
      args: [clientScript('kafka_python_client.py')],
      codecs,
    };
    await withBrokerLogs(broker, () => roundTripThroughRestart(broker!, client, (m) => t.diagnostic(m)));
  });
});
