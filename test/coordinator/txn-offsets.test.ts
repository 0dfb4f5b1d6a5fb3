// Transactional offset commits against a real broker over real sockets: TxnOffsetCommit appends a
// transactional batch to the group's __consumer_offsets partition and its offsets stay invisible (OffsetFetch
// require_stable answers UNSTABLE_OFFSET_COMMIT) until the transaction's marker on that partition commits them
// or aborts them; a newer plain commit wins over an older transactional one; member checks as OffsetCommit; a
// restart replays pending, committed and aborted transactional commits from the log.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import { OFFSETS_TOPIC, partitionForGroup } from '../../src/coordinator/group/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { isTransactional, iterateBatches } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import {
  commit,
  createTopic,
  endTxn,
  fetchOffsets,
  fetchStable,
  joinNew,
  newProducer,
  sync,
  txnCommit,
} from './group-client.js';
import { groupOn } from './leadership.js';

const PARTITIONS = 3;
const overrides = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '50',
  'offsets.topic.num.partitions': String(PARTITIONS),
  // Idempotent producer ids no transaction coordinator knows: the commits skip its verification (KIP-890).
  'transaction.partition.verification.enable': 'false',
};

const t0 = [{ name: 't', partitionIndexes: [0, 1] }];

describe('group coordinator: transactional offset commits', () => {
  let b: InProcessBroker;
  let c: KafkaConnection;
  const p = partitionForGroup('txn-anchor', PARTITIONS);

  before(async () => {
    b = await startInProcess(overrides);
    c = await b.connect();
    assert.equal(await createTopic(c, 't', 2), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.stop(true);
  });

  it('pending until the commit marker: invisible, UNSTABLE_OFFSET_COMMIT with require_stable, then committed', async () => {
    const g = groupOn(p, PARTITIONS, 'commit');
    const producer = await newProducer(c);
    assert.equal((await fetchOffsets(c, g, t0)).get('t:0')?.offset, -1, 'creates __consumer_offsets');
    const log = b.broker.replicas.partition(OFFSETS_TOPIC, p)!.log;
    const endBefore = log.logEndOffset;
    assert.deepEqual(
      await txnCommit(c, g, producer, [{ topic: 't', partition: 0, offset: 5 }]),
      new Map([['t:0', ErrorCode.NONE]]),
    );
    // One transactional batch of this producer was appended.
    const read = log.read(endBefore, 1 << 20, log.logEndOffset, true);
    const batches = read.chunks.flatMap((chunk) => [...iterateBatches(chunk)].map((x) => x.header));
    assert.equal(batches.length, 1);
    assert.ok(isTransactional(batches[0]!.attributes));
    assert.equal(batches[0]!.producerId, producer.producerId);
    assert.equal(batches[0]!.producerEpoch, producer.producerEpoch);

    assert.equal((await fetchOffsets(c, g, t0)).get('t:0')?.offset, -1, 'a plain fetch does not show it');
    assert.deepEqual(
      await fetchStable(c, g, t0),
      new Map([
        ['t:0', [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]],
        ['t:1', [-1, ErrorCode.NONE]],
      ]),
    );

    await endTxn(c, p, producer, true);
    const after = await fetchOffsets(c, g, t0);
    assert.equal(after.get('t:0')?.offset, 5);
    assert.equal(after.get('t:0')?.metadata, 'm5');
    assert.equal(after.get('t:0')?.leaderEpoch, 2);
    assert.deepEqual((await fetchStable(c, g, t0)).get('t:0'), [5, ErrorCode.NONE]);
  });

  it('an abort marker drops the pending offsets; the committed ones stay', async () => {
    const g = groupOn(p, PARTITIONS, 'abort');
    assert.equal(
      (await commit(c, g, [{ topic: 't', partition: 1, offset: 3 }])).topics[0]!.partitions[0]!.errorCode,
      0,
    );
    const producer = await newProducer(c);
    await txnCommit(c, g, producer, [
      { topic: 't', partition: 0, offset: 7 },
      { topic: 't', partition: 1, offset: 8 },
    ]);
    assert.deepEqual(
      await fetchStable(c, g, null),
      new Map([['t:1', [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]]]),
      'all-partitions fetch: the committed partition is unstable, the pending-only one is not listed',
    );
    await endTxn(c, p, producer, false);
    const after = await fetchOffsets(c, g, t0);
    assert.equal(after.get('t:0')?.offset, -1);
    assert.equal(after.get('t:1')?.offset, 3);
    assert.deepEqual(
      await fetchStable(c, g, t0),
      new Map([
        ['t:0', [-1, ErrorCode.NONE]],
        ['t:1', [3, ErrorCode.NONE]],
      ]),
    );
  });

  it('a plain commit appended after the transactional one wins when the transaction commits', async () => {
    const g = groupOn(p, PARTITIONS, 'newer');
    const producer = await newProducer(c);
    await txnCommit(c, g, producer, [{ topic: 't', partition: 0, offset: 10 }]);
    await commit(c, g, [{ topic: 't', partition: 0, offset: 20 }]);
    assert.equal((await fetchOffsets(c, g, t0)).get('t:0')?.offset, 20);
    await endTxn(c, p, producer, true);
    assert.equal((await fetchOffsets(c, g, t0)).get('t:0')?.offset, 20);
  });

  it('of two transactions committing the same partition, the later record wins whatever the marker order', async () => {
    const g = groupOn(p, PARTITIONS, 'two-txns');
    const first = await newProducer(c);
    const second = await newProducer(c);
    await txnCommit(c, g, first, [{ topic: 't', partition: 0, offset: 1 }]);
    await txnCommit(c, g, second, [{ topic: 't', partition: 0, offset: 2 }]);
    await endTxn(c, p, second, true);
    assert.deepEqual(
      (await fetchStable(c, g, t0)).get('t:0'),
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      'still unstable: the first transaction is open',
    );
    assert.equal((await fetchOffsets(c, g, t0)).get('t:0')?.offset, 2);
    await endTxn(c, p, first, true);
    assert.deepEqual((await fetchStable(c, g, t0)).get('t:0'), [2, ErrorCode.NONE]);
  });

  it('markers end only their producer, and only for groups of their partition', async () => {
    const g = groupOn(p, PARTITIONS, 'two-producers');
    const other = groupOn((p + 1) % PARTITIONS, PARTITIONS, 'elsewhere');
    const a = await newProducer(c);
    const z = await newProducer(c);
    await txnCommit(c, g, a, [{ topic: 't', partition: 0, offset: 1 }]);
    await txnCommit(c, g, z, [{ topic: 't', partition: 1, offset: 2 }]);
    await txnCommit(c, other, a, [{ topic: 't', partition: 0, offset: 3 }]);
    await endTxn(c, p, a, true);
    assert.deepEqual(
      await fetchStable(c, g, t0),
      new Map([
        ['t:0', [1, ErrorCode.NONE]],
        ['t:1', [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]],
      ]),
    );
    assert.deepEqual((await fetchStable(c, other, t0)).get('t:0'), [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]);
    await endTxn(c, (p + 1) % PARTITIONS, a, true);
    assert.equal((await fetchOffsets(c, other, t0)).get('t:0')?.offset, 3);
    await endTxn(c, p, z, true);
    assert.equal((await fetchOffsets(c, g, t0)).get('t:1')?.offset, 2);
  });

  it('checks the member and generation (v3+) as OffsetCommit; v0 commits without them', async () => {
    const g = groupOn(p, PARTITIONS, 'members');
    const j = await joinNew(c, { groupId: g, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000 });
    assert.equal(j.errorCode, ErrorCode.NONE);
    assert.equal((await sync(c, g, j.generationId, j.memberId)).errorCode, ErrorCode.NONE);
    const producer = await newProducer(c);
    const one = [{ topic: 't', partition: 0, offset: 4 }];
    const err = async (opts: { version?: number; generationId?: number; memberId?: string }) =>
      (await txnCommit(c, g, producer, one, opts)).get('t:0');
    assert.equal(
      await err({ generationId: j.generationId + 1, memberId: j.memberId }),
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      await err({ generationId: j.generationId, memberId: 'nobody' }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(await err({ generationId: j.generationId, memberId: j.memberId }), ErrorCode.NONE);
    assert.equal(await err({ version: 0 }), ErrorCode.NONE, 'v0 has no member: accepted in a Stable group');
    assert.equal(
      (
        await txnCommit(c, groupOn(p, PARTITIONS, 'unknown'), producer, one, {
          generationId: 1,
          memberId: 'x',
        })
      ).get('t:0'),
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal((await txnCommit(c, '', producer, one)).get('t:0'), ErrorCode.INVALID_GROUP_ID);
    assert.equal(
      (await txnCommit(c, g, producer, [{ topic: 'missing', partition: 0, offset: 1 }])).get('missing:0'),
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    await endTxn(c, p, producer, true);
    assert.equal((await fetchOffsets(c, g, t0)).get('t:0')?.offset, 4);
  });

  it('an older producer epoch is fenced with INVALID_PRODUCER_EPOCH and leaves nothing pending; no producer id is refused', async () => {
    const g = groupOn(p, PARTITIONS, 'fenced');
    const producer = await newProducer(c);
    const bumped = { ...producer, producerEpoch: producer.producerEpoch + 1 };
    assert.equal((await txnCommit(c, g, bumped, [{ topic: 't', partition: 0, offset: 1 }])).get('t:0'), 0);
    await endTxn(c, p, bumped, true);
    assert.equal(
      (await txnCommit(c, g, producer, [{ topic: 't', partition: 1, offset: 9 }])).get('t:1'),
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    assert.deepEqual((await fetchStable(c, g, t0)).get('t:1'), [-1, ErrorCode.NONE]);
    const one = [{ topic: 't', partition: 0, offset: 1 }];
    assert.equal(
      (await txnCommit(c, g, { producerId: -1, producerEpoch: 0 }, one)).get('t:0'),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    assert.equal(
      (await txnCommit(c, g, { producerId: producer.producerId, producerEpoch: -1 }, one)).get('t:0'),
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
  });

  it('retention keeps an offset pending in a transaction, and its group', async () => {
    const g = groupOn(p, PARTITIONS, 'retention');
    const producer = await newProducer(c);
    await commit(c, g, [
      { topic: 't', partition: 0, offset: 1 },
      { topic: 't', partition: 1, offset: 2 },
    ]);
    await txnCommit(c, g, producer, [{ topic: 't', partition: 0, offset: 3 }]);
    const coordinator = b.broker.groups;
    coordinator.cleanupExpired(Date.now() + coordinator.config.offsetsRetentionMs + 60_000);
    const kept = await fetchOffsets(c, g, t0);
    assert.equal(kept.get('t:0')?.offset, 1, 'the offset with a transaction pending is kept');
    assert.equal(kept.get('t:1')?.offset, -1, 'the other one expired');
    await endTxn(c, p, producer, false);
    assert.equal((await fetchOffsets(c, g, t0)).get('t:0')?.offset, 1);
  });

  it('OffsetDelete drops the offsets of open transactions too, as a load of its tombstone does', async () => {
    const g = groupOn(p, PARTITIONS, 'offset-delete');
    const producer = await newProducer(c);
    await commit(c, g, [{ topic: 't', partition: 0, offset: 1 }]);
    await txnCommit(c, g, producer, [{ topic: 't', partition: 0, offset: 5 }]);
    const del = (await c.send(ApiKey.OffsetDelete, 0, {
      groupId: g,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }],
    })) as { errorCode: number; topics: { partitions: { errorCode: number }[] }[] };
    assert.equal(del.errorCode, ErrorCode.NONE);
    assert.equal(del.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      (await fetchStable(c, g, t0)).get('t:0'),
      [-1, ErrorCode.NONE],
      'nothing pending any more',
    );
    await endTxn(c, p, producer, true);
    assert.equal((await fetchOffsets(c, g, t0)).get('t:0')?.offset, -1);
  });

  it('DeleteGroups tombstones the pending offsets too: a later commit marker brings nothing back', async () => {
    const g = groupOn(p, PARTITIONS, 'deleted');
    const producer = await newProducer(c);
    await txnCommit(c, g, producer, [{ topic: 't', partition: 0, offset: 6 }]);
    const del = (await c.send(ApiKey.DeleteGroups, 2, { groupsNames: [g] })) as {
      results: { errorCode: number }[];
    };
    assert.equal(del.results[0]!.errorCode, ErrorCode.NONE);
    await endTxn(c, p, producer, true);
    assert.deepEqual(
      await fetchStable(c, g, t0),
      new Map([
        ['t:0', [-1, 0]],
        ['t:1', [-1, 0]],
      ]),
    );
  });

  it('a restart loads what memory held for every group above, an open transaction included', async () => {
    const producer = await newProducer(c);
    await txnCommit(c, groupOn(p, PARTITIONS, 'open-at-restart'), producer, [
      { topic: 't', partition: 1, offset: 77 },
    ]);
    const labels = 'commit abort newer two-txns two-producers members fenced retention offset-delete deleted';
    const groups = [
      ...[...labels.split(' '), 'open-at-restart'].map((l) => groupOn(p, PARTITIONS, l)),
      groupOn((p + 1) % PARTITIONS, PARTITIONS, 'elsewhere'),
    ];
    const state = async () => {
      const out: unknown[] = [];
      for (const g of groups)
        out.push([g, [...(await fetchStable(c, g, t0))], [...(await fetchOffsets(c, g, t0))]]);
      return out;
    };
    const before = await state();
    c.close();
    b = await b.restart();
    c = await b.connect();
    assert.deepEqual(await state(), before);
    assert.deepEqual((await fetchStable(c, groups.at(-2)!, t0)).get('t:1'), [
      -1,
      ErrorCode.UNSTABLE_OFFSET_COMMIT,
    ]);
  });
});

describe('group coordinator: loading transactional offset commits', () => {
  it('a restart replays committed, aborted and still pending transactions from the log', async () => {
    let b = await startInProcess(overrides);
    try {
      let c = await b.connect();
      assert.equal(await createTopic(c, 't', 2), ErrorCode.NONE);
      const p = partitionForGroup('load-anchor', PARTITIONS);
      const g = groupOn(p, PARTITIONS, 'load');
      const committed = await newProducer(c);
      const aborted = await newProducer(c);
      const pending = await newProducer(c);
      await commit(c, g, [{ topic: 't', partition: 1, offset: 50 }]);
      await txnCommit(c, g, committed, [{ topic: 't', partition: 0, offset: 11 }]);
      await txnCommit(c, g, aborted, [{ topic: 't', partition: 0, offset: 99 }]);
      await txnCommit(c, g, pending, [{ topic: 't', partition: 1, offset: 12 }]);
      // A transaction committed after a newer plain commit of the same partition does not win on load either.
      const stale = await newProducer(c);
      const only = groupOn(p, PARTITIONS, 'pending-only');
      await txnCommit(c, only, stale, [{ topic: 't', partition: 0, offset: 70 }]);
      await commit(c, only, [{ topic: 't', partition: 0, offset: 80 }]);
      await endTxn(c, p, stale, true);
      await endTxn(c, p, committed, true);
      await endTxn(c, p, aborted, false);
      const before = await fetchStable(c, g, t0);
      c.close();

      b = await b.restart();
      c = await b.connect();
      try {
        assert.deepEqual(await fetchStable(c, g, t0), before);
        assert.deepEqual(
          before,
          new Map([
            ['t:0', [11, ErrorCode.NONE]],
            ['t:1', [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]],
          ]),
        );
        assert.equal((await fetchOffsets(c, g, t0)).get('t:1')?.offset, 50);
        assert.equal((await fetchOffsets(c, only, t0)).get('t:0')?.offset, 80);
        // The transaction still open after the restart ends as usual.
        await endTxn(c, p, pending, true);
        assert.deepEqual((await fetchStable(c, g, t0)).get('t:1'), [12, ErrorCode.NONE]);
      } finally {
        c.close();
      }
    } finally {
      await b.stop(true);
    }
  });
});
