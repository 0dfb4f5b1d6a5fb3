// Consumer groups with kafkajs (its own protocol code, eager rebalancing with its round-robin
// assigner): the shared scenario of groups-scenario.ts, members running groups-kafkajs-member.ts.

import { extname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { describeReport, groupBrokerOverrides, runGroupScenario } from './groups-scenario.js';
import { requireAll, skipUnless, targetName, withBrokerLogs } from './harness.js';

const here = fileURLToPath(import.meta.url);
const memberFile = fileURLToPath(new URL(`./groups-kafkajs-member${extname(here)}`, import.meta.url));
const memberArgs = extname(here) === '.ts' ? ['--import', 'tsx', memberFile] : [memberFile];

describe(`interop: kafkajs consumer group against ${targetName()}`, { skip: skipUnless([]) }, () => {
  let broker: BrokerHandle | undefined;

  before(async () => {
    requireAll([]);
    broker = await startTarget({ overrides: groupBrokerOverrides });
  });

  after(async () => {
    await broker?.destroy();
  });

  test('members share partitions, survive a leave and a kill, and committed offsets survive a restart', {
    timeout: 180_000,
  }, async (t) => {
    const b = broker!;
    await withBrokerLogs(b, async () => {
      const report = await runGroupScenario(b, 'kafkajs', 'RoundRobinAssigner', () => ({
        cmd: process.execPath,
        args: memberArgs,
      }));
      t.diagnostic(describeReport('kafkajs', report));
    });
  });
});
