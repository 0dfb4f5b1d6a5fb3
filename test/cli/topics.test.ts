// `samsa topics` end to end against a real broker.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { oneLineFailure, samsa } from './cli-helpers.js';

describe('samsa topics', () => {
  let b: InProcessBroker;
  let bs: string[];

  before(async () => {
    b = await startInProcess({ 'num.partitions': '2' });
    bs = ['--bootstrap-server', `127.0.0.1:${b.port}`];
  });
  after(async () => {
    await b.stop(true);
  });

  it('--help on every action', async () => {
    const r = await samsa(['topics', '--help']);
    assert.equal(r.code, 0);
    for (const word of [
      'create',
      'list',
      'describe',
      'delete',
      'alter',
      '--bootstrap-server',
      '--replication-factor',
    ]) {
      assert.ok(r.stdout.includes(word), word);
    }
    const top = await samsa(['--help']);
    assert.equal(top.code, 0);
    for (const c of ['topics', 'configs', 'produce', 'consume', 'records'])
      assert.match(top.stdout, new RegExp(`\\n  ${c} `));
  });

  it('create, list, describe, alter, delete', async () => {
    let r = await samsa([
      'topics',
      'create',
      '--topic',
      'orders',
      '--partitions',
      '3',
      '--replication-factor',
      '1',
      '--config',
      'retention.ms=60000',
      '--config',
      'cleanup.policy=[compact,delete]',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Created topic orders.\n');
    r = await samsa(['topics', '--create', '--topic', 'defaults', ...bs]); // Kafka's flag style, broker defaults
    assert.equal(r.code, 0, r.stderr);
    assert.equal(b.broker.topics.get('defaults')?.partitions.length, 2);

    r = await samsa(['topics', 'list', ...bs]);
    assert.equal(r.stdout, 'defaults\norders\n');

    const producer = Producer.on(await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` }));
    // 'orders' is compacted: its records need keys.
    await producer.send('orders', [
      { key: 'a', value: 'a', partition: 1 },
      { key: 'b', value: 'b', partition: 1 },
    ]);
    await producer.close();

    r = await samsa(['topics', 'describe', '--topic', 'orders', ...bs]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(
      lines[0] ?? '',
      /^Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: /,
    );
    assert.match(lines[0] ?? '', /cleanup\.policy=compact,delete/);
    assert.match(lines[0] ?? '', /retention\.ms=60000/);
    const size = b.broker.topics.partition('orders', 1)?.log.sizeBytes;
    assert.equal(
      lines[2],
      `\tTopic: orders\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0\tLogStartOffset: 0\tLogEndOffset: 2\tSize: ${size}`,
    );
    assert.match(lines[1] ?? '', /LogEndOffset: 0\tSize: 0$/);

    r = await samsa(['topics', 'alter', '--topic', 'orders', '--partitions', '5', ...bs]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(b.broker.topics.get('orders')?.partitions.length, 5);

    r = await samsa(['topics', 'describe', ...bs]); // all topics
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('Topic: ')).length, 2);

    r = await samsa(['topics', 'delete', '--topic', 'defaults', ...bs]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(b.broker.topics.get('defaults'), undefined);
  });

  it('fails with one line and a non-zero status', async () => {
    const cases: [string[], number, RegExp][] = [
      [['topics', 'create', '--topic', 'orders', ...bs], 1, /TOPIC_ALREADY_EXISTS/],
      [['topics', 'alter', '--topic', 'orders', '--partitions', '2', ...bs], 1, /INVALID_PARTITIONS/],
      [['topics', 'describe', '--topic', 'missing', ...bs], 1, /does not exist/],
      [['topics', 'list', '--bootstrap-server', '127.0.0.1:1'], 1, /cannot connect to 127\.0\.0\.1:1/],
      [['topics', 'create', ...bs], 2, /--topic is required/],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await samsa(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), pattern);
      assert.match(r.stderr, /^samsa topics: /);
    }
  });

  it('--if-not-exists and --if-exists succeed quietly', async () => {
    let r = await samsa(['topics', 'create', '--topic', 'orders', '--if-not-exists', ...bs]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    r = await samsa(['topics', 'delete', '--topic', 'missing', '--if-exists', ...bs]);
    assert.equal(r.code, 0, r.stderr);
  });
});
