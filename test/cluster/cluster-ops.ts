// What the cluster operation tests (reassign.test.ts, leadership.test.ts) share: topics with a given replica
// assignment, records written and read back with the internal client, what each broker holds (DescribeLogDirs
// and its data directory), and `samsa` commands pointed at the cluster.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { DescribeLogDirsResponse } from '../../src/protocol/generated/describe-log-dirs-response.js';
import { type CliResult, samsa } from '../cli/cli-helpers.js';
import { type Metadata, type TestCluster, waitFor, withConnection } from '../helpers/cluster.js';

/** Creates a topic with the given replicas per partition (through `via`) and waits until every broker shows it in sync. */
export async function createAssigned(
  c: TestCluster,
  topic: string,
  assignment: number[][],
  configs: Record<string, string> = {},
  via = c.running()[0] as number,
): Promise<void> {
  const res = await withConnection(c.bootstrapOf(via), (conn) =>
    conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [
        {
          name: topic,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: assignment.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
          configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    }),
  );
  const t = res.topics[0];
  assert.equal(t?.errorCode, ErrorCode.NONE, `create ${topic}: ${t?.errorMessage}`);
  await waitForPartitions(c, topic, (p) => {
    const want = assignment[p.partitionIndex];
    return (
      want !== undefined &&
      p.replicaNodes.join(',') === want.join(',') &&
      p.leaderId === want[0] &&
      p.isrNodes.length === want.length
    );
  });
}

type PartitionMeta = Metadata['topics'][number]['partitions'][number];

/** Waits until every running broker's Metadata shows every partition of `topic` passing `check`. */
export function waitForPartitions(
  c: TestCluster,
  topic: string,
  check: (p: PartitionMeta) => boolean,
  timeoutMs = 30_000,
): Promise<Map<number, Metadata>> {
  return c.waitForMetadata(
    `${topic} as expected on every broker`,
    (m) => {
      const t = m.topics[0];
      return (
        t !== undefined &&
        t.errorCode === ErrorCode.NONE &&
        t.partitions.length > 0 &&
        t.partitions.every(check)
      );
    },
    { topics: [topic], timeoutMs },
  );
}

/** The value of record i of a topic-partition: recognisable, and 100 bytes so batches have some size. */
export function recordValue(topic: string, partition: number, i: number): string {
  return `${topic}-${partition}:${i}:`.padEnd(100, 'x');
}

/**
 * Writes `count` records to a partition with acks=all in `batches` batches (one Produce request each,
 * pipelined), records numbered from `from`.
 */
export async function produce(
  c: TestCluster,
  topic: string,
  partition: number,
  count: number,
  batches: number,
  from = 0,
): Promise<void> {
  const producer = await Producer.connect({ bootstrap: c.bootstrap(), acks: -1 });
  try {
    const per = Math.ceil(count / batches);
    const sends: Promise<unknown>[] = [];
    for (let start = 0; start < count; start += per) {
      const records = [];
      for (let i = start; i < Math.min(count, start + per); i++)
        records.push({ value: recordValue(topic, partition, from + i), partition });
      sends.push(producer.send(topic, records));
    }
    await Promise.all(sends);
  } finally {
    await producer.close();
  }
}

/** Reads a partition from offset 0 through its current leader until `count` records arrived; checks each value. */
export async function readBack(
  c: TestCluster,
  topic: string,
  partition: number,
  count: number,
): Promise<void> {
  const consumer = await Consumer.connect({ bootstrap: c.bootstrap(), maxWaitMs: 200 });
  try {
    await consumer.assign(topic, [partition], { offset: 0 });
    const values: string[] = [];
    await waitFor(
      `${count} records of ${topic}-${partition}`,
      async () => {
        for (const r of await consumer.poll()) values.push(r.value?.toString() ?? '');
        return values.length >= count ? true : undefined;
      },
      30_000,
      0,
    );
    assert.equal(values.length, count, `${topic}-${partition}: record count`);
    for (let i = 0; i < count; i++) {
      if (values[i] !== recordValue(topic, partition, i))
        assert.fail(`${topic}-${partition} offset ${i}: ${values[i]?.slice(0, 30)}`);
    }
  } finally {
    await consumer.close();
  }
}

/** DescribeLogDirs on one broker for a topic: partition -> size in bytes (what the broker holds). */
export async function logDirsOf(c: TestCluster, id: number, topic: string): Promise<Map<number, number>> {
  const res = await withConnection(c.bootstrapOf(id), (conn) =>
    conn.request<DescribeLogDirsResponse>(ApiKey.DescribeLogDirs, { topics: null }),
  );
  assert.equal(res.errorCode, ErrorCode.NONE);
  const out = new Map<number, number>();
  for (const dir of res.results) {
    assert.equal(dir.errorCode, ErrorCode.NONE, `broker ${id} log dir ${dir.logDir}`);
    for (const t of dir.topics) {
      if (t.name !== topic) continue;
      for (const p of t.partitions) out.set(p.partitionIndex, p.partitionSize);
    }
  }
  return out;
}

/** Partition numbers of `topic` with a directory in broker `id`'s log dir. */
export function partitionDirs(c: TestCluster, id: number, topic: string): number[] {
  const dir = c.broker(id).dataDir;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((e) => e.startsWith(`${topic}-`) && /^\d+$/.test(e.slice(topic.length + 1)))
    .map((e) => Number(e.slice(topic.length + 1)))
    .sort((a, b) => a - b);
}

/** Waits until each broker's log dir holds exactly the given partitions of `topic` (directories and DescribeLogDirs). */
export async function waitForHoldings(
  c: TestCluster,
  topic: string,
  expected: Record<number, number[]>,
): Promise<Map<number, Map<number, number>>> {
  return waitFor(`the brokers to hold ${topic} partitions ${JSON.stringify(expected)}`, async () => {
    const sizes = new Map<number, Map<number, number>>();
    for (const [id, parts] of Object.entries(expected).map(([k, v]) => [Number(k), v] as const)) {
      const dirs = partitionDirs(c, id, topic);
      if (dirs.join(',') !== parts.join(','))
        throw new Error(`broker ${id} has directories for partitions [${dirs}]`);
      const described = await logDirsOf(c, id, topic);
      const listed = [...described.keys()].sort((a, b) => a - b);
      if (listed.join(',') !== parts.join(','))
        throw new Error(`broker ${id} DescribeLogDirs lists partitions [${listed}]`);
      sizes.set(id, described);
    }
    return sizes;
  });
}

/** A scratch directory for JSON files; remove() at the end. */
export async function scratch(): Promise<{
  file: (name: string, doc: unknown) => Promise<string>;
  remove: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-ops-'));
  return {
    file: async (name, doc) => {
      const f = join(dir, name);
      await writeFile(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
      return f;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs `samsa <args> --bootstrap-server <every broker>`. */
export function samsaOn(c: TestCluster, args: string[]): Promise<CliResult> {
  return samsa([...args, '--bootstrap-server', c.bootstrap()]);
}

/** The reassignment JSON of Kafka's tool for these moves. */
export function reassignmentJson(topic: string, moves: Record<number, number[]>): unknown {
  return {
    version: 1,
    partitions: Object.entries(moves).map(([p, replicas]) => ({
      topic,
      partition: Number(p),
      replicas,
      log_dirs: replicas.map(() => 'any'),
    })),
  };
}
