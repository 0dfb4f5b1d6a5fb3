// "Consume during a produce flood": producers (child processes; the bench runs them with acks=0, so nothing but
// the broker's reading paces them) write to a topic as fast as they can while one consumer (in this process, the
// `samsa perf consume` reader: one fetch in flight, fetch.min.bytes 1, fetch.max.wait 500 ms, CRC + record walk)
// reads the same topic from its first offset. A fair broker lets the consumer keep up with the ingest rate; an
// unfair one answers its fetches behind bursts of produce requests.
//
// Every 100 ms the bench samples the log end offset (ListOffsets latest, its own connection) and the records the
// consumer has read. Over the flood (the first sample with records in the log to the last one before the
// producers finished): produce rec/s = growth of the log end offset / time, consume rec/s = records consumed /
// time, and the consumer's share = consumed / produced over that span (1.0 = it kept up; at the very end of a
// flood a starved consumer catches up in a fraction of a second, so only samples taken during it count).

import { KafkaConnection } from '../../src/client/connection.js';
import { connectLeaders, describeTopic, listOffsets } from '../../src/client/perf/cluster.js';
import { consumerDefaults, PerfConsumer } from '../../src/client/perf/consumer.js';
import type { ProduceMetrics, Tools } from './tools.js';

export interface FloodOptions {
  producers: number;
  /** Records per producer. */
  records: number;
  recordSize: number;
  acks: '0' | '1' | 'all';
  tool: 'kafka-tools' | 'samsa-perf';
}

export interface FloodMetrics {
  produceRecordsPerSec: number;
  consumeRecordsPerSec: number;
  /** Records consumed / records produced during the flood. */
  consumeShare: number;
  /** The largest gap between the log end offset and the consumer's position seen during the flood (records). */
  lagMax: number;
  /** Seconds the consumer needed after the flood to read the rest. */
  catchUpSec: number;
}

interface Sample {
  at: number;
  logEnd: number;
  consumed: number;
}

export async function consumeDuringFlood(
  tools: Tools,
  name: string,
  port: number,
  topic: string,
  opts: FloodOptions,
): Promise<FloodMetrics | string> {
  const boot = await KafkaConnection.connect({ host: '127.0.0.1', port, clientId: 'bench-flood' });
  const layout = await describeTopic(boot, topic).finally(() => boot.close());
  const conns = await connectLeaders(layout, 'bench-flood-consumer');
  const probe = await connectLeaders(layout, 'bench-flood-probe');
  try {
    const start = await listOffsets(conns, layout, -2);
    // Reads until told to stop: with acks=0 not every record sent need reach the log.
    const stop = new AbortController();
    const consumer = new PerfConsumer(layout, conns, start, {
      ...consumerDefaults,
      records: Number.MAX_SAFE_INTEGER,
      idleTimeoutMs: 60_000,
      signal: stop.signal,
    });
    const consumed = consumer.run();
    const runs: Promise<ProduceMetrics | string>[] = [];
    for (let i = 0; i < opts.producers; i++) {
      const w = { records: opts.records, recordSize: opts.recordSize, acks: opts.acks, compression: 'none' };
      runs.push(
        opts.tool === 'kafka-tools'
          ? tools.kafkaProduce(`${name}-p${i}`, port, topic, w)
          : tools.samsaProduce(`${name}-p${i}`, port, topic, w),
      );
    }
    let flooding = true;
    const all = Promise.all(runs).finally(() => {
      flooding = false;
    });
    const logEnd = async (): Promise<number> => {
      let n = 0;
      for (const o of (await listOffsets(probe, layout, -1)).values()) n += o;
      return n;
    };
    const samples: Sample[] = [];
    while (flooding) {
      const at = performance.now();
      const consumedNow = consumer.consumed;
      const end = await logEnd();
      // A sample whose request overlapped the end of the flood does not count.
      if (flooding) samples.push({ at, logEnd: end, consumed: consumedNow });
      await new Promise((r) => setTimeout(r, 100));
    }
    const results = await all;
    const floodEnd = performance.now();
    const failed = results.find((r): r is string => typeof r === 'string');
    if (failed !== undefined) return failed;
    const finalEnd = await logEnd();
    while (consumer.consumed < finalEnd && performance.now() - floodEnd < 60_000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const catchUpSec = (performance.now() - floodEnd) / 1000;
    stop.abort();
    const r = await consumed;
    if (r.records < finalEnd) return `consumer read ${r.records} of ${finalEnd} records`;
    const first = samples.find((s) => s.logEnd > 0);
    const last = samples[samples.length - 1];
    if (first === undefined || last === undefined || last.at - first.at < 500) {
      return `the flood was too short to sample (${samples.length} samples)`;
    }
    const sec = (last.at - first.at) / 1000;
    const produced = last.logEnd - first.logEnd;
    const read = last.consumed - first.consumed;
    return {
      produceRecordsPerSec: produced / sec,
      consumeRecordsPerSec: read / sec,
      consumeShare: read / produced,
      lagMax: Math.max(...samples.map((s) => s.logEnd - s.consumed)),
      catchUpSec,
    };
  } finally {
    for (const c of [...conns.values(), ...probe.values()]) c.close();
  }
}
