// Interop client on @platformatic/kafka 1.x (pure TypeScript, recent API versions), run in the test
// process: produces the full record scheme with its idempotent producer and reads topics back through
// a consumer group (its consumer always joins one). Codecs: none, gzip, snappy, lz4; its zstd needs
// node:zlib zstd (Node >= 22.15), so on Node 20 it has none. See docs/interop.md.

import zlib from 'node:zlib';
import { Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import { fullProfile, type Header, type ReadRecord, recordOf } from '../records.js';

export const platformaticCodecs: readonly string[] =
  'zstdCompressSync' in zlib ? ['none', 'gzip', 'snappy', 'lz4', 'zstd'] : ['none', 'gzip', 'snappy', 'lz4'];

type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProduceOptions {
  bootstrap: string;
  topic: string;
  codec: string;
  count: number;
  base: number;
  batch?: number;
}

export interface ProduceResult {
  acked: Set<number>;
  failed: number;
  firstError?: string;
  ms: number;
}

export async function platformaticProduce(o: ProduceOptions): Promise<ProduceResult> {
  const producer = new Producer({
    clientId: 'samsa-interop-platformatic',
    bootstrapBrokers: [o.bootstrap],
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: o.codec as Codec,
    autocreateTopics: true,
    retries: 20,
    retryDelay: 250,
  });
  const began = Date.now();
  const acked = new Set<number>();
  let failed = 0;
  let firstError: string | undefined;
  const batch = o.batch ?? 500;
  try {
    for (let from = 0; from < o.count; from += batch) {
      const to = Math.min(o.count, from + batch);
      const messages = [];
      for (let i = from; i < to; i++) {
        const r = recordOf(i, o.base, fullProfile);
        // Header keys are Buffers: distinct objects, so a repeated key stays two headers.
        const headers = new Map<Buffer, Buffer>();
        for (const [k, v] of r.headers) headers.set(Buffer.from(k), v as Buffer);
        messages.push({
          topic: o.topic,
          partition: 0,
          key: r.key as Buffer,
          value: r.value as Buffer,
          headers,
          timestamp: BigInt(r.timestamp),
        });
      }
      try {
        await producer.send({ messages });
        for (let i = from; i < to; i++) acked.add(i);
      } catch (err) {
        failed += to - from;
        firstError ??= `${from}..${to - 1}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  } finally {
    await producer.close();
  }
  return { acked, failed, firstError, ms: Date.now() - began };
}

/** Reads every record of the topics' partition 0 through a fresh consumer group, up to the end offsets. */
export async function platformaticConsume(
  bootstrap: string,
  topics: readonly string[],
  timeoutMs = 90_000,
): Promise<Map<string, ReadRecord[]>> {
  const consumer = new Consumer({
    clientId: 'samsa-interop-platformatic',
    bootstrapBrokers: [bootstrap],
    groupId: `samsa-interop-platformatic-${Date.now()}-${Math.random()}`,
  });
  const got = new Map<string, ReadRecord[]>(topics.map((t) => [t, []]));
  try {
    const offsets = await consumer.listOffsets({ topics: [...topics] });
    const ends = new Map<string, number>();
    for (const t of topics) {
      const parts = offsets.get(t) ?? [];
      if (parts.length !== 1) throw new Error(`${t}: expected 1 partition, found ${parts.length}`);
      ends.set(t, Number(parts[0]));
    }
    const complete = (): boolean => topics.every((t) => got.get(t)!.length >= ends.get(t)!);
    if (complete()) return got;
    const stream = await consumer.consume({ topics: [...topics], mode: 'earliest', autocommit: false });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const progress = topics.map((t) => `${t} ${got.get(t)!.length}/${ends.get(t)}`).join(', ');
        reject(new Error(`platformatic consume timed out after ${timeoutMs} ms: ${progress}`));
      }, timeoutMs);
    });
    const reading = (async () => {
      for await (const m of stream) {
        const offset = Number(m.offset);
        if (offset >= ends.get(m.topic)!) continue;
        const headers: Header[] = [];
        for (const [k, v] of m.headers) headers.push([Buffer.from(k).toString('utf8'), v ?? null]);
        got.get(m.topic)!.push({
          offset,
          key: m.key ?? null,
          value: m.value ?? null,
          headers,
          timestamp: Number(m.timestamp),
        });
        if (complete()) break;
      }
    })();
    try {
      await Promise.race([reading, timedOut]);
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => {}); // already closed when the loop broke out
    }
  } finally {
    await consumer.close(true);
  }
  return got;
}
