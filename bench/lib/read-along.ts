// A consumer reading along while something produces, and the samples that say whether it keeps up: the flood rows
// (bench/lib/flood.ts) and the cluster keep-up row R4s (bench/lib/cluster-catchup.ts) measure the same way.
//
// The consumer is the `samsa perf consume` reader (one fetch in flight per leader, fetch.min.bytes 1,
// fetch.max.wait 500 ms, CRC + record walk) in this process, from the topic's first offset, until stopped. A probe on
// its own connections asks the leaders for the log end offsets (ListOffsets latest: the high watermark). A sample is
// the time the probe's request went out, the records consumed by then and the log end it answered; the caller
// decides when to sample and which samples count. Over the counted samples (the first with records in the log to
// the last): produce rec/s = growth of the log end / time, consume rec/s = records consumed / time, the consumer's
// share = consumed / produced over that span (1.0 = it kept up), and the largest lag sampled.

import { performance } from 'node:perf_hooks';
import { KafkaConnection } from '../../src/client/connection.js';
import {
  connectLeaders,
  describeTopic,
  listOffsets,
  type TopicLayout,
} from '../../src/client/perf/cluster.js';
import { type ConsumeResult, consumerDefaults, PerfConsumer } from '../../src/client/perf/consumer.js';

export interface Sample {
  at: number;
  logEnd: number;
  consumed: number;
}

export interface ReadAlongRates {
  produceRecordsPerSec: number;
  consumeRecordsPerSec: number;
  /** Records consumed / records produced over the sampled span. */
  consumeShare: number;
  /** The largest gap between the log end offset and the consumer's position sampled (records). */
  lagMax: number;
}

/** A sampled span shorter than this says too little. */
const SPAN_MS_MIN = 500;

export class ReadAlong {
  /** The samples that count (the caller pushes them). */
  readonly samples: Sample[] = [];
  private readonly abort = new AbortController();
  private readonly reading: Promise<ConsumeResult>;
  private readonly consumer: PerfConsumer;

  private constructor(
    private readonly layout: TopicLayout,
    private readonly conns: Map<number, KafkaConnection>,
    private readonly probe: Map<number, KafkaConnection>,
    start: Map<number, number>,
    idleTimeoutMs: number,
  ) {
    this.consumer = new PerfConsumer(layout, conns, start, {
      ...consumerDefaults,
      records: Number.MAX_SAFE_INTEGER,
      idleTimeoutMs,
      signal: this.abort.signal,
    });
    this.reading = this.consumer.run();
  }

  /**
   * Starts reading `topic` from its first offset, through the broker at `port` (connections named
   * `${clientId}-consumer` and `${clientId}-probe`). Call close() when done.
   */
  static async start(
    port: number,
    topic: string,
    clientId: string,
    idleTimeoutMs: number,
  ): Promise<ReadAlong> {
    const boot = await KafkaConnection.connect({ host: '127.0.0.1', port, clientId });
    const layout = await describeTopic(boot, topic).finally(() => boot.close());
    const conns = await connectLeaders(layout, `${clientId}-consumer`);
    let probe = new Map<number, KafkaConnection>();
    try {
      probe = await connectLeaders(layout, `${clientId}-probe`);
      const start = await listOffsets(conns, layout, -2);
      return new ReadAlong(layout, conns, probe, start, idleTimeoutMs);
    } catch (e) {
      for (const c of [...conns.values(), ...probe.values()]) c.close();
      throw e;
    }
  }

  /** Records read so far. */
  get consumed(): number {
    return this.consumer.consumed;
  }

  /** The sum of the partitions' log end offsets. */
  async logEnd(): Promise<number> {
    let n = 0;
    for (const o of (await listOffsets(this.probe, this.layout, -1)).values()) n += o;
    return n;
  }

  /** One sample, not yet counted: the consumer's count when the probe's request goes out, and its answer. */
  async sample(): Promise<Sample> {
    const at = performance.now();
    const consumed = this.consumer.consumed;
    return { at, consumed, logEnd: await this.logEnd() };
  }

  /** Waits (polling every `everyMs`) until `records` are read or `maxMs` after `since` (performance.now()). */
  async drain(records: number, since: number, everyMs: number, maxMs = 60_000): Promise<void> {
    while (this.consumer.consumed < records && performance.now() - since < maxMs) {
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Stops the consumer; the records it read. */
  async stop(): Promise<number> {
    this.abort.abort();
    return (await this.reading).records;
  }

  /** The rates over the counted samples, or why there are none (`what`: the production sampled). */
  rates(what: string): ReadAlongRates | string {
    const s = this.samples;
    const first = s.find((x) => x.logEnd > 0);
    const last = s[s.length - 1];
    if (first === undefined || last === undefined || last.at - first.at < SPAN_MS_MIN) {
      return `the ${what} was too short to sample (${s.length} samples)`;
    }
    const sec = (last.at - first.at) / 1000;
    const produced = last.logEnd - first.logEnd;
    const read = last.consumed - first.consumed;
    return {
      produceRecordsPerSec: produced / sec,
      consumeRecordsPerSec: read / sec,
      consumeShare: read / produced,
      lagMax: Math.max(...s.map((x) => x.logEnd - x.consumed)),
    };
  }

  /** Stops the consumer and closes every connection. */
  close(): void {
    this.abort.abort();
    for (const c of [...this.conns.values(), ...this.probe.values()]) c.close();
  }
}
