// What the mirror tests share: writing known records to a source, reading a whole topic back (optionally
// only committed transactions), the committed offsets of a group, and `samsa mirror` as a child process.

import assert from 'node:assert/strict';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { type CompressionName, Producer } from '../../src/client/producer.js';
import { GroupOffsets } from '../../src/pipeline/mirror-offsets.js';
import { decodeBatch } from '../../src/protocol/batch-compression.js';
import { isControl, isTransactional, iterateBatches } from '../../src/protocol/records.js';
import { samsaArgv } from '../cli/cli-helpers.js';
import { waitFor } from '../helpers/cluster.js';
import { type Running, start } from '../helpers/run.js';

/** Broker keys for transactions on a single broker. */
export const singleBrokerTxn: Record<string, string> = {
  'transaction.state.log.num.partitions': '3',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'offsets.topic.num.partitions': '3',
  'offsets.topic.replication.factor': '1',
  'group.initial.rebalance.delay.ms': '0',
};

export interface Rec {
  key: string | null;
  value: string;
  headers: { key: string; value: string | null }[];
  timestamp: number;
}

export async function makeTopic(
  bootstrap: string,
  topic: string,
  partitions: number,
  configs: Record<string, string> = {},
  replicationFactor = 1,
): Promise<void> {
  const c = await Cluster.connect({ bootstrap, clientId: 'mirror-test' });
  try {
    await createTopic(c, topic, { partitions, replicationFactor, configs });
  } finally {
    c.close();
  }
}

/**
 * Writes `perPartition` records to each partition in sends of `chunk` records: keys (every 7th null), two
 * headers (one null-valued), timestamps in the past and distinct; record numbers start at `from` (a later
 * call appends). Returns what each partition got.
 */
export async function produceRecords(
  bootstrap: string,
  topic: string,
  partitions: number,
  perPartition: number,
  opts: { chunk?: number; compression?: CompressionName; from?: number; valueBytes?: number } = {},
): Promise<Map<number, Rec[]>> {
  const producer = await Producer.connect({ bootstrap, acks: -1, compression: opts.compression ?? 'none' });
  const out = new Map<number, Rec[]>();
  const chunk = opts.chunk ?? 500;
  const pad = 'x'.repeat(opts.valueBytes ?? 0);
  const base = Date.now() - 86_400_000;
  try {
    for (let p = 0; p < partitions; p++) {
      const recs: Rec[] = [];
      for (let i = opts.from ?? 0; i < (opts.from ?? 0) + perPartition; i++) {
        recs.push({
          key: i % 7 === 3 ? null : `k-${topic}-${p}-${i}`,
          value: `v-${topic}-${p}-${i}${pad}`,
          headers: [
            { key: 'h1', value: `hv-${i}` },
            { key: 'h-null', value: null },
          ],
          timestamp: base + p * 1_000_000 + i * 3,
        });
      }
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < recs.length; i += chunk) {
        sends.push(
          producer.send(
            topic,
            recs.slice(i, i + chunk).map((r) => ({ ...r, partition: p })),
          ),
        );
      }
      await Promise.all(sends);
      out.set(p, recs);
    }
  } finally {
    await producer.close();
  }
  return out;
}

/**
 * Every record of the topic, per partition, read from the start to the current end. With committedOnly,
 * records of aborted transactions are left out (each transactional batch is judged by its producer's next
 * control record, read after the fact: the writer must have finished).
 */
export async function readTopic(
  bootstrap: string,
  topic: string,
  opts: { committedOnly?: boolean } = {},
): Promise<Map<number, Rec[]>> {
  const consumer = await Consumer.connect({ bootstrap, clientId: 'mirror-test-reader', maxWaitMs: 100 });
  try {
    const info = await consumer.cluster.topic(topic, true);
    const parts = info.partitions.map((p) => p.partition);
    const ends = await consumer.listOffsets(topic, parts, -1);
    await consumer.assign(topic, 'all', 'earliest');
    const raw = new Map<number, Buffer[]>(parts.map((p) => [p, []]));
    const done = () => parts.every((p) => consumer.position(topic, p) >= (ends.get(p) ?? 0));
    while (!done()) {
      for (const d of await consumer.pollBatches()) raw.get(d.partition)?.push(d.records);
    }
    const out = new Map<number, Rec[]>();
    for (const [p, chunks] of raw) {
      const batches: Buffer[] = [];
      for (const c of chunks) {
        for (const { pos, header } of iterateBatches(c))
          batches.push(c.subarray(pos, pos + 12 + header.batchLength));
      }
      // producerId -> whether each of its transactional batches (by index) ended in a commit
      const decoded = await Promise.all(batches.map((b) => decodeBatch(b)));
      const verdict = new Map<number, boolean>();
      const keep: boolean[] = new Array(decoded.length).fill(true);
      for (let i = decoded.length - 1; i >= 0; i--) {
        const { header, records } = decoded[i]!;
        if (isControl(header.attributes)) {
          const type = records[0]?.key?.readInt16BE(2) ?? 0;
          verdict.set(header.producerId, type === 1);
          keep[i] = false;
        } else if (opts.committedOnly === true && isTransactional(header.attributes)) {
          keep[i] = verdict.get(header.producerId) ?? false;
        }
      }
      const recs: Rec[] = [];
      decoded.forEach(({ header, records }, i) => {
        if (!keep[i]) return;
        for (const r of records) {
          recs.push({
            key: r.key === null ? null : r.key.toString(),
            value: r.value?.toString() ?? '',
            headers: r.headers.map((h) => ({
              key: h.key,
              value: h.value === null ? null : h.value.toString(),
            })),
            timestamp: header.baseTimestamp + r.timestampDelta,
          });
        }
      });
      out.set(p, recs);
    }
    return out;
  } finally {
    await consumer.close();
  }
}

/** The end offset of each partition. */
export async function endOffsets(bootstrap: string, topic: string): Promise<Map<number, number>> {
  const consumer = await Consumer.connect({ bootstrap, clientId: 'mirror-test-ends' });
  try {
    const info = await consumer.cluster.topic(topic, true);
    return await consumer.listOffsets(
      topic,
      info.partitions.map((p) => p.partition),
      -1,
    );
  } finally {
    await consumer.close();
  }
}

/** The group's committed offsets ("topic\0partition" -> offset). */
export async function committedOffsets(bootstrap: string, group: string): Promise<Map<string, number>> {
  const c = await Cluster.connect({ bootstrap, clientId: 'mirror-test-offsets' });
  try {
    return await new GroupOffsets(c, group, 'source').load();
  } finally {
    c.close();
  }
}

/** Waits until the group on `bootstrap` has committed offset >= want for each partition of topic. */
export function waitForCommitted(
  bootstrap: string,
  group: string,
  topic: string,
  want: Map<number, number>,
  timeoutMs = 60_000,
): Promise<Map<string, number>> {
  return waitFor(
    `group ${group} to commit ${topic} up to ${JSON.stringify([...want])}`,
    async () => {
      const c = await committedOffsets(bootstrap, group);
      for (const [p, o] of want) if ((c.get(`${topic}\u0000${p}`) ?? -1) < o) return undefined;
      return c;
    },
    timeoutMs,
    200,
  );
}

export interface MirrorProcess {
  run: Running;
  lines: string[];
  /** Resolves with the first stderr line matching re (already printed or to come). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
}

const started: Running[] = [];

/** SIGKILLs every mirror a test started that still runs (for after() hooks: a failed test leaves them). */
export async function killMirrors(): Promise<void> {
  for (const r of started.splice(0)) {
    r.kill('SIGKILL');
    await r.done.catch(() => {});
  }
}

/** Starts `samsa mirror ARGS` as a child process (the mirror runs until signalled). */
export function startMirror(args: string[]): MirrorProcess {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const run = start(process.execPath, samsaArgv(['mirror', '--report-interval-ms', '1000', ...args]), {
    timeoutMs: 300_000,
    allowFailure: true,
    env: { ...process.env, SAMSA_LOG_LEVEL: process.env.SAMSA_LOG_LEVEL ?? 'info' },
    onStderrLine: (l) => {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.re.test(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    },
  });
  run.done.catch(() => {});
  started.push(run);
  return {
    run,
    lines,
    waitForLine(re, timeoutMs = 60_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no mirror line matching ${re} in ${timeoutMs} ms:\n${lines.join('\n')}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

/** Asserts the target partition holds exactly the source records, in order, byte for byte. */
export function assertSameRecords(
  source: Map<number, Rec[]>,
  target: Map<number, Rec[]>,
  what: string,
): void {
  assert.deepEqual([...target.keys()].sort(), [...source.keys()].sort(), `${what}: partitions`);
  for (const [p, recs] of source) {
    const got = target.get(p) ?? [];
    assert.equal(got.length, recs.length, `${what}: partition ${p} record count`);
    for (let i = 0; i < recs.length; i++) {
      if (JSON.stringify(got[i]) !== JSON.stringify(recs[i])) {
        assert.deepEqual(got[i], recs[i], `${what}: partition ${p} record ${i}`);
      }
    }
  }
}

/**
 * At-least-once check: every source record is on the target, in source order, where a restart may repeat a
 * run of records (the target is the source sequence with some stretches written twice). Returns how many
 * records were repeated.
 */
export function assertNothingLost(
  source: Map<number, Rec[]>,
  target: Map<number, Rec[]>,
  what: string,
): number {
  let repeated = 0;
  for (const [p, recs] of source) {
    const got = target.get(p) ?? [];
    const index = new Map(recs.map((r, i) => [r.value, i]));
    let next = 0;
    for (const r of got) {
      const i = index.get(r.value);
      assert.notEqual(i, undefined, `${what}: partition ${p} has a record the source does not: ${r.value}`);
      assert.deepEqual(r, recs[i as number], `${what}: partition ${p} record ${i} differs`);
      if ((i as number) < next) repeated++;
      else assert.equal(i, next, `${what}: partition ${p}: record ${next} missing (next on target: ${i})`);
      next = Math.max(next, (i as number) + 1);
    }
    assert.equal(next, recs.length, `${what}: partition ${p}: only ${next} of ${recs.length} copied`);
  }
  return repeated;
}
