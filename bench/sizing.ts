// Memory and file descriptors per partition and per connection, measured on a broker process (the figures in
// docs/operations.md, Sizing). Run after `npm run build`:
//
//   node dist/bench/sizing.js [--topics 10] [--partitions-per-topic 100] [--connections 1000]
//
// Steps: start `samsa broker` on a fresh data dir (metrics on); measure; create the topics; measure; append one
// small batch to every partition; measure; open the connections (each does ApiVersions and a Metadata request,
// then stays idle); measure; close them; measure. Twice, on two broker processes: the first run reads VmRSS and
// the open fds from /proc/<pid> and V8's heap and external memory from /metrics; the second sends SIGUSR2 at
// each step instead, so Node writes a heap snapshot after a full GC, and the live JS heap is the sum of its
// nodes' self sizes (no GC noise; snapshots inflate RSS, hence the separate run). Prints a table and JSON.

import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopic } from '../src/client/admin.js';
import { Cluster } from '../src/client/cluster.js';
import { KafkaConnection } from '../src/client/connection.js';
import { Producer } from '../src/client/producer.js';
import { ApiKey } from '../src/protocol/generated/apis.js';
import { Args } from './lib/args.js';

const count = { positive: true, integer: true };
const { topics, perTopic, connections } = new Args().parse(
  'Usage: node dist/bench/sizing.js [--topics 10] [--partitions-per-topic 100] [--connections 1000]',
  (a) => ({
    topics: a.num('--topics', 10, count),
    perTopic: a.num('--partitions-per-topic', 100, count),
    connections: a.num('--connections', 1000, count),
  }),
);

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  step: string;
  rssBytes: number;
  fds: number;
  /** V8 heap committed and used, external (Buffers, ArrayBuffers) from /metrics at that moment. */
  heapTotalBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  /** Live JS heap after a full GC (second run). */
  liveHeapBytes: number;
}

async function scrape(metricsPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m =
      /^(nodejs_heap_size_total_bytes|nodejs_heap_size_used_bytes|nodejs_external_memory_bytes) (\S+)$/.exec(
        line,
      );
    if (m !== null) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

/** Live JS heap: the sum of self sizes in a heap snapshot (taken after a full GC). */
async function liveHeap(child: ChildProcess, dir: string): Promise<number> {
  const before = new Set(fs.readdirSync(dir));
  child.kill('SIGUSR2');
  let file: string | undefined;
  let size = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(100);
    file ??= fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file === undefined) continue;
    // Written in one go by the broker's main thread: done when the JSON parses.
    const s = fs.statSync(path.join(dir, file)).size;
    if (s === size && s > 0) {
      try {
        const snap = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
          snapshot: { meta: { node_fields: string[] } };
          nodes: number[];
        };
        fs.rmSync(path.join(dir, file));
        const fields = snap.snapshot.meta.node_fields;
        const selfSize = fields.indexOf('self_size');
        let total = 0;
        for (let n = selfSize; n < snap.nodes.length; n += fields.length) total += snap.nodes[n]!;
        return total;
      } catch {
        // not complete yet
      }
    }
    size = s;
  }
  throw new Error('no heap snapshot within 60 s');
}

/** One broker lifetime through every step; heap: take heap snapshots instead of reading RSS. */
async function runSteps(heap: boolean): Promise<Partial<Sample>[]> {
  const root = repoRoot();
  const dataDir = fs.mkdtempSync(path.join(tmpdir(), 'samsa-sizing-'));
  const snapDir = path.join(dataDir, 'snapshots');
  fs.mkdirSync(snapDir);
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`] : []),
      path.join(root, 'bin/samsa.js'),
      'broker',
      '--override',
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      '--override',
      `log.dirs=${path.join(dataDir, 'data')}`,
      '--override',
      `metrics.http.port=${metricsPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const pid = child.pid!;
  const samples: Partial<Sample>[] = [];
  const measure = async (step: string): Promise<void> => {
    await sleep(2000); // let start-up work and background flushes settle
    if (heap) {
      const liveHeapBytes = await liveHeap(child, snapDir);
      samples.push({ step, liveHeapBytes });
      console.error(`${step}: live heap ${(liveHeapBytes / 2 ** 20).toFixed(1)} MiB`);
    } else {
      const m = await scrape(metricsPort);
      const sample = {
        step,
        rssBytes: rss(pid),
        fds: fs.readdirSync(`/proc/${pid}/fd`).length,
        heapTotalBytes: m.get('nodejs_heap_size_total_bytes') ?? 0,
        heapUsedBytes: m.get('nodejs_heap_size_used_bytes') ?? 0,
        externalBytes: m.get('nodejs_external_memory_bytes') ?? 0,
      };
      samples.push(sample);
      console.error(`${step}: ${JSON.stringify(sample)}`);
    }
  };
  try {
    for (let i = 0; ; i++) {
      try {
        (await KafkaConnection.connect({ host: '127.0.0.1', port })).close();
        break;
      } catch {
        if (i > 300) throw new Error('broker did not start');
        await sleep(100);
      }
    }
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${port}` });
    // A scrape first, so the metrics registry's own lazily built state is in the baseline.
    await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    await measure('started');

    const names = Array.from({ length: topics }, (_, i) => `sizing-${i}`);
    for (const name of names) await createTopic(cluster, name, { partitions: perTopic });
    await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    await measure(`${topics * perTopic} empty partitions`);

    const producer = Producer.on(cluster, { acks: -1 });
    for (const name of names) {
      await producer.send(
        name,
        Array.from({ length: perTopic }, (_, p) => ({ value: 'x'.repeat(100), partition: p })),
      );
    }
    await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    await measure('one 100-byte record in each');

    const conns: KafkaConnection[] = [];
    for (let i = 0; i < connections; i++) {
      const c = await KafkaConnection.connect({ host: '127.0.0.1', port });
      await c.request(ApiKey.Metadata, {
        topics: [{ name: names[0], topicId: null }],
        allowAutoTopicCreation: false,
      });
      conns.push(c);
    }
    await measure(`+ ${connections} idle connections`);
    for (const c of conns) c.close();
    await measure('connections closed');
    cluster.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return samples;
}

async function main(): Promise<void> {
  const first = await runSteps(false);
  const second = await runSteps(true);
  const samples = first.map((s, i) => ({ ...s, liveHeapBytes: second[i]?.liveHeapBytes ?? 0 }) as Sample);

  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const kib = (b: number) => (b / 1024).toFixed(1);
  console.log(
    '| step | RSS MiB | V8 heap committed MiB | V8 heap used MiB | external MiB | live heap after GC MiB | open fds |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const s of samples) {
    console.log(
      `| ${s.step} | ${mib(s.rssBytes)} | ${mib(s.heapTotalBytes)} | ${mib(s.heapUsedBytes)} | ${mib(s.externalBytes)} | ${mib(s.liveHeapBytes)} | ${s.fds} |`,
    );
  }
  const [start, empty, written, connected] = samples;
  const n = topics * perTopic;
  const per = (what: string, from: Sample, to: Sample, count: number): void => {
    console.log(
      `per ${what}: RSS ${kib((to.rssBytes - from.rssBytes) / count)} KiB, live heap ${kib((to.liveHeapBytes - from.liveHeapBytes) / count)} KiB, external ${kib((to.externalBytes - from.externalBytes) / count)} KiB, fds ${((to.fds - from.fds) / count).toFixed(2)}`,
    );
  };
  if (start && empty && written && connected) {
    console.log('');
    per('empty partition', start, empty, n);
    per('partition with one batch', start, written, n);
    per('idle connection', written, connected, connections);
  }
  console.log(JSON.stringify({ topics, perTopic, connections, samples }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
