// Kafka 4.4's own VerifiableConsumer (org.apache.kafka.tools, the kafka-tools 4.4.0 jar laid out by
// scripts/kafka-dist.sh; the system tests' consumer) with --group-protocol consumer (KIP-848) against a Samsa
// broker process. Two VerifiableConsumer processes share a topic of 6 partitions; each prints JSON events
// (partitions_assigned / partitions_revoked, records_consumed with per-partition offset ranges, offsets_committed).
//   - both get partitions, together all six; the N records produced then are each consumed exactly once (the
//     consumed offset ranges of every partition tile 0..N/6-1 with no overlap) and every partition's committed
//     offset reaches its end;
//   - after one consumer is stopped (SIGTERM: it leaves the group), the other is assigned all six partitions and
//     consumes what is produced next from every one of them.
//
// Skipped only when Java or Maven is missing (scripts/kafka-dist.sh exits 2 and says which); the first run
// downloads the jars from Maven Central into .cache/kafka/4.4.0 (later runs reuse them).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { waitFor } from '../helpers/cluster.js';
import { type Running, repoRoot, run, start, which } from '../helpers/run.js';
import { withBrokerLogs } from './harness.js';

const { Kafka, logLevel } = kafkajs;
const KAFKA_VERSION = '4.4.0';
const TOPIC = 'verifiable-848';
const GROUP = 'verifiable-848-group';
const PARTITIONS = 6;
const PER_PARTITION = 200;

/** The Kafka distribution's libs directory, or the reason there is none (Java or Maven missing). */
async function kafkaLibs(): Promise<{ libs: string } | { skip: string }> {
  if (which('java') === undefined)
    return { skip: 'java is not installed (apt-get install openjdk-17-jdk-headless)' };
  if (which('mvn') === undefined) return { skip: 'mvn is not installed (apt-get install maven)' };
  const r = await run('bash', [join(repoRoot(), 'scripts', 'kafka-dist.sh'), KAFKA_VERSION], {
    timeoutMs: 600_000,
    allowFailure: true,
  });
  if (r.code === 2 && /not found on PATH|Java .* found/.test(r.stderr)) return { skip: r.stderr.trim() };
  assert.equal(r.code, 0, `scripts/kafka-dist.sh ${KAFKA_VERSION} failed:\n${r.stderr}`);
  return { libs: r.stdout.trim().split('\n').pop() ?? '' };
}

interface TopicPartition {
  topic: string;
  partition: number;
}
interface ConsumedPartition extends TopicPartition {
  count: number;
  minOffset: number;
  maxOffset: number;
}
interface CommittedOffset extends TopicPartition {
  offset: number;
}

/** One VerifiableConsumer process and what its events said. */
class Verifiable {
  readonly proc: Running;
  readonly owned = new Set<number>();
  /** Consumed offset ranges, [min, max] per partition, in order. */
  readonly ranges: Array<{ partition: number; min: number; max: number; count: number }> = [];
  readonly committed = new Map<number, number>();
  readonly failedCommits: string[] = [];
  readonly lines: string[] = [];
  shutdown = false;

  constructor(libs: string, bootstrap: string, name: string) {
    this.proc = start(
      'java',
      [
        '-cp',
        `${libs}/*`,
        'org.apache.kafka.tools.VerifiableConsumer',
        '--bootstrap-server',
        bootstrap,
        '--topic',
        TOPIC,
        '--group-id',
        GROUP,
        '--group-protocol',
        'consumer',
        '--reset-policy',
        'earliest',
        '--close-timeout',
        '20000',
      ],
      { timeoutMs: 600_000, allowFailure: true, onStdoutLine: (l) => this.onLine(name, l) },
    );
  }

  private onLine(name: string, line: string): void {
    if (!line.startsWith('{')) return;
    this.lines.push(line);
    const ev = JSON.parse(line) as {
      name: string;
      partitions?: Array<TopicPartition | ConsumedPartition>;
      offsets?: CommittedOffset[];
      success?: boolean;
      error?: string | null;
    };
    if (ev.name === 'partitions_assigned') for (const p of ev.partitions ?? []) this.owned.add(p.partition);
    else if (ev.name === 'partitions_revoked' || ev.name === 'partitions_lost')
      for (const p of ev.partitions ?? []) this.owned.delete(p.partition);
    else if (ev.name === 'records_consumed') {
      for (const p of (ev.partitions ?? []) as ConsumedPartition[]) {
        assert.equal(p.topic, TOPIC, `${name}: ${line}`);
        this.ranges.push({ partition: p.partition, min: p.minOffset, max: p.maxOffset, count: p.count });
      }
    } else if (ev.name === 'offsets_committed') {
      if (ev.success !== true) this.failedCommits.push(line);
      else for (const o of ev.offsets ?? []) this.committed.set(o.partition, o.offset);
    } else if (ev.name === 'shutdown_complete') this.shutdown = true;
  }

  describe(): string {
    return `owned [${[...this.owned].sort()}], ${this.ranges.length} ranges, last events:\n${this.lines.slice(-10).join('\n')}\n--- stderr ---\n${this.proc.stderr().slice(-3000)}`;
  }
}

describe(`Kafka ${KAFKA_VERSION}'s VerifiableConsumer (--group-protocol consumer) against Samsa`, {
  timeout: 900_000,
}, () => {
  let broker: BrokerHandle | undefined;
  let libs: string | undefined;
  let skipReason: string | undefined;
  const members: Verifiable[] = [];

  before(async () => {
    const found = await kafkaLibs();
    if ('skip' in found) {
      skipReason = found.skip;
      return;
    }
    libs = found.libs;
    broker = await startBroker({
      overrides: {
        'group.initial.rebalance.delay.ms': '0',
        'offsets.topic.num.partitions': '5',
        'group.consumer.min.session.timeout.ms': '1000',
        'group.consumer.session.timeout.ms': '10000',
        'group.consumer.min.heartbeat.interval.ms': '100',
        'group.consumer.heartbeat.interval.ms': '300',
      },
    });
  });
  after(async () => {
    for (const m of members) m.proc.kill('SIGKILL');
    await Promise.all(members.map((m) => m.proc.done.catch(() => undefined)));
    await broker?.destroy();
  });

  it('two members share six partitions, read each record once and commit; the survivor takes all', async (t) => {
    if (skipReason !== undefined || libs === undefined || broker === undefined) {
      t.skip(`Java/Maven unavailable: ${skipReason}`);
      return;
    }
    const b = broker;
    const l = libs;
    await withBrokerLogs(b, async () => {
      const kafka = new Kafka({
        brokers: [b.bootstrap],
        clientId: 'verifiable-setup',
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic: TOPIC, numPartitions: PARTITIONS }],
        waitForLeaders: true,
      });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      const produce = async (from: number, count: number): Promise<void> => {
        for (let p = 0; p < PARTITIONS; p++) {
          const messages = Array.from({ length: count }, (_, i) => ({
            key: `k${p}-${from + i}`,
            value: `v${from + i}`,
          }));
          await producer.send({ topic: TOPIC, messages: messages.map((m) => ({ ...m, partition: p })) });
        }
      };

      const a = new Verifiable(l, b.bootstrap, 'a');
      const c = new Verifiable(l, b.bootstrap, 'b');
      members.push(a, c);
      const all = (): string => `a: ${a.describe()}\nb: ${c.describe()}`;
      // Both members are assigned, and together they own all six partitions, each once.
      await waitFor(
        'both members assigned, six partitions between them',
        async () =>
          a.owned.size > 0 &&
          c.owned.size > 0 &&
          a.owned.size + c.owned.size === PARTITIONS &&
          new Set([...a.owned, ...c.owned]).size === PARTITIONS
            ? true
            : undefined,
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${all()}`);
      });

      await produce(0, PER_PARTITION);
      const end = PER_PARTITION;
      await waitFor(
        'every partition committed to its end',
        async () => {
          for (let p = 0; p < PARTITIONS; p++) {
            if (Math.max(a.committed.get(p) ?? 0, c.committed.get(p) ?? 0) < end) return undefined;
          }
          return true;
        },
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${all()}`);
      });

      // Every offset 0..end-1 of every partition was consumed exactly once, by whichever member owned it.
      for (let p = 0; p < PARTITIONS; p++) {
        const rs = [...a.ranges, ...c.ranges].filter((r) => r.partition === p).sort((x, y) => x.min - y.min);
        let next = 0;
        for (const r of rs) {
          assert.equal(r.min, next, `partition ${p}: range ${r.min}..${r.max} after ${next - 1}\n${all()}`);
          assert.equal(
            r.count,
            r.max - r.min + 1,
            `partition ${p}: range ${r.min}..${r.max} counts ${r.count}`,
          );
          next = r.max + 1;
        }
        assert.equal(next, end, `partition ${p}: consumed up to ${next}, expected ${end}\n${all()}`);
      }
      assert.deepEqual([...a.failedCommits, ...c.failedCommits], [], all());
      assert.ok(a.ranges.length > 0 && c.ranges.length > 0, `both members consumed\n${all()}`);

      // Stop one member: it leaves the group (shutdown_complete), the other is assigned all six partitions.
      c.proc.kill('SIGTERM');
      await c.proc.done;
      assert.ok(c.shutdown, `b printed shutdown_complete\n${all()}`);
      await waitFor(
        'the survivor owns all six partitions',
        async () => (a.owned.size === PARTITIONS ? true : undefined),
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${all()}`);
      });

      // What is produced next is read by the survivor from every partition, continuing at the committed offsets.
      const before = a.ranges.length;
      await produce(end, 10);
      await waitFor(
        'the survivor consumed and committed the second batch',
        async () => {
          for (let p = 0; p < PARTITIONS; p++) if ((a.committed.get(p) ?? 0) < end + 10) return undefined;
          return true;
        },
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${all()}`);
      });
      const later = a.ranges.slice(before);
      for (let p = 0; p < PARTITIONS; p++) {
        const rs = later.filter((r) => r.partition === p).sort((x, y) => x.min - y.min);
        assert.equal(
          rs[0]?.min,
          end,
          `partition ${p}: the survivor resumed at ${rs[0]?.min}, expected ${end}`,
        );
        assert.equal(rs.at(-1)?.max, end + 9, `partition ${p}: the survivor read up to ${rs.at(-1)?.max}`);
        assert.equal(
          rs.reduce((n, r) => n + r.count, 0),
          10,
          `partition ${p}: the survivor read each new record once`,
        );
      }
      await producer.disconnect();
      a.proc.kill('SIGTERM');
      await a.proc.done;
      assert.ok(a.shutdown, `a printed shutdown_complete\n${all()}`);
    });
  });
});
