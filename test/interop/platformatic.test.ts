// Interop with @platformatic/kafka 1.x (pure TypeScript client on recent, flexible API versions):
// idempotent producer with the full record scheme, every codec it has on this Node, a broker restart
// between produce and read-back through a consumer group.

import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { platformaticCodecs, platformaticConsume, platformaticProduce } from './clients/platformatic.js';
import { recordCount, requireAll, restartRoundTrip, skipUnless, targetName } from './harness.js';
import { fullProfile } from './records.js';

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
    t.diagnostic(
      await restartRoundTrip(broker!, {
        name: 'platformatic',
        codecs: platformaticCodecs,
        profile: fullProfile,
        produce: platformaticProduce,
        consume: platformaticConsume,
      }),
    );
  });
});
