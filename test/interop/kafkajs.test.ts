// Interop with kafkajs 2.x (its own protocol code, older API versions than the Java client):
// idempotent producer, every codec (snappy/lz4/zstd through kafkajs-codecs.ts), a broker restart
// between produce and read-back through a consumer group, and a kill -9 during production.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { kafkajsCodecs, kafkajsConsume, kafkajsProduce } from './clients/kafkajs.js';
import {
  recordCount,
  requireAll,
  restartRoundTrip,
  skipUnless,
  targetName,
  withBrokerLogs,
} from './harness.js';
import { newRun, noNullHeadersProfile, topicName, verifyRecords } from './records.js';

describe(`interop: kafkajs against ${targetName()}`, { skip: skipUnless([]) }, () => {
  let broker: BrokerHandle | undefined;

  before(async () => {
    requireAll([]);
    broker = await startTarget();
  });

  after(async () => {
    await broker?.destroy();
  });

  test(`${recordCount} records per codec survive a restart byte for byte`, {
    timeout: 240_000,
  }, async (t) => {
    t.diagnostic(
      await restartRoundTrip(broker!, {
        name: 'kafkajs',
        codecs: kafkajsCodecs,
        profile: noNullHeadersProfile,
        produce: kafkajsProduce,
        consume: kafkajsConsume,
      }),
    );
  });

  test('kill -9 during production loses no acknowledged record', { timeout: 240_000 }, async (t) => {
    const b = broker!;
    await withBrokerLogs(b, async () => {
      const { runId, base } = newRun();
      const topic = topicName('kafkajs-kill9', 'zstd', runId);
      const count = 20_000;
      const killAt = 3000;
      let crash: Promise<void> | undefined;
      const crashInfo = { ackedAtKill: 0, restartMs: 0 };
      const produced = await kafkajsProduce({
        bootstrap: b.bootstrap,
        topic,
        codec: 'zstd',
        count,
        base,
        batch: 100,
        onAck: (acked) => {
          if (crash === undefined && acked >= killAt) {
            crashInfo.ackedAtKill = acked;
            crash = (async () => {
              await b.kill9();
              await sleep(500);
              const t0 = Date.now();
              await b.restart();
              crashInfo.restartMs = Date.now() - t0;
            })();
          }
        },
      });
      assert.ok(crash !== undefined, 'the broker was killed');
      await crash;
      t.diagnostic(
        `crash: ${JSON.stringify(crashInfo)}; producer: acked ${produced.acked.size}, failed ${produced.failed}` +
          `${produced.firstError === undefined ? '' : ` (${produced.firstError})`}, ${produced.ms} ms`,
      );
      assert.ok(produced.acked.size > crashInfo.ackedAtKill, 'the producer made progress after the restart');
      const read = await kafkajsConsume(b.bootstrap, [topic]);
      const summary = verifyRecords(read.get(topic)!, count, base, noNullHeadersProfile, produced.acked);
      assert.ok(summary.ok, JSON.stringify(summary));
      t.diagnostic(`verify: ${JSON.stringify(summary)}`);
    });
  });
});
