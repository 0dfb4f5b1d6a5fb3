// What fetch sessions (KIP-227) save a follower that fetches many partitions: a two-broker ZooKeeper cluster,
// one topic of 1000 partitions with replicas on both (the controller picks one leader for all), run twice: with
// sessions (Kafka's default max.incremental.fetch.session.cache.slots=1000) and without (slots=0: the leader
// opens no session, so every follower fetch is a full fetch of all 1000 partitions). Each run measures two phases:
// idle (no producer) and light load (100 records/s spread over the partitions), each for `phaseMs`:
//   Fetch requests/s, bytes per Fetch request and response (samsa_request_bytes_total /
//   samsa_response_bytes_total of both brokers: the follower's fetches, and the leader's fetches of
//   __consumer_offsets if any), and CPU (user+system, /proc) of the leader and the follower.
// replica.fetch.wait.max.ms is Kafka's default (500 ms).
//
//   npm run build && node dist/bench/fetch-sessions.js [--partitions 1000] [--phase-ms 20000]

import { KafkaConnection } from '../src/client/connection.js';
import { Producer } from '../src/client/producer.js';
import { ApiKey } from '../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../src/protocol/generated/create-topics-response.js';
import { freePort } from '../test/helpers/broker.js';
import { startCluster, type TestCluster } from '../test/helpers/cluster.js';
import { Args } from './lib/args.js';
import { cpuSeconds } from './lib/proc.js';

const { partitions, phaseMs } = new Args().parse(
  'Usage: node dist/bench/fetch-sessions.js [--partitions 1000] [--phase-ms 20000]',
  (a) => ({
    partitions: a.num('--partitions', 1000, { positive: true, integer: true }),
    phaseMs: a.num('--phase-ms', 20_000, { positive: true }),
  }),
);

interface Sample {
  fetches: number;
  requestBytes: number;
  responseBytes: number;
  leaderCpu: number;
  followerCpu: number;
  at: number;
}

interface PhaseResult {
  fetchesPerSec: number;
  requestBytesPerFetch: number;
  responseBytesPerFetch: number;
  leaderCpuPct: number;
  followerCpuPct: number;
}

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function sum(text: string, re: RegExp): number {
  let n = 0;
  for (const m of text.matchAll(re)) n += Number(m[1]);
  return n;
}

async function sample(c: TestCluster, ports: number[]): Promise<Sample> {
  const texts = await Promise.all(ports.map((p) => scrape(p)));
  const total = (re: RegExp): number => texts.reduce((n, t) => n + sum(t, re), 0);
  return {
    fetches: total(/^samsa_requests_total\{api="Fetch",version="\d+"\} (\S+)$/gm),
    requestBytes: total(/^samsa_request_bytes_total\{api="Fetch"\} (\S+)$/gm),
    responseBytes: total(/^samsa_response_bytes_total\{api="Fetch"\} (\S+)$/gm),
    leaderCpu: cpuSeconds(c.broker(leader).pid() as number),
    followerCpu: cpuSeconds(c.broker(3 - leader).pid() as number),
    at: performance.now(),
  };
}

/** The broker that leads the topic's partitions (the controller picks it; all partitions share one). */
let leader = 1;

function diff(a: Sample, b: Sample): PhaseResult {
  const secs = (b.at - a.at) / 1000;
  const fetches = b.fetches - a.fetches;
  return {
    fetchesPerSec: fetches / secs,
    requestBytesPerFetch: (b.requestBytes - a.requestBytes) / fetches,
    responseBytesPerFetch: (b.responseBytes - a.responseBytes) / fetches,
    leaderCpuPct: ((b.leaderCpu - a.leaderCpu) / secs) * 100,
    followerCpuPct: ((b.followerCpu - a.followerCpu) / secs) * 100,
  };
}

async function runOnce(sessions: boolean): Promise<{ idle: PhaseResult; load: PhaseResult }> {
  const ports = [await freePort(), await freePort()];
  const c = await startCluster({
    brokers: 2,
    overrides: {
      'replica.fetch.wait.max.ms': '500',
      'zookeeper.session.timeout.ms': '30000',
      'max.incremental.fetch.session.cache.slots': sessions ? '1000' : '0',
    },
    brokerOverrides: {
      1: { 'metrics.http.port': String(ports[0]) },
      2: { 'metrics.http.port': String(ports[1]) },
    },
    readyTimeoutMs: 120_000,
  });
  try {
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: c.broker(1).port });
    try {
      const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
        topics: [
          {
            name: 'bench',
            numPartitions: -1,
            replicationFactor: -1,
            assignments: Array.from({ length: partitions }, (_, partitionIndex) => ({
              partitionIndex,
              brokerIds: [1, 2],
            })),
            configs: [],
          },
        ],
        timeoutMs: 60_000,
        validateOnly: false,
      });
      if (res.topics[0]?.errorCode !== 0) throw new Error(`CreateTopics: ${JSON.stringify(res.topics[0])}`);
    } finally {
      conn.close();
    }
    const deadline = Date.now() + 180_000;
    for (;;) {
      const views = await Promise.all([1, 2].map((id) => c.metadata(id, ['bench'])));
      const ps = views.flatMap((m) => m.topics[0]?.partitions ?? []);
      const leaders = new Set(ps.map((p) => p.leaderId));
      if (ps.length === 2 * partitions && ps.every((p) => p.isrNodes.length === 2) && leaders.size === 1) {
        leader = ps[0]?.leaderId as number;
        break;
      }
      if (Date.now() > deadline) {
        const count = (id: number, f: (p: { leaderId: number; isrNodes: number[] }) => boolean) =>
          (views[id - 1]?.topics[0]?.partitions ?? []).filter(f).length;
        for (const id of [1, 2]) {
          const lines = c.broker(id).logs().split('\n');
          const bad = lines.filter((l) => /"level":"(warn|error)"/.test(l));
          console.error(`broker ${id}: ${bad.length} warn/error lines; last:\n${bad.slice(-5).join('\n')}`);
        }
        throw new Error(
          `the topic did not get one leader and full ISRs in 180 s: ${[1, 2]
            .map(
              (id) =>
                `broker ${id} sees ${count(id, () => true)} partitions, led by 1: ${count(id, (p) => p.leaderId === 1)}, by 2: ${count(id, (p) => p.leaderId === 2)}, full ISR: ${count(id, (p) => p.isrNodes.length === 2)}`,
            )
            .join('; ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const s0 = await sample(c, ports);
    await new Promise((r) => setTimeout(r, phaseMs));
    const s1 = await sample(c, ports);
    const producer = await Producer.connect({ bootstrap: c.bootstrapOf(leader), acks: 1 });
    let stop = false;
    const load = (async () => {
      let i = 0;
      while (!stop) {
        try {
          await producer.send('bench', [{ value: `r${i}`, partition: (i * 7919) % partitions }]);
        } catch (err) {
          console.error(`produce failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        i++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 2000));
    const s2 = await sample(c, ports);
    await new Promise((r) => setTimeout(r, phaseMs));
    const s3 = await sample(c, ports);
    stop = true;
    await load;
    await producer.close();
    return { idle: diff(s0, s1), load: diff(s2, s3) };
  } finally {
    await c.destroy();
  }
}

function fmt(r: PhaseResult): string {
  return [
    r.fetchesPerSec.toFixed(1).padStart(8),
    r.requestBytesPerFetch.toFixed(0).padStart(10),
    r.responseBytesPerFetch.toFixed(0).padStart(10),
    `${r.leaderCpuPct.toFixed(1)}%`.padStart(8),
    `${r.followerCpuPct.toFixed(1)}%`.padStart(8),
  ].join(' ');
}

const withSessions = await runOnce(true);
const without = await runOnce(false);
console.log(`follower fetching ${partitions} partitions from one leader, phases of ${phaseMs} ms`);
console.log('run                       fetch/s  req B/fetch resp B/fetch  leader  follower');
console.log(`sessions     idle        ${fmt(withSessions.idle)}`);
console.log(`sessions     100 rec/s   ${fmt(withSessions.load)}`);
console.log(`no sessions  idle        ${fmt(without.idle)}`);
console.log(`no sessions  100 rec/s   ${fmt(without.load)}`);
