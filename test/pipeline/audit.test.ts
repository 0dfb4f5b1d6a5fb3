// `samsa audit` against two real Samsa brokers (a source and a target cluster): records with explicit CreateTime
// timestamps in past windows are produced to the source and copied to the target by a test-side copier (our
// Consumer + Producer); the audit must print the right counts per window, exit 0 when the target holds them all
// and exit 1 naming each window the target lacks records of (deleted there, or never copied). Also: --group
// counting, the exact --json shape, --from/--to, aborted transactions not counted, a compressed topic.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteRecords } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { audit } from '../../src/pipeline/audit.js';
import { formatWindow } from '../../src/pipeline/audit-window.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { OffsetCommitResponse } from '../../src/protocol/generated/offset-commit-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { oneLineFailure, samsa } from '../cli/cli-helpers.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import * as txn from '../helpers/txn-log-client.js';
import { copyTopic, countByWindow, createOn, MINUTE, produceAll, type Sent, T0 } from './audit-helpers.js';

const W0 = formatWindow(T0);
const W1 = formatWindow(T0 + MINUTE);
const W3 = formatWindow(T0 + 3 * MINUTE);

/** Three windows (the third minute has none), one batch straddling W0 and W1 on partition 0. */
const SENDS: [number, number][][] = [
  [
    ...[1, 2, 3, 4, 5].map((s): [number, number] => [0, T0 + s * 1000]),
    ...[1, 2, 3, 4].map((s): [number, number] => [1, T0 + s * 1000]),
    ...[1, 2, 3].map((s): [number, number] => [2, T0 + s * 1000]),
  ],
  [
    [0, T0 + 59_000],
    [0, T0 + 61_000],
  ],
  [
    [1, T0 + 70_000],
    [1, T0 + 71_000],
    [1, T0 + 72_000],
    [2, T0 + 65_000],
    [2, T0 + 66_000],
  ],
  [10, 20, 30, 40].map((s): [number, number] => [0, T0 + 3 * MINUTE + s * 1000]),
];

interface JsonWindow {
  start: string;
  source: number;
  target: number;
  consumed: number | null;
  missing: number;
}

describe('samsa audit', () => {
  let sourceBroker: BrokerHandle;
  let targetBroker: BrokerHandle;
  let source: Cluster;
  let target: Cluster;
  /** What was produced to topic a-full (copied whole to the target). */
  let full: Sent[] = [];

  const run = (topic: string, ...extra: string[]) =>
    samsa([
      'audit',
      '--source',
      sourceBroker.bootstrap,
      '--target',
      targetBroker.bootstrap,
      '--topic',
      topic,
      ...extra,
    ]);
  const runJson = async (topic: string, ...extra: string[]) => {
    const r = await run(topic, '--json', ...extra);
    return { ...r, doc: JSON.parse(r.stdout) as { topic: string; windows: JsonWindow[] } };
  };

  before(async () => {
    // Transactional records are written without a coordinator (txn-log-client.ts): no verification (KIP-890).
    const noVerification = { overrides: { 'transaction.partition.verification.enable': 'false' } };
    [sourceBroker, targetBroker] = await Promise.all([
      startBroker(noVerification),
      startBroker(noVerification),
    ]);
    [source, target] = await Promise.all([
      Cluster.connect({ bootstrap: sourceBroker.bootstrap }),
      Cluster.connect({ bootstrap: targetBroker.bootstrap }),
    ]);
    await createOn([source, target], 'a-full', 3);
    full = await produceAll(source, 'a-full', SENDS);
    assert.equal(await copyTopic(source, target, 'a-full'), full.length);
  });

  after(async () => {
    source?.close();
    target?.close();
    await Promise.all([sourceBroker?.destroy(), targetBroker?.destroy()]);
  });

  it('exits 0 and prints the counts per window when the target holds every record', async () => {
    assert.deepEqual(
      countByWindow(full),
      new Map([
        [W0, 13],
        [W1, 6],
        [W3, 4],
      ]),
    );
    const r = await run('a-full', '--window', '1m');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const rows = r.stdout.split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(
      rows.filter((row) => /^\d{4}-/.test(row[0] ?? '') || row[0] === 'TOTAL'),
      [
        [W0, '13', '13', '-', '0'],
        [W1, '6', '6', '-', '0'],
        [W3, '4', '4', '-', '0'],
        ['TOTAL', '23', '23', '-', '0'],
      ],
    );
    assert.match(r.stdout, /The target matches the source in all 3 window\(s\)\./);
  });

  it('--json prints exactly {topic, windows: [{start, source, target, consumed, missing}]}', async () => {
    const r = await runJson('a-full');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc, {
      topic: 'a-full',
      windows: [
        { start: W0, source: 13, target: 13, consumed: null, missing: 0 },
        { start: W1, source: 6, target: 6, consumed: null, missing: 0 },
        { start: W3, source: 4, target: 4, consumed: null, missing: 0 },
      ],
    });
    // Wider windows: all of it in the hour starting 09:00.
    const hour = await runJson('a-full', '--window', '1h');
    assert.deepEqual(hour.doc.windows, [{ start: W0, source: 23, target: 23, consumed: null, missing: 0 }]);
    // 10 s windows: the straddling batch's two records land in two windows.
    const tens = await runJson('a-full', '--window', '10s');
    assert.deepEqual(
      tens.doc.windows.map((w) => [w.start, w.source]),
      [...countByWindow(full, 10_000)].sort(([a], [b]) => a.localeCompare(b)),
    );
  });

  it('exits 1 naming each window where the target holds fewer (records deleted, copy stopped early)', async () => {
    await createOn([source, target], 'a-short', 3);
    const sent = await produceAll(source, 'a-short', SENDS);
    // The copy stops before partition 0's last four records (W3) ...
    const lastOfP0 = Math.max(...sent.filter((s) => s.partition === 0).map((s) => s.offset));
    await copyTopic(source, target, 'a-short', { keep: (p, o) => !(p === 0 && o > lastOfP0 - 4) });
    // ... and the target loses partition 0's first three records (W0).
    await deleteRecords(target, 'a-short', 0, 3);
    const r = await run('a-short');
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      oneLineFailure(r),
      /^samsa audit: the target is missing 7 record\(s\) of topic a-short in 2 window\(s\)$/,
    );
    assert.match(r.stdout, new RegExp(`^${W0}\\s+13\\s+10\\s+-\\s+3$`, 'm'));
    assert.match(r.stdout, new RegExp(`^${W1}\\s+6\\s+6\\s+-\\s+0$`, 'm'));
    assert.match(r.stdout, new RegExp(`^${W3}\\s+4\\s+0\\s+-\\s+4$`, 'm'));
    assert.match(r.stdout, new RegExp(`^  ${W0} missing 3\\n  ${W3} missing 4$`, 'm'));

    const j = await runJson('a-short');
    assert.equal(j.code, 1);
    assert.deepEqual(j.doc.windows, [
      { start: W0, source: 13, target: 10, consumed: null, missing: 3 },
      { start: W1, source: 6, target: 6, consumed: null, missing: 0 },
      { start: W3, source: 4, target: 0, consumed: null, missing: 4 },
    ]);
  });

  it('--group counts the records below the group committed offsets on the target, per window', async () => {
    const committed = new Map([
      [0, 6],
      [1, 5],
    ]);
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: targetBroker.port });
    try {
      const res = await conn.request<OffsetCommitResponse>(
        ApiKey.OffsetCommit,
        {
          groupId: 'billing',
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          retentionTimeMs: -1,
          topics: [
            {
              name: 'a-full',
              partitions: [...committed].map(([partitionIndex, committedOffset]) => ({
                partitionIndex,
                committedOffset,
                committedLeaderEpoch: -1,
                committedMetadata: null,
              })),
            },
          ],
          // v9: topics by name (v10 names them by id).
        },
        9,
      );
      for (const p of res.topics[0]?.partitions ?? []) assert.equal(p.errorCode, 0);
    } finally {
      conn.close();
    }
    // The copy preserved offsets (an empty target, partition to partition, in order).
    const consumed = countByWindow(full.filter((s) => s.offset < (committed.get(s.partition) ?? 0)));
    assert.deepEqual(
      consumed,
      new Map([
        [W0, 10],
        [W1, 1],
      ]),
    );
    const r = await runJson('a-full', '--group', 'billing');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc.windows, [
      { start: W0, source: 13, target: 13, consumed: 10, missing: 0 },
      { start: W1, source: 6, target: 6, consumed: 1, missing: 0 },
      { start: W3, source: 4, target: 4, consumed: 0, missing: 0 },
    ]);
    const text = await run('a-full', '--group', 'billing');
    assert.match(text.stdout, /^TOTAL\s+23\s+23\s+11\s+0$/m);
    // A group that committed nothing has consumed nothing.
    const none = await runJson('a-full', '--group', 'nobody');
    assert.deepEqual(
      none.doc.windows.map((w) => w.consumed),
      [0, 0, 0],
    );
  });

  it('--from/--to count only the records of that time range, read from the offsets ListOffsets gives', async () => {
    const r = await runJson('a-full', '--from', String(T0 + MINUTE), '--to', formatWindow(T0 + 2 * MINUTE));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc.windows, [{ start: W1, source: 6, target: 6, consumed: null, missing: 0 }]);
    const mid = await runJson(
      'a-full',
      '--from',
      new Date(T0 + 3000).toISOString(),
      '--to',
      String(T0 + 61_000),
    );
    assert.deepEqual(
      mid.doc.windows.map((w) => [w.start, w.source, w.target]),
      [[W0, 13 - 6, 13 - 6]], // partitions 0-2 each lose their records at T0+1s and T0+2s; T0+61s is excluded
    );
  });

  it('does not count aborted transactional records or transaction markers (read_committed)', async () => {
    await createOn([source, target], 'a-txn', 1);
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: sourceBroker.port });
    try {
      const batch = (pid: number, seq: number, stamps: number[], transactional = true) =>
        encodeRecordBatch({
          records: stamps.map((timestamp) => ({ value: `t${timestamp}`, timestamp })),
          timestamp: stamps[0],
          producerId: pid,
          producerEpoch: 0,
          baseSequence: seq,
          isTransactional: transactional,
        });
      const produce = async (b: Buffer, transactionalId: string | null) =>
        assert.equal((await txn.produce(conn, 'a-txn', b, transactionalId)).errorCode, 0);
      const [a, b, c] = [await txn.producerId(conn), await txn.producerId(conn), await txn.producerId(conn)];
      const stamps = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i * 1000);
      await produce(batch(a, 0, stamps(T0 + 1000, 5)), 'tx-a'); // aborted, W0
      await produce(batch(b, 0, stamps(T0 + 10_000, 3)), 'tx-b'); // committed, W0
      await produce(
        encodeRecordBatch({
          records: stamps(T0 + MINUTE, 2).map((timestamp) => ({ value: 'p', timestamp })),
        }),
        null,
      );
      assert.deepEqual(await txn.writeMarkers(conn, 'a-txn', [{ pid: a, commit: false }]), [0]);
      assert.deepEqual(await txn.writeMarkers(conn, 'a-txn', [{ pid: b, commit: true }]), [0]);
      await produce(batch(c, 0, stamps(T0 + MINUTE + 5000, 4)), 'tx-c'); // aborted, W1
      await produce(batch(b, 3, stamps(T0 + 3 * MINUTE, 2)), 'tx-b'); // committed, W3
      assert.deepEqual(await txn.writeMarkers(conn, 'a-txn', [{ pid: c, commit: false }]), [0]);
      assert.deepEqual(await txn.writeMarkers(conn, 'a-txn', [{ pid: b, commit: true }]), [0]);
    } finally {
      conn.close();
    }
    assert.equal(await copyTopic(source, target, 'a-txn'), 3 + 2 + 2);
    const r = await runJson('a-txn');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc.windows, [
      { start: W0, source: 3, target: 3, consumed: null, missing: 0 },
      { start: W1, source: 2, target: 2, consumed: null, missing: 0 },
      { start: W3, source: 2, target: 2, consumed: null, missing: 0 },
    ]);
  });

  it('counts a compressed topic, by batch header where a batch sits in one window', async () => {
    await createOn([source, target], 'a-lz4', 3);
    const sent = await produceAll(source, 'a-lz4', SENDS, 'lz4');
    await copyTopic(source, target, 'a-lz4', { compression: 'gzip', keep: (p, o) => !(p === 1 && o === 0) });
    const report = await audit({ source, target, topic: 'a-lz4', windowMs: MINUTE });
    assert.deepEqual(
      report.windows.map((w) => [w.start, w.source, w.target, w.missing]),
      [
        [W0, 13, 12, 1],
        [W1, 6, 6, 0],
        [W3, 4, 4, 0],
      ],
    );
    assert.equal(sent.length, 23);
    // Source: 3 + 2 + 1 batches in one window each, counted by header; the straddling one decompressed.
    assert.equal(report.sourceScan?.batchesByHeader, 6);
    assert.equal(report.sourceScan?.batchesWalked, 1);
    assert.equal(report.sourceScan?.batchesDecompressed, 1);
    assert.deepEqual(
      report.short.map((w) => [w.start, w.missing]),
      [[W0, 1]],
    );
    const r = await run('a-lz4');
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^  ${W0} missing 1$`, 'm'));
  });

  it('counts the same reading one batch per fetch (positions carried across fetches, aborted transactions per answer)', async () => {
    for (const topic of ['a-full', 'a-txn', 'a-lz4']) {
      const whole = await audit({ source, target, topic, windowMs: MINUTE });
      const small = await audit({
        source,
        target,
        topic,
        windowMs: MINUTE,
        fetchBytes: 1,
        partitionFetchBytes: 1,
      });
      assert.deepEqual(small.windows, whole.windows, topic);
      assert.ok(small.windows.length >= 3, topic);
    }
    // With a group, the committed offsets cut batches read one at a time.
    const grouped = await audit({
      source,
      target,
      topic: 'a-full',
      windowMs: MINUTE,
      group: 'billing',
      fetchBytes: 1,
      partitionFetchBytes: 1,
    });
    assert.deepEqual(
      grouped.windows.map((w) => w.consumed),
      [10, 1, 0],
    );
  });

  it('refuses bad usage with exit status 2', async () => {
    const bad = await run('a-full', '--window', '1 minute');
    assert.equal(bad.code, 2);
    assert.match(oneLineFailure(bad), /--window must be a duration/);
    const noTarget = await samsa(['audit', '--source', sourceBroker.bootstrap, '--topic', 'a-full']);
    assert.equal(noTarget.code, 2);
    assert.match(oneLineFailure(noTarget), /--target is required/);
    const from = await run('a-full', '--from', 'yesterday');
    assert.equal(from.code, 2);
    const missing = await run('no-such-topic');
    assert.equal(missing.code, 1);
    assert.match(oneLineFailure(missing), /UNKNOWN_TOPIC_OR_PARTITION/);
  });
});
