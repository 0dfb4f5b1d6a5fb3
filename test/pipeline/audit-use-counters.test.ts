// The continuous audit on two real Samsa brokers with samsa.audit.enable=true: records produced to the source
// (explicit timestamps in past windows, an lz4 batch straddling two windows, aborted and committed transactions)
// and copied to the target are counted by the brokers as they are appended and written to __samsa_audit;
// `samsa audit --use-counters` compares those counters, which outlive records deleted from the logs, and names the
// windows a short copy lacks. A broker stopped cleanly writes the counts it has not flushed yet.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteRecords } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { Consumer } from '../../src/client/consumer.js';
import { audit } from '../../src/pipeline/audit.js';
import { AUDIT_TOPIC, decodeCounter } from '../../src/pipeline/audit-counters.js';
import { auditFromCounters } from '../../src/pipeline/audit-counters-read.js';
import { formatWindow } from '../../src/pipeline/audit-window.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { oneLineFailure, samsa } from '../cli/cli-helpers.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import * as txn from '../helpers/txn-log-client.js';
import { copyTopic, createOn, MINUTE, produceAll, T0 } from './audit-helpers.js';

const W0 = formatWindow(T0);
const W1 = formatWindow(T0 + MINUTE);
const W3 = formatWindow(T0 + 3 * MINUTE);
// The transactional records are written without a coordinator (txn-log-client.ts): partition leaders must not
// verify them with one (transaction.partition.verification.enable, KIP-890), as Kafka 3.6+ would refuse them.
const counting = {
  'samsa.audit.enable': 'true',
  'samsa.audit.flush.interval.ms': '100',
  'transaction.partition.verification.enable': 'false',
};

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

type Row = [string, number, number, number];

describe('samsa audit --use-counters (broker-side counters)', () => {
  let sourceBroker: BrokerHandle;
  let targetBroker: BrokerHandle;
  let source: Cluster;
  let target: Cluster;

  const run = (topic: string, ...extra: string[]) =>
    samsa([
      'audit',
      '--source',
      sourceBroker.bootstrap,
      '--target',
      targetBroker.bootstrap,
      '--topic',
      topic,
      '--use-counters',
      ...extra,
    ]);

  /** Waits until the counters of both clusters give these rows (start, source, target, missing). */
  async function countersReach(topic: string, rows: Row[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    let last: Row[] = [];
    while (Date.now() < deadline) {
      try {
        const r = await auditFromCounters({ source, target, topic, windowMs: MINUTE });
        last = r.windows.map((w) => [w.start, w.source, w.target, w.missing]);
        if (JSON.stringify(last) === JSON.stringify(rows)) return;
      } catch {
        // __samsa_audit not created yet
      }
      await sleep(100);
    }
    assert.deepEqual(last, rows, `counters of ${topic} never reached the expected rows`);
  }

  before(async () => {
    [sourceBroker, targetBroker] = await Promise.all([
      startBroker({ overrides: counting }),
      startBroker({ overrides: counting }),
    ]);
    [source, target] = await Promise.all([
      Cluster.connect({ bootstrap: sourceBroker.bootstrap }),
      Cluster.connect({ bootstrap: targetBroker.bootstrap }),
    ]);
  });

  after(async () => {
    source?.close();
    target?.close();
    await Promise.all([sourceBroker?.destroy(), targetBroker?.destroy()]);
  });

  it('counts on append; the counters match the logs and outlive records deleted from them', async () => {
    await createOn([source, target], 'u-full', 3);
    await produceAll(source, 'u-full', SENDS, 'lz4');
    await copyTopic(source, target, 'u-full');
    const rows: Row[] = [
      [W0, 13, 13, 0],
      [W1, 6, 6, 0],
      [W3, 4, 4, 0],
    ];
    await countersReach('u-full', rows);
    const r = await run('u-full', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      topic: 'u-full',
      windows: [
        { start: W0, source: 13, target: 13, consumed: null, missing: 0 },
        { start: W1, source: 6, target: 6, consumed: null, missing: 0 },
        { start: W3, source: 4, target: 4, consumed: null, missing: 0 },
      ],
    });
    // Retention (here DeleteRecords) removes records from the source log: the logs no longer say how many there
    // were, the counters still do.
    await deleteRecords(source, 'u-full', 0, -1);
    const logs = await audit({ source, target, topic: 'u-full', windowMs: MINUTE });
    assert.deepEqual(
      logs.windows.map((w) => [w.start, w.source, w.target]),
      [
        [W0, 13 - 6, 13],
        [W1, 6 - 1, 6],
        [W3, 0, 4],
      ],
    );
    await countersReach('u-full', rows);
    // Windows of an hour sum the minute counters; windows finer than the counters' are refused.
    const hour = await run('u-full', '--json', '--window', '1h');
    assert.deepEqual(JSON.parse(hour.stdout).windows, [
      { start: W0, source: 23, target: 23, consumed: null, missing: 0 },
    ]);
    const fine = await run('u-full', '--window', '10s');
    assert.equal(fine.code, 1);
    assert.match(oneLineFailure(fine), /windows of 60000 ms: --window must be a multiple of it/);
  });

  it('names the windows a short copy lacks', async () => {
    await createOn([source, target], 'u-short', 3);
    const sent = await produceAll(source, 'u-short', SENDS);
    const lastOfP0 = Math.max(...sent.filter((s) => s.partition === 0).map((s) => s.offset));
    await copyTopic(source, target, 'u-short', {
      keep: (p, o) => !(p === 0 && o > lastOfP0 - 4) && !(p === 2 && o === 0),
    });
    await countersReach('u-short', [
      [W0, 13, 12, 1],
      [W1, 6, 6, 0],
      [W3, 4, 0, 4],
    ]);
    const r = await run('u-short');
    assert.equal(r.code, 1);
    assert.match(oneLineFailure(r), /missing 5 record\(s\) of topic u-short in 2 window\(s\)/);
    assert.match(r.stdout, new RegExp(`^  ${W0} missing 1\\n  ${W3} missing 4$`, 'm'));
    const usage = await run('u-short', '--group', 'g');
    assert.equal(usage.code, 2);
  });

  it('counts committed transactions only', async () => {
    await createOn([source, target], 'u-txn', 1);
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: sourceBroker.port });
    try {
      const batch = (pid: number, seq: number, stamps: number[]) =>
        encodeRecordBatch({
          records: stamps.map((timestamp) => ({ value: `t${timestamp}`, timestamp })),
          timestamp: stamps[0],
          producerId: pid,
          producerEpoch: 0,
          baseSequence: seq,
          isTransactional: true,
        });
      const stamps = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i * 1000);
      const [a, b] = [await txn.producerId(conn), await txn.producerId(conn)];
      assert.equal(
        (await txn.produce(conn, 'u-txn', batch(a, 0, stamps(T0 + 1000, 5)), 'tx-a')).errorCode,
        0,
      );
      assert.equal(
        (await txn.produce(conn, 'u-txn', batch(b, 0, stamps(T0 + 58_000, 3)), 'tx-b')).errorCode,
        0,
      );
      assert.deepEqual(await txn.writeMarkers(conn, 'u-txn', [{ pid: a, commit: false }]), [0]);
      assert.deepEqual(await txn.writeMarkers(conn, 'u-txn', [{ pid: b, commit: true }]), [0]);
    } finally {
      conn.close();
    }
    await copyTopic(source, target, 'u-txn');
    // 58 s, 59 s, 60 s: W0 twice, W1 once; the aborted five are nowhere.
    await countersReach('u-txn', [
      [W0, 2, 2, 0],
      [W1, 1, 1, 0],
    ]);
  });

  it('a broker stopped cleanly writes the counts it had not flushed yet', async () => {
    const broker = await startBroker({
      overrides: { 'samsa.audit.enable': 'true', 'samsa.audit.flush.interval.ms': '3600000' },
    });
    try {
      let cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
      await createOn([cluster], 'u-stop', 1);
      await produceAll(cluster, 'u-stop', [
        [
          [0, T0 + 1000],
          [0, T0 + 2000],
        ],
      ]);
      cluster.close();
      await broker.stop('SIGTERM');
      await broker.restart();
      cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
      try {
        const consumer = Consumer.on(cluster, { maxWaitMs: 100 });
        await consumer.assign(AUDIT_TOPIC, 'all', 'earliest');
        const counts: number[] = [];
        for (const rec of await consumer.poll()) {
          const c = decodeCounter(rec.key, rec.value);
          if (c?.topic === 'u-stop') counts.push(c.count);
        }
        assert.deepEqual(counts, [2]);
      } finally {
        cluster.close();
      }
    } finally {
      await broker.destroy();
    }
  });
});
