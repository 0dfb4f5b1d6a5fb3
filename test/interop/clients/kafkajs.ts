// Interop client on kafkajs 2.x, run in the test process: produces the no-null-headers profile of
// the record scheme (kafkajs cannot send a null header value) and reads topics back through a
// consumer group (kafkajs has no assign-only consumer). See docs/interop.md.

import kafkajs, { type CompressionTypes as CT, type IHeaders, type Kafka as KafkaClient } from 'kafkajs';
import { registerKafkajsCodecs } from '../kafkajs-codecs.js';
import { type Header, noNullHeadersProfile, type ReadRecord, recordOf } from '../records.js';

// kafkajs is CommonJS with an export list Node cannot see statically: take its default export.
const { CompressionTypes, Kafka, logLevel } = kafkajs;

registerKafkajsCodecs();

export const kafkajsCodecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

const codecType: Record<string, CT> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export function kafkaClient(bootstrap: string): KafkaClient {
  return new Kafka({
    clientId: 'samsa-interop-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    // Long enough to ride out a broker restart (a kill -9 and recovery take seconds).
    retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

export interface ProduceOptions {
  bootstrap: string;
  topic: string;
  codec: string;
  count: number;
  base: number;
  /** Records per send() call (one request, one batch). */
  batch?: number;
  /** Called after each acknowledged send with the total acknowledged so far. */
  onAck?: (acked: number) => void;
}

export interface ProduceResult {
  acked: Set<number>;
  failed: number;
  firstError?: string;
  ms: number;
}

/** Idempotent producer (acks=all, one request in flight, as kafkajs requires for idempotence). */
export async function kafkajsProduce(o: ProduceOptions): Promise<ProduceResult> {
  const codec = codecType[o.codec];
  if (codec === undefined) throw new Error(`kafkajs: unknown codec ${o.codec}`);
  const producer = kafkaClient(o.bootstrap).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
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
        const r = recordOf(i, o.base, noNullHeadersProfile);
        const headers: IHeaders = {};
        for (const [k, v] of r.headers) {
          const prev = headers[k];
          headers[k] = prev === undefined ? v! : Array.isArray(prev) ? [...prev, v!] : [prev, v!];
        }
        messages.push({ key: r.key, value: r.value, headers, timestamp: String(r.timestamp) });
      }
      try {
        await producer.send({ topic: o.topic, acks: -1, compression: codec, messages });
        for (let i = from; i < to; i++) acked.add(i);
        o.onAck?.(acked.size);
      } catch (err) {
        failed += to - from;
        firstError ??= `${from}..${to - 1}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  } finally {
    await producer.disconnect();
  }
  return { acked, failed, firstError, ms: Date.now() - began };
}

function headerPairs(h: IHeaders | undefined): Header[] {
  const out: Header[] = [];
  for (const [k, v] of Object.entries(h ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      out.push([k, one === undefined || one === null ? null : Buffer.from(one)]);
    }
  }
  return out;
}

/**
 * Reads every record of the topics' partition 0 from the beginning through a fresh consumer group,
 * until each topic's high watermark is reached (or timeoutMs passes).
 */
export async function kafkajsConsume(
  bootstrap: string,
  topics: readonly string[],
  timeoutMs = 90_000,
): Promise<Map<string, ReadRecord[]>> {
  const kafka = kafkaClient(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  try {
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      if (offsets.length !== 1) throw new Error(`${topic}: expected 1 partition, found ${offsets.length}`);
      ends.set(topic, Number(offsets[0]!.high));
    }
  } finally {
    await admin.disconnect();
  }
  const got = new Map<string, ReadRecord[]>(topics.map((t) => [t, []]));
  const consumer = kafka.consumer({ groupId: `samsa-interop-kafkajs-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    const complete = (): boolean => topics.every((t) => got.get(t)!.length >= ends.get(t)!);
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    if (complete()) resolveDone();
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, message }) => {
        const list = got.get(topic)!;
        if (Number(message.offset) >= ends.get(topic)!) return;
        list.push({
          offset: Number(message.offset),
          key: message.key,
          value: message.value,
          headers: headerPairs(message.headers),
          timestamp: Number(message.timestamp),
        });
        if (complete()) resolveDone();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const progress = topics.map((t) => `${t} ${got.get(t)!.length}/${ends.get(t)}`).join(', ');
        reject(new Error(`kafkajs consume timed out after ${timeoutMs} ms: ${progress}`));
      }, timeoutMs);
    });
    try {
      await Promise.race([done, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
  }
  return got;
}
