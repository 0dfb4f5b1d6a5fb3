// Kafka's read_committed filtering on real batches: a producer's transactional batches from an aborted
// transaction's first offset up to its abort marker are dropped, interleaved committed ones are kept, markers are
// never delivered, an answer starting inside an aborted transaction drops its batches, and read_uncommitted (no list) keeps data batches.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortedTransactions } from '../../src/client/aborted-transactions.js';
import { encodeRecordBatch, iterateBatches, setBaseOffset } from '../../src/protocol/records.js';
import { buildTxnMarkerBatch } from '../../src/storage/txn-markers.js';

/** A log of batches at consecutive offsets: [kind, producer id] with kind data | txn | commit | abort. */
function log(spec: [string, number][]): Buffer {
  let offset = 0;
  const parts = spec.map(([kind, pid]) => {
    const b =
      kind === 'commit' || kind === 'abort'
        ? buildTxnMarkerBatch(
            { producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, commit: kind === 'commit' },
            0,
          )
        : encodeRecordBatch({
            records: [{ value: `${kind}-${pid}` }],
            producerId: pid,
            producerEpoch: 0,
            baseSequence: kind === 'txn' ? 0 : -1,
            isTransactional: kind === 'txn',
          });
    setBaseOffset(b, 0, offset++);
    return b;
  });
  return Buffer.concat(parts);
}

function delivered(a: AbortedTransactions, buf: Buffer): number[] {
  const out: number[] = [];
  for (const { pos, header } of iterateBatches(buf))
    if (!a.skip(buf, pos, header)) out.push(header.baseOffset);
  return out;
}

describe('AbortedTransactions (read_committed)', () => {
  const spec: [string, number][] = [
    ['txn', 1], // 0 aborted
    ['txn', 2], // 1 committed
    ['data', -1], // 2
    ['txn', 1], // 3 aborted
    ['abort', 1], // 4
    ['commit', 2], // 5
    ['txn', 1], // 6 a new transaction of producer 1, committed
    ['commit', 1], // 7
  ];

  it('drops aborted transactions and markers, keeps committed ones', () => {
    const a = new AbortedTransactions();
    a.note([{ producerId: 1, firstOffset: 0 }]);
    assert.deepEqual(delivered(a, log(spec)), [1, 2, 6]);
  });

  it('drops the aborted batches of answers that start after the transaction did', () => {
    const all = log(spec);
    const batches = [...iterateBatches(all)].map(({ pos, header }) =>
      all.subarray(pos, pos + 12 + header.batchLength),
    );
    const a = new AbortedTransactions();
    const out: number[] = [];
    batches.forEach((b, offset) => {
      // One batch per answer; the broker lists the aborted transaction (offsets 0 to its marker at 4) with every
      // answer overlapping it.
      a.note(offset <= 4 ? [{ producerId: 1, firstOffset: 0 }] : []);
      out.push(...delivered(a, b));
    });
    assert.deepEqual(out, [1, 2, 6]);
  });

  it('read_uncommitted (no list) keeps every data batch and still drops markers', () => {
    const a = new AbortedTransactions();
    a.note(null);
    assert.deepEqual(delivered(a, log(spec)), [0, 1, 2, 3, 6]);
  });
});
