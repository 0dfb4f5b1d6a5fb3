// `samsa configs` end to end against a real broker.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { oneLineFailure, samsa } from './cli-helpers.js';

describe('samsa configs', () => {
  let b: InProcessBroker;
  let bs: string[];

  before(async () => {
    b = await startInProcess({ 'log.retention.hours': '100' });
    bs = ['--bootstrap-server', `127.0.0.1:${b.port}`];
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'c1', { partitions: 1, configs: { 'segment.bytes': '100000' } });
    cluster.close();
  });
  after(async () => {
    await b.stop(true);
  });

  it('--help', async () => {
    const r = await samsa(['configs', '--help']);
    assert.equal(r.code, 0);
    for (const w of ['--entity-type', '--entity-name', '--add-config', '--delete-config', '--all'])
      assert.ok(r.stdout.includes(w), w);
  });

  it('alters topic configs and describes them with sources and synonyms', async () => {
    let r = await samsa([
      'configs',
      'alter',
      '--entity-type',
      'topics',
      '--entity-name',
      'c1',
      '--add-config',
      'retention.ms=5000,cleanup.policy=[compact,delete]',
      '--delete-config',
      'segment.bytes',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Completed updating config for topic c1.\n');
    assert.deepEqual(b.broker.topics.get('c1')?.configs, {
      'retention.ms': '5000',
      'cleanup.policy': 'compact,delete',
    });
    assert.equal(
      b.broker.topics.partition('c1', 0)?.log.logConfig.retentionMs,
      5000,
      'effective without a restart',
    );

    r = await samsa(['configs', '--describe', '--topic', 'c1', ...bs]); // Kafka's flag style
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Dynamic configs for topic c1 are:',
        '  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}',
        '  retention.ms=5000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=5000, STATIC_BROKER_CONFIG:log.retention.ms=360000000, DEFAULT_CONFIG:log.retention.ms=604800000}',
        '',
      ].join('\n'),
    );
    r = await samsa([
      'configs',
      'describe',
      '--entity-type',
      'topics',
      '--entity-name',
      'c1',
      '--all',
      ...bs,
    ]);
    assert.match(r.stdout, /^All configs for topic c1 are:\n/);
    assert.match(
      r.stdout,
      /\n {2}segment\.bytes=1073741824 sensitive=false synonyms=\{DEFAULT_CONFIG:log\.segment\.bytes=1073741824\}\n/,
    );
  });

  it('describes broker configs; altering a static broker key fails with one line', async () => {
    let r = await samsa([
      'configs',
      'describe',
      '--entity-type',
      'brokers',
      '--entity-name',
      '0',
      '--all',
      ...bs,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^All configs for broker 0 are:\n/);
    assert.match(
      r.stdout,
      /\n {2}log\.retention\.hours=100 sensitive=false synonyms=\{STATIC_BROKER_CONFIG:log\.retention\.hours=100, DEFAULT_CONFIG:log\.retention\.hours=168\}\n/,
    );
    r = await samsa(['configs', 'describe', '--broker', '0', ...bs]);
    assert.equal(r.stdout, 'Dynamic configs for broker 0 are:\n');
    r = await samsa([
      'configs',
      'alter',
      '--entity-type',
      'brokers',
      '--entity-default',
      '--add-config',
      'log.retention.hours=1',
      ...bs,
    ]);
    assert.equal(r.code, 1);
    assert.match(
      oneLineFailure(r),
      /^samsa configs: INVALID_REQUEST: Invalid config value for resource ConfigResource\(type=BROKER, name=''\): Cannot update these configs dynamically: Set\(log\.retention\.hours\)/,
    );
  });

  it('refuses bad input with one line', async () => {
    const cases: [string[], number, RegExp][] = [
      [
        ['configs', 'alter', '--topic', 'c1', '--add-config', 'retention.ms=soon', ...bs],
        1,
        /INVALID_CONFIG/,
      ],
      [
        ['configs', 'alter', '--topic', 'missing', '--add-config', 'retention.ms=1', ...bs],
        1,
        /UNKNOWN_TOPIC_OR_PARTITION/,
      ],
      [['configs', 'alter', '--topic', 'c1', ...bs], 2, /--add-config and\/or --delete-config/],
      [
        ['configs', 'describe', '--entity-type', 'widgets', '--entity-name', 'x', ...bs],
        2,
        /topics, brokers, groups, users, clients or ips/,
      ],
      [['configs', 'describe', '--entity-type', 'topics', ...bs], 2, /--entity-name is required/],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await samsa(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), pattern);
    }
  });
});
