// The transaction state machine (metadata.ts) and the __transaction_state record format (records.ts): the bytes
// are checked against Kafka's layout written out by hand here (TransactionLog.scala, value version 0), not only
// read back by the same codec.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IllegalTxnTransition,
  isEpochExhausted,
  NO_PRODUCER_EPOCH,
  TransactionMetadata,
} from '../../../src/coordinator/txn/metadata.js';
import {
  decodeTxnRecord,
  partitionForTransactionalId,
  stateByName,
  stateName,
  TxnState,
  transactionLogRecord,
} from '../../../src/coordinator/txn/records.js';

function fresh(): TransactionMetadata {
  return new TransactionMetadata('tx', 7, NO_PRODUCER_EPOCH, 60_000, TxnState.Empty, 0);
}

/** Applies a transition as if its record were committed. */
function commit(md: TransactionMetadata, t: ReturnType<TransactionMetadata['prepareAddPartitions']>): void {
  md.completeTransitionTo(t);
}

describe('transaction metadata', () => {
  it('InitProducerId epochs: a new id starts at 0, a bump adds one, a retried bump keeps it, an old epoch is fenced', () => {
    const md = fresh();
    const t0 = md.prepareIncrementProducerEpoch(60_000, null, 1);
    assert.notEqual(t0, 'fenced');
    if (t0 === 'fenced') return;
    assert.equal(t0.producerEpoch, 0);
    commit(md, t0);
    const t1 = md.prepareIncrementProducerEpoch(60_000, 0, 2);
    if (t1 === 'fenced') throw new Error('fenced');
    assert.deepEqual([t1.producerEpoch, t1.lastProducerEpoch], [1, 0]);
    commit(md, t1);
    const retry = md.prepareIncrementProducerEpoch(60_000, 0, 3);
    if (retry === 'fenced') throw new Error('fenced');
    assert.equal(retry.producerEpoch, 1, 'a retry of the bump that succeeded keeps the epoch');
    commit(md, retry);
    // A new producer (no epoch given) resets lastProducerEpoch: the retry window closes.
    const t2 = md.prepareIncrementProducerEpoch(60_000, null, 4);
    if (t2 === 'fenced') throw new Error('fenced');
    commit(md, t2);
    assert.equal(md.producerEpoch, 2);
    assert.equal(md.prepareIncrementProducerEpoch(60_000, 0, 5), 'fenced');
  });

  it('a transition in flight blocks another; a move the state machine does not allow throws', () => {
    const md = fresh();
    const t = md.prepareIncrementProducerEpoch(60_000, null, 1);
    assert.ok(md.pending);
    assert.throws(() => md.prepareAddPartitions(new Map([['a', new Set([0])]]), 1), IllegalTxnTransition);
    if (t === 'fenced') throw new Error('fenced');
    commit(md, t);
    assert.throws(() => md.prepareAbortOrCommit(true, 2), IllegalTxnTransition, 'Empty -> PrepareCommit');
    assert.ok(!md.pending, 'a refused transition leaves nothing pending');
    assert.throws(() => md.prepareComplete(2), IllegalTxnTransition, 'Empty -> Complete*');
  });

  it('Ongoing keeps its start time as partitions join; a fencing abort bumps the epoch; complete clears partitions', () => {
    const md = fresh();
    const t = md.prepareIncrementProducerEpoch(60_000, null, 1);
    if (t === 'fenced') throw new Error('fenced');
    commit(md, t);
    commit(md, md.prepareAddPartitions(new Map([['a', new Set([0])]]), 100));
    commit(
      md,
      md.prepareAddPartitions(
        new Map([
          ['a', new Set([1])],
          ['b', new Set([0])],
        ]),
        200,
      ),
    );
    assert.equal(md.state, TxnState.Ongoing);
    assert.equal(md.startTimestamp, 100);
    assert.ok(md.hasAll(new Map([['a', new Set([0, 1])]])));
    assert.ok(!md.hasAll(new Map([['c', new Set([0])]])));
    commit(md, md.prepareAbortOrCommit(false, 300, true));
    assert.equal(md.state, TxnState.PrepareAbort);
    assert.equal(md.producerEpoch, 1);
    commit(md, md.prepareComplete(400));
    assert.equal(md.state, TxnState.CompleteAbort);
    assert.equal(md.partitions.size, 0);
    assert.equal(md.startTimestamp, 100, 'kept, as Kafka reports it for a completed transaction');
  });

  it('an exhausted epoch is rotated to a new producer id at epoch 0', () => {
    const md = new TransactionMetadata('tx', 7, 32766, 60_000, TxnState.CompleteCommit, 0);
    assert.ok(md.isProducerEpochExhausted());
    assert.ok(!isEpochExhausted(32765));
    const t = md.prepareProducerIdRotation(8, 60_000, 1, true);
    commit(md, t);
    assert.deepEqual(
      [md.producerId, md.producerEpoch, md.prevProducerId, md.lastProducerEpoch],
      [8, 0, 7, 32766],
    );
  });
});

describe('__transaction_state records', () => {
  it("are Kafka's TransactionLogKey v0 / TransactionLogValue v0 bytes", () => {
    const rec = transactionLogRecord('tx', {
      producerId: 1000,
      producerEpoch: 3,
      transactionTimeoutMs: 60_000,
      state: TxnState.Ongoing,
      partitions: [{ topic: 'ab', partitionIds: [0, 2] }],
      lastUpdateTimestampMs: 5000,
      startTimestampMs: 4000,
    });
    assert.deepEqual(rec.key, Buffer.from([0, 0, 0, 2, 0x74, 0x78]));
    const v = Buffer.alloc(2 + 8 + 2 + 4 + 1 + 4 + (2 + 2 + 4 + 8) + 8 + 8);
    let o = v.writeInt16BE(0, 0);
    o = v.writeBigInt64BE(1000n, o);
    o = v.writeInt16BE(3, o);
    o = v.writeInt32BE(60_000, o);
    o = v.writeInt8(1, o);
    o = v.writeInt32BE(1, o);
    o = v.writeInt16BE(2, o);
    o += v.write('ab', o);
    o = v.writeInt32BE(2, o);
    o = v.writeInt32BE(0, o);
    o = v.writeInt32BE(2, o);
    o = v.writeBigInt64BE(5000n, o);
    v.writeBigInt64BE(4000n, o);
    assert.deepEqual(rec.value, v);
    const back = decodeTxnRecord(rec.key, rec.value);
    assert.equal(back.kind, 'txn');
    if (back.kind === 'txn') assert.equal(back.value?.partitions[0]?.partitionIds[1], 2);
  });

  it('Empty and Complete* carry null partitions; a tombstone decodes as a removal', () => {
    const rec = transactionLogRecord('tx', {
      producerId: 1,
      producerEpoch: 0,
      transactionTimeoutMs: 1,
      state: TxnState.Empty,
      partitions: [],
      lastUpdateTimestampMs: 0,
      startTimestampMs: -1,
    });
    assert.equal(rec.value?.readInt32BE(2 + 8 + 2 + 4 + 1), -1, 'null array');
    assert.deepEqual(decodeTxnRecord(rec.key, null), { kind: 'txn', transactionalId: 'tx', value: null });
  });

  it("partitions and state names are Kafka's", () => {
    // Utils.abs("a".hashCode()) % 50 as Kafka computes it.
    assert.equal(partitionForTransactionalId('a', 50), 97 % 50);
    assert.equal(stateName(TxnState.PrepareEpochFence), 'PrepareEpochFence');
    assert.equal(stateByName('CompleteCommit'), TxnState.CompleteCommit);
    assert.equal(stateByName('ongoing'), undefined);
  });
});
