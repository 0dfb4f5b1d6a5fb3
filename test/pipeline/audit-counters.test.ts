// The broker-side audit counters (audit-counters.ts) on real record batches: counted by header when a batch sits in
// one window, walked (or decompressed) when it straddles two, control batches skipped, transactional batches held
// until their marker; flushes write cumulative counts (idempotent rewrites), stop() writes what is left, a counter
// evicted from memory comes back under a new writer, and the records read back decode.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { AuditCounters, type CounterRecord, decodeCounter } from '../../src/pipeline/audit-counters.js';
import { buildRecordBatch } from '../../src/protocol/batch-compression.js';
import { CompressionCodec, encodeRecordBatch, setBaseOffset } from '../../src/protocol/records.js';
import { buildTxnMarkerBatch } from '../../src/storage/txn-markers.js';

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const MINUTE = 60_000;

function setup(opts: { countersMax?: number; now?: () => number } = {}) {
  const writes: CounterRecord[][] = [];
  let fail = false;
  let calls = 0;
  /** Write calls (1-based) that fail. */
  let failing = new Set<number>();
  const counters = new AuditCounters({
    nodeId: 7,
    windowMs: MINUTE,
    flushIntervalMs: 1000,
    write: async (records) => {
      if (fail || failing.has(++calls)) throw new Error('no leader');
      writes.push(records);
    },
    logger: createLogger('test'),
    countersMax: opts.countersMax ?? 1000,
    stopTimeoutMs: 1000,
    now: opts.now,
  });
  /** The latest count per (topic, partition, window, writer) written so far, summed per window. */
  const totals = (topic = 't'): Map<number, number> => {
    const latest = new Map<string, { window: number; count: number }>();
    for (const w of writes) {
      for (const r of w) {
        const c = decodeCounter(Buffer.from(r.key), Buffer.from(r.value));
        assert.ok(c !== null, r.key);
        if (c.topic !== topic) continue;
        assert.equal(c.windowMs, MINUTE);
        latest.set(`${c.partition}/${c.window}/${c.writer}`, { window: c.window, count: c.count });
      }
    }
    const out = new Map<number, number>();
    for (const { window, count } of latest.values()) out.set(window, (out.get(window) ?? 0) + count);
    return out;
  };
  return {
    counters,
    writes,
    totals,
    failWrites: (f: boolean) => (fail = f),
    failCalls: (n: number[]) => {
      failing = new Set(n);
    },
  };
}

const batch = (
  stamps: number[],
  extra: Parameters<typeof encodeRecordBatch>[0] extends infer I ? Partial<I> : never = {},
) =>
  encodeRecordBatch({
    records: stamps.map((timestamp) => ({ value: 'x', timestamp })),
    timestamp: stamps[0],
    ...extra,
  });

describe('broker-side audit counters', () => {
  it('counts batches by window: whole by header, straddling ones walked or decompressed', async () => {
    const { counters, totals } = setup();
    counters.onAppend('t', 0, batch([T0 + 1000, T0 + 2000, T0 + 3000]));
    counters.onAppend('t', 1, batch([T0 + 59_000, T0 + 61_000, T0 + 62_000]));
    const lz4 = await buildRecordBatch(
      {
        records: [T0 + 30_000, T0 + 90_000, T0 + 3 * MINUTE].map((timestamp) => ({ value: 'z', timestamp })),
      },
      CompressionCodec.lz4,
    );
    counters.onAppend('t', 2, lz4);
    // Two batches in one append; the second one spans two windows (our encoder's base timestamp is its smallest).
    counters.onAppend('t', 0, Buffer.concat([batch([T0 + 5000]), batch([T0 + 70_000, T0 + 10_000])]));
    counters.onAppend('__consumer_offsets', 0, batch([T0]));
    await counters.flush();
    assert.deepEqual(
      totals(),
      new Map([
        [T0, 3 + 1 + 1 + 1 + 1],
        [T0 + MINUTE, 2 + 1 + 1],
        [T0 + 3 * MINUTE, 1],
      ]),
    );
    assert.deepEqual(totals('__consumer_offsets'), new Map());
  });

  it('holds transactional records until the marker: a commit counts them, an abort drops them', async () => {
    const { counters, totals } = setup();
    const txn = (pid: number, stamps: number[]) =>
      batch(stamps, { producerId: pid, producerEpoch: 0, baseSequence: 0, isTransactional: true });
    counters.onAppend('t', 0, txn(1, [T0 + 1000, T0 + 2000]));
    counters.onAppend('t', 0, txn(2, [T0 + 3000, T0 + 61_000]));
    counters.onAppend('t', 1, txn(1, [T0 + 4000]));
    await counters.flush();
    assert.deepEqual(totals(), new Map(), 'nothing before the markers');
    // The marker batches themselves are control batches: never counted.
    counters.onAppend(
      't',
      0,
      buildTxnMarkerBatch({ producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, commit: true }, T0),
    );
    counters.onMarker('t', 0, 1, true);
    counters.onMarker('t', 0, 2, false);
    counters.onMarker('t', 1, 1, false);
    await counters.flush();
    assert.deepEqual(totals(), new Map([[T0, 2]]));
  });

  it('rewrites cumulative counts, keeps failed writes for the next flush, and writes the rest on stop', async () => {
    const { counters, writes, totals, failWrites } = setup();
    counters.onAppend('t', 0, batch([T0 + 1000, T0 + 2000]));
    await counters.flush();
    assert.equal(writes.length, 1);
    await counters.flush();
    assert.equal(writes.length, 1, 'nothing changed: nothing written');
    counters.onAppend('t', 0, batch([T0 + 3000]));
    failWrites(true);
    await counters.flush();
    assert.equal(writes.length, 1);
    failWrites(false);
    counters.onAppend('t', 0, setBaseOffsetOf(batch([T0 + 4000]), 10));
    await counters.stop();
    assert.equal(writes.length, 2);
    assert.deepEqual(totals(), new Map([[T0, 4]]));
    assert.equal(writes[1]?.length, 1, 'one counter, rewritten with its new total');
  });

  it('a counter dropped from memory after its write comes back under a new writer; the sum stays right', async () => {
    let now = T0;
    const { counters, totals, writes } = setup({ now: () => now });
    counters.onAppend('t', 0, batch([T0 + 1000, T0 + 2000]));
    await counters.flush();
    now += 10 * MINUTE;
    await counters.flush(); // idle and written: dropped
    assert.equal(counters.size, 0);
    counters.onAppend('t', 0, batch([T0 + 3000]));
    await counters.flush();
    const writers = new Set(
      writes.flat().map((r) => decodeCounter(Buffer.from(r.key), Buffer.from(r.value))?.writer),
    );
    assert.equal(writers.size, 2);
    assert.deepEqual(totals(), new Map([[T0, 3]]));
  });

  it('writes many changed counters in slices; a failed slice is written at the next flush', async () => {
    const { counters, writes, totals, failCalls } = setup({ countersMax: 10_000 });
    for (let p = 0; p < 4500; p++) counters.onAppend('t', p, batch([T0 + 1000]));
    await counters.flush();
    assert.deepEqual(
      writes.map((w) => w.length),
      [2000, 2000, 500],
    );
    for (let p = 0; p < 4500; p++) counters.onAppend('t', p, batch([T0 + 2000]));
    failCalls([5]); // the second slice of the next flush
    await counters.flush();
    assert.deepEqual(
      writes.slice(3).map((w) => w.length),
      [2000],
      'the second slice failed: the flush stopped there',
    );
    await counters.flush();
    assert.deepEqual(
      writes.slice(4).map((w) => w.length),
      [2000, 500],
    );
    assert.deepEqual(totals(), new Map([[T0, 9000]]));
  });

  it('decodes only counter records', () => {
    assert.equal(decodeCounter(null, Buffer.from('{}')), null);
    assert.equal(decodeCounter(Buffer.from('not json'), Buffer.from('{}')), null);
    assert.equal(decodeCounter(Buffer.from('{"v":0,"topic":"t"}'), Buffer.from('{"v":0,"count":1}')), null);
    const future = decodeCounter(
      Buffer.from('{"v":1,"topic":"t","partition":0,"windowMs":60000,"window":0,"writer":"w","more":true}'),
      Buffer.from('{"v":1,"count":5,"more":1}'),
    );
    assert.equal(future?.count, 5);
  });
});

function setBaseOffsetOf(b: Buffer, offset: number): Buffer {
  setBaseOffset(b, 0, offset);
  return b;
}
