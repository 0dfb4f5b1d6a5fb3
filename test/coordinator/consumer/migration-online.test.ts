// Online migration of a group with members (KIP-848, group.consumer.migration.policy=bidirectional) over real
// sockets against an in-process broker: a ConsumerGroupHeartbeat upgrades a Stable classic group; its classic
// members keep using JoinGroup/SyncGroup/Heartbeat/OffsetCommit and get the broker's assignment; a restart
// loads the mixed group back; the last consumer-protocol member leaving downgrades it to a classic group whose
// members rebalance.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../../src/client/connection.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import type { ConsumerGroupDescribeResponse } from '../../../src/protocol/generated/consumer-group-describe-response.js';
import type { ConsumerGroupHeartbeatResponse } from '../../../src/protocol/generated/consumer-group-heartbeat-response.js';
import { decodeConsumerProtocolAssignment } from '../../../src/protocol/generated/consumer-protocol-assignment.js';
import type { DescribeGroupsResponse } from '../../../src/protocol/generated/describe-groups-response.js';
import { Reader } from '../../../src/protocol/reader.js';
import { type InProcessBroker, startInProcess } from '../../helpers/in-process.js';
import {
  assignment,
  commit,
  createTopic,
  eventually,
  heartbeat,
  join,
  joinNew,
  subscription,
  sync,
} from '../group-client.js';

const base = {
  'group.initial.rebalance.delay.ms': '0',
  'offsets.topic.num.partitions': '1',
};

function consumerHeartbeat(
  c: KafkaConnection,
  groupId: string,
  memberEpoch: number,
  owned: { topicId: string; partitions: number[] }[] = [],
): Promise<ConsumerGroupHeartbeatResponse> {
  return c.send(ApiKey.ConsumerGroupHeartbeat, 1, {
    groupId,
    memberId: 'consumer-protocol-member',
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 5000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? ['t6'] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: memberEpoch === 0 ? [] : owned,
  }) as Promise<ConsumerGroupHeartbeatResponse>;
}

function partitionsOf(bytes: Buffer): number[] {
  const r = new Reader(bytes);
  const version = r.int16();
  return decodeConsumerProtocolAssignment(r, version)
    .assignedPartitions.flatMap((t) => t.partitions)
    .sort((a, b) => a - b);
}

async function describeConsumer(c: KafkaConnection, groupId: string) {
  const d = (await c.send(ApiKey.ConsumerGroupDescribe, 1, {
    groupIds: [groupId],
    includeAuthorizedOperations: false,
  })) as ConsumerGroupDescribeResponse;
  return d.groups[0]!;
}

/** Two classic members in a Stable group of generation 1: a owns 0-2, b owns 3-5. */
async function stableClassicGroup(c: KafkaConnection, groupId: string): Promise<{ a: string; b: string }> {
  const protocols = [{ name: 'range', metadata: subscription(['t6']) }];
  const first = await join(c, { groupId, protocols });
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const second = await join(c, { groupId, protocols });
  const [ja, jb] = await Promise.all([
    join(c, { groupId, protocols, memberId: first.memberId }),
    join(c, { groupId, protocols, memberId: second.memberId }),
  ]);
  assert.equal(ja.errorCode, ErrorCode.NONE);
  assert.equal(jb.errorCode, ErrorCode.NONE);
  const a = ja.memberId;
  const b = jb.memberId;
  const leader = ja.leader;
  const assignments = [
    { memberId: a, assignment: assignment({ t6: [0, 1, 2] }) },
    { memberId: b, assignment: assignment({ t6: [3, 4, 5] }) },
  ];
  const [sa, sb] = await Promise.all([
    sync(c, groupId, ja.generationId, a, leader === a ? assignments : []),
    sync(c, groupId, jb.generationId, b, leader === b ? assignments : []),
  ]);
  assert.deepEqual(partitionsOf(sa.assignment), [0, 1, 2]);
  assert.deepEqual(partitionsOf(sb.assignment), [3, 4, 5]);
  return { a, b };
}

/** A classic member's rejoin after REBALANCE_IN_PROGRESS (eager: it owns nothing now); its partitions. */
async function rejoin(c: KafkaConnection, groupId: string, memberId: string) {
  const j = await join(c, {
    groupId,
    memberId,
    protocols: [{ name: 'range', metadata: subscription(['t6']) }],
  });
  assert.equal(j.errorCode, ErrorCode.NONE);
  assert.equal(j.protocolName, 'range');
  assert.equal(j.leader, '');
  const s = await sync(c, groupId, j.generationId, memberId, [], { protocolName: 'range' });
  assert.equal(s.errorCode, ErrorCode.NONE);
  return { generation: j.generationId, partitions: partitionsOf(s.assignment) };
}

describe('online migration of a group with members', () => {
  let b: InProcessBroker | undefined;
  let c: KafkaConnection;

  before(async () => {
    b = await startInProcess({ ...base });
    c = await b.connect();
    assert.equal(await createTopic(c, 't6', 6), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.stop(true);
  });

  it('upgrade, classic members rejoin for the broker assignment, restart, downgrade', async () => {
    const g = 'g-mixed';
    const { a, b: bm } = await stableClassicGroup(c, g);

    // The consumer-protocol member converts the group; it gets nothing yet (a and b still own everything).
    const joined = await consumerHeartbeat(c, g, 0);
    assert.equal(joined.errorCode, ErrorCode.NONE, joined.errorMessage ?? '');
    assert.equal(joined.memberEpoch, 2);
    assert.deepEqual(joined.assignment?.topicPartitions.flatMap((t) => t.partitions) ?? [], []);
    let d = await describeConsumer(c, g);
    assert.equal(d.errorCode, ErrorCode.NONE);
    const types = new Map(d.members.map((m) => [m.memberId, m.memberType]));
    assert.deepEqual(
      [types.get(a), types.get(bm), types.get('consumer-protocol-member')],
      [0, 0, 1],
      'classic, classic, consumer',
    );

    // The classic members still commit in generation 1 until they rejoin; then they must.
    const commitA = await commit(c, g, [{ topic: 't6', partition: 0, offset: 5 }], {
      generationId: 1,
      memberId: a,
      version: 8,
    });
    assert.equal(commitA.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.equal(await heartbeat(c, g, 1, a), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(await heartbeat(c, g, 7, a), ErrorCode.ILLEGAL_GENERATION);
    const ra = await rejoin(c, g, a);
    assert.equal(ra.generation, 2);
    assert.equal(await heartbeat(c, g, 2, a), ErrorCode.NONE);
    const stale = await commit(c, g, [{ topic: 't6', partition: 0, offset: 6 }], {
      generationId: 1,
      memberId: a,
      version: 8,
    });
    assert.equal(stale.topics[0]!.partitions[0]!.errorCode, ErrorCode.ILLEGAL_GENERATION);
    const rb = await rejoin(c, g, bm);
    const hb = await consumerHeartbeat(c, g, 2, []);
    assert.equal(hb.errorCode, ErrorCode.NONE);
    const pc = hb.assignment?.topicPartitions.flatMap((t) => t.partitions) ?? [];
    const all = [...ra.partitions, ...rb.partitions, ...pc].sort();
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5], `a ${ra.partitions} b ${rb.partitions} c ${pc}`);
    assert.ok(ra.partitions.length === 2 && rb.partitions.length === 2 && pc.length === 2);

    // DescribeGroups shows the mixed group as a consumer group.
    const dg = (await c.send(ApiKey.DescribeGroups, 5, {
      groups: [g],
      includeAuthorizedOperations: false,
    })) as DescribeGroupsResponse;
    assert.equal(dg.groups[0]!.protocolType, 'consumer');
    assert.equal(dg.groups[0]!.members.length, 3);

    // A restart loads the mixed group back: the classic members keep their epochs.
    c.close();
    b = await b!.restart();
    c = await b.connect();
    d = await describeConsumer(c, g);
    assert.equal(d.errorCode, ErrorCode.NONE);
    assert.equal(d.members.length, 3);
    assert.equal(d.members.find((m) => m.memberId === a)?.memberType, 0);
    assert.equal(await heartbeat(c, g, 2, a), ErrorCode.NONE);
    assert.equal(await heartbeat(c, g, 2, bm), ErrorCode.NONE);

    // The consumer-protocol member leaves: the group turns classic and rebalances.
    const topicId = hb.assignment!.topicPartitions[0]!.topicId;
    const left = await c.send(ApiKey.ConsumerGroupHeartbeat, 1, {
      groupId: g,
      memberId: 'consumer-protocol-member',
      memberEpoch: -1,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [{ topicId, partitions: pc }],
    });
    assert.equal((left as ConsumerGroupHeartbeatResponse).errorCode, ErrorCode.NONE);
    d = await describeConsumer(c, g);
    assert.equal(d.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(await heartbeat(c, g, 2, a), ErrorCode.REBALANCE_IN_PROGRESS);
    const protocols = [{ name: 'range', metadata: subscription(['t6']) }];
    const [ja, jb] = await Promise.all([
      join(c, { groupId: g, memberId: a, protocols }),
      join(c, { groupId: g, memberId: bm, protocols }),
    ]);
    assert.equal(ja.errorCode, ErrorCode.NONE);
    assert.equal(jb.errorCode, ErrorCode.NONE);
    assert.equal(ja.generationId, 3);
    assert.ok(ja.leader === a || ja.leader === bm);
    const assignments = [
      { memberId: a, assignment: assignment({ t6: [0, 1, 2] }) },
      { memberId: bm, assignment: assignment({ t6: [3, 4, 5] }) },
    ];
    const [sa, sb] = await Promise.all([
      sync(c, g, 3, a, ja.leader === a ? assignments : []),
      sync(c, g, 3, bm, ja.leader === bm ? assignments : []),
    ]);
    assert.deepEqual(partitionsOf(sa.assignment), [0, 1, 2]);
    assert.deepEqual(partitionsOf(sb.assignment), [3, 4, 5]);

    // And the downgrade survives a restart too.
    c.close();
    b = await b.restart();
    c = await b.connect();
    assert.equal(await heartbeat(c, g, 3, a), ErrorCode.NONE);
  });

  it('a classic member leaving a mixed group: its partitions go to the others', async () => {
    const g = 'g-leave';
    const { a, b: bm } = await stableClassicGroup(c, g);
    assert.equal((await consumerHeartbeat(c, g, 0)).errorCode, ErrorCode.NONE);
    const res = await c.send(ApiKey.LeaveGroup, 5, {
      groupId: g,
      members: [{ memberId: a, groupInstanceId: null, reason: 'test' }],
    });
    assert.equal((res as { members: { errorCode: number }[] }).members[0]!.errorCode, ErrorCode.NONE);
    const d = await describeConsumer(c, g);
    assert.deepEqual(d.members.map((m) => m.memberId).sort(), [bm, 'consumer-protocol-member'].sort());
    // a's partitions are free: the consumer member takes what of its new share nobody owns at once, the
    // rest once b has rejoined (revoked).
    const epoch = d.members.find((m) => m.memberType === 1)!.memberEpoch;
    const hb = await consumerHeartbeat(c, g, epoch);
    assert.equal(hb.errorCode, ErrorCode.NONE);
    const early = hb.assignment?.topicPartitions.flatMap((t) => t.partitions) ?? [];
    assert.ok(early.length >= 1 && early.length <= 3, `${early}`);
    assert.equal(await heartbeat(c, g, 1, bm), ErrorCode.REBALANCE_IN_PROGRESS);
    const rb = await rejoin(c, g, bm);
    assert.equal(rb.partitions.length, 3);
    const topicId = hb.assignment!.topicPartitions[0]!.topicId;
    const hb2 = await consumerHeartbeat(c, g, hb.memberEpoch, [{ topicId, partitions: early }]);
    const late = hb2.assignment?.topicPartitions.flatMap((t) => t.partitions) ?? early;
    assert.deepEqual([...late, ...rb.partitions].sort(), [0, 1, 2, 3, 4, 5]);
  });
});

describe('online upgrade refused', () => {
  it('policy disabled: GROUP_ID_NOT_FOUND, the classic members undisturbed', async () => {
    const b = await startInProcess({ ...base, 'group.consumer.migration.policy': 'disabled' });
    const c = await b.connect();
    try {
      assert.equal(await createTopic(c, 't6', 6), ErrorCode.NONE);
      const { a, b: bm } = await stableClassicGroup(c, 'g-off');
      const res = await consumerHeartbeat(c, 'g-off', 0);
      assert.equal(res.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
      assert.equal(await heartbeat(c, 'g-off', 1, a), ErrorCode.NONE);
      assert.equal(await heartbeat(c, 'g-off', 1, bm), ErrorCode.NONE);
      const j = await joinNew(c, {
        groupId: 'g-off',
        protocols: [{ name: 'range', metadata: subscription(['t6']) }],
      });
      assert.equal(j.errorCode, ErrorCode.NONE, 'a third classic member joins the classic group');
    } finally {
      c.close();
      await b.stop(true);
    }
  });
});

describe('downgrade by session expiry, and protocol checks of classic members', () => {
  it("the consumer-protocol member's session ends: the group turns classic", async () => {
    const b = await startInProcess({
      ...base,
      'group.consumer.min.session.timeout.ms': '500',
      'group.consumer.session.timeout.ms': '800',
      'group.consumer.min.heartbeat.interval.ms': '100',
      'group.consumer.heartbeat.interval.ms': '200',
    });
    const c = await b.connect();
    try {
      assert.equal(await createTopic(c, 't6', 6), ErrorCode.NONE);
      const { a } = await stableClassicGroup(c, 'g-expire');
      assert.equal((await consumerHeartbeat(c, 'g-expire', 0)).errorCode, ErrorCode.NONE);
      // A classic member offering none of the group's classic protocols is refused.
      const odd = await join(c, {
        groupId: 'g-expire',
        memberId: 'odd-member',
        protocols: [{ name: 'roundrobin', metadata: subscription(['t6']) }],
      });
      assert.equal(odd.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      const other = await join(c, { groupId: 'g-expire', memberId: 'x', protocolType: 'connect' });
      assert.equal(other.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      // The consumer-protocol member stops heartbeating; the classic members' sessions (10 s) outlast its.
      await eventually(async () => {
        const d = await describeConsumer(c, 'g-expire');
        return d.errorCode === ErrorCode.GROUP_ID_NOT_FOUND;
      }, 10_000);
      const dg = (await c.send(ApiKey.DescribeGroups, 5, {
        groups: ['g-expire'],
        includeAuthorizedOperations: false,
      })) as DescribeGroupsResponse;
      assert.equal(dg.groups[0]!.groupState, 'PreparingRebalance');
      assert.equal(dg.groups[0]!.members.length, 2);
      assert.notEqual(await heartbeat(c, 'g-expire', 1, a), ErrorCode.UNKNOWN_MEMBER_ID);
    } finally {
      c.close();
      await b.stop(true);
    }
  });
});
