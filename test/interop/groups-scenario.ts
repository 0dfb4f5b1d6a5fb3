// The consumer-group scenario every client runs (groups-*.test.ts): three members of one group
// share a 6-partition topic; one leaves cleanly, one is killed with SIGKILL; the survivors take the
// partitions over (at once after the clean leave, within the session timeout after the kill); no
// record is skipped and records are read twice only after the killed member's last commit; a
// broker restart keeps the committed offsets, so a new member reads only new records.
//
// A member is a child process configured by the SAMSA_GROUP_MEMBER environment variable (JSON:
// bootstrap, groupId, topic, name, sessionTimeoutMs, delayMs) that prints one JSON object per line:
//   {"ev":"assigned","partitions":[...]}   the partitions it owns, after every change
//   {"ev":"msg","p":P,"o":O}               before processing a record
//   {"ev":"left"}                          after a clean close (on SIGTERM)
//   {"ev":"commit-failed","p":P,"o":O}     the client saw the commit of a record it read fail (a
//                                          Java consumer mid-rebalance): it may be read again
// Anything else (errors, commits) is kept for the failure message.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Admin } from 'kafkajs';
import type { BrokerHandle } from '../helpers/broker.js';
import { type Running, start } from '../helpers/run.js';

const { Kafka, logLevel } = kafkajs;

export const PARTITIONS = 6;
export const SESSION_TIMEOUT_MS = 4_000;

/** Broker settings the scenario needs (valid for Kafka too). */
export const groupBrokerOverrides = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
  'offsets.topic.num.partitions': '5',
};

export interface MemberConfig {
  bootstrap: string;
  groupId: string;
  topic: string;
  name: string;
  sessionTimeoutMs: number;
  /** Processing time per record, so that a kill lands mid-stream. */
  delayMs: number;
}

/** How to run one member of the client under test. */
export type MemberLauncher = (cfg: MemberConfig) => { cmd: string; args: string[] };

interface Read {
  member: string;
  p: number;
  o: number;
}

/** A member process and everything it reported. */
class Member {
  readonly proc: Running;
  assignment: number[] = [];
  assignments = 0;
  /** When the assignment last changed. */
  assignedAt = 0;
  left = false;
  readonly other: string[] = [];
  /** Records whose commit this member saw fail ("p:o"). */
  readonly commitFailed = new Set<string>();

  constructor(
    readonly name: string,
    launch: MemberLauncher,
    cfg: Omit<MemberConfig, 'name'>,
    reads: Read[],
  ) {
    const full = { ...cfg, name };
    const { cmd, args } = launch(full);
    this.proc = start(cmd, args, {
      env: { ...process.env, SAMSA_GROUP_MEMBER: JSON.stringify(full) },
      timeoutMs: 300_000,
      allowFailure: true,
      onStdoutLine: (line) => {
        if (!line.startsWith('{')) return;
        const ev = JSON.parse(line) as { ev: string; p?: number; o?: number; partitions?: number[] };
        if (ev.ev === 'assigned') {
          this.assignment = [...(ev.partitions ?? [])].sort((a, b) => a - b);
          this.assignedAt = Date.now();
          this.assignments++;
        } else if (ev.ev === 'msg') {
          reads.push({ member: name, p: ev.p!, o: ev.o! });
        } else if (ev.ev === 'left') {
          this.left = true;
        } else if (ev.ev === 'commit-failed' && ev.p !== undefined) {
          this.commitFailed.add(`${ev.p}:${ev.o}`);
        } else if (ev.ev !== 'commit' && this.other.length < 20) {
          this.other.push(line);
        }
      },
    });
    this.proc.done.catch(() => {});
  }

  describe(): string {
    return `${this.name} owns ${JSON.stringify(this.assignment)} (${this.assignments} changes)${this.other.length > 0 ? ` ${this.other.join(' ')}` : ''}`;
  }
}

/**
 * The group's committed offsets by partition. Retries while the coordinator is not ready: Kafka
 * answers NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS for a while after creating or reloading
 * __consumer_offsets, and kafkajs' admin does not retry those.
 */
async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  for (let deadline = Date.now() + 60_000; ; await sleep(200)) {
    try {
      const got = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map(got[0]!.partitions.map((x) => [x.partition, Number(x.offset)]));
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
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
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail()}`);
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

export interface ScenarioReport {
  leaveTakeoverMs: number;
  killTakeoverMs: number;
  reads: number;
  records: number;
  readTwice: number;
}

/**
 * Runs the scenario; members still running at the end (or on failure) are killed. protocol: the
 * assignor the group must end up using (DescribeGroups), e.g. 'cooperative-sticky'.
 */
export async function runGroupScenario(
  b: BrokerHandle,
  client: string,
  protocol: string,
  launch: MemberLauncher,
): Promise<ScenarioReport> {
  const members: Member[] = [];
  try {
    return await scenario(b, client, protocol, launch, members);
  } finally {
    for (const m of members) m.proc.kill('SIGKILL');
  }
}

async function scenario(
  b: BrokerHandle,
  client: string,
  protocol: string,
  launch: MemberLauncher,
  members: Member[],
): Promise<ScenarioReport> {
  const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const topic = `groups-${client}-${suffix}`;
  const groupId = `group-${client}-${suffix}`;
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
  await committedOffsets(admin, groupId, topic);
  const producer = kafka.producer();
  await producer.connect();
  const produced = new Array<number>(PARTITIONS).fill(0);
  const refreshEnds = async (): Promise<void> => {
    // The log end offsets, not the count sent: a retried send may have been written twice.
    for (const x of await admin.fetchTopicOffsets(topic)) produced[x.partition] = Number(x.high);
  };
  const produce = async (perPartition: number): Promise<void> => {
    const messages = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0; i < perPartition; i++)
        messages.push({ partition: p, value: `p${p}-${produced[p]! + i}` });
    }
    await producer.send({ topic, messages });
    await refreshEnds();
  };
  const reads: Read[] = [];
  const consumedAll = (): boolean => {
    const seen = new Set(reads.map((r) => `${r.p}:${r.o}`));
    for (let p = 0; p < PARTITIONS; p++)
      for (let o = 0; o < produced[p]!; o++) if (!seen.has(`${p}:${o}`)) return false;
    return true;
  };
  const progress = (): string =>
    `\n${members.map((m) => m.describe()).join('\n')}\nreads: ${reads.length}, log end offsets: ${produced.join(',')}`;
  const cfg = { bootstrap: b.bootstrap, groupId, topic, sessionTimeoutMs: SESSION_TIMEOUT_MS };

  // 1. Three members split the six partitions.
  await produce(50);
  const [ma, mb, mc] = ['a', 'b', 'c'].map((n) => new Member(n, launch, { ...cfg, delayMs: 2 }, reads)) as [
    Member,
    Member,
    Member,
  ];
  members.push(ma, mb, mc);
  // An incremental protocol (KIP-848) may cover the topic unevenly for a moment: wait for the balance too.
  await until(
    'three members to own two partitions each, covering the topic',
    () => partitionsCovered([ma, mb, mc]) && [ma, mb, mc].every((m) => m.assignment.length === 2),
    60_000,
    progress,
  );
  for (const m of [ma, mb, mc]) assert.equal(m.assignment.length, 2, progress());
  const described = (await admin.describeGroups([groupId])).groups[0]!;
  assert.equal(described.protocolType, 'consumer');
  assert.equal(described.protocol, protocol, 'the assignor the members chose');
  assert.equal(described.members.length, 3);
  await until('the first records to be read', consumedAll, 30_000, progress);

  // 2. b leaves cleanly: a and c take its partitions at once (no session timeout to wait for).
  await produce(50);
  const leftAt = Date.now();
  mb.proc.kill('SIGTERM');
  await until('a and c to take over after b left', () => partitionsCovered([ma, mc]), 15_000, progress);
  const leaveTakeoverMs = Math.max(ma.assignedAt, mc.assignedAt) - leftAt;
  assert.ok(
    leaveTakeoverMs < SESSION_TIMEOUT_MS,
    `takeover after a clean leave took ${leaveTakeoverMs} ms${progress()}`,
  );
  await mb.proc.done;
  assert.ok(mb.left, `b closed cleanly${progress()}`);
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
  const cPartitions = [...mc.assignment];
  const killedAt = Date.now();
  mc.proc.kill('SIGKILL');
  await mc.proc.done;
  const readsAtKill = reads.length;
  // c's last commits, as the broker has them: nobody commits c's partitions until a owns them.
  const cCommitsAtKill = await committedOffsets(admin, groupId, topic);
  assert.ok(
    !partitionsCovered([ma]),
    'a took over before the committed offsets were read; lengthen the session',
  );
  await until(
    'a to own every partition after c was killed',
    () => partitionsCovered([ma]),
    SESSION_TIMEOUT_MS + 15_000,
    progress,
  );
  const killTakeoverMs = ma.assignedAt - killedAt;
  assert.ok(
    killTakeoverMs <= SESSION_TIMEOUT_MS + 5_000,
    `takeover after the kill took ${killTakeoverMs} ms`,
  );
  await until('every record to be read', consumedAll, 60_000, progress);

  // No record skipped (consumedAll); a record read twice was read again only after the killed
  // member's last commit of its partition, by the member that took the partition over, or because
  // its reader saw its commit fail.
  const commitFailed = new Set(members.flatMap((m) => [...m.commitFailed]));
  const readers = new Map<string, string[]>();
  for (const r of reads) {
    const k = `${r.p}:${r.o}`;
    readers.set(k, [...(readers.get(k) ?? []), r.member]);
  }
  const duplicates = [...readers].filter(([, who]) => who.length > 1);
  for (const [k, who] of duplicates) {
    if (commitFailed.has(k)) continue;
    const [p, o] = k.split(':').map(Number) as [number, number];
    assert.ok(cPartitions.includes(p), `${k} read by ${who.join(',')}: not a partition c owned when killed`);
    assert.ok(o >= cCommitsAtKill.get(p)!, `${k} read again though c had committed ${cCommitsAtKill.get(p)}`);
    assert.deepEqual(who, ['c', 'a'], `${k} read by ${who.join(',')}`);
  }
  const redelivered = reads.slice(readsAtKill).filter((r) => cPartitions.includes(r.p));
  for (const p of cPartitions) {
    const first = redelivered.find((r) => r.p === p);
    if (first !== undefined)
      assert.equal(first.o, cCommitsAtKill.get(p), `a resumes partition ${p} at c's last commit`);
  }

  // 4. a commits everything and leaves; the offsets survive a broker restart.
  const committedAll = async (): Promise<boolean> =>
    [...(await committedOffsets(admin, groupId, topic))].every(([p, o]) => o === produced[p]);
  const deadline = Date.now() + 30_000;
  while (!(await committedAll())) {
    if (Date.now() > deadline) throw new Error(`a did not commit everything${progress()}`);
    await sleep(100);
  }
  ma.proc.kill('SIGTERM');
  await ma.proc.done;
  await producer.disconnect();
  await admin.disconnect();
  await b.restart();
  const admin2 = kafka.admin();
  await admin2.connect();
  const committed = [...(await committedOffsets(admin2, groupId, topic))].sort((x, y) => x[0] - y[0]);
  assert.deepEqual(
    committed,
    produced.map((n, p) => [p, n] as const),
    'committed offsets after the restart',
  );
  assert.ok((await admin2.listGroups()).groups.some((g) => g.groupId === groupId));

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
  const md = new Member('d', launch, { ...cfg, delayMs: 0 }, reads);
  members.push(md);
  await until('d to read the new records', consumedAll, 60_000, progress);
  await sleep(500);
  assert.deepEqual(
    reads
      .slice(before)
      .filter((r) => r.member === 'd')
      .map((r) => `${r.p}:${r.o}`)
      .sort(),
    startOffsets
      .flatMap((o, p) => Array.from({ length: produced[p]! - o }, (_, i) => `${p}:${o + i}`))
      .sort(),
    'd resumes at the committed offsets',
  );
  md.proc.kill('SIGTERM');
  await md.proc.done;
  return {
    leaveTakeoverMs,
    killTakeoverMs,
    reads: reads.length,
    records: produced.reduce((x, y) => x + y, 0),
    readTwice: duplicates.length,
  };
}

export function describeReport(client: string, r: ScenarioReport): string {
  return (
    `${client} group: takeover after leave ${r.leaveTakeoverMs} ms, after kill ${r.killTakeoverMs} ms ` +
    `(session ${SESSION_TIMEOUT_MS} ms); ${r.reads} reads of ${r.records} records, ${r.readTwice} read twice`
  );
}
