// `samsa produce` end to end: stdin lines become records with keys, headers, codecs and acks as asked.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.js';
import { partitionForKey } from '../../src/client/producer.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { oneLineFailure, samsa } from './cli-helpers.js';

describe('samsa produce', () => {
  let b: InProcessBroker;
  let bs: string[];
  let cluster: Cluster;

  before(async () => {
    b = await startInProcess();
    bs = ['--bootstrap-server', `127.0.0.1:${b.port}`];
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    for (const t of ['p-plain', 'p-keys', 'p-zstd', 'p-headers'])
      await createTopic(cluster, t, { partitions: 3 });
  });
  after(async () => {
    cluster.close();
    await b.stop(true);
  });

  async function readAll(topic: string): Promise<ConsumerRecord[]> {
    const c = Consumer.on(await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` }), { maxWaitMs: 50 });
    await c.assign(topic, 'all', 'earliest');
    const out: ConsumerRecord[] = [];
    for (let i = 0; i < 3; i++) out.push(...(await c.poll()));
    await c.close();
    return out.sort((x, y) => x.partition - y.partition || x.offset - y.offset);
  }

  it('--help', async () => {
    const r = await samsa(['produce', '--help']);
    assert.equal(r.code, 0);
    for (const w of ['parse.key', 'key.separator', '--header', '--compression-codec', '--acks'])
      assert.ok(r.stdout.includes(w), w);
  });

  it('sends each line as a record, in order, unkeyed lines to one partition', async () => {
    const lines = Array.from({ length: 1200 }, (_, i) => `line ${i}`);
    const r = await samsa(['produce', '--topic', 'p-plain', '--batch-size', '100', ...bs], {
      input: `${lines.join('\n')}\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const got = await readAll('p-plain');
    assert.equal(got.length, 1200);
    // Each batch of 100 is sticky to a partition; within a partition the order of the input is kept.
    for (const p of [0, 1, 2]) {
      const idx = got.filter((x) => x.partition === p).map((x) => Number(x.value?.toString().slice(5)));
      assert.deepEqual(
        idx,
        [...idx].sort((a, c) => a - c),
      );
    }
  });

  it('parses keys like the console producer and partitions them like the Java client', async () => {
    const input = 'alpha:1\nbeta:2\ngamma:3:with:colons\n:empty key\n';
    const r = await samsa(
      [
        'produce',
        '--topic',
        'p-keys',
        '--property',
        'parse.key=true',
        '--property',
        'key.separator=:',
        '--header',
        'src=cli',
        '--header',
        'run=7',
        ...bs,
      ],
      { input },
    );
    assert.equal(r.code, 0, r.stderr);
    const got = await readAll('p-keys');
    const byKey = new Map(got.map((x) => [x.key?.toString(), x]));
    assert.equal(byKey.get('gamma')?.value?.toString(), '3:with:colons');
    assert.equal(byKey.get('')?.value?.toString(), 'empty key');
    for (const k of ['alpha', 'beta', 'gamma'])
      assert.equal(byKey.get(k)?.partition, partitionForKey(Buffer.from(k), 3), k);
    assert.deepEqual(
      byKey.get('alpha')?.headers.map((h) => `${h.key}=${h.value?.toString()}`),
      ['src=cli', 'run=7'],
    );
  });

  it('parse.headers, null.marker, --key-separator with escapes, --partition', async () => {
    const input = 'h1:v1,h2:v2\tk1\tv1\n\tk2\tNULL\n';
    const r = await samsa(
      [
        'produce',
        '--topic',
        'p-headers',
        '--property',
        'parse.headers=true',
        '--key-separator',
        '\\t',
        '--property',
        'null.marker=NULL',
        '--partition',
        '2',
        ...bs,
      ],
      { input },
    );
    assert.equal(r.code, 0, r.stderr);
    const got = await readAll('p-headers');
    assert.equal(got.length, 2);
    assert.ok(got.every((x) => x.partition === 2));
    assert.deepEqual(
      got[0]?.headers.map((h) => `${h.key}=${h.value?.toString()}`),
      ['h1=v1', 'h2=v2'],
    );
    assert.equal(got[1]?.value, null);
    assert.equal(got[1]?.key?.toString(), 'k2');
  });

  it('--compression-codec zstd stores zstd batches; --acks 0 still delivers', async () => {
    let r = await samsa(
      ['produce', '--topic', 'p-zstd', '--compression-codec', 'zstd', '--partition', '0', ...bs],
      { input: 'a\nb\nc\n' },
    );
    assert.equal(r.code, 0, r.stderr);
    const res = await cluster.request<FetchResponse>(ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'p-zstd',
          topicId: b.broker.topics.get('p-zstd')?.topicId,
          partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const records = res.responses[0]?.partitions[0]?.records;
    assert.ok(records !== null && records !== undefined && records.length > 61);
    assert.equal(records.readInt16BE(21) & 0x07, 4);
    r = await samsa(['produce', '--topic', 'p-zstd', '--acks', '0', '--partition', '1', ...bs], {
      input: 'fire\nand\nforget\n',
    });
    assert.equal(r.code, 0, r.stderr);
    const got = await readAll('p-zstd');
    assert.deepEqual(
      got.map((x) => x.value?.toString()),
      ['a', 'b', 'c', 'fire', 'and', 'forget'],
    );
  });

  it('creates a missing topic when the broker creates topics on first use, as the console producer does', async () => {
    const r = await samsa(['produce', '--topic', 'p-auto', ...bs], { input: 'first\nsecond\n' });
    assert.equal(r.code, 0, r.stderr);
    const t = await cluster.topic('p-auto', true);
    assert.equal(t.partitions.length, 1); // num.partitions
    assert.deepEqual(
      (await readAll('p-auto')).map((x) => x.value?.toString()),
      ['first', 'second'],
    );
  });

  it('says to run samsa topics --create when the broker does not create topics', async () => {
    const strict = await startInProcess({ 'auto.create.topics.enable': 'false' });
    try {
      const r = await samsa(
        ['produce', '--topic', 'p-none', '--bootstrap-server', `127.0.0.1:${strict.port}`],
        {
          input: 'x\n',
        },
      );
      assert.equal(r.code, 1);
      assert.equal(
        oneLineFailure(r),
        "samsa produce: topic 'p-none' does not exist and the broker does not create topics on first use " +
          "(auto.create.topics.enable=false); create it with 'samsa topics --create --topic p-none'",
      );
      assert.equal(strict.broker.topics.get('p-none'), undefined);
    } finally {
      await strict.stop(true);
    }
  });

  it('fails with one line and a non-zero status', async () => {
    const cases: [string[], string, number, RegExp][] = [
      [['produce', '--topic', 'bad/name', ...bs], 'x\n', 1, /INVALID_TOPIC_EXCEPTION/],
      [
        ['produce', '--topic', 'p-keys', '--property', 'parse.key=true', ...bs],
        'no separator here\n',
        1,
        /no key separator found on line number 1/,
      ],
      [['produce', '--topic', 'p-keys', '--partition', '9', ...bs], 'x\n', 1, /no partition 9/],
      [
        ['produce', '--topic', 'p-keys', '--compression-codec', 'brotli', ...bs],
        '',
        2,
        /--compression-codec must be one of/,
      ],
    ];
    for (const [args, input, code, pattern] of cases) {
      const r = await samsa(args, { input });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), pattern);
    }
  });
});
