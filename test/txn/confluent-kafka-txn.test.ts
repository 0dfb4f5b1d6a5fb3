// Transactions on librdkafka through confluent-kafka-python (test/interop/clients/confluent_kafka_txn.py) against
// the target broker (SAMSA_INTEROP_TARGET): commit, abort, send_offsets_to_transaction, a fenced zombie, and
// read-back under read_committed and read_uncommitted.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { run } from '../helpers/run.js';
import {
  clientScript,
  python,
  pythonModule,
  requireAll,
  skipUnless,
  targetName,
  withBrokerLogs,
} from '../interop/harness.js';
import { duplicates, kafkaFeatures, makeTopic, txnBrokerOverrides } from './txn-clients.js';

const requirements = [pythonModule('confluent_kafka', 'python3-confluent-kafka')];

const values = (prefix: string, count: number): string[] =>
  [0, 1].flatMap((p) => Array.from({ length: count }, (_, i) => `${prefix}-${p}-${i}`));

describe(`transactions: confluent-kafka (librdkafka) against ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;

  before(async () => {
    requireAll(requirements);
    broker = await startTarget({ overrides: txnBrokerOverrides, kafkaFeatures });
  });

  after(async () => {
    await broker?.destroy();
  });

  test('commit, abort, send_offsets_to_transaction and a fenced zombie', { timeout: 120_000 }, () =>
    withBrokerLogs(broker, async () => {
      const b = broker!;
      const id = Date.now().toString(36);
      const topic = `txn-librdkafka-${id}`;
      await makeTopic(b.bootstrap, topic, 2);
      const r = await run(
        python,
        [
          clientScript('confluent_kafka_txn.py'),
          ...['--bootstrap', b.bootstrap, '--topic', topic],
          ...['--group', `txn-librdkafka-${id}`, '--transactional-id', `librdkafka-${id}`],
        ],
        { timeoutMs: 100_000 },
      );
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      assert.ok(line !== undefined, `no result:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
      const out = JSON.parse(line) as {
        committed: string[];
        uncommitted: string[];
        offsets: Record<string, number>;
        zombie: string;
      };
      const expected = [...values('c1', 5), ...values('c2', 3), 'successor'];
      assert.deepEqual([...out.committed].sort(), expected.sort(), 'read_committed: committed records only');
      assert.deepEqual(duplicates(out.committed), []);
      assert.deepEqual(
        [...out.uncommitted].sort(),
        [...expected, ...values('a1', 4), 'zombie'].sort(),
        'read_uncommitted: every record written',
      );
      assert.equal(
        out.offsets['0'],
        7,
        `the offset committed in the transaction: ${JSON.stringify(out.offsets)}`,
      );
      assert.match(out.zombie, /^_FENCED fatal=True$/, out.zombie);
    }),
  );
});
