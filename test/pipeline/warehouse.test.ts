// The warehouse pipeline end to end with real parts only (docs/pipeline.md, the warehouse section): a Samsa broker, a real
// `samsa registry` process, Avro records encoded with the ids that registry gave (@kafkajs/confluent-schema-registry)
// and produced with kafkajs, `samsa sink --registry <that registry> --format parquet`, and pyarrow and DuckDB (when
// installed) reading typed value_<field> columns with the right values. The schema evolves mid-stream (a new
// optional field, registered while the sink runs): the files written after it have a new nullable column, which
// the readers' schema merging fills with nulls for the older rows. (The registry keeping its ids across a restart
// is tested in test/registry/registry.test.ts.)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import kafkajs from 'kafkajs';
import { parseFileName } from '../../src/pipeline/sink-files.js';
import { samsaArgv } from '../cli/cli-helpers.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { type RegistryHandle, startRegistry } from '../helpers/registry.js';
import { type Running, start } from '../helpers/run.js';

const { Kafka, logLevel } = kafkajs;

function pythonHas(mod: string): boolean {
  try {
    execFileSync('python3', ['-c', `import ${mod}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasPyarrow = pythonHas('pyarrow');
const hasDuckdb = pythonHas('duckdb');

const TOPIC = 'orders';
const V1 = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'paid', type: 'boolean' },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'coupon', type: ['null', 'string'], default: null }] };
const PER_VERSION = 500;

interface Order {
  id: number;
  customer: string;
  amount: number;
  paid: boolean;
  coupon?: string | null;
}

function order(i: number): Order {
  const o: Order = { id: i, customer: `c${i % 13}`, amount: i * 0.5, paid: i % 3 !== 0 };
  if (i >= PER_VERSION) o.coupon = i % 4 === 0 ? `SAVE${i}` : null;
  return o;
}

/** Offsets of TOPIC covered by final file names. */
async function covered(dir: string): Promise<number> {
  let n = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else {
        const r = parseFileName(e.name);
        if (r !== null) n += r.lastOffset - r.firstOffset + 1;
      }
    }
  };
  await walk(join(dir, TOPIC));
  return n;
}

/** Resolves once the sink's files cover `count` offsets; checks after every line the sink logs. */
function waitForFiles(sink: Running, dir: string, count: number, timeoutMs = 180_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let busy = false;
    const timer = setTimeout(() => {
      clearInterval(iv);
      reject(new Error(`files never covered ${count} offsets\nsink stderr:\n${sink.stderr().slice(-3000)}`));
    }, timeoutMs);
    const iv = setInterval(() => {
      if (busy) return;
      busy = true;
      covered(dir).then(
        (n) => {
          busy = false;
          if (n >= count) {
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
  });
}

describe('warehouse pipeline: samsa registry -> Avro producer -> samsa sink -> Parquet -> pyarrow, DuckDB', {
  skip: hasPyarrow ? false : 'pyarrow is not installed (pip install pyarrow)',
}, () => {
  let broker: BrokerHandle;
  let registry: RegistryHandle;
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'samsa-warehouse-'));
    broker = await startBroker();
    registry = await startRegistry(broker.bootstrap);
  });

  after(async () => {
    await registry?.stop();
    await broker?.destroy();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('typed columns with the right values; a schema evolved mid-stream adds a nullable column', {
    timeout: 300_000,
  }, async (t) => {
    const client = new SchemaRegistry({ host: registry.url, retry: { retries: 0 } });
    const subject = `${TOPIC}-value`;
    const kafka = new Kafka({
      clientId: 'samsa-warehouse-test',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const send = async (id: number, from: number, to: number): Promise<void> => {
      const messages = [];
      for (let i = from; i < to; i++)
        messages.push({ key: String(i), value: await client.encode(id, order(i)) });
      await producer.send({ topic: TOPIC, acks: -1, messages });
    };

    const dir = join(work, 'lake');
    const sink = start(
      process.execPath,
      samsaArgv([
        'sink',
        '--bootstrap',
        broker.bootstrap,
        '--topics',
        TOPIC,
        '--group',
        'warehouse',
        '--to',
        dir,
        '--format',
        'parquet',
        '--registry',
        registry.url,
        '--flush-records',
        '1000',
        '--flush-interval',
        '1s',
        '--progress-interval',
        '1s',
      ]),
      { timeoutMs: 280_000, allowFailure: true },
    );
    try {
      const { id: id1 } = await client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(V1) },
        { subject },
      );
      await send(id1, 0, PER_VERSION);
      await waitForFiles(sink, dir, PER_VERSION);
      // Evolved while the sink runs: the new optional field is compatible (BACKWARD) and gets a new id.
      const { id: id2 } = await client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(V2) },
        { subject },
      );
      assert.ok(id2 > id1);
      await send(id2, PER_VERSION, 2 * PER_VERSION);
      await waitForFiles(sink, dir, 2 * PER_VERSION);
      await producer.disconnect();
      sink.kill('SIGTERM');
      assert.equal((await sink.done).code, 0, sink.stderr().slice(-2000));
    } finally {
      sink.kill('SIGKILL');
      await producer.disconnect().catch(() => {});
    }

    // pyarrow: each file's own schema, then all files with their schemas unified.
    const py = execFileSync(
      'python3',
      [
        '-c',
        'import sys, json, glob, pyarrow as pa, pyarrow.parquet as pq\n' +
          'files = sorted(glob.glob(sys.argv[1] + "/**/*.parquet", recursive=True))\n' +
          'tables = [pq.read_table(f) for f in files]\n' +
          'schema = pa.unify_schemas([t.schema for t in tables])\n' +
          't = pa.concat_tables(tables, promote_options="default")\n' +
          'rows = [{**x, "key": x["key"].decode()} for x in t.drop_columns(["value", "headers", "timestamp"]).to_pylist()]\n' +
          'print(json.dumps({"files": len(files), "with_coupon": sum(1 for x in tables if "value_coupon" in x.schema.names),' +
          ' "schema": {f.name: [str(f.type), f.nullable] for f in schema}, "rows": rows}, default=str))',
        join(dir, TOPIC),
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const r = JSON.parse(py) as {
      files: number;
      with_coupon: number;
      schema: Record<string, [string, boolean]>;
      rows: (Order & { key: string } & Record<string, unknown>)[];
    };
    t.diagnostic(`${r.files} files, ${r.with_coupon} with value_coupon`);
    assert.deepEqual(r.schema.value_id, ['int64', true]);
    assert.deepEqual(r.schema.value_customer, ['string', true]);
    assert.deepEqual(r.schema.value_amount, ['double', true]);
    assert.deepEqual(r.schema.value_paid, ['bool', true]);
    assert.deepEqual(r.schema.value_coupon, ['string', true]);
    assert.ok(r.with_coupon > 0 && r.with_coupon < r.files, 'the new column appears in the later files only');
    assert.equal(r.rows.length, 2 * PER_VERSION);
    const byId = new Map(r.rows.map((row) => [Number(row.key), row]));
    assert.equal(byId.size, 2 * PER_VERSION);
    for (let i = 0; i < 2 * PER_VERSION; i++) {
      const row = byId.get(i)!;
      const want = order(i);
      assert.deepEqual(
        [row.value_id, row.value_customer, row.value_amount, row.value_paid, row.value_coupon],
        [want.id, want.customer, want.amount, want.paid, want.coupon ?? null],
        `order ${i}`,
      );
    }

    if (!hasDuckdb) {
      t.diagnostic('duckdb is not installed (pip install duckdb): the DuckDB query was skipped');
      return;
    }
    // DuckDB: the query of docs/pipeline.md, the warehouse section, the files' schemas merged by name.
    const duck = execFileSync(
      'python3',
      [
        '-c',
        'import sys, json, duckdb\n' +
          'q = f"""SELECT count(*), count(value_coupon), sum(value_amount), count(DISTINCT value_customer),\n' +
          '  sum(CASE WHEN value_paid THEN 1 ELSE 0 END), min(value_id), max(value_id), typeof(any_value(value_id))\n' +
          '  FROM read_parquet(\'{sys.argv[1]}/**/*.parquet\', union_by_name = true, hive_partitioning = true)"""\n' +
          'print(json.dumps(duckdb.sql(q).fetchall()[0]))',
        join(dir, TOPIC),
      ],
      { encoding: 'utf8' },
    );
    const all = Array.from({ length: 2 * PER_VERSION }, (_, i) => order(i));
    assert.deepEqual(JSON.parse(duck), [
      2 * PER_VERSION,
      all.filter((o) => typeof o.coupon === 'string').length,
      all.reduce((s, o) => s + o.amount, 0),
      13,
      all.filter((o) => o.paid).length,
      0,
      2 * PER_VERSION - 1,
      'BIGINT',
    ]);
  });
});
