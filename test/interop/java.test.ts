// Interop with the reference client: Apache Kafka's kafka-clients 4.x (test/interop/java), idempotent
// producer with acks=all, every codec, a broker restart between produce and read-back, and a kill -9
// in the middle of production. See docs/interop.md.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { run } from '../helpers/run.js';
import {
  assertSummaries,
  codecs,
  javaClientJar,
  jsonLines,
  produceThroughCrash,
  recordCount,
  requireAll,
  roundTripThroughRestart,
  skipUnless,
  targetName,
  tool,
  withBrokerLogs,
  withTempDir,
} from './harness.js';
import { newRun, topicName } from './records.js';

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

describe(`interop: Java kafka-clients 4.x against ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;
  let jar = '';

  before(async () => {
    requireAll(requirements);
    jar = await javaClientJar();
    broker = await startTarget();
  });

  after(async () => {
    await broker?.destroy();
  });

  test(`${recordCount} records per codec survive a restart byte for byte`, {
    timeout: 240_000,
  }, async (t) => {
    await withBrokerLogs(broker, () =>
      roundTripThroughRestart(broker!, { name: 'java', cmd: 'java', args: ['-jar', jar], codecs }, (m) =>
        t.diagnostic(m),
      ),
    );
  });

  test('kill -9 during production loses no acknowledged record', { timeout: 240_000 }, async (t) => {
    const b = broker!;
    await withBrokerLogs(b, () =>
      withTempDir(async (dir) => {
        const { runId, base } = newRun();
        const topic = topicName('java-kill9', 'lz4', runId);
        const count = 40_000;
        const acked = join(dir, 'acked.txt');
        const common = [
          '--bootstrap',
          b.bootstrap,
          '--topic',
          topic,
          '--count',
          `${count}`,
          '--base-ts',
          `${base}`,
        ];
        const { result, crash } = await produceThroughCrash(
          b,
          'java',
          [
            '-jar',
            jar,
            'produce',
            ...common,
            '--compression',
            'lz4',
            '--rate',
            '5000',
            '--acked-file',
            acked,
            '--allow-failures',
          ],
          5000,
        );
        const produced = jsonLines(result)[0];
        assert.ok(produced !== undefined, result.stdout);
        t.diagnostic(`crash: ${JSON.stringify(crash)}; producer: ${JSON.stringify(produced)}`);
        assert.ok(Number(produced.acked) > crash.ackedAtKill, 'the producer made progress after the restart');
        const verified = await run('java', ['-jar', jar, 'verify', ...common, '--acked-file', acked]);
        const [summary] = assertSummaries(verified, [topic], 'verify after kill -9');
        t.diagnostic(`verify: ${JSON.stringify(summary)}`);
      }),
    );
  });
});
