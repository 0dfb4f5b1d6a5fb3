// What the audit tests share: records with explicit CreateTime timestamps in fixed past windows, the counts a
// correct audit must print for them, and a test-side copier (our Consumer + Producer) standing in for the mirror.

import { createTopic } from '../../src/client/admin.js';
import type { Cluster } from '../../src/client/cluster.js';
import { Consumer, LATEST_TIMESTAMP } from '../../src/client/consumer.js';
import { type CompressionName, Producer } from '../../src/client/producer.js';
import { formatWindow, windowStart } from '../../src/pipeline/audit-window.js';

/** 2026-11-30T09:00:00Z: the first window of the tests (a minute, in the past). */
export const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
export const MINUTE = 60_000;

export interface Sent {
  partition: number;
  offset: number;
  timestamp: number;
}

/**
 * One send() per inner array (so one batch per partition per array): records of [partition, timestamp].
 * Returns what was written, with offsets.
 */
export async function produceAll(
  cluster: Cluster,
  topic: string,
  sends: [number, number][][],
  compression: CompressionName = 'none',
): Promise<Sent[]> {
  const producer = Producer.on(cluster, { compression });
  const out: Sent[] = [];
  for (const s of sends) {
    const meta = await producer.send(
      topic,
      s.map(([partition, timestamp], i) => ({ partition, timestamp, key: `k${i}`, value: `v-${timestamp}` })),
    );
    for (const m of meta) out.push({ partition: m.partition, offset: m.offset, timestamp: m.timestamp });
  }
  return out;
}

/** Counts per window start (formatted) of the records given. */
export function countByWindow(
  records: readonly { timestamp: number }[],
  windowMs = MINUTE,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) {
    const w = formatWindow(windowStart(r.timestamp, windowMs));
    out.set(w, (out.get(w) ?? 0) + 1);
  }
  return out;
}

export async function createOn(
  clusters: Cluster[],
  topic: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<void> {
  for (const c of clusters) await createTopic(c, topic, { partitions, replicationFactor: 1, configs });
}

/**
 * Copies a topic's committed records (read_committed) from one cluster to another, partition to partition, with
 * their timestamps, keys and values; `keep` chooses which records are copied (all by default). Returns the number
 * of records copied.
 */
export async function copyTopic(
  from: Cluster,
  to: Cluster,
  topic: string,
  opts: { keep?: (partition: number, offset: number) => boolean; compression?: CompressionName } = {},
): Promise<number> {
  const consumer = Consumer.on(from, { isolationLevel: 1, maxWaitMs: 50 });
  const producer = Producer.on(to, { compression: opts.compression ?? 'none' });
  const info = await from.topic(topic, true);
  const partitions = info.partitions.map((p) => p.partition);
  const ends = await consumer.listOffsets(topic, partitions, LATEST_TIMESTAMP);
  await consumer.assign(topic, 'all', 'earliest');
  let copied = 0;
  const done = () => partitions.every((p) => consumer.position(topic, p) >= (ends.get(p) ?? 0));
  while (!done()) {
    const records = (await consumer.poll()).filter((r) => opts.keep?.(r.partition, r.offset) ?? true);
    if (records.length === 0) continue;
    await producer.send(
      topic,
      records.map((r) => ({ partition: r.partition, timestamp: r.timestamp, key: r.key, value: r.value })),
    );
    copied += records.length;
  }
  return copied;
}
