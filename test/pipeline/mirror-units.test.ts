// The mirror's pure parts: joining batches (checked by the independent record decoder), the topic filter and
// rename format, and the command line / config file options.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../src/cli/common.js';
import { mirrorOptions } from '../../src/cli/mirror.js';
import type { MirrorPartition } from '../../src/pipeline/mirror-fetch.js';
import { coalesce, joinable, joinBatches } from '../../src/pipeline/mirror-merge.js';
import { isMirrored, targetName } from '../../src/pipeline/mirror-topics.js';
import { batchCrcValid, decodeRecords, encodeRecordBatch, rewriteCrc } from '../../src/protocol/records.js';
import { oneLineFailure, samsa } from '../cli/cli-helpers.js';

const recordArb = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 8 }),
      value: fc.option(fc.uint8Array({ maxLength: 10 }), { nil: null }),
    }),
    { maxLength: 3 },
  ),
  timestamp: fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
});

test('joinBatches keeps every record (key, value, headers, timestamp) in order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(recordArb, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 6 }),
      (groups) => {
        const batches = groups.map((records) =>
          encodeRecordBatch({
            records: records.map((r) => ({
              key: r.key === null ? null : Buffer.from(r.key),
              value: r.value === null ? null : Buffer.from(r.value),
              headers: r.headers.map((h) => ({
                key: h.key,
                value: h.value === null ? null : Buffer.from(h.value),
              })),
              timestamp: r.timestamp,
            })),
          }),
        );
        assert.ok(batches.every(joinable));
        const joined = joinBatches(batches);
        rewriteCrc(joined, 0, joined.length - 12);
        assert.ok(batchCrcValid(joined, 0, joined.length - 12));
        const { header, records } = decodeRecords(joined);
        const want = groups.flat();
        assert.equal(header.recordCount, want.length);
        assert.equal(header.lastOffsetDelta, want.length - 1);
        assert.equal(header.maxTimestamp, Math.max(...want.map((r) => r.timestamp)));
        records.forEach((r, i) => {
          const w = want[i]!;
          assert.equal(r.offsetDelta, i);
          assert.equal(header.baseTimestamp + r.timestampDelta, w.timestamp);
          assert.deepEqual(r.key === null ? null : [...r.key], w.key === null ? null : [...w.key]);
          assert.deepEqual(r.value === null ? null : [...r.value], w.value === null ? null : [...w.value]);
          assert.deepEqual(
            r.headers.map((h) => [h.key, h.value === null ? null : [...h.value]]),
            w.headers.map((h) => [h.key, h.value === null ? null : [...h.value]]),
          );
        });
      },
    ),
    { numRuns: 200 },
  );
});

test('coalesce joins runs per partition under the size bound and keeps partition order', () => {
  const part = (partition: number): MirrorPartition => ({
    topic: 't',
    partition,
    targetTopic: 't',
    position: 0,
    acked: 0,
    committed: -1,
    highWatermark: -1,
  });
  const p0 = part(0);
  const p1 = part(1);
  const batch = (v: string) => encodeRecordBatch({ records: [{ value: v.padEnd(100, '.') }], timestamp: 1 });
  const input = ['a', 'b', 'c', 'd', 'e'].map((v, i) => ({
    part: i % 2 === 0 ? p0 : p1,
    batch: batch(v),
    records: 1,
  }));
  const out = coalesce(input, 1000, new Set());
  assert.deepEqual(
    out.map((b) => [b.part.partition, b.records]),
    [
      [0, 3],
      [1, 2],
    ],
  );
  const small = coalesce(input, 2 * input[0]!.batch.length, new Set());
  assert.deepEqual(
    small.map((b) => [b.part.partition, b.records]),
    [
      [0, 2],
      [1, 2],
      [0, 1],
    ],
  );
  assert.equal(coalesce(input, 1000, new Set(['t'])).length, 5);
});

test('topic filter: whole-name match, exclusions, internal topics; rename format', () => {
  const f = {
    topics: /orders|pay.*/,
    exclude: /pay-internal/,
    renameFormat: '{source}.{topic}',
    sourceAlias: 'A',
  };
  assert.ok(isMirrored(f, { name: 'orders', isInternal: false }));
  assert.ok(!isMirrored(f, { name: 'orders2', isInternal: false }), 'a partial match is not a match');
  assert.ok(isMirrored(f, { name: 'payments', isInternal: false }));
  assert.ok(!isMirrored(f, { name: 'pay-internal', isInternal: false }));
  assert.ok(!isMirrored({ ...f, topics: /.*/ }, { name: '__consumer_offsets', isInternal: true }));
  assert.ok(!isMirrored({ ...f, topics: /.*/ }, { name: '__other', isInternal: false }));
  assert.equal(targetName(f, 'orders'), 'A.orders');
  assert.equal(targetName({ ...f, renameFormat: '{topic}' }, 'orders'), 'orders');
});

test('options: flags win over the config file; bad values name the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mirror-opts-'));
  try {
    const file = join(dir, 'mirror.properties');
    writeFileSync(
      file,
      [
        'source.bootstrap.servers=a:1',
        'target.bootstrap.servers=b:2',
        'topics=orders, pay.*',
        'group.id=from-file',
        'exactly.once=true',
        'offset.flush.interval.ms=250',
        'fetch.max.wait.ms=100',
      ].join('\n'),
    );
    const { opts } = mirrorOptions(['--config', file, '--group', 'from-flag']);
    assert.equal(opts.source, 'a:1');
    assert.equal(opts.target, 'b:2');
    assert.equal(opts.groupId, 'from-flag');
    assert.equal(opts.transactionalId, 'from-flag');
    assert.equal(opts.exactlyOnce, true);
    assert.equal(opts.commitIntervalMs, 250);
    assert.equal(opts.fetch.maxWaitMs, 100);
    assert.ok(isMirrored(opts.filter, { name: 'payments', isInternal: false }));
    assert.ok(!isMirrored(opts.filter, { name: 'orders-x', isInternal: false }));

    writeFileSync(file, 'source.bootstrap.servers=a:1\nbogus.key=1\n');
    assert.throws(() => mirrorOptions(['--config', file]), /unknown key bogus\.key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = ['--from', 'a:1', '--to', 'b:2', '--topics', 't'];
  const d = mirrorOptions(base);
  assert.equal(d.opts.groupId, 'samsa-mirror');
  assert.equal(d.opts.exactlyOnce, false);
  assert.equal(d.opts.filter.renameFormat, '{topic}');
  assert.equal(d.metricsPort, -1);
  assert.throws(() => mirrorOptions(['--to', 'b:2', '--topics', 't']), UsageError);
  assert.throws(
    () => mirrorOptions([...base, '--topics', '(']),
    /--topics is not a valid regular expression/,
  );
  assert.throws(() => mirrorOptions([...base, '--rename-format', 'x']), /must contain \{topic\}/);
  assert.throws(
    () => mirrorOptions([...base, '--commit-interval-ms', 'soon']),
    /offset\.flush\.interval\.ms must be an integer/,
  );
});

test('samsa mirror: usage errors exit 2 with one line; --help documents the options', async () => {
  const r = await samsa(['mirror', '--from', '127.0.0.1:1']);
  assert.equal(r.code, 2);
  assert.match(oneLineFailure(r), /^samsa mirror: --to \(target\.bootstrap\.servers\) is required/);
  const help = await samsa(['mirror', '--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--exactly-once', '--rename-format', '--metrics-port', '--config', '--group'])
    assert.ok(help.stdout.includes(flag), `--help lacks ${flag}`);
});
