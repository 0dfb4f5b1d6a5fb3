// Two cluster workloads about reading and catching up, on the three-broker clusters of bench/lib/clusters.ts
// (the same method on both; see the header of bench/lib/cluster-workloads.ts and docs/performance.md):
//
//   keep-up (R4s)   a producer child process (`samsa perf produce --acks=-1 --throughput N`) writes to a topic of
//                   6 partitions, RF 3, while one consumer in this process (the `samsa perf consume` reader: one
//                   fetch in flight per leader, fetch.min.bytes 1, fetch.max.wait 500 ms, CRC + record walk) reads
//                   it from offset 0. Every 50 ms the bench samples the log end offsets (ListOffsets latest = the
//                   high watermark, its own connections) and the records consumed. Rates: growth of the log end
//                   and of the records consumed between the first sample with records and the last sample of the
//                   production, and the consumer's share (consumed / produced over that span). "The producer
//                   finished" = the first sample whose log end is every record sent (the last acks=all write is
//                   committed); lag at end = records not yet consumed then; drain ms = then -> the consumer has
//                   read everything (polled every 2 ms). Then `samsa perf e2e --acks -1` at the same rate on the
//                   same topic (up to 10 s) gives the produce -> consume latency.
//   catch-up (R5s)  clean stop (SIGTERM) of one broker (not the controller), wait until no partition has it as leader
//                   or in its ISR, write X MiB of records with acks=all to the two left (`samsa perf produce`, as
//                   fast as it goes), start the broker again. From its process start, a surviving broker's Metadata
//                   is polled every 50 ms: ready ms = the stopped broker is back in the ISR of its first partition,
//                   rejoin ms = back in the ISR of every partition (with RF 3 on 3 brokers it hosts them all);
//                   catch-up MB/s = the record bytes written while it was stopped (records x record size, MiB) /
//                   rejoin time. listed ms (JSON only) = the survivors list it among the brokers again.

import { performance } from 'node:perf_hooks';
import { type ClusterHandle, clusterCost, createReplicatedTopic, metadataOf } from './clusters.js';
import { ReadAlong, type ReadAlongRates } from './read-along.js';
import type { Tools } from './tools.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface KeepUpOptions {
  partitions: number;
  recordSize: number;
  /** Records/s of the producer. */
  rate: number;
  /** How long the producer runs (records = rate x seconds). */
  seconds: number;
  minInsyncReplicas: number;
}

export interface KeepUpMetrics extends ReadAlongRates {
  /** Records the consumer had not read when the last record was committed. */
  lagAtEnd: number;
  /** The last record committed -> the consumer has read every record. */
  drainMs: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
  cpuSec: number;
  peakRssMb: number;
}

export async function measureKeepUp(
  tools: Tools,
  name: string,
  c: ClusterHandle,
  topic: string,
  o: KeepUpOptions,
): Promise<KeepUpMetrics | string> {
  await createReplicatedTopic(c, topic, o.partitions, { 'min.insync.replicas': String(o.minInsyncReplicas) });
  const along = await ReadAlong.start(c.port(c.running()[0] as number), topic, 'bench-keep-up', 120_000);
  try {
    const records = Math.round(o.rate * o.seconds);
    await sleep(500);
    const cost = clusterCost(c);
    const w = { records, recordSize: o.recordSize, acks: 'all', compression: 'none', throughput: o.rate };
    let producing = true;
    const produced = tools.samsaProduce(name, c.bootstrap(), topic, w).finally(() => {
      producing = false;
    });
    let endAt = Number.NaN;
    let lagAtEnd = Number.NaN;
    // Until the last record is committed (or the producer gave up).
    for (;;) {
      const wasProducing = producing;
      const s = await along.sample();
      if (s.logEnd >= records) {
        // The request went out at `at`; the consumer may have moved on while it was answered: count the lag at
        // the start of the request, the drain from there.
        endAt = s.at;
        lagAtEnd = Math.max(0, records - s.consumed);
        break;
      }
      if (!wasProducing) break;
      along.samples.push(s);
      // The last quarter second back to back, so that the moment of the last commit is known to a few ms.
      await sleep(records - s.logEnd <= o.rate / 4 ? 1 : 50);
    }
    if (!Number.isNaN(endAt)) await along.drain(records, endAt, 2);
    const drainMs = performance.now() - endAt;
    const spent = cost.end();
    const r = await produced;
    if (typeof r === 'string') return r;
    if (Number.isNaN(endAt)) return `the log holds fewer records than the ${records} sent`;
    const read = await along.stop();
    if (read < records) return `the consumer read ${read} of ${records} records`;
    const rates = along.rates('production');
    if (typeof rates === 'string') return rates;
    const e2e = await tools.samsaE2e(`${name}-e2e`, c.bootstrap(), topic, {
      records: Math.round(o.rate * Math.min(o.seconds, 10)),
      recordSize: o.recordSize,
      throughput: o.rate,
      acks: 'all',
    });
    if (typeof e2e === 'string') return e2e;
    return {
      ...rates,
      lagAtEnd,
      drainMs,
      e2eP50Ms: e2e.p50Ms,
      e2eP99Ms: e2e.p99Ms,
      cpuSec: spent.cpuSec,
      peakRssMb: spent.peakRssMb,
    };
  } finally {
    along.close();
  }
}

export interface CatchUpOptions {
  partitions: number;
  recordSize: number;
  /** MiB of records written while the broker is stopped. */
  megabytes: number;
  minInsyncReplicas: number;
}

export interface CatchUpMetrics {
  /** Process start -> back in the ISR of its first partition. */
  readyMs: number;
  /** Process start -> back in the ISR of every partition it hosts. */
  rejoinMs: number;
  /** Process start -> the survivors list it as a broker again. */
  listedMs: number;
  /** Record bytes written while it was stopped (MiB, as the tools' MB/s) / rejoin time. */
  catchUpMbPerSec: number;
  /** MiB written while it was stopped and the producer's rate doing so (acks=all, two brokers). */
  writtenMb: number;
  writeMbPerSec: number;
  victim: number;
}

/** Polls `probe` until it returns a value; rejects after ms. */
async function until<T>(
  what: string,
  ms: number,
  every: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export async function measureCatchUp(
  tools: Tools,
  name: string,
  c: ClusterHandle,
  topic: string,
  o: CatchUpOptions,
): Promise<CatchUpMetrics | string> {
  await createReplicatedTopic(c, topic, o.partitions, { 'min.insync.replicas': String(o.minInsyncReplicas) });
  // Not the controller (Samsa's is a broker; stopping it is a different failure: the controller moves too).
  const controller = await c.controllerBroker();
  const victim = [...c.running()].reverse().find((id) => id !== controller);
  if (victim === undefined) return 'no broker other than the controller';
  const survivor = c.running().find((id) => id !== victim) as number;
  let restarting: Promise<string | null> | null = null;
  try {
    await c.stopBroker(victim);
    await until(`broker ${victim} out of every leader and ISR of ${topic}`, 60_000, 50, async () => {
      const m = await metadataOf(c.port(survivor), [topic]);
      const ps = m.topics[0]?.partitions ?? [];
      const out =
        ps.length === o.partitions &&
        ps.every((p) => p.leaderId >= 0 && p.leaderId !== victim && !p.isrNodes.includes(victim));
      return out ? true : undefined;
    });
    const records = Math.round((o.megabytes * 1024 * 1024) / o.recordSize);
    const bootstrap = c
      .running()
      .map((id) => `127.0.0.1:${c.port(id)}`)
      .join(',');
    const w = await tools.samsaProduce(`${name}-write`, bootstrap, topic, {
      records,
      recordSize: o.recordSize,
      acks: 'all',
      compression: 'none',
    });
    if (typeof w === 'string') return `writing while broker ${victim} was stopped: ${w}`;
    const bytes = records * o.recordSize;

    const t0 = Date.now();
    restarting = c.restart(victim).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    let listedAt = Number.NaN;
    let readyAt = Number.NaN;
    const rejoinAt = await until(`broker ${victim} back in every ISR of ${topic}`, 600_000, 50, async () => {
      const m = await metadataOf(c.port(survivor), [topic]);
      const now = Date.now();
      if (Number.isNaN(listedAt) && m.brokers.some((b) => b.nodeId === victim)) listedAt = now;
      const ps = m.topics[0]?.partitions ?? [];
      const back = ps.filter((p) => p.isrNodes.includes(victim)).length;
      if (back > 0 && Number.isNaN(readyAt)) readyAt = now;
      return ps.length === o.partitions && back === ps.length ? now : undefined;
    });
    const failed = await restarting;
    if (failed !== null) return `restarting broker ${victim}: ${failed}`;
    return {
      readyMs: readyAt - t0,
      rejoinMs: rejoinAt - t0,
      listedMs: listedAt - t0,
      catchUpMbPerSec: bytes / 1048576 / ((rejoinAt - t0) / 1000),
      writtenMb: bytes / 1048576,
      writeMbPerSec: w.mbPerSec,
      victim,
    };
  } finally {
    if (restarting !== null) await restarting;
    if (!c.running().includes(victim)) await c.restart(victim).catch(() => {});
  }
}
