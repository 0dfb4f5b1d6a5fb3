// Consumer groups with kafkajs: three members (child processes running groups-kafkajs-member.ts)
// share a 6-partition topic; one leaves cleanly, one is killed with SIGKILL; the survivors take the
// partitions over (at once after the clean leave, within the session timeout after the kill); no
// record is skipped and records are read twice only after the killed member's last commit; a
// broker restart keeps the committed offsets, so a new member reads only new records.

import assert from 'node:assert/strict';
import { extname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { type Running, start } from '../helpers/run.js';
import { requireAll, skipUnless, targetName, withBrokerLogs } from './harness.js';

const { Kafka, logLevel } = kafkajs;

const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 4_000;

const here = fileURLToPath(import.meta.url);
const memberFile = fileURLToPath(new URL(`./groups-kafkajs-member${extname(here)}`, import.meta.url));
const memberArgs = extname(here) === '.ts' ? ['--import', 'tsx', memberFile] : [memberFile];

interface Read {
  member: string;
  p: number;
  o: number;
}

/** A member process and everything it reported. */
class Member {
  readonly proc: Running;
  assignment: number[] = [];
  joins = 0;
  /** When the assignment last changed. */
  assignedAt = 0;
  readonly commits = new Map<number, number>();
  left = false;
  readonly errors: string[] = [];

  constructor(
    readonly name: string,
    bootstrap: string,
    groupId: string,
    topic: string,
    reads: Read[],
    delayMs: number,
  ) {
    const cfg = { bootstrap, groupId, topic, name, sessionTimeoutMs: SESSION_TIMEOUT_MS, delayMs };
    this.proc = start(process.execPath, memberArgs, {
      env: { ...process.env, SAMSA_GROUP_MEMBER: JSON.stringify(cfg) },
      timeoutMs: 300_000,
      allowFailure: true,
      onStdoutLine: (line) => {
        if (!line.startsWith('{')) return;
        const ev = JSON.parse(line) as {
          ev: string;
          p?: number;
          o?: number;
          assignment?: number[];
          error?: string;
        };
        switch (ev.ev) {
          case 'join':
            this.assignment = [...(ev.assignment ?? [])].sort((a, b) => a - b);
            this.assignedAt = Date.now();
            this.joins++;
            break;
          case 'msg':
            reads.push({ member: name, p: ev.p!, o: ev.o! });
            break;
          case 'commit':
            this.commits.set(ev.p!, ev.o!);
            break;
          case 'left':
            this.left = true;
            break;
          default:
            this.errors.push(line);
        }
      },
    });
    this.proc.done.catch(() => {});
  }
}

async function until(
  what: string,
  cond: () => boolean,
  timeoutMs: number,
  detail: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${detail()}`);
    await sleep(20);
  }
}

/** The members' current assignments are disjoint and cover every partition. */
function partitionsCovered(members: readonly Member[]): boolean {
  const all = members.flatMap((m) => m.assignment);
  return (
    all.length === PARTITIONS &&
    new Set(all).size === PARTITIONS &&
    members.every((m) => m.assignment.length > 0)
  );
}

describe(`interop: kafkajs consumer group against ${targetName()}`, { skip: skipUnless([]) }, () => {
  let broker: BrokerHandle | undefined;
  const members: Member[] = [];

  before(async () => {
    requireAll([]);
    broker = await startTarget({
      overrides: {
        'group.initial.rebalance.delay.ms': '0',
        'group.min.session.timeout.ms': '1000',
        'offsets.topic.num.partitions': '5',
      },
    });
  });

  after(async () => {
    for (const m of members) m.proc.kill('SIGKILL');
    await broker?.destroy();
  });

  test('members share partitions, survive a leave and a kill, and committed offsets survive a restart', {
    timeout: 180_000,
  }, async (t) => {
    const b = broker!;
    await withBrokerLogs(b, async () => {
      const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
      const topic = `groups-kafkajs-${suffix}`;
      const groupId = `group-kafkajs-${suffix}`;
      const kafka = new Kafka({
        clientId: 'groups-test',
        brokers: [b.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
      // The coordinator answers (and, on Kafka, has loaded __consumer_offsets) before members start.
      await admin.fetchOffsets({ groupId, topics: [topic] });
      const producer = kafka.producer();
      await producer.connect();
      const produced = new Array<number>(PARTITIONS).fill(0);
      const produce = async (perPartition: number): Promise<void> => {
        const messages = [];
        for (let p = 0; p < PARTITIONS; p++) {
          for (let i = 0; i < perPartition; i++)
            messages.push({ partition: p, value: `p${p}-${produced[p]! + i}` });
        }
        await producer.send({ topic, messages });
        // The log end offsets, not the count sent: a retried send may have been written twice.
        for (const x of await admin.fetchTopicOffsets(topic)) produced[x.partition] = Number(x.high);
      };
      const reads: Read[] = [];
      const consumedAll = (): boolean => {
        const seen = new Set(reads.map((r) => `${r.p}:${r.o}`));
        for (let p = 0; p < PARTITIONS; p++)
          for (let o = 0; o < produced[p]!; o++) if (!seen.has(`${p}:${o}`)) return false;
        return true;
      };
      const progress = (): string =>
        `\nmembers: ${members.map((m) => `${m.name} ${JSON.stringify(m.assignment)} joins=${m.joins} errors=${m.errors.join(';')}`).join(' | ')}` +
        `\nreads: ${reads.length}, produced: ${produced.join(',')}`;

      // 1. Three members split the six partitions.
      await produce(50);
      const [ma, mb, mc] = ['a', 'b', 'c'].map((n) => new Member(n, b.bootstrap, groupId, topic, reads, 2));
      members.push(ma!, mb!, mc!);
      await until(
        'three members to own disjoint partitions covering the topic',
        () => partitionsCovered([ma!, mb!, mc!]),
        30_000,
        progress,
      );
      for (const m of [ma!, mb!, mc!]) assert.equal(m.assignment.length, 2, `${m.name}: ${m.assignment}`);
      await until('the first records to be read', consumedAll, 30_000, progress);

      // 2. b leaves cleanly: a and c take its partitions at once (no session timeout to wait for).
      await produce(50);
      const leftAt = Date.now();
      mb!.proc.kill('SIGTERM');
      await until('a and c to take over after b left', () => partitionsCovered([ma!, mc!]), 15_000, progress);
      const leaveTakeoverMs = Math.max(ma!.assignedAt, mc!.assignedAt) - leftAt;
      assert.ok(
        leaveTakeoverMs < SESSION_TIMEOUT_MS,
        `takeover after a clean leave took ${leaveTakeoverMs} ms`,
      );
      await mb!.proc.done;
      assert.ok(mb!.left, 'b disconnected cleanly');
      await until('records produced before the leave to be read', consumedAll, 30_000, progress);

      // 3. c is killed while it reads: a takes everything over once c's session expires.
      await produce(150);
      const cReadsBefore = reads.filter((r) => r.member === 'c').length;
      await until(
        'c to be reading',
        () => reads.filter((r) => r.member === 'c').length >= cReadsBefore + 30,
        30_000,
        progress,
      );
      const cPartitions = [...mc!.assignment];
      const killedAt = Date.now();
      mc!.proc.kill('SIGKILL');
      await mc!.proc.done;
      const readsAtKill = reads.length;
      // c's last commits, as the broker has them: nobody commits c's partitions until a owns them.
      const cCommitsAtKill = new Map(
        (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((x) => [
          x.partition,
          Number(x.offset),
        ]),
      );
      assert.ok(
        !partitionsCovered([ma!]),
        'a took over before the committed offsets were read; lengthen the session',
      );
      await until(
        'a to own every partition after c was killed',
        () => partitionsCovered([ma!]),
        SESSION_TIMEOUT_MS + 15_000,
        progress,
      );
      const killTakeoverMs = ma!.assignedAt - killedAt;
      assert.ok(
        killTakeoverMs <= SESSION_TIMEOUT_MS + 5_000,
        `takeover after the kill took ${killTakeoverMs} ms`,
      );
      await until('every record to be read', consumedAll, 60_000, progress);

      // No record skipped (consumedAll); a record read twice was read again only after the killed
      // member's last commit of its partition.
      const readers = new Map<string, string[]>();
      for (const r of reads) {
        const k = `${r.p}:${r.o}`;
        readers.set(k, [...(readers.get(k) ?? []), r.member]);
      }
      const duplicates = [...readers].filter(([, who]) => who.length > 1);
      for (const [k, who] of duplicates) {
        const [p, o] = k.split(':').map(Number) as [number, number];
        assert.ok(
          cPartitions.includes(p),
          `${k} read by ${who.join(',')}: not a partition c owned when killed`,
        );
        assert.ok(
          o >= cCommitsAtKill.get(p)!,
          `${k} read again though c had committed ${cCommitsAtKill.get(p)}`,
        );
        assert.deepEqual(who, ['c', 'a'], `${k} read by ${who.join(',')}`);
      }
      const redelivered = reads.slice(readsAtKill).filter((r) => cPartitions.includes(r.p));
      for (const p of cPartitions) {
        const first = redelivered.find((r) => r.p === p);
        if (first !== undefined) {
          assert.equal(first.o, cCommitsAtKill.get(p), `a resumes partition ${p} at c's last commit`);
        }
      }

      // 4. a commits everything and leaves; the offsets survive a broker restart.
      await until(
        'a to commit everything',
        () => Array.from({ length: PARTITIONS }, (_, p) => ma!.commits.get(p) === produced[p]).every(Boolean),
        30_000,
        () => `${progress()}\ncommits: ${JSON.stringify([...ma!.commits])}`,
      );
      ma!.proc.kill('SIGTERM');
      await ma!.proc.done;
      await producer.disconnect();
      await admin.disconnect();
      await b.restart();
      const admin2 = kafka.admin();
      await admin2.connect();
      const committed = await admin2.fetchOffsets({ groupId, topics: [topic] });
      const byPartition = committed[0]!.partitions
        .map((x) => [x.partition, Number(x.offset)] as const)
        .sort((x, y) => x[0] - y[0]);
      assert.deepEqual(
        byPartition,
        produced.map((n, p) => [p, n] as const),
        'committed offsets after the restart',
      );
      const groups = await admin2.listGroups();
      assert.ok(groups.groups.some((g) => g.groupId === groupId));

      // 5. A new member of the group reads only what is produced after the restart.
      const before = reads.length;
      const producer2 = kafka.producer();
      await producer2.connect();
      const messages = [];
      for (let p = 0; p < PARTITIONS; p++) messages.push({ partition: p, value: `after-restart-${p}` });
      await producer2.send({ topic, messages });
      await producer2.disconnect();
      const startOffsets = [...produced];
      for (const x of await admin2.fetchTopicOffsets(topic)) produced[x.partition] = Number(x.high);
      await admin2.disconnect();
      const md = new Member('d', b.bootstrap, groupId, topic, reads, 0);
      members.push(md);
      await until('d to read the new records', consumedAll, 30_000, progress);
      await sleep(500);
      const dReads = reads.slice(before).filter((r) => r.member === 'd');
      assert.deepEqual(
        dReads.map((r) => `${r.p}:${r.o}`).sort(),
        startOffsets
          .flatMap((o, p) => Array.from({ length: produced[p]! - o }, (_, i) => `${p}:${o + i}`))
          .sort(),
        'd resumes at the committed offsets',
      );
      md.proc.kill('SIGTERM');
      await md.proc.done;
      t.diagnostic(
        `kafkajs group: takeover after leave ${leaveTakeoverMs} ms, after kill ${killTakeoverMs} ms ` +
          `(session ${SESSION_TIMEOUT_MS} ms); ${reads.length} reads of ${produced.reduce((x, y) => x + y, 0)} records, ` +
          `${duplicates.length} read twice`,
      );
    });
  });
});
