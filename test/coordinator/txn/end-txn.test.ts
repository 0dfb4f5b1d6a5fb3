// EndTxn's decisions under transaction version 2 (end-txn.ts, Kafka's handleEndTransaction with TV_2) and the
// epoch bump and overflow of the state machine (metadata.ts), as pure functions: which epochs are retries, which
// are fenced, and the producer id rotation when the bump exhausts the epoch; the TransactionLogValue v1 fields.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideEndV1, decideEndV2, verifyPartitions } from '../../../src/coordinator/txn/end-txn.js';
import { EPOCH_MAX, TransactionMetadata, type TxnTransit } from '../../../src/coordinator/txn/metadata.js';
import { decodeTxnRecord, TxnState, transactionLogRecord } from '../../../src/coordinator/txn/records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';

function ongoing(epoch: number): TransactionMetadata {
  const md = new TransactionMetadata('tx', 7, epoch, 60_000, TxnState.Empty, 0);
  md.completeTransitionTo(md.prepareAddPartitions(new Map([['t', new Set([0])]]), 1, 2));
  return md;
}

function apply(md: TransactionMetadata, t: TxnTransit): void {
  md.completeTransitionTo(t);
}

describe('EndTxn v5 (transaction version 2)', () => {
  it('bumps the epoch; a retry carries the epoch before the bump; other epochs are fenced', () => {
    const md = ongoing(3);
    assert.deepEqual(decideEndV2(md, 7, 3, true), { kind: 'prepare', newId: false });
    assert.deepEqual(decideEndV2(md, 7, 2, true), { kind: 'error', errorCode: ErrorCode.PRODUCER_FENCED });
    assert.deepEqual(decideEndV2(md, 8, 3, true), {
      kind: 'error',
      errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    });
    const prepare = md.prepareEndV2(true, 2, -1);
    assert.deepEqual(
      [prepare.state, prepare.producerEpoch, prepare.lastProducerEpoch],
      [TxnState.PrepareCommit, 4, 3],
    );
    apply(md, prepare);
    // While the markers are written: the retry waits, the old epoch's abort is the wrong outcome.
    assert.deepEqual(decideEndV2(md, 7, 3, true), {
      kind: 'error',
      errorCode: ErrorCode.CONCURRENT_TRANSACTIONS,
    });
    assert.deepEqual(decideEndV2(md, 7, 3, false), { kind: 'error', errorCode: ErrorCode.INVALID_TXN_STATE });
    assert.deepEqual(decideEndV2(md, 7, 4, true), { kind: 'error', errorCode: ErrorCode.PRODUCER_FENCED });
    apply(md, md.prepareComplete(3));
    assert.deepEqual(decideEndV2(md, 7, 3, true), { kind: 'done' });
    assert.deepEqual(md.continuation(), { producerId: 7, producerEpoch: 4 });
    // At the new epoch: a commit of nothing is refused, an abort of nothing is written.
    assert.deepEqual(decideEndV2(md, 7, 4, true), { kind: 'error', errorCode: ErrorCode.INVALID_TXN_STATE });
    assert.deepEqual(decideEndV2(md, 7, 4, false), { kind: 'prepare', newId: false });
    const empty = md.prepareEndV2(false, 4, -1);
    assert.deepEqual(
      [empty.state, empty.producerEpoch, empty.partitions.size],
      [TxnState.PrepareAbort, 5, 0],
    );
  });

  it('an exhausted epoch rotates the producer id once the transaction completes; the retry is recognized', () => {
    const md = ongoing(EPOCH_MAX - 1);
    assert.deepEqual(decideEndV2(md, 7, EPOCH_MAX - 1, true), { kind: 'prepare', newId: true });
    apply(md, md.prepareEndV2(true, 2, 99));
    assert.equal(md.producerEpoch, EPOCH_MAX, 'the markers carry the last epoch');
    assert.deepEqual(md.continuation(), { producerId: 99, producerEpoch: 0 });
    apply(md, md.prepareComplete(3));
    assert.deepEqual([md.producerId, md.producerEpoch, md.prevProducerId, md.nextProducerId], [99, 0, 7, -1]);
    assert.deepEqual(decideEndV2(md, 7, EPOCH_MAX - 1, true), { kind: 'done' });
    assert.deepEqual(md.continuation(), { producerId: 99, producerEpoch: 0 });
    assert.deepEqual(decideEndV2(md, 7, 3, true), {
      kind: 'error',
      errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    });
  });

  it('a coordinator abort of a TV2 transaction bumps by two, so the fenced producer is no retry', () => {
    const md = ongoing(3);
    apply(md, md.prepareAbortOrCommit(false, 2, true));
    assert.equal(md.producerEpoch, 5);
    apply(md, md.prepareComplete(3));
    assert.deepEqual(decideEndV2(md, 7, 3, true), { kind: 'error', errorCode: ErrorCode.PRODUCER_FENCED });
  });

  it('transaction version 1 keeps strict epochs', () => {
    const md = ongoing(3);
    assert.deepEqual(decideEndV1(md, 7, 3, true), { kind: 'prepare', newId: false });
    assert.deepEqual(decideEndV1(md, 7, 2, true), { kind: 'error', errorCode: ErrorCode.PRODUCER_FENCED });
  });

  it('verifyOnly: NONE for the partitions of the open transaction, TRANSACTION_ABORTABLE for the others', () => {
    const md = ongoing(3);
    const r = verifyPartitions(md, 7, 3, new Map([['t', new Set([0, 1])]]));
    assert.ok(r instanceof Map);
    assert.deepEqual(
      [...(r.get('t') ?? [])],
      [
        [0, ErrorCode.NONE],
        [1, ErrorCode.TRANSACTION_ABORTABLE],
      ],
    );
    assert.equal(verifyPartitions(md, 7, 2, new Map()), ErrorCode.PRODUCER_FENCED);
    assert.equal(verifyPartitions(undefined, 7, 3, new Map()), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  });

  it('TransactionLogValue v1 carries the TV2 fields (tagged) and reads back', () => {
    const rec = transactionLogRecord(
      'tx',
      {
        producerId: 99,
        producerEpoch: 0,
        transactionTimeoutMs: 60_000,
        state: TxnState.CompleteCommit,
        partitions: [],
        lastUpdateTimestampMs: 5,
        startTimestampMs: 4,
        previousProducerId: 7,
        nextProducerId: -1,
        clientTransactionVersion: 2,
      },
      1,
    );
    assert.equal(rec.value?.readInt16BE(0), 1);
    const back = decodeTxnRecord(rec.key, rec.value);
    assert.equal(back.kind, 'txn');
    if (back.kind !== 'txn') return;
    assert.deepEqual(
      [back.value?.previousProducerId, back.value?.nextProducerId, back.value?.clientTransactionVersion],
      [7, -1, 2],
    );
  });
});
