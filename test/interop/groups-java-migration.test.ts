// Online migration of a group with members between the classic and the consumer protocol (KIP-848,
// group.consumer.migration.policy) with Apache Kafka's Java consumer (test/interop/java's
// ConsumerProtocolMember, group.protocol=classic or consumer; each record committed after it is read):
//   - two classic members share six partitions; a consumer-protocol member joins (upgrade): the three share
//     them, two each; it leaves (downgrade): the two classic members get all six again in a classic group.
//     Throughout, every partition ends up with exactly one owner in each settled phase, every produced
//     record is read at least once and the committed offsets reach the end;
//   - with group.consumer.migration.policy=disabled the consumer-protocol member is refused (its client
//     fails with GROUP_ID_NOT_FOUND) and the classic members keep their partitions.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { type Running, start } from '../helpers/run.js';
import { groupBrokerOverrides } from './groups-scenario.js';
import { javaClientJar, requireAll, skipUnless, targetName, tool, withBrokerLogs } from './harness.js';

const { Kafka, logLevel } = kafkajs;

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

const overrides = {
  ...groupBrokerOverrides,
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.session.timeout.ms': '10000',
  'group.consumer.min.heartbeat.interval.ms': '100',
  'group.consumer.heartbeat.interval.ms': '300',
};

/**
 * Watches the members' partitions: the longest time any partition was reported owned by two members at once
 * (each member prints its partitions after every revocation and assignment; a revocation comes before the
 * partition is handed on, so only the pipes' delay can show an overlap).
 */
class OwnershipWatch {
  readonly members: Member[] = [];
  private since: number | null = null;
  maxOverlapMs = 0;
  overlaps = 0;

  changed(): void {
    const seen = new Set<number>();
    let overlap = false;
    for (const m of this.members) {
      if (m.exited) continue;
      for (const p of m.owned) {
        if (seen.has(p)) overlap = true;
        seen.add(p);
      }
    }
    const now = Date.now();
    if (overlap && this.since === null) {
      this.since = now;
      this.overlaps++;
    } else if (!overlap && this.since !== null) {
      this.maxOverlapMs = Math.max(this.maxOverlapMs, now - this.since);
      this.since = null;
    }
  }

  /** The longest overlap so far, counting one still open. */
  longest(): number {
    return Math.max(this.maxOverlapMs, this.since === null ? 0 : Date.now() - this.since);
  }
}

/** A member process: its current partitions and every record (partition:offset) it read. */
class Member {
  readonly proc: Running;
  owned: number[] = [];
  readonly read = new Set<string>();
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  exited = false;

  constructor(
    cp: string,
    bootstrap: string,
    groupId: string,
    topic: string,
    name: string,
    protocol: string,
    watch: OwnershipWatch,
  ) {
    watch.members.push(this);
    const args = ['-cp', cp, 'samsa.interop.ConsumerProtocolMember', bootstrap, groupId, topic, name, '2'];
    args.push('uniform', '-', 'topic', protocol);
    this.proc = start('java', args, {
      timeoutMs: 300_000,
      allowFailure: true,
      onStdoutLine: (line) => {
        if (!line.startsWith('{')) return;
        const ev = JSON.parse(line) as { ev: string; partitions?: number[]; p?: number; o?: number };
        if (ev.ev === 'assigned') {
          this.owned = ev.partitions ?? [];
          watch.changed();
        } else if (ev.ev === 'msg') this.read.add(`${ev.p}:${ev.o}`);
        if (ev.ev !== 'msg' && ev.ev !== 'commit' && this.lines.length < 60) this.lines.push(line);
      },
      onStderrLine: (line) => {
        if (/Exception|ERROR/.test(line) && this.errors.length < 20) this.errors.push(line);
      },
    });
    this.proc.done.then(
      () => {
        this.exited = true;
      },
      () => {
        this.exited = true;
      },
    );
  }
}

async function until(what: string, cond: () => boolean, timeoutMs: number, detail: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await sleep(20);
  }
}

/** Each of the six partitions owned by exactly one member, each member with `each` of them. */
function settled(ms: Member[], each: number): boolean {
  const all = ms.flatMap((m) => m.owned);
  return all.length === 6 && new Set(all).size === 6 && ms.every((m) => m.owned.length === each);
}

const show = (ms: Member[]) => () =>
  ms
    .map(
      (m, i) =>
        `${i}: owns ${JSON.stringify(m.owned)} read ${m.read.size} ${m.lines.join(' ')} ${m.errors.join(' ')}`,
    )
    .join('\n');

describe(`interop: Java consumers, online migration classic <-> consumer, against ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let cp = '';
  const running: Member[] = [];
  const brokers: BrokerHandle[] = [];

  before(async () => {
    requireAll(requirements);
    const jar = await javaClientJar();
    cp = `${jar}:${join(dirname(jar), 'lib')}/*`;
  });

  after(async () => {
    for (const m of running) m.proc.kill('SIGKILL');
    for (const b of brokers) await b.destroy();
  });

  async function setup(extra: Record<string, string>) {
    const broker = await startTarget({ overrides: { ...overrides, ...extra } });
    brokers.push(broker);
    const kafka = new Kafka({
      clientId: 'migration-test',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    const topic = `migration-${Date.now()}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    const produced = new Set<string>();
    const next = [0, 0, 0, 0, 0, 0];
    const produce = async (perPartition: number) => {
      for (let p = 0; p < 6; p++) {
        const messages = Array.from({ length: perPartition }, (_, i) => ({
          value: `v-${p}-${next[p]! + i}`,
        }));
        await producer.send({ topic, messages: messages.map((m) => ({ ...m, partition: p })) });
        for (let i = 0; i < perPartition; i++) produced.add(`${p}:${next[p]! + i}`);
        next[p]! += perPartition;
      }
    };
    const watch = new OwnershipWatch();
    const member = (groupId: string, name: string, protocol: string) => {
      const m = new Member(cp, broker.bootstrap, groupId, topic, name, protocol, watch);
      running.push(m);
      return m;
    };
    const close = async () => {
      await producer.disconnect();
      await admin.disconnect();
    };
    return { broker, admin, topic, produced, produce, member, close, next, watch };
  }

  for (const [classic, assignor] of [
    ['classic', 'range'],
    ['classic-coop', 'cooperative-sticky'],
  ] as const)
    test(`two classic members (${assignor}), a consumer-protocol member joins (upgrade) and leaves (downgrade)`, {
      timeout: 240_000,
    }, async (t) => {
      const s = await setup({});
      await withBrokerLogs(s.broker, async () => {
        const groupId = `migration-g-${Date.now()}`;
        await s.produce(20);
        const a = s.member(groupId, 'a', classic);
        const b = s.member(groupId, 'b', classic);
        await until('a and b to share the partitions', () => settled([a, b], 3), 60_000, show([a, b]));
        let d = (await s.admin.describeGroups([groupId])).groups[0]!;
        assert.equal(d.protocol, assignor, 'a classic group of the assignor');

        // Upgrade: the consumer-protocol member joins the Stable classic group.
        await s.produce(20);
        const c = s.member(groupId, 'c', 'consumer');
        await until(
          'a, b and c to own two partitions each',
          () => settled([a, b, c], 2),
          90_000,
          show([a, b, c]),
        );
        d = (await s.admin.describeGroups([groupId])).groups[0]!;
        assert.equal(d.protocol, 'uniform', 'a consumer group now (its broker-side assignor)');
        assert.equal(d.members.length, 3);
        await s.produce(20);
        const readAll = () => [...s.produced].every((k) => a.read.has(k) || b.read.has(k) || c.read.has(k));
        await until('every record to be read', readAll, 60_000, show([a, b, c]));

        // Downgrade: the consumer-protocol member leaves; the classic members get everything in a classic group.
        c.proc.kill('SIGTERM');
        await c.proc.done.catch(() => {});
        await until(
          'a and b to own three partitions each again',
          () => settled([a, b], 3),
          90_000,
          show([a, b, c]),
        );
        d = (await s.admin.describeGroups([groupId])).groups[0]!;
        assert.equal(d.protocol, assignor, 'a classic group again');
        assert.equal(d.state, 'Stable');
        await s.produce(20);
        await until('every record to be read', readAll, 60_000, show([a, b, c]));

        // No partition had two owners beyond the delay of the members' output pipes.
        t.diagnostic(`overlaps seen: ${s.watch.overlaps}, longest ${s.watch.longest()} ms`);
        assert.ok(s.watch.longest() < 1000, `a partition had two owners for ${s.watch.longest()} ms`);

        // The committed offsets reach the end of every partition.
        const committed = async () => {
          const o = await s.admin.fetchOffsets({ groupId, topics: [s.topic] });
          return o[0]!.partitions.every((p) => Number(p.offset) === s.next[p.partition]);
        };
        const deadline = Date.now() + 30_000;
        while (!(await committed())) {
          assert.ok(Date.now() < deadline, 'offsets committed to the end');
          await sleep(200);
        }
        a.proc.kill('SIGTERM');
        b.proc.kill('SIGTERM');
        await Promise.all([a.proc.done.catch(() => {}), b.proc.done.catch(() => {})]);
      });
      await s.close();
    });

  test('policy disabled: the consumer-protocol member is refused, the classic members undisturbed', {
    timeout: 180_000,
  }, async () => {
    const s = await setup({ 'group.consumer.migration.policy': 'disabled' });
    await withBrokerLogs(s.broker, async () => {
      const groupId = `migration-off-${Date.now()}`;
      await s.produce(5);
      const a = s.member(groupId, 'a', 'classic');
      const b = s.member(groupId, 'b', 'classic');
      await until('a and b to share the partitions', () => settled([a, b], 3), 60_000, show([a, b]));
      const before = [a.owned.join(), b.owned.join()];
      const c = s.member(groupId, 'c', 'consumer');
      await until(
        'the consumer-protocol member to fail with GROUP_ID_NOT_FOUND',
        () => c.exited || c.errors.some((l) => /GroupIdNotFound|GROUP_ID_NOT_FOUND/.test(l)),
        60_000,
        show([a, b, c]),
      );
      assert.deepEqual(c.owned, [], 'c got nothing');
      assert.deepEqual([a.owned.join(), b.owned.join()], before, 'a and b keep their partitions');
      const d = (await s.admin.describeGroups([groupId])).groups[0]!;
      assert.equal(d.protocol, 'range');
      assert.equal(d.state, 'Stable');
      for (const m of [a, b, c]) m.proc.kill('SIGTERM');
      await Promise.all([a, b, c].map((m) => m.proc.done.catch(() => {})));
    });
    await s.close();
  });
});
