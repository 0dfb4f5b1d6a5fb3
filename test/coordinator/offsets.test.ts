// Committed offsets: OffsetCommit/OffsetFetch semantics and errors, OffsetDelete, DeleteGroups,
// retention, the bytes written to __consumer_offsets (Kafka's record format, Kafka's partitioning)
// and a broker restart that keeps offsets and group state.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import {
  decodeStateRecord,
  javaStringHashCode,
  OFFSETS_TOPIC,
  partitionForGroup,
} from '../../src/coordinator/group/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { DeleteGroupsResponse } from '../../src/protocol/generated/delete-groups-response.js';
import type { DescribeGroupsResponse } from '../../src/protocol/generated/describe-groups-response.js';
import type { ListGroupsResponse } from '../../src/protocol/generated/list-groups-response.js';
import type { OffsetCommitResponse } from '../../src/protocol/generated/offset-commit-response.js';
import type { OffsetDeleteResponse } from '../../src/protocol/generated/offset-delete-response.js';
import type { OffsetFetchResponse } from '../../src/protocol/generated/offset-fetch-response.js';
import { decodeRecords, iterateBatches } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import {
  assignment,
  commit,
  createTopic,
  eventually,
  fetchOffsets,
  heartbeat,
  join,
  joinNew,
  leave,
  subscription,
  sync,
} from './group-client.js';

const overrides = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '50',
  'offsets.topic.num.partitions': '7',
};

function errors(res: OffsetCommitResponse): string[] {
  return res.topics.flatMap((t) => t.partitions.map((p) => `${t.name}:${p.partitionIndex}=${p.errorCode}`));
}

describe('Kafka partitioning of groups', () => {
  it("matches Java's String.hashCode and Utils.abs", () => {
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('hello'), 99162322);
    assert.equal(javaStringHashCode('console-consumer-12345'), 158455506);
    // UTF-16 code units, as Java counts them (values from jshell).
    assert.equal(javaStringHashCode('grüße-😀'), 347391577);
    // The famous string whose hash is Integer.MIN_VALUE: Utils.abs maps it to 0.
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(partitionForGroup('polygenelubricants', 50), 0);
    assert.equal(partitionForGroup('hello', 50), 99162322 % 50);
    assert.equal(partitionForGroup('console-consumer-12345', 50), 6);
  });
});

describe('group coordinator: committed offsets', () => {
  let b: InProcessBroker;
  let c: KafkaConnection;

  before(async () => {
    b = await startInProcess(overrides);
    c = await b.connect();
    assert.equal(await createTopic(c, 'orders', 4), ErrorCode.NONE);
    assert.equal(await createTopic(c, 'audit', 1), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.stop(true);
  });

  it('simple commits (generation -1) to an unknown group create it; fetch returns offset, epoch and metadata', async () => {
    const res = await commit(c, 'simple', [
      { topic: 'orders', partition: 0, offset: 10, metadata: 'm0' },
      { topic: 'orders', partition: 3, offset: 33, metadata: null },
      { topic: 'audit', partition: 0, offset: 5 },
    ]);
    assert.deepEqual(errors(res), ['orders:0=0', 'orders:3=0', 'audit:0=0']);
    const got = await fetchOffsets(c, 'simple', [{ name: 'orders', partitionIndexes: [0, 1, 3] }]);
    assert.deepEqual(got.get('orders:0'), { offset: 10, metadata: 'm0', leaderEpoch: 3, errorCode: 0 });
    assert.deepEqual(got.get('orders:1'), { offset: -1, metadata: '', leaderEpoch: -1, errorCode: 0 });
    assert.deepEqual(got.get('orders:3'), { offset: 33, metadata: '', leaderEpoch: 3, errorCode: 0 });
    const all = await fetchOffsets(c, 'simple', null);
    assert.deepEqual([...all.keys()].sort(), ['audit:0', 'orders:0', 'orders:3']);
    const listed = (await c.send(ApiKey.ListGroups, 5, {
      statesFilter: [],
      typesFilter: [],
    })) as ListGroupsResponse;
    assert.ok(
      listed.groups.some((g) => g.groupId === 'simple' && g.protocolType === '' && g.groupState === 'Empty'),
    );
    // A later commit wins.
    await commit(c, 'simple', [{ topic: 'orders', partition: 0, offset: 11 }]);
    assert.equal((await fetchOffsets(c, 'simple')).get('orders:0')?.offset, 11);
  });

  it('every OffsetFetch version answers; v8+ takes several groups; unknown groups read -1', async () => {
    await commit(c, 'fv', [{ topic: 'orders', partition: 1, offset: 7, metadata: 'x' }]);
    for (let v = 1; v <= 7; v++) {
      const res = (await c.send(ApiKey.OffsetFetch, v, {
        groupId: 'fv',
        topics: [{ name: 'orders', partitionIndexes: [1, 2] }],
        requireStable: false,
      })) as OffsetFetchResponse;
      const p = res.topics[0]!.partitions;
      assert.equal(p[0]!.committedOffset, 7, `v${v}`);
      assert.equal(p[0]!.metadata, 'x');
      assert.equal(p[1]!.committedOffset, -1);
      assert.equal(p[0]!.committedLeaderEpoch, v >= 5 ? 3 : -1);
    }
    const all = (await c.send(ApiKey.OffsetFetch, 2, { groupId: 'fv', topics: null })) as OffsetFetchResponse;
    assert.equal(all.topics[0]!.partitions[0]!.committedOffset, 7);
    const multi = (await c.send(ApiKey.OffsetFetch, 8, {
      groups: [
        { groupId: 'fv', topics: null },
        { groupId: 'nobody', topics: [{ name: 'orders', partitionIndexes: [0] }] },
      ],
      requireStable: true,
    })) as OffsetFetchResponse;
    assert.equal(multi.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 7);
    assert.equal(multi.groups[1]!.errorCode, ErrorCode.NONE);
    assert.equal(multi.groups[1]!.topics[0]!.partitions[0]!.committedOffset, -1);
  });

  it('per-partition errors: unknown topics and partitions, oversized metadata', async () => {
    const res = await commit(c, 'bad', [
      { topic: 'no-such-topic', partition: 0, offset: 1 },
      { topic: 'orders', partition: 99, offset: 1 },
      { topic: 'orders', partition: 0, offset: 1, metadata: 'x'.repeat(4097) },
      { topic: 'orders', partition: 1, offset: 1, metadata: 'x'.repeat(4096) },
    ]);
    assert.deepEqual(errors(res), ['no-such-topic:0=3', 'orders:99=3', 'orders:0=12', 'orders:1=0']);
    const got = await fetchOffsets(c, 'bad', [{ name: 'orders', partitionIndexes: [0, 1] }]);
    assert.equal(got.get('orders:0')?.offset, -1);
    assert.equal(got.get('orders:1')?.offset, 1);
  });

  it('group-managed commits check member, generation and state', async () => {
    const g = 'managed';
    const a = await joinNew(c, { groupId: g });
    // CompletingRebalance: the member has the generation but no assignment yet.
    let res = await commit(c, g, [{ topic: 'orders', partition: 0, offset: 1 }], {
      generationId: 1,
      memberId: a.memberId,
    });
    assert.deepEqual(errors(res), [`orders:0=${ErrorCode.REBALANCE_IN_PROGRESS}`]);
    await sync(c, g, 1, a.memberId, [
      { memberId: a.memberId, assignment: assignment({ orders: [0, 1, 2, 3] }) },
    ]);
    res = await commit(c, g, [{ topic: 'orders', partition: 0, offset: 100 }], {
      generationId: 1,
      memberId: a.memberId,
    });
    assert.deepEqual(errors(res), ['orders:0=0']);
    res = await commit(c, g, [{ topic: 'orders', partition: 0, offset: 1 }], {
      generationId: 0,
      memberId: a.memberId,
    });
    assert.deepEqual(errors(res), [`orders:0=${ErrorCode.ILLEGAL_GENERATION}`]);
    res = await commit(c, g, [{ topic: 'orders', partition: 0, offset: 1 }], {
      generationId: 1,
      memberId: 'intruder',
    });
    assert.deepEqual(errors(res), [`orders:0=${ErrorCode.UNKNOWN_MEMBER_ID}`]);
    // Without member and generation while someone consumes: refused.
    res = await commit(c, g, [{ topic: 'orders', partition: 0, offset: 1 }]);
    assert.deepEqual(errors(res), [`orders:0=${ErrorCode.UNKNOWN_MEMBER_ID}`]);
    // Unknown group with a generation: v9 says GROUP_ID_NOT_FOUND, older versions ILLEGAL_GENERATION.
    res = await commit(c, 'ghost', [{ topic: 'orders', partition: 0, offset: 1 }], {
      generationId: 3,
      memberId: 'm',
    });
    assert.deepEqual(errors(res), [`orders:0=${ErrorCode.GROUP_ID_NOT_FOUND}`]);
    res = await commit(c, 'ghost', [{ topic: 'orders', partition: 0, offset: 1 }], {
      generationId: 3,
      memberId: 'm',
      version: 8,
    });
    assert.deepEqual(errors(res), [`orders:0=${ErrorCode.ILLEGAL_GENERATION}`]);
    assert.equal((await fetchOffsets(c, g)).get('orders:0')?.offset, 100);
    // Every supported OffsetCommit version commits.
    for (let v = 2; v <= 9; v++) {
      res = await commit(c, g, [{ topic: 'orders', partition: 2, offset: 200 + v }], {
        generationId: 1,
        memberId: a.memberId,
        version: v,
      });
      assert.deepEqual(errors(res), ['orders:2=0'], `v${v}`);
      assert.equal((await fetchOffsets(c, g)).get('orders:2')?.offset, 200 + v);
    }
    // A static member's commit with another member id is fenced.
    const s = await join(c, { groupId: 'static-commits', groupInstanceId: 'i1' });
    await sync(
      c,
      'static-commits',
      1,
      s.memberId,
      [{ memberId: s.memberId, assignment: assignment({ orders: [0] }) }],
      { groupInstanceId: 'i1' },
    );
    res = await commit(c, 'static-commits', [{ topic: 'orders', partition: 0, offset: 1 }], {
      generationId: 1,
      memberId: 'i1-old',
      groupInstanceId: 'i1',
    });
    assert.deepEqual(errors(res), [`orders:0=${ErrorCode.FENCED_INSTANCE_ID}`]);
  });

  it('writes Kafka-format records to the group partition of __consumer_offsets', async () => {
    await commit(c, 'format-check', [{ topic: 'audit', partition: 0, offset: 42, metadata: 'meta' }]);
    const topic = b.broker.topics.get(OFFSETS_TOPIC)!;
    assert.equal(topic.partitions.length, 7);
    const p = topic.partitions[partitionForGroup('format-check', 7)]!;
    const read = p.log.read(p.log.logStartOffset, 1 << 20, p.log.logEndOffset, true);
    const seen: unknown[] = [];
    for (const chunk of read.chunks) {
      for (const { pos, header } of iterateBatches(chunk)) {
        for (const r of decodeRecords(chunk.subarray(pos, pos + 12 + header.batchLength)).records) {
          const rec = decodeStateRecord(r.key!, r.value);
          if (rec.kind === 'offset' && rec.group === 'format-check') {
            // key: int16 version 1 + group, topic, partition; value: int16 version 3 + struct.
            assert.equal(r.key!.readInt16BE(0), 1);
            assert.equal(r.value!.readInt16BE(0), 3);
            seen.push({
              topic: rec.topic,
              partition: rec.partition,
              offset: rec.value?.offset,
              metadata: rec.value?.metadata,
            });
          }
        }
      }
    }
    assert.deepEqual(seen, [{ topic: 'audit', partition: 0, offset: 42, metadata: 'meta' }]);
    assert.equal(p.log.highWatermark, p.log.logEndOffset);
  });

  it('OffsetDelete refuses subscribed topics of an active group; DeleteGroups refuses non-empty groups', async () => {
    const g = 'del';
    const a = await joinNew(c, {
      groupId: g,
      protocols: [{ name: 'range', metadata: subscription(['orders']) }],
    });
    await sync(c, g, 1, a.memberId, [{ memberId: a.memberId, assignment: assignment({ orders: [0] }) }]);
    await commit(
      c,
      g,
      [
        { topic: 'orders', partition: 0, offset: 5 },
        { topic: 'audit', partition: 0, offset: 6 },
      ],
      { generationId: 1, memberId: a.memberId },
    );
    const od = (await c.send(ApiKey.OffsetDelete, 0, {
      groupId: g,
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 0 }] },
        { name: 'audit', partitions: [{ partitionIndex: 0 }] },
      ],
    })) as OffsetDeleteResponse;
    assert.equal(od.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      od.topics.map((t) => [t.name, t.partitions[0]!.errorCode]),
      [
        ['orders', ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
        ['audit', ErrorCode.NONE],
      ],
    );
    const left = await fetchOffsets(c, g);
    assert.deepEqual([...left.keys()], ['orders:0']);

    let dg = (await c.send(ApiKey.DeleteGroups, 2, {
      groupsNames: [g, 'never-existed'],
    })) as DeleteGroupsResponse;
    assert.deepEqual(
      dg.results.map((r) => r.errorCode),
      [ErrorCode.NON_EMPTY_GROUP, ErrorCode.GROUP_ID_NOT_FOUND],
    );
    const notFound = (await c.send(ApiKey.OffsetDelete, 0, {
      groupId: 'never-existed',
      topics: [],
    })) as OffsetDeleteResponse;
    assert.equal(notFound.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    await leave(c, g, [{ memberId: a.memberId }]);
    dg = (await c.send(ApiKey.DeleteGroups, 2, { groupsNames: [g] })) as DeleteGroupsResponse;
    assert.equal(dg.results[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await fetchOffsets(c, g)).size, 0);
    const d = (await c.send(ApiKey.DescribeGroups, 5, {
      groups: [g],
      includeAuthorizedOperations: false,
    })) as DescribeGroupsResponse;
    assert.equal(d.groups[0]!.groupState, 'Dead');
  });

  it('retention removes offsets of empty groups, then the groups themselves', async () => {
    await commit(c, 'old-simple', [{ topic: 'orders', partition: 0, offset: 1 }]);
    const coordinator = b.broker.groups;
    const week = 7 * 24 * 3600 * 1000;
    coordinator.cleanupExpired(Date.now() + week - 60_000);
    assert.equal((await fetchOffsets(c, 'old-simple')).size, 1, 'kept within offsets.retention.minutes');
    coordinator.cleanupExpired(Date.now() + week + 60_000);
    assert.equal((await fetchOffsets(c, 'old-simple')).size, 0);
    const listed = (await c.send(ApiKey.ListGroups, 5, {
      statesFilter: [],
      typesFilter: [],
    })) as ListGroupsResponse;
    assert.ok(!listed.groups.some((g) => g.groupId === 'old-simple'));
  });

  it('the retention check also drops offsets of deleted topics', async () => {
    assert.equal(await createTopic(c, 'short-lived', 2), ErrorCode.NONE);
    await commit(c, 'uses-short-lived', [
      { topic: 'short-lived', partition: 1, offset: 3 },
      { topic: 'audit', partition: 0, offset: 4 },
    ]);
    const del = (await c.send(ApiKey.DeleteTopics, 4, {
      topicNames: ['short-lived'],
      timeoutMs: 10_000,
    })) as {
      responses: { errorCode: number }[];
    };
    assert.equal(del.responses[0]!.errorCode, ErrorCode.NONE);
    b.broker.groups.cleanupExpired(Date.now());
    assert.deepEqual([...(await fetchOffsets(c, 'uses-short-lived')).keys()], ['audit:0']);
  });
});

describe('group coordinator: a restart keeps committed offsets and group state', () => {
  it('replays __consumer_offsets: offsets, tombstones, a stable group whose member keeps heartbeating', async () => {
    let b = await startInProcess(overrides);
    try {
      let c = await b.connect();
      await createTopic(c, 'events', 2);
      const a = await joinNew(c, { groupId: 'durable', sessionTimeoutMs: 10_000 });
      const aA = assignment({ events: [0, 1] });
      await sync(c, 'durable', 1, a.memberId, [{ memberId: a.memberId, assignment: aA }]);
      await commit(
        c,
        'durable',
        [{ topic: 'events', partition: 0, offset: 17, metadata: 'before restart' }],
        {
          generationId: 1,
          memberId: a.memberId,
        },
      );
      await commit(c, 'gone', [{ topic: 'events', partition: 1, offset: 3 }]);
      const dg = (await c.send(ApiKey.DeleteGroups, 2, { groupsNames: ['gone'] })) as DeleteGroupsResponse;
      assert.equal(dg.results[0]!.errorCode, ErrorCode.NONE);
      for (let i = 0; i < 50; i++)
        await commit(c, `many-${i % 10}`, [{ topic: 'events', partition: i % 2, offset: i }]);
      c.close();

      b = await b.restart();
      c = await b.connect();
      const got = await fetchOffsets(c, 'durable');
      assert.deepEqual(got.get('events:0'), {
        offset: 17,
        metadata: 'before restart',
        leaderEpoch: 3,
        errorCode: 0,
      });
      assert.equal((await fetchOffsets(c, 'gone')).size, 0, 'tombstones delete');
      assert.equal((await fetchOffsets(c, 'many-3')).get('events:1')?.offset, 43, 'last value wins');
      // The group is back Stable with its member, generation and assignment.
      const d = (await c.send(ApiKey.DescribeGroups, 5, {
        groups: ['durable'],
        includeAuthorizedOperations: false,
      })) as DescribeGroupsResponse;
      assert.equal(d.groups[0]!.groupState, 'Stable');
      assert.equal(d.groups[0]!.members[0]!.memberId, a.memberId);
      assert.deepEqual(d.groups[0]!.members[0]!.memberAssignment, aA);
      assert.equal(await heartbeat(c, 'durable', 1, a.memberId), ErrorCode.NONE);
      const s = await sync(c, 'durable', 1, a.memberId);
      assert.deepEqual(s.assignment, aA);
      // And commits continue in the same generation.
      const res = await commit(c, 'durable', [{ topic: 'events', partition: 0, offset: 18 }], {
        generationId: 1,
        memberId: a.memberId,
      });
      assert.deepEqual(errors(res), ['events:0=0']);
      c.close();
    } finally {
      await b.stop(true);
    }
  });
});

describe('group coordinator: __consumer_offsets is compacted by the log cleaner', () => {
  const compacting = {
    ...overrides,
    'offsets.topic.segment.bytes': '4096',
    'log.cleaner.backoff.ms': '20',
    'log.cleaner.delete.retention.ms': '300',
  };

  /** Records in the partition's log by key kind: how many, and the groups they belong to. */
  function scan(b: InProcessBroker, index: number): { records: number; groups: Set<string> } {
    const log = b.broker.topics.partition(OFFSETS_TOPIC, index)!.log;
    const read = log.read(log.logStartOffset, 1 << 30, log.logEndOffset, true);
    const groups = new Set<string>();
    let records = 0;
    for (const chunk of read.chunks) {
      for (const { pos, header } of iterateBatches(chunk)) {
        for (const r of decodeRecords(chunk.subarray(pos, pos + 12 + header.batchLength)).records) {
          records++;
          const rec = decodeStateRecord(r.key!, r.value);
          if (rec.kind === 'offset' || rec.kind === 'group') groups.add(rec.group);
        }
      }
    }
    return { records, groups };
  }

  it('is created with Kafka’s configs', async () => {
    const b = await startInProcess(compacting);
    try {
      const c = await b.connect();
      await createTopic(c, 'any', 1);
      await commit(c, 'configs', [{ topic: 'any', partition: 0, offset: 1 }]);
      assert.deepEqual(b.broker.topics.get(OFFSETS_TOPIC)?.configs, {
        'cleanup.policy': 'compact',
        'compression.type': 'producer',
        'segment.bytes': '4096',
      });
      c.close();
    } finally {
      await b.stop(true);
    }
  });

  it('keeps the latest offsets and group metadata through compaction and a restart; a deleted group stays deleted', async () => {
    let b = await startInProcess(compacting);
    try {
      let c = await b.connect();
      await createTopic(c, 'busy', 3);
      const index = partitionForGroup('busy-group', 7);
      const samePartition = (prefix: string): string => {
        for (let i = 0; ; i++) if (partitionForGroup(`${prefix}-${i}`, 7) === index) return `${prefix}-${i}`;
      };
      const simple = samePartition('simple');
      const gone = samePartition('gone');
      // A group mid-rebalance: its last stored generation is what a restart must load.
      const a = await joinNew(c, { groupId: 'busy-group', sessionTimeoutMs: 30_000 });
      const aA = assignment({ busy: [0, 1, 2] });
      await sync(c, 'busy-group', 1, a.memberId, [{ memberId: a.memberId, assignment: aA }]);
      const commitBusy = async (i: number): Promise<void> => {
        const res = await commit(
          c,
          'busy-group',
          [{ topic: 'busy', partition: i % 3, offset: i, metadata: `m${i}` }],
          { generationId: 1, memberId: a.memberId },
        );
        assert.deepEqual(errors(res), [`busy:${i % 3}=0`]);
      };
      for (let i = 1; i <= 300; i++) await commitBusy(i);
      await commit(c, simple, [{ topic: 'busy', partition: 0, offset: 7 }]);
      for (let i = 0; i < 30; i++) await commit(c, gone, [{ topic: 'busy', partition: i % 3, offset: i }]);
      const dg = (await c.send(ApiKey.DeleteGroups, 2, { groupsNames: [gone] })) as DeleteGroupsResponse;
      assert.equal(dg.results[0]!.errorCode, ErrorCode.NONE);
      // More commits push the tombstones out of the active segment, which is never cleaned.
      for (let i = 301; i <= 400; i++) await commitBusy(i);

      const log = b.broker.topics.partition(OFFSETS_TOPIC, index)!.log;
      const written = log.logEndOffset;
      // Cleaned below the active segment to one record per key; the deleted group's records and, after
      // log.cleaner.delete.retention.ms, its tombstones are gone.
      await eventually(() => {
        const s = scan(b, index);
        return s.records < written / 4 && !s.groups.has(gone);
      }, 20_000);
      assert.equal(log.logStartOffset, 0, 'compaction never moves the log start');
      assert.ok(b.logs.some((l) => l.msg === 'log cleaned' && l.partition === `${OFFSETS_TOPIC}-${index}`));
      assert.ok(!b.logs.some((l) => l.msg === 'log cleaning aborted'), 'no pass was aborted');
      const before = scan(b, index).records;
      c.close();

      b = await b.restart();
      c = await b.connect();
      assert.ok(scan(b, index).records <= before + 1);
      const got = await fetchOffsets(c, 'busy-group');
      assert.deepEqual(
        [0, 1, 2].map((p) => [got.get(`busy:${p}`)?.offset, got.get(`busy:${p}`)?.metadata]),
        [
          [399, 'm399'],
          [400, 'm400'],
          [398, 'm398'],
        ],
      );
      assert.equal((await fetchOffsets(c, simple)).get('busy:0')?.offset, 7);
      assert.equal((await fetchOffsets(c, gone)).size, 0);
      const d = (await c.send(ApiKey.DescribeGroups, 5, {
        groups: [gone],
        includeAuthorizedOperations: false,
      })) as DescribeGroupsResponse;
      assert.equal(d.groups[0]!.groupState, 'Dead');
      assert.equal(await heartbeat(c, 'busy-group', 1, a.memberId), ErrorCode.NONE);
      assert.deepEqual((await sync(c, 'busy-group', 1, a.memberId)).assignment, aA);
      c.close();
    } finally {
      await b.stop(true);
    }
  });

  it('a topic left with the pre-compaction configs (retention.ms=-1) gets Kafka’s configs at start-up', async () => {
    let b = await startInProcess(compacting);
    try {
      let c = await b.connect();
      await createTopic(c, 'any', 1);
      await commit(c, 'old', [{ topic: 'any', partition: 0, offset: 3 }]);
      const res = await b.broker.admin.alterTopicConfigs(
        OFFSETS_TOPIC,
        [
          { key: 'cleanup.policy', value: 'compact', op: 'set' },
          { key: 'segment.bytes', value: '8192', op: 'set' },
          { key: 'retention.ms', value: '-1', op: 'set' },
        ],
        false,
        false,
      );
      assert.equal(res.errorCode, ErrorCode.NONE);
      c.close();
      b = await b.restart();
      assert.deepEqual(b.broker.topics.get(OFFSETS_TOPIC)?.configs, {
        'cleanup.policy': 'compact',
        'compression.type': 'producer',
        'segment.bytes': '8192',
      });
      c = await b.connect();
      assert.equal((await fetchOffsets(c, 'old')).get('any:0')?.offset, 3);
      c.close();
    } finally {
      await b.stop(true);
    }
  });
});
