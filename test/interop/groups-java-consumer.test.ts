// KIP-848 consumer groups with the reference client: Apache Kafka's Java consumer (kafka-clients 4.1.1 from
// test/interop/java's build) with group.protocol=consumer (the workload ConsumerProtocolMember.java).
//   - the shared scenario of groups-scenario.ts (three members split six partitions, a clean leave, a kill
//     with takeover after the broker's session timeout, no record skipped, offsets kept by a restart), with
//     the broker-side uniform assignor;
//   - the range assignor chosen by the members (group.remote.assignor=range): contiguous ranges;
//   - a static member (group.instance.id) that restarts gets the same partitions back, and nobody else
//     takes them meanwhile;
//   - a regular expression subscription (SubscriptionPattern) picks up a topic created after it joined.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { type Running, start } from '../helpers/run.js';
import {
  describeReport,
  groupBrokerOverrides,
  runGroupScenario,
  SESSION_TIMEOUT_MS,
} from './groups-scenario.js';
import { javaClientJar, requireAll, skipUnless, targetName, tool, withBrokerLogs } from './harness.js';

const { Kafka, logLevel } = kafkajs;

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

const overrides = {
  ...groupBrokerOverrides,
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.session.timeout.ms': String(SESSION_TIMEOUT_MS),
  'group.consumer.min.heartbeat.interval.ms': '100',
  'group.consumer.heartbeat.interval.ms': '300',
};

interface MemberArgs {
  groupId: string;
  subscription: string;
  name: string;
  delayMs?: number;
  assignor?: string;
  instanceId?: string;
  regex?: boolean;
}

/** A member process: its current assignment (partitions, or "topic-p" in regex mode) and what it read. */
class JavaMember {
  readonly proc: Running;
  owned: string[] = [];
  reads = 0;
  left = false;
  readonly lines: string[] = [];

  constructor(cp: string, bootstrap: string, a: MemberArgs) {
    const args = [
      '-cp',
      cp,
      'samsa.interop.ConsumerProtocolMember',
      bootstrap,
      a.groupId,
      a.subscription,
      a.name,
      String(a.delayMs ?? 0),
      a.assignor ?? 'uniform',
      a.instanceId ?? '-',
      a.regex === true ? 'regex' : 'topic',
    ];
    this.proc = start('java', args, {
      timeoutMs: 300_000,
      allowFailure: true,
      onStdoutLine: (line) => {
        if (!line.startsWith('{')) return;
        const ev = JSON.parse(line) as { ev: string; partitions?: number[]; tps?: string[] };
        if (ev.ev === 'assigned') this.owned = ev.tps ?? (ev.partitions ?? []).map(String);
        else if (ev.ev === 'msg') this.reads++;
        else if (ev.ev === 'left') this.left = true;
        if (ev.ev !== 'msg' && ev.ev !== 'commit' && this.lines.length < 40) this.lines.push(line);
      },
    });
    this.proc.done.catch(() => {});
  }
}

async function until(
  what: string,
  cond: () => boolean,
  timeoutMs: number,
  detail: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await sleep(20);
  }
}

describe(`interop: Java consumer group, group.protocol=consumer, against ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;
  let cp = '';
  const running: JavaMember[] = [];

  before(async () => {
    requireAll(requirements);
    const jar = await javaClientJar();
    cp = `${jar}:${join(dirname(jar), 'lib')}/*`;
    broker = await startTarget({ overrides });
  });

  after(async () => {
    for (const m of running) m.proc.kill('SIGKILL');
    await broker?.destroy();
  });

  const member = (a: MemberArgs): JavaMember => {
    const m = new JavaMember(cp, broker!.bootstrap, a);
    running.push(m);
    return m;
  };
  const admin = async () => {
    const kafka = new Kafka({
      clientId: 'kip848-test',
      brokers: [broker!.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const a = kafka.admin();
    await a.connect();
    return a;
  };
  const show = (ms: JavaMember[]) => () =>
    ms.map((m, i) => `${i}: ${JSON.stringify(m.owned)} ${m.lines.join(' ')}`).join('\n');

  test('three members share six partitions, survive a leave and a kill, offsets survive a restart (uniform)', {
    timeout: 300_000,
  }, async (t) => {
    const b = broker!;
    await withBrokerLogs(b, async () => {
      const report = await runGroupScenario(b, 'java-consumer', 'uniform', (cfg) => ({
        cmd: 'java',
        args: [
          '-cp',
          cp,
          'samsa.interop.ConsumerProtocolMember',
          cfg.bootstrap,
          cfg.groupId,
          cfg.topic,
          cfg.name,
          `${cfg.delayMs}`,
          'uniform',
          '-',
          'topic',
        ],
      }));
      t.diagnostic(describeReport('java group.protocol=consumer', report));
    });
  });

  test('range assignor: contiguous ranges; a static member gets its partitions back after a restart', {
    timeout: 180_000,
  }, async () => {
    const b = broker!;
    await withBrokerLogs(b, async () => {
      const a = await admin();
      const topic = `kip848-range-${Date.now()}`;
      await a.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
      const groupId = `kip848-range-${Date.now()}`;
      const x = member({
        groupId,
        subscription: topic,
        name: 'x',
        assignor: 'range',
        instanceId: 'x-instance',
      });
      const y = member({
        groupId,
        subscription: topic,
        name: 'y',
        assignor: 'range',
        instanceId: 'y-instance',
      });
      const covered = (ms: JavaMember[]) => {
        const all = ms.flatMap((m) => m.owned);
        return all.length === 6 && new Set(all).size === 6 && ms.every((m) => m.owned.length === 3);
      };
      await until('x and y to own three partitions each', () => covered([x, y]), 60_000, show([x, y]));
      for (const m of [x, y]) {
        const ps = m.owned.map(Number).sort((p, q) => p - q);
        assert.deepEqual(ps, [ps[0]!, ps[0]! + 1, ps[0]! + 2], `a contiguous range: ${ps}`);
      }
      const described = (await a.describeGroups([groupId])).groups[0]!;
      assert.equal(described.protocolType, 'consumer');
      assert.equal(described.protocol, 'range');

      // x restarts: a static member leaves with epoch -2 and keeps its partitions until its session ends.
      const before = [...x.owned].sort();
      x.proc.kill('SIGTERM');
      await x.proc.done;
      assert.ok(x.left, show([x, y])());
      const x2 = member({
        groupId,
        subscription: topic,
        name: 'x2',
        assignor: 'range',
        instanceId: 'x-instance',
      });
      await until('x to be back with its partitions', () => x2.owned.length === 3, 60_000, show([x2, y]));
      assert.deepEqual([...x2.owned].sort(), before, 'the same partitions');
      assert.equal(y.owned.length, 3, 'y never took them');
      await a.disconnect();
    });
  });

  test('a regular expression subscription picks up a topic created later', { timeout: 120_000 }, async () => {
    const b = broker!;
    await withBrokerLogs(b, async () => {
      const a = await admin();
      const prefix = `kip848-rx${Date.now()}`;
      await a.createTopics({ topics: [{ topic: `${prefix}-a`, numPartitions: 2 }], waitForLeaders: true });
      const m = member({ groupId: `${prefix}-g`, subscription: `${prefix}-.*`, name: 'rx', regex: true });
      await until('the first topic', () => m.owned.length === 2, 60_000, show([m]));
      await a.createTopics({ topics: [{ topic: `${prefix}-b`, numPartitions: 3 }], waitForLeaders: true });
      await until('the new topic too', () => m.owned.length === 5, 60_000, show([m]));
      assert.deepEqual([...m.owned].sort(), [
        `${prefix}-a-0`,
        `${prefix}-a-1`,
        `${prefix}-b-0`,
        `${prefix}-b-1`,
        `${prefix}-b-2`,
      ]);
      await a.disconnect();
    });
  });
});
