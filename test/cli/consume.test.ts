// `samsa consume` end to end: start positions, partitions, stop conditions, formats and groups.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { oneLineFailure, samsa } from './cli-helpers.js';

describe('samsa consume', () => {
  let b: InProcessBroker;
  let bs: string[];
  // In the past: Kafka 4 refuses CreateTime timestamps more than message.timestamp.after.max.ms (1 h) ahead.
  const t0 = Date.UTC(2024, 0, 1);

  before(async () => {
    b = await startInProcess({ 'group.initial.rebalance.delay.ms': '0' });
    bs = ['--bootstrap-server', `127.0.0.1:${b.port}`];
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'c', { partitions: 2 });
    const producer = Producer.on(cluster, { compression: 'lz4' });
    // Partition 0: k0..k4 at t0, t0+1s, ...; partition 1: k5..k9.
    for (let i = 0; i < 10; i++) {
      await producer.send('c', [
        {
          key: `k${i}`,
          value: `v${i}`,
          partition: i < 5 ? 0 : 1,
          timestamp: t0 + i * 1000,
          headers: [{ key: 'n', value: String(i) }],
        },
      ]);
    }
    await producer.close();
  });
  after(async () => {
    await b.stop(true);
  });

  const lines = (s: string): string[] =>
    s
      .trimEnd()
      .split('\n')
      .filter((l) => l !== '');

  it('--help', async () => {
    const r = await samsa(['consume', '--help']);
    assert.equal(r.code, 0);
    for (const w of [
      '--from-beginning',
      '--offset',
      '--partition',
      '--timestamp',
      '--group',
      '--max-messages',
      '--timeout-ms',
      '--format',
    ]) {
      assert.ok(r.stdout.includes(w), w);
    }
  });

  it('--from-beginning --max-messages, values by default; Kafka summary on stderr', async () => {
    const r = await samsa([
      'consume',
      '--topic',
      'c',
      '--partition',
      '0',
      '--from-beginning',
      '--max-messages',
      '3',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), ['v0', 'v1', 'v2']);
    assert.equal(r.stderr, 'Processed a total of 3 messages\n');
  });

  it('--offset, --timestamp, --timeout-ms, --format kv and json', async () => {
    let r = await samsa([
      'consume',
      '--topic',
      'c',
      '--partition',
      '1',
      '--offset',
      '3',
      '--timeout-ms',
      '1000',
      '--format',
      'kv',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), ['k8\tv8', 'k9\tv9']);

    r = await samsa([
      'consume',
      '--topic',
      'c',
      '--timestamp',
      new Date(t0 + 3500).toISOString(),
      '--timeout-ms',
      '1000',
      '--format',
      'json',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const objs = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(objs.map((o) => o.value).sort(), ['v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
    assert.deepEqual(
      objs.find((o) => o.value === 'v4'),
      {
        topic: 'c',
        partition: 0,
        offset: 4,
        timestamp: t0 + 4000,
        timestampType: 'CreateTime',
        key: 'k4',
        value: 'v4',
        headers: [{ key: 'n', value: '4' }],
      },
    );

    r = await samsa(['consume', '--topic', 'c', '--timeout-ms', '800', ...bs]); // default: only new records
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Processed a total of 0 messages\n');
  });

  it("Kafka's formatter properties", async () => {
    const r = await samsa([
      'consume',
      '--topic',
      'c',
      '--partition',
      '0',
      '--from-beginning',
      '--max-messages',
      '1',
      '--property',
      'print.timestamp=true',
      '--property',
      'print.partition=true',
      '--property',
      'print.offset=true',
      '--property',
      'print.headers=true',
      '--property',
      'print.key=true',
      '--property',
      'key.separator= | ',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `CreateTime:${t0} | Partition:0 | Offset:0 | n:0 | k0 | v0\n`);
  });

  it('--group commits as it goes: a second run continues where the first stopped', async () => {
    let r = await samsa([
      'consume',
      '--topic',
      'c',
      '--group',
      'g1',
      '--from-beginning',
      '--max-messages',
      '6',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const first = lines(r.stdout);
    assert.equal(first.length, 6);
    r = await samsa(['consume', '--topic', 'c', '--group', 'g1', '--timeout-ms', '1500', ...bs]);
    assert.equal(r.code, 0, r.stderr);
    const second = lines(r.stdout);
    assert.deepEqual([...first, ...second].sort(), [
      'v0',
      'v1',
      'v2',
      'v3',
      'v4',
      'v5',
      'v6',
      'v7',
      'v8',
      'v9',
    ]);
  });

  it('--group commits every assigned partition, also one without records, so the group shows its lag', async () => {
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    try {
      await createTopic(cluster, 'c-sparse', { partitions: 3 });
      const producer = Producer.on(cluster);
      await producer.send('c-sparse', [
        { key: null, value: 'a', partition: 0 },
        { key: null, value: 'b', partition: 0 },
      ]);
      const r = await samsa([
        'consume',
        '--topic',
        'c-sparse',
        '--group',
        'g-sparse',
        '--from-beginning',
        '--max-messages',
        '2',
        ...bs,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lines(r.stdout), ['a', 'b']);
      const d = await samsa(['groups', 'describe', '--group', 'g-sparse', ...bs]);
      assert.equal(d.code, 0, d.stderr);
      // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
      assert.match(d.stdout, /^g-sparse\s+c-sparse\s+0\s+2\s+2\s+0\s/m);
      assert.match(d.stdout, /^g-sparse\s+c-sparse\s+1\s+0\s+0\s+0\s/m);
      assert.match(d.stdout, /^g-sparse\s+c-sparse\s+2\s+0\s+0\s+0\s/m);
    } finally {
      cluster.close();
    }
  });

  it('fails with one line and a non-zero status', async () => {
    const cases: [string[], number, RegExp][] = [
      [['consume', '--topic', 'missing', '--timeout-ms', '500', ...bs], 1, /UNKNOWN_TOPIC_OR_PARTITION/],
      [['consume', '--topic', 'c', '--partition', '7', ...bs], 1, /no partition 7/],
      [['consume', '--topic', 'c', '--format', 'xml', ...bs], 2, /--format must be value, kv or json/],
      [
        ['consume', '--topic', 'c', '--group', 'g', '--partition', '0', ...bs],
        2,
        /--group takes its partitions/,
      ],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await samsa(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), pattern);
    }
  });
});
