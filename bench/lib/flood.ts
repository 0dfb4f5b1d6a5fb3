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

import { performance } from 'node:perf_hooks';
import { ReadAlong, type ReadAlongRates } from './read-along.js';
import type { ProduceMetrics, Tools } from './tools.js';

export interface FloodOptions {
  producers: number;
  /** Records per producer. */
  records: number;
  recordSize: number;
  acks: '0' | '1' | 'all';
  tool: 'kafka-tools' | 'samsa-perf';
}

export interface FloodMetrics extends ReadAlongRates {
  /** Seconds the consumer needed after the flood to read the rest. */
  catchUpSec: number;
}

export async function consumeDuringFlood(
  tools: Tools,
  name: string,
  port: number,
  topic: string,
  opts: FloodOptions,
): Promise<FloodMetrics | string> {
  // Reads until told to stop: with acks=0 not every record sent need reach the log.
  const along = await ReadAlong.start(port, topic, 'bench-flood', 60_000);
  try {
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
    while (flooding) {
      const s = await along.sample();
      // A sample whose request overlapped the end of the flood does not count.
      if (flooding) along.samples.push(s);
      await new Promise((r) => setTimeout(r, 100));
    }
    const results = await all;
    const floodEnd = performance.now();
    const failed = results.find((r): r is string => typeof r === 'string');
    if (failed !== undefined) return failed;
    const finalEnd = await along.logEnd();
    await along.drain(finalEnd, floodEnd, 10);
    const catchUpSec = (performance.now() - floodEnd) / 1000;
    const read = await along.stop();
    if (read < finalEnd) return `consumer read ${read} of ${finalEnd} records`;
    const rates = along.rates('flood');
    return typeof rates === 'string' ? rates : { ...rates, catchUpSec };
  } finally {
    along.close();
  }
}
