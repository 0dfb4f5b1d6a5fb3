// Interop with @platformatic/kafka 1.x (pure TypeScript client on recent, flexible API versions):
// idempotent producer with the full record scheme, every codec it has on this Node, a broker restart
// between produce and read-back through a consumer group.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { platformaticCodecs, platformaticConsume, platformaticProduce } from './clients/platformatic.js';
import { recordCount, requireAll, skipUnless, targetName, withBrokerLogs } from './harness.js';
import { fullProfile, newRun, topicName, verifyRecords } from './records.js';

describe(`interop: @platformatic/kafka against ${targetName()}`, { skip: skipUnless([]) }, () => {
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
    const b = broker!;
    await withBrokerLogs(b, async () => {
      const { runId, base } = newRun();
      const topics = platformaticCodecs.map((c) => topicName('platformatic', c, runId));
      const t0 = Date.now();
      for (const [k, codec] of platformaticCodecs.entries()) {
        const r = await platformaticProduce({
          bootstrap: b.bootstrap,
          topic: topics[k]!,
          codec,
          count: recordCount,
          base,
        });
        assert.equal(r.failed, 0, `${codec}: ${r.firstError}`);
        assert.equal(r.acked.size, recordCount);
      }
      const produceMs = Date.now() - t0;
      const t1 = Date.now();
      await b.restart();
      const restartMs = Date.now() - t1;
      const t2 = Date.now();
      const read = await platformaticConsume(b.bootstrap, topics);
      const consumeMs = Date.now() - t2;
      for (const topic of topics) {
        const summary = verifyRecords(read.get(topic)!, recordCount, base, fullProfile);
        assert.ok(summary.ok, `${topic}: ${JSON.stringify(summary)}`);
      }
      t.diagnostic(
        `platformatic: ${recordCount} records x ${platformaticCodecs.join(',')}: produce ${produceMs} ms, ` +
          `restart ${restartMs} ms, consume ${consumeMs} ms`,
      );
    });
  });
});
