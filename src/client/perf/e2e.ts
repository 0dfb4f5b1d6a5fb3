// End-to-end latency, produce -> consume, at a fixed rate: the producer stamps performance.now()
// into each value, a consumer in the same process (same clock, its own connections) long-polls the
// topic from its end and records now - stamp for every record it reads.

import { performance } from 'node:perf_hooks';
import type { KafkaConnection } from '../connection.js';
import type { TopicLayout } from './cluster.js';
import { listOffsets } from './cluster.js';
import { consumerDefaults, PerfConsumer } from './consumer.js';
import { Histogram, type LatencySummary } from './histogram.js';
import { PerfProducer, type ProduceResult, type ProducerOptions } from './producer.js';

export interface E2eResult {
  produced: ProduceResult;
  consumed: number;
  latency: LatencySummary;
}

export async function runE2e(
  layout: TopicLayout,
  producerConns: Map<number, KafkaConnection>,
  consumerConns: Map<number, KafkaConnection>,
  opts: ProducerOptions,
  onInterval?: (consumed: number, s: LatencySummary) => void,
): Promise<E2eResult> {
  const start = await listOffsets(consumerConns, layout, -1);
  const hist = new Histogram();
  const window = new Histogram();
  const abort = new AbortController();
  const consumer = new PerfConsumer(layout, consumerConns, start, {
    ...consumerDefaults,
    records: opts.records,
    maxWaitMs: 500,
    idleTimeoutMs: 30_000,
    signal: abort.signal,
    onValue: (buf, pos) => {
      const us = (performance.now() - buf.readDoubleBE(pos)) * 1000;
      hist.record(us);
      window.record(us);
    },
    reportMs: 2000,
    onInterval: () => {
      onInterval?.(consumer.consumed, window.summary());
      window.reset();
    },
  });
  const consuming = consumer.run();
  const producer = new PerfProducer(layout, producerConns, { ...opts, stampValues: true });
  const produced = await producer.run();
  // Everything acknowledged is readable: give the consumer a moment to catch up, then stop it.
  const deadline = Date.now() + 10_000;
  while (consumer.consumed < produced.records && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  abort.abort();
  const consumed = await consuming;
  return { produced, consumed: consumed.records, latency: hist.summary() };
}
