// `samsa sink` against a real broker: 50,000 records (keys, headers, timestamps over three hours) sunk to Parquet and
// to JSON lines by the CLI in a child process that is killed with SIGKILL midway and started again; then pyarrow
// (Parquet) or Python's json module (jsonl) reads the files as a data-lake reader does (test/pipeline/sink_check.py)
// and must find every record exactly once, with its key, value, headers and timestamp, in its hour folder, and no
// temporary file. The sink is killed while only the first half of its topic exists, so "midway" holds by
// construction; the second half is produced before it starts again. Also: the files' recovery rules on crafted folders, resuming from files without any committed
// offset, and Avro values decoded through a schema registry (a tiny Confluent REST server in this test).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer, type ProducerRecord } from '../../src/client/producer.js';
import { bucketOf, parseFileName, recoverTopic, tempName } from '../../src/pipeline/sink-files.js';
import { samsa, samsaArgv } from '../cli/cli-helpers.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { type Running, repoRoot, start } from '../helpers/run.js';

const N = 50_000;
const HOUR = 3_600_000;
const STEP_MS = (3 * HOUR) / N; // 216 ms: the timestamps fill three hours
/** One topic per format, so that each kill lands while only the first half of its topic exists. */
const topicOf = (format: 'parquet' | 'jsonl'): string => `sink-events-${format}`;

function python(mod: string): boolean {
  try {
    execFileSync('python3', ['-c', mod === '' ? 'pass' : `import ${mod}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasPython = python('');
const hasPyarrow = hasPython && python('pyarrow');

function record(i: number, base: number): ProducerRecord {
  return {
    key: i % 97 === 1 ? null : `k${i}`,
    value: i % 101 === 2 && i % 97 !== 1 ? null : Buffer.from(`${i}:`.padEnd(1024, 'x')),
    headers:
      i % 5 === 0
        ? []
        : [
            { key: 'idx', value: String(i) },
            { key: 'nil', value: null },
          ],
    timestamp: base + ((i * 7919) % N) * STEP_MS,
  };
}

interface CheckResult {
  rows: number;
  distinct: number;
  files: number;
  hiddenFiles: string[];
  folders: string[];
  errors: string[];
  reader: string;
}

function check(dir: string, format: string, topic: string, base: number): CheckResult {
  const script = join(repoRoot(), 'test', 'pipeline', 'sink_check.py');
  const out = execFileSync(
    'python3',
    [script, dir, format, topic, String(N), String(base), String(STEP_MS), 'hour'],
    {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(out) as CheckResult;
}

/** Offsets covered by the final files' names (each flush's range once). */
async function coveredOffsets(dir: string, topic: string): Promise<number> {
  const ranges = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else {
        const r = parseFileName(e.name);
        if (r !== null) ranges.add(`${r.partition}:${r.firstOffset}:${r.lastOffset}`);
      }
    }
  };
  await walk(join(dir, topic));
  let n = 0;
  for (const k of ranges) {
    const [, first, last] = k.split(':').map(Number) as [number, number, number];
    n += last - first + 1;
  }
  return n;
}

function startSink(
  bootstrap: string,
  group: string,
  dir: string,
  format: string,
  topics: string,
  extra: string[] = [],
): Running {
  const args = samsaArgv([
    'sink',
    '--bootstrap',
    bootstrap,
    '--topics',
    topics,
    '--group',
    group,
    '--to',
    dir,
    '--format',
    format,
    '--flush-records',
    '4000',
    '--flush-interval',
    '1s',
    '--progress-interval',
    '1s',
    ...extra,
  ]);
  return start(process.execPath, args, { timeoutMs: 240_000, allowFailure: true });
}

/** Resolves when `cond` holds, checking on every line the sink prints (progress comes every second). */
function waitFor(
  sink: Running,
  what: string,
  cond: () => Promise<boolean>,
  timeoutMs = 180_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let busy = false;
    const timer = setTimeout(() => {
      clearInterval(iv);
      reject(new Error(`timed out waiting for ${what}\nsink stderr:\n${sink.stderr().slice(-3000)}`));
    }, timeoutMs);
    const iv = setInterval(() => {
      if (busy) return;
      busy = true;
      cond().then(
        (ok) => {
          busy = false;
          if (ok) {
            clearInterval(iv);
            clearTimeout(timer);
            resolve();
          }
        },
        (e: unknown) => {
          clearInterval(iv);
          clearTimeout(timer);
          reject(e);
        },
      );
    }, 200);
    sink.done.catch(() => {});
  });
}

describe('sink files', () => {
  test('folders follow the record timestamp in UTC', () => {
    const ts = Date.UTC(2026, 2, 9, 23, 59, 59, 999);
    assert.equal(bucketOf(ts, 'hour'), 'date=2026-03-09/hour=23');
    assert.equal(bucketOf(ts + 1, 'hour'), 'date=2026-03-10/hour=00');
    assert.equal(bucketOf(ts, 'day'), 'date=2026-03-09');
    assert.equal(bucketOf(ts, 'none'), '');
    assert.equal(bucketOf(-1, 'hour'), 'date=1970-01-01/hour=00');
  });

  test('file names carry topic (dashes included), partition and offset range', () => {
    assert.deepEqual(parseFileName('my-topic-v2-3-100-199.parquet'), {
      topic: 'my-topic-v2',
      partition: 3,
      firstOffset: 100,
      lastOffset: 199,
    });
    assert.equal(parseFileName(tempName('t-0-1-2.parquet')), null);
    assert.equal(parseFileName('t-0-1-2.csv'), null);
  });

  test('recovery rolls an interrupted file set forward, deletes unfinished ones, leaves other partitions alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sink-recover-'));
    try {
      const h10 = join(dir, 't', 'date=2026-01-01', 'hour=10');
      const h11 = join(dir, 't', 'date=2026-01-01', 'hour=11');
      await mkdir(h10, { recursive: true });
      await mkdir(h11, { recursive: true });
      // Partition 0: flush 0-99 complete; flush 100-199 renamed in hour=10 only (crash mid-rename);
      // flush 200-299 never renamed (crash while writing).
      await writeFile(join(h10, 't-0-0-99.jsonl'), 'a\n');
      await writeFile(join(h10, 't-0-100-199.jsonl'), 'b\n');
      await writeFile(join(h11, tempName('t-0-100-199.jsonl')), 'c\n');
      await writeFile(join(h11, tempName('t-0-200-299.jsonl')), 'partial');
      // Partition 1 belongs to another sink of the group.
      await writeFile(join(h11, tempName('t-1-0-5.jsonl')), 'other');
      const r = await recoverTopic(dir, 't', new Set([0]));
      assert.equal(r.lastOffsets.get(0), 199);
      assert.equal(r.lastOffsets.has(1), false);
      assert.deepEqual(r.rolledForward, [join(h11, 't-0-100-199.jsonl')]);
      assert.deepEqual(r.deleted, [join(h11, tempName('t-0-200-299.jsonl'))]);
      assert.equal(await readFile(join(h11, 't-0-100-199.jsonl'), 'utf8'), 'c\n');
      assert.deepEqual((await readdir(h11)).sort(), [tempName('t-1-0-5.jsonl'), 't-0-100-199.jsonl'].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('samsa sink against a broker', { timeout: 900_000 }, () => {
  let broker: BrokerHandle;
  let work: string;
  let base: number;

  /** Records [from, to) of `topic`, in batches of 1,000. */
  async function produce(topic: string, from: number, to: number): Promise<void> {
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    try {
      const producer = Producer.on(cluster, { compression: 'lz4' });
      for (let at = from; at < to; at += 1000) {
        const batch: ProducerRecord[] = [];
        for (let i = at; i < Math.min(to, at + 1000); i++) batch.push(record(i, base));
        await producer.send(topic, batch);
      }
      await producer.close();
    } finally {
      cluster.close();
    }
  }
  const rest = new Map<string, Promise<void>>();
  /** The second half of a format's topic, produced once. */
  const produceRest = (topic: string): Promise<void> => {
    let p = rest.get(topic);
    if (p === undefined) {
      p = produce(topic, N / 2, N);
      rest.set(topic, p);
    }
    return p;
  };

  before(async () => {
    broker = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0' } });
    work = await mkdtemp(join(tmpdir(), 'sink-test-'));
    // Whole hours in the past (brokers refuse timestamps more than an hour ahead).
    base = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    try {
      for (const format of ['parquet', 'jsonl'] as const)
        await createTopic(cluster, topicOf(format), { partitions: 3 });
    } finally {
      cluster.close();
    }
    // Only the first half: the sink is killed before the second half exists, so the kill is midway by construction.
    for (const format of ['parquet', 'jsonl'] as const) await produce(topicOf(format), 0, N / 2);
  });

  after(async () => {
    await broker?.destroy();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  for (const format of ['parquet', 'jsonl'] as const) {
    const reason =
      format === 'parquet'
        ? hasPyarrow
          ? false
          : 'pyarrow is not installed (pip install pyarrow)'
        : hasPython
          ? false
          : 'python3 is not installed';
    test(`${format}: killed with SIGKILL midway and restarted, every record lands in exactly one file`, {
      skip: reason,
    }, async () => {
      const dir = join(work, format);
      const topic = topicOf(format);
      const group = `lake-${format}`;
      const first = startSink(broker.bootstrap, group, dir, format, topic);
      await waitFor(
        first,
        'a third of the records in files',
        async () => (await coveredOffsets(dir, topic)) >= N / 3,
      );
      first.kill('SIGKILL');
      const killed = await first.done.catch((e: { result?: { signal?: string } }) => e.result);
      assert.equal(killed?.signal, 'SIGKILL');
      const midway = await coveredOffsets(dir, topic);
      assert.ok(midway < N, `the sink was killed before the end (${midway} of ${N} written)`);
      await produceRest(topic);

      const second = startSink(broker.bootstrap, group, dir, format, topic, ['--metrics-port', '0']);
      if (format === 'jsonl') {
        // The broker going away and coming back midway: the sink joins again and goes on.
        await waitFor(
          second,
          'two thirds of the records in files',
          async () => (await coveredOffsets(dir, topic)) >= (2 * N) / 3,
        );
        await broker.restart();
      }
      await waitFor(second, 'every record in files', async () => (await coveredOffsets(dir, topic)) >= N);
      const port = /"msg":"metrics on \/metrics","port":(\d+)/.exec(second.stderr())?.[1];
      assert.ok(port !== undefined, 'the metrics port is logged');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /samsa_sink_records_total\{topic="sink-events-(parquet|jsonl)"\} \d+/);
      assert.match(metrics, /# TYPE samsa_sink_lag_records gauge/);
      second.kill('SIGTERM');
      const stopped = await second.done;
      assert.equal(stopped.code, 0, stopped.stderr.slice(-2000));
      assert.match(stopped.stderr, /records\/s/);

      const r = check(dir, format, topic, base);
      assert.deepEqual(r.errors, []);
      assert.equal(r.rows, N);
      assert.equal(r.distinct, N);
      assert.deepEqual(r.hiddenFiles, [], 'no temporary file is left');
      const hours = [0, 1, 2].map((h) => bucketOf(base + h * HOUR, 'hour'));
      assert.deepEqual(r.folders, hours);
    });
  }

  test('a sink in a new group resumes after the files already in the folder (nothing written twice)', {
    skip: hasPython ? false : 'python3 is not installed',
  }, async () => {
    const dir = join(work, 'resume');
    const topic = topicOf('jsonl');
    await produceRest(topic);
    const a = startSink(broker.bootstrap, 'lake-resume-a', dir, 'jsonl', topic);
    await waitFor(a, 'every record in files', async () => (await coveredOffsets(dir, topic)) >= N);
    a.kill('SIGTERM');
    assert.equal((await a.done).code, 0);
    // No offsets committed for this group: without the files it would start from the beginning.
    const b = startSink(broker.bootstrap, 'lake-resume-b', dir, 'jsonl', topic);
    // Caught up (lag 0) once it has joined, with nothing written.
    await waitFor(b, 'lag 0 after the assignment', async () => /"resumeAfter"[\s\S]*lag 0,/.test(b.stderr()));
    b.kill('SIGTERM');
    const done = await b.done;
    assert.equal(done.code, 0);
    assert.match(done.stderr, /stopped; 0 records in 0 files/);
    const r = check(dir, 'jsonl', topic, base);
    assert.deepEqual(r.errors, []);
    assert.equal(r.rows, N);
  });

  test('--registry: Avro values become value_<field> columns; a newer schema adds nullable columns', {
    skip: hasPyarrow ? false : 'pyarrow is not installed (pip install pyarrow)',
  }, async (t) => {
    let avsc: { Type: { forSchema(s: unknown): { toBuffer(v: unknown): Buffer } } };
    try {
      const m = (await import('avsc')) as unknown as { default?: typeof avsc } & typeof avsc;
      avsc = m.default ?? m;
    } catch {
      t.skip('avsc is not installed (the schema registry branch adds it)');
      return;
    }
    const v1 = {
      type: 'record',
      name: 'Order',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'name', type: 'string' },
        { name: 'amount', type: 'double' },
      ],
    };
    const v2 = {
      ...v1,
      fields: [
        ...v1.fields,
        { name: 'note', type: ['null', 'string'], default: null },
        { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
      ],
    };
    const schemas = new Map<number, unknown>([
      [1, v1],
      [2, v2],
    ]);
    const asked: string[] = [];
    // Confluent's REST API, the one call a consumer makes: GET /schemas/ids/{id}.
    const registry = http.createServer((req, res) => {
      asked.push(req.url ?? '');
      const m = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
      const schema = m === null ? undefined : schemas.get(Number(m[1]));
      if (schema === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify({ schema: JSON.stringify(schema) }));
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
    const framed = (id: number, schema: unknown, v: unknown): Buffer => {
      const head = Buffer.alloc(5);
      head.writeInt32BE(id, 1);
      return Buffer.concat([head, avsc.Type.forSchema(schema).toBuffer(v)]);
    };
    const topic = 'sink-avro';
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    try {
      await createTopic(cluster, topic, { partitions: 1 });
      const producer = Producer.on(cluster, {});
      const records: ProducerRecord[] = [];
      for (let i = 0; i < 10; i++)
        records.push({ value: framed(1, v1, { id: i, name: `n${i}`, amount: i / 2 }) });
      for (let i = 10; i < 20; i++) {
        records.push({
          value: framed(2, v2, {
            id: i,
            name: `n${i}`,
            amount: i / 2,
            note: i % 2 ? `odd ${i}` : null,
            tags: ['a', String(i)],
          }),
        });
      }
      records.push({ value: framed(99, v1, { id: 99, name: 'unknown schema', amount: 0 }) });
      records.push({ value: 'not avro' });
      await producer.send(topic, records);
      await producer.close();
      const dir = join(work, 'avro');
      const sink = startSink(broker.bootstrap, 'lake-avro', dir, 'parquet', topic, ['--registry', url]);
      await waitFor(sink, 'every record in files', async () => (await coveredOffsets(dir, topic)) >= 22);
      sink.kill('SIGTERM');
      assert.equal((await sink.done).code, 0);
      const out = execFileSync(
        'python3',
        [
          '-c',
          'import sys, json, pyarrow.dataset as ds\n' +
            't = ds.dataset(sys.argv[1], format="parquet").to_table().sort_by("offset")\n' +
            'print(json.dumps({"schema": {f.name: str(f.type) for f in t.schema}, "rows": t.drop_columns(["key", "value", "headers", "timestamp"]).to_pylist()}))',
          join(dir, topic),
        ],
        { encoding: 'utf8' },
      );
      const r = JSON.parse(out) as { schema: Record<string, string>; rows: Record<string, unknown>[] };
      assert.equal(r.schema.value_id, 'int64');
      assert.equal(r.schema.value_name, 'string');
      assert.equal(r.schema.value_amount, 'double');
      assert.equal(r.schema.value_note, 'string');
      assert.equal(r.rows.length, 22);
      assert.deepEqual(r.rows[3], {
        topic,
        partition: 0,
        offset: 3,
        value_id: 3,
        value_name: 'n3',
        value_amount: 1.5,
        value_note: null,
        value_tags: null,
      });
      assert.deepEqual(r.rows[13], {
        topic,
        partition: 0,
        offset: 13,
        value_id: 13,
        value_name: 'n13',
        value_amount: 6.5,
        value_note: 'odd 13',
        value_tags: '["a","13"]',
      });
      for (const i of [20, 21]) {
        assert.deepEqual(r.rows[i], {
          topic,
          partition: 0,
          offset: i,
          value_id: null,
          value_name: null,
          value_amount: null,
          value_note: null,
          value_tags: null,
        });
      }
      assert.deepEqual([...new Set(asked)].sort(), ['/schemas/ids/1', '/schemas/ids/2', '/schemas/ids/99']);
    } finally {
      cluster.close();
      registry.closeAllConnections();
      await new Promise((r) => registry.close(r));
    }
  });

  test('usage errors exit 2 with one line', async () => {
    const r = await samsa(['sink', '--topics', 'x', '--group', 'g']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--to is required/);
    const bad = await samsa(['sink', '--topics', '(', '--group', 'g', '--to', '/tmp/x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--topics is not a valid regex/);
  });
});
