// `samsa records delete` end to end: the log start offset moves and consumers no longer see older records.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { oneLineFailure, samsa } from './cli-helpers.js';

describe('samsa records', () => {
  let b: InProcessBroker;
  let bs: string[];

  before(async () => {
    b = await startInProcess();
    bs = ['--bootstrap-server', `127.0.0.1:${b.port}`];
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'r', { partitions: 2 });
    const producer = Producer.on(cluster);
    for (const partition of [0, 1]) {
      await producer.send(
        'r',
        Array.from({ length: 10 }, (_, i) => ({ value: `p${partition}-${i}`, partition })),
      );
    }
    await producer.close();
  });
  after(async () => {
    await b.stop(true);
  });

  it('--help', async () => {
    const r = await samsa(['records', '--help']);
    assert.equal(r.code, 0);
    for (const w of ['delete', '--topic', '--partition', '--before', '--offset-json-file'])
      assert.ok(r.stdout.includes(w), w);
  });

  it('deletes records below an offset; consumers start after them', async () => {
    let r = await samsa(['records', 'delete', '--topic', 'r', '--partition', '0', '--before', '4', ...bs]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Records delete operation completed:\npartition: r-0\tlow_watermark: 4\n');
    assert.equal(b.broker.topics.partition('r', 0)?.log.logStartOffset, 4);
    r = await samsa([
      'consume',
      '--topic',
      'r',
      '--partition',
      '0',
      '--from-beginning',
      '--max-messages',
      '1',
      ...bs,
    ]);
    assert.equal(r.stdout, 'p0-4\n');
  });

  it("reads Kafka's offset JSON file; -1 deletes up to the high watermark", async () => {
    const file = path.join(b.dataDir, 'offsets.json');
    writeFileSync(
      file,
      JSON.stringify({ partitions: [{ topic: 'r', partition: 1, offset: -1 }], version: 1 }),
    );
    const r = await samsa(['records', 'delete', '--offset-json-file', file, ...bs]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /partition: r-1\tlow_watermark: 10\n$/);
  });

  it('fails with one line and a non-zero status', async () => {
    const cases: [string[], number, RegExp][] = [
      [
        ['records', 'delete', '--topic', 'r', '--partition', '0', '--before', '99', ...bs],
        1,
        /OFFSET_OUT_OF_RANGE/,
      ],
      [['records', 'delete', '--topic', 'missing', '--before', '1', ...bs], 1, /UNKNOWN_TOPIC_OR_PARTITION/],
      [['records', 'delete', '--topic', 'r', ...bs], 2, /--before is required/],
      [['records', 'delete', '--offset-json-file', '/nonexistent.json', ...bs], 1, /cannot read/],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await samsa(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), pattern);
    }
  });
});
