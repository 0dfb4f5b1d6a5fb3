// KIP-848 consumer groups over real sockets against an in-process broker: ConsumerGroupHeartbeat joins,
// reconciliation (revoke before assign), the error codes Kafka answers, static members, regular
// expressions, assignors, member-epoch checks of OffsetCommit/OffsetFetch, ConsumerGroupDescribe,
// ListGroups/DescribeGroups/DeleteGroups, and a restart that keeps the group.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { ConsumerGroupDescribeResponse } from '../../src/protocol/generated/consumer-group-describe-response.js';
import type { ConsumerGroupHeartbeatRequestInput } from '../../src/protocol/generated/consumer-group-heartbeat-request.js';
import type { ConsumerGroupHeartbeatResponse } from '../../src/protocol/generated/consumer-group-heartbeat-response.js';
import type { DeleteGroupsResponse } from '../../src/protocol/generated/delete-groups-response.js';
import type { DescribeGroupsResponse } from '../../src/protocol/generated/describe-groups-response.js';
import type { ListGroupsResponse } from '../../src/protocol/generated/list-groups-response.js';
import type { OffsetCommitResponse } from '../../src/protocol/generated/offset-commit-response.js';
import type { OffsetFetchResponse } from '../../src/protocol/generated/offset-fetch-response.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { createTopic, eventually, joinNew } from './group-client.js';
import { groupOn, setOffsetsPartitionState } from './leadership.js';

const sleepMs = (ms: number): Promise<false> => new Promise((r) => setTimeout(() => r(false), ms));

const overrides = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '50',
  'offsets.topic.num.partitions': '3',
  'group.consumer.min.session.timeout.ms': '500',
  'group.consumer.session.timeout.ms': '1500',
  'group.consumer.min.heartbeat.interval.ms': '100',
  'group.consumer.heartbeat.interval.ms': '200',
};

type Hb = ConsumerGroupHeartbeatResponse;

function hb(c: KafkaConnection, req: ConsumerGroupHeartbeatRequestInput, version = 1): Promise<Hb> {
  return c.send(ApiKey.ConsumerGroupHeartbeat, version, {
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: -1,
    subscribedTopicNames: null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: null,
    ...req,
  }) as Promise<Hb>;
}

function joinReq(
  groupId: string,
  memberId: string,
  topics: string[],
  extra: Partial<ConsumerGroupHeartbeatRequestInput> = {},
) {
  return {
    groupId,
    memberId,
    memberEpoch: 0,
    rebalanceTimeoutMs: 5000,
    subscribedTopicNames: topics,
    topicPartitions: [],
    ...extra,
  };
}

/** Partitions of a response's assignment as "p,p,..." per topic id (sorted). */
function parts(res: Hb): number[] {
  return (res.assignment?.topicPartitions ?? []).flatMap((t) => t.partitions).sort((a, b) => a - b);
}

/** Heartbeats a member, reporting what it owns, until its epoch reaches `epoch` and nothing is pending. */
async function converge(c: KafkaConnection, groupId: string, memberId: string, start: Hb): Promise<Hb> {
  let last = start;
  let owned = last.assignment?.topicPartitions ?? [];
  for (let i = 0; i < 50; i++) {
    const res = await hb(c, { groupId, memberId, memberEpoch: last.memberEpoch, topicPartitions: owned });
    assert.equal(res.errorCode, ErrorCode.NONE, `heartbeat: ${res.errorMessage}`);
    if (res.assignment !== null) owned = res.assignment.topicPartitions;
    const stable = res.memberEpoch === last.memberEpoch && res.assignment === null;
    last = { ...res, assignment: { topicPartitions: owned } };
    if (stable) return last;
  }
  return last;
}

describe('consumer groups (KIP-848): ConsumerGroupHeartbeat', () => {
  let b: InProcessBroker;
  let c: KafkaConnection;

  before(async () => {
    b = await startInProcess(overrides);
    c = await b.connect();
    assert.equal(await createTopic(c, 't6', 6), ErrorCode.NONE);
    assert.equal(await createTopic(c, 'u2', 2), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.stop(true);
  });

  it('a member joins, gets every partition, a second one gets half after the first revokes them', async () => {
    const g = 'g-join';
    const a = await hb(c, joinReq(g, 'member-a', ['t6']));
    assert.equal(a.errorCode, ErrorCode.NONE);
    assert.equal(a.memberId, 'member-a');
    assert.equal(a.memberEpoch, 1);
    assert.equal(a.heartbeatIntervalMs, 200);
    assert.deepEqual(parts(a), [0, 1, 2, 3, 4, 5]);

    const bJoin = await hb(c, joinReq(g, 'member-b', ['t6']));
    assert.equal(bJoin.memberEpoch, 2);
    assert.deepEqual(parts(bJoin), [], 'nothing is free yet: member-a owns all');

    // member-a's next heartbeat: keep three, revoke three; it stays at epoch 1 until it has revoked them.
    const a2 = await hb(c, { groupId: g, memberId: 'member-a', memberEpoch: 1 });
    assert.equal(a2.memberEpoch, 1);
    const kept = parts(a2);
    assert.equal(kept.length, 3);
    // member-b still gets nothing: the partitions are not released.
    const b2 = await hb(c, { groupId: g, memberId: 'member-b', memberEpoch: 2 });
    assert.equal(b2.assignment, null);
    // member-a reports that it owns only the kept ones: revoked, epoch 2.
    const a3 = await hb(c, {
      groupId: g,
      memberId: 'member-a',
      memberEpoch: 1,
      topicPartitions: a2.assignment!.topicPartitions,
    });
    assert.equal(a3.memberEpoch, 2);
    const b3 = await hb(c, { groupId: g, memberId: 'member-b', memberEpoch: 2 });
    assert.deepEqual(
      parts(b3),
      [0, 1, 2, 3, 4, 5].filter((p) => !kept.includes(p)),
    );

    const d = (await c.send(ApiKey.ConsumerGroupDescribe, 1, {
      groupIds: [g, 'no-such-group'],
      includeAuthorizedOperations: false,
    })) as ConsumerGroupDescribeResponse;
    const dg = d.groups[0]!;
    assert.equal(dg.errorCode, ErrorCode.NONE);
    assert.equal(dg.groupEpoch, 2);
    assert.equal(dg.assignmentEpoch, 2);
    assert.equal(dg.assignorName, 'uniform');
    assert.equal(dg.groupState, 'Stable');
    assert.deepEqual(dg.members.map((m) => m.memberId).sort(), ['member-a', 'member-b']);
    assert.equal(dg.members[0]!.assignment.topicPartitions[0]!.topicName, 't6');
    assert.equal(dg.members[0]!.memberType, 1);
    assert.equal(d.groups[1]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    // Leaving: member-b's partitions go back to member-a.
    const leave = await hb(c, { groupId: g, memberId: 'member-b', memberEpoch: -1 });
    assert.equal(leave.errorCode, ErrorCode.NONE);
    assert.equal(leave.memberEpoch, -1);
    const a4 = await hb(c, { groupId: g, memberId: 'member-a', memberEpoch: 2 });
    assert.equal(a4.memberEpoch, 3);
    assert.deepEqual(parts(a4), [0, 1, 2, 3, 4, 5]);
  });

  it('answers the errors Kafka answers', async () => {
    const g = 'g-errors';
    const a = await hb(c, joinReq(g, 'm1', ['t6']));
    assert.equal(a.memberEpoch, 1);
    const cases: [ConsumerGroupHeartbeatRequestInput, number, number?][] = [
      [{ groupId: g, memberId: 'm1', memberEpoch: 5 }, ErrorCode.FENCED_MEMBER_EPOCH],
      [{ groupId: g, memberId: 'nobody', memberEpoch: 1 }, ErrorCode.UNKNOWN_MEMBER_ID],
      [{ groupId: '', memberId: 'm1', memberEpoch: 1 }, ErrorCode.INVALID_REQUEST],
      [{ groupId: g, memberId: '', memberEpoch: 0 }, ErrorCode.INVALID_REQUEST],
      [{ ...joinReq(g, 'm2', ['t6']), rebalanceTimeoutMs: -1 }, ErrorCode.INVALID_REQUEST],
      [{ ...joinReq(g, 'm2', ['t6']), topicPartitions: null }, ErrorCode.INVALID_REQUEST],
      [{ ...joinReq(g, 'm2', ['t6']), subscribedTopicNames: null }, ErrorCode.INVALID_REQUEST],
      [{ groupId: g, memberId: 'm1', memberEpoch: -3 }, ErrorCode.INVALID_REQUEST],
      [{ ...joinReq(g, 'm2', ['t6']), serverAssignor: 'sticky' }, ErrorCode.UNSUPPORTED_ASSIGNOR],
      [{ ...joinReq(g, 'm2', []), subscribedTopicRegex: '(unclosed' }, ErrorCode.INVALID_REGULAR_EXPRESSION],
      [{ groupId: 'g-missing', memberId: 'm1', memberEpoch: 3 }, ErrorCode.GROUP_ID_NOT_FOUND],
    ];
    for (const [req, code] of cases) {
      const res = await hb(c, req);
      assert.equal(res.errorCode, code, `${JSON.stringify(req)}: ${res.errorMessage}`);
    }
    // v0: the coordinator generates the member id of a member joining without one.
    const v0 = await hb(c, joinReq(g, '', ['t6']), 0);
    assert.equal(v0.errorCode, ErrorCode.NONE);
    assert.ok(v0.memberId !== null && v0.memberId.length > 0);
    // A classic group with members is not a consumer group.
    const classic = await joinNew(c, {
      groupId: 'g-classic',
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
    });
    assert.equal(classic.errorCode, ErrorCode.NONE);
    const res = await hb(c, joinReq('g-classic', 'x', ['t6']));
    assert.equal(res.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('static members: UNRELEASED_INSTANCE_ID while held, the same assignment after a -2 leave', async () => {
    const g = 'g-static';
    const a = await converge(c, g, 's1', await hb(c, joinReq(g, 's1', ['t6'], { instanceId: 'i1' })));
    const b1 = await hb(c, joinReq(g, 's2', ['t6'], { instanceId: 'i2' }));
    const a2 = await converge(c, g, 's1', a);
    const b2 = await converge(c, g, 's2', b1);
    const aParts = parts(a2);
    assert.equal(aParts.length, 3);
    assert.equal(parts(b2).length, 3);
    const taken = await hb(c, joinReq(g, 's1-new', ['t6'], { instanceId: 'i1' }));
    assert.equal(taken.errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
    const fenced = await hb(c, { groupId: g, memberId: 's2', memberEpoch: b2.memberEpoch, instanceId: 'i1' });
    assert.equal(fenced.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const left = await hb(c, { groupId: g, memberId: 's1', memberEpoch: -2, instanceId: 'i1' });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -2);
    const back = await hb(c, joinReq(g, 's1-new', ['t6'], { instanceId: 'i1' }));
    assert.equal(back.errorCode, ErrorCode.NONE);
    assert.deepEqual(parts(back), aParts, 'the same partitions, without a rebalance');
    assert.equal(back.memberEpoch, a2.memberEpoch);
    const old = await hb(c, { groupId: g, memberId: 's1', memberEpoch: a2.memberEpoch });
    assert.equal(old.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a member whose session ends is removed and its partitions move', async () => {
    const g = 'g-session';
    const a = await converge(c, g, 'live', await hb(c, joinReq(g, 'live', ['u2'])));
    await hb(c, joinReq(g, 'dies', ['u2']));
    let live = await converge(c, g, 'live', a);
    assert.equal(parts(live).length, 1);
    // 'dies' never heartbeats again: after the session timeout (1.5 s) 'live' gets both.
    const began = Date.now();
    await eventually(async () => {
      live = await converge(c, g, 'live', live);
      return parts(live).length === 2;
    }, 5000);
    assert.ok(Date.now() - began >= 1000, 'not before the session timeout');
    assert.deepEqual(parts(live), [0, 1]);
  });

  it('regular expressions pick up new topics; the range assignor splits each topic', async () => {
    const g = 'g-regex';
    const a = await converge(
      c,
      g,
      'r1',
      await hb(c, joinReq(g, 'r1', [], { subscribedTopicNames: [], subscribedTopicRegex: 'rx-.*' })),
    );
    assert.deepEqual(parts(a), []);
    assert.equal(await createTopic(c, 'rx-one', 3), ErrorCode.NONE);
    const a2 = await converge(c, g, 'r1', a);
    assert.deepEqual(parts(a2), [0, 1, 2]);

    const gr = 'g-range';
    const x = await hb(c, joinReq(gr, 'a', ['t6', 'u2'], { serverAssignor: 'range' }));
    const y = await hb(c, joinReq(gr, 'b', ['t6', 'u2'], { serverAssignor: 'range' }));
    const x2 = await converge(c, gr, 'a', x);
    const y2 = await converge(c, gr, 'b', y);
    const x3 = await converge(c, gr, 'a', x2);
    const byTopic = (r: Hb) =>
      Object.fromEntries(
        (r.assignment?.topicPartitions ?? []).map((t) => [
          b.broker.topics.get('t6')!.topicId === t.topicId ? 't6' : 'u2',
          [...t.partitions].sort(),
        ]),
      );
    assert.deepEqual(byTopic(x3), { t6: [0, 1, 2], u2: [0] });
    assert.deepEqual(byTopic(y2), { t6: [3, 4, 5], u2: [1] });
  });

  it('OffsetCommit and OffsetFetch check the member epoch; DeleteGroups once empty; ListGroups and DescribeGroups', async () => {
    const g = 'g-commit';
    const a = await converge(c, g, 'cm', await hb(c, joinReq(g, 'cm', ['u2'])));
    const commit = (memberId: string, epoch: number, version = 9) =>
      c.send(ApiKey.OffsetCommit, version, {
        groupId: g,
        generationIdOrMemberEpoch: epoch,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        topics: [
          {
            name: 'u2',
            partitions: [
              { partitionIndex: 0, committedOffset: 7, committedLeaderEpoch: -1, committedMetadata: '' },
            ],
          },
        ],
      }) as Promise<OffsetCommitResponse>;
    const code = (r: OffsetCommitResponse) => r.topics[0]!.partitions[0]!.errorCode;
    assert.equal(code(await commit('cm', a.memberEpoch + 1)), ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal(code(await commit('nobody', a.memberEpoch)), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(code(await commit('cm', a.memberEpoch, 8)), ErrorCode.UNSUPPORTED_VERSION);
    assert.equal(code(await commit('cm', a.memberEpoch)), ErrorCode.NONE);
    const fetch = (memberId: string | null, memberEpoch: number) =>
      c.send(ApiKey.OffsetFetch, 9, {
        groups: [{ groupId: g, memberId, memberEpoch, topics: null }],
        requireStable: true,
      }) as Promise<OffsetFetchResponse>;
    assert.equal((await fetch('cm', a.memberEpoch + 3)).groups[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal((await fetch('zz', a.memberEpoch)).groups[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const ok = await fetch(null, -1);
    assert.equal(ok.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 7);

    const list = (await c.send(ApiKey.ListGroups, 5, {
      statesFilter: [],
      typesFilter: ['consumer'],
    })) as ListGroupsResponse;
    const listed = list.groups.find((x) => x.groupId === g);
    assert.equal(listed?.groupType, 'consumer');
    assert.ok(list.groups.every((x) => x.groupType === 'consumer'));
    const desc = (await c.send(ApiKey.DescribeGroups, 5, {
      groups: [g],
      includeAuthorizedOperations: false,
    })) as DescribeGroupsResponse;
    assert.equal(desc.groups[0]!.protocolType, 'consumer');
    assert.equal(desc.groups[0]!.groupState, 'Stable');
    assert.equal(desc.groups[0]!.members[0]!.memberId, 'cm');

    const del = () => c.send(ApiKey.DeleteGroups, 2, { groupsNames: [g] }) as Promise<DeleteGroupsResponse>;
    assert.equal((await del()).results[0]!.errorCode, ErrorCode.NON_EMPTY_GROUP);
    await hb(c, { groupId: g, memberId: 'cm', memberEpoch: -1 });
    assert.equal((await del()).results[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await fetch(null, -1)).groups[0]!.topics.length, 0);
  });

  it("the group's consumer.heartbeat.interval.ms and consumer.session.timeout.ms apply from a join on", async () => {
    const g = 'g-configs';
    const alter = (await c.send(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 32,
          resourceName: g,
          configs: [
            { name: 'consumer.heartbeat.interval.ms', configOperation: 0, value: '150' },
            { name: 'consumer.session.timeout.ms', configOperation: 0, value: '600' },
          ],
        },
      ],
      validateOnly: false,
    })) as { responses: { errorCode: number; errorMessage: string | null }[] };
    assert.equal(alter.responses[0]!.errorCode, ErrorCode.NONE, `${alter.responses[0]!.errorMessage}`);
    const a = await hb(c, joinReq(g, 'short', ['u2']));
    assert.equal(a.heartbeatIntervalMs, 150);
    const began = Date.now();
    const members = async () =>
      (
        (await c.send(ApiKey.ConsumerGroupDescribe, 1, {
          groupIds: [g],
          includeAuthorizedOperations: false,
        })) as ConsumerGroupDescribeResponse
      ).groups[0]!.members.length;
    await eventually(async () => (await members()) === 0 || (await sleepMs(50)), 3000);
    assert.ok(Date.now() - began < 1400, "removed after the group's session timeout, not the broker's");
  });

  it('a follower answers NOT_COORDINATOR; leader again, it loads the consumer group back', async () => {
    const g = groupOn(1, 3, 'g-move');
    const a = await converge(c, g, 'mv', await hb(c, joinReq(g, 'mv', ['u2'])));
    const self = b.broker.nodeId;
    setOffsetsPartitionState(b, 1, { leader: 99, isr: [99, self], replicas: [self, 99] });
    const away = await hb(c, { groupId: g, memberId: 'mv', memberEpoch: a.memberEpoch });
    assert.equal(away.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(b.broker.groups.consumerGroups.has(g), false, 'unloaded');
    setOffsetsPartitionState(b, 1, { leader: self, isr: [self], replicas: [self, 99] });
    await eventually(
      async () =>
        (await hb(c, { groupId: g, memberId: 'mv', memberEpoch: a.memberEpoch })).errorCode ===
        ErrorCode.NONE,
    );
    const back = b.broker.groups.consumerGroups.get(g)!;
    assert.equal(back.member('mv')?.memberEpoch, a.memberEpoch);
    assert.equal(back.groupEpoch, 1);
  });

  it('a restart keeps the group: members, epochs, assignments and offsets', async () => {
    const g = 'g-restart';
    const a = await converge(c, g, 'keep', await hb(c, joinReq(g, 'keep', ['t6'])));
    assert.deepEqual(parts(a), [0, 1, 2, 3, 4, 5]);
    c.close();
    b = await b.restart();
    c = await b.connect();
    const res = await hb(c, {
      groupId: g,
      memberId: 'keep',
      memberEpoch: a.memberEpoch,
      topicPartitions: a.assignment!.topicPartitions,
    });
    assert.equal(res.errorCode, ErrorCode.NONE, `${res.errorMessage}`);
    const d = (await c.send(ApiKey.ConsumerGroupDescribe, 0, {
      groupIds: [g],
      includeAuthorizedOperations: false,
    })) as ConsumerGroupDescribeResponse;
    const m = d.groups[0]!.members[0]!;
    assert.equal(m.memberId, 'keep');
    assert.equal(m.memberEpoch, a.memberEpoch);
    assert.deepEqual(m.assignment.topicPartitions[0]!.partitions, [0, 1, 2, 3, 4, 5]);
  });
});

describe('consumer groups (KIP-848): group.coordinator.rebalance.protocols=classic', () => {
  it('neither advertises nor serves ConsumerGroupHeartbeat', async () => {
    const b = await startInProcess({ ...overrides, 'group.coordinator.rebalance.protocols': 'classic' });
    const c = await b.connect();
    try {
      assert.equal(c.supports(ApiKey.ConsumerGroupHeartbeat), false);
      assert.equal(c.supports(ApiKey.ConsumerGroupDescribe), false);
      assert.equal(c.supports(ApiKey.JoinGroup), true);
    } finally {
      c.close();
      await b.stop(true);
    }
  });
});
