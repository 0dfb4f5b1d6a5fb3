// The classic rebalance protocol over real sockets: FindCoordinator, JoinGroup (MEMBER_ID_REQUIRED,
// generations, leader, protocol vote), SyncGroup, Heartbeat, LeaveGroup, session expiry, static
// membership and the errors Kafka answers bad input with.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { DescribeGroupsResponse } from '../../src/protocol/generated/describe-groups-response.js';
import type { FindCoordinatorResponse } from '../../src/protocol/generated/find-coordinator-response.js';
import type { JoinGroupResponse } from '../../src/protocol/generated/join-group-response.js';
import type { ListGroupsResponse } from '../../src/protocol/generated/list-groups-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import {
  assignment,
  createTopic,
  eventually,
  heartbeat,
  join,
  joinNew,
  leave,
  sleep,
  subscription,
  sync,
} from './group-client.js';

const overrides = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '50',
  'group.max.session.timeout.ms': '60000',
  'offsets.topic.num.partitions': '4',
  'group.max.size': '5',
};

describe('group coordinator: rebalance protocol', () => {
  let b: InProcessBroker;
  let c1: KafkaConnection;
  let c2: KafkaConnection;
  let c3: KafkaConnection;
  let n = 0;
  const gid = (): string => `g-${++n}`;

  before(async () => {
    b = await startInProcess(overrides);
    [c1, c2, c3] = await Promise.all([b.connect(), b.connect(), b.connect()]);
    assert.equal(await createTopic(c1, 't', 3), ErrorCode.NONE);
  });

  after(async () => {
    for (const c of [c1, c2, c3]) c?.close();
    await b?.stop(true);
  });

  it('FindCoordinator answers this node for groups and transactions, batched from v4, and creates the offsets topic', async () => {
    const adv = b.broker.advertised();
    for (const v of [0, 1, 2, 3]) {
      const res = (await c1.send(ApiKey.FindCoordinator, v, {
        key: 'g',
        keyType: 0,
      })) as FindCoordinatorResponse;
      assert.equal(res.errorCode, ErrorCode.NONE, `v${v}`);
      assert.deepEqual([res.nodeId, res.host, res.port], [b.broker.nodeId, adv.host, adv.port]);
    }
    for (const v of [4, 5, 6]) {
      const res = (await c1.send(ApiKey.FindCoordinator, v, {
        keyType: 0,
        coordinatorKeys: ['a', 'b'],
      })) as FindCoordinatorResponse;
      assert.deepEqual(
        res.coordinators.map((x) => [x.key, x.errorCode, x.nodeId, x.port]),
        [
          ['a', 0, b.broker.nodeId, adv.port],
          ['b', 0, b.broker.nodeId, adv.port],
        ],
      );
    }
    const txn = (await c1.send(ApiKey.FindCoordinator, 6, {
      keyType: 1,
      coordinatorKeys: ['tx-1'],
    })) as FindCoordinatorResponse;
    assert.equal(txn.coordinators[0]!.errorCode, ErrorCode.NONE);
    assert.equal(txn.coordinators[0]!.nodeId, b.broker.nodeId);
    const bad = (await c1.send(ApiKey.FindCoordinator, 3, {
      key: 'x',
      keyType: 7,
    })) as FindCoordinatorResponse;
    assert.equal(bad.errorCode, ErrorCode.INVALID_REQUEST);

    const md = (await c1.send(ApiKey.Metadata, 12, {
      topics: [{ name: '__consumer_offsets', topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    })) as MetadataResponse;
    assert.equal(md.topics[0]!.errorCode, ErrorCode.NONE);
    assert.equal(md.topics[0]!.isInternal, true);
    assert.equal(md.topics[0]!.partitions.length, 4);
    const topic = b.broker.topics.get('__consumer_offsets')!;
    assert.equal(topic.configs['cleanup.policy'], 'compact');
  });

  it('a first join (v4+) gets MEMBER_ID_REQUIRED, then the member leads generation 1 alone', async () => {
    const g = gid();
    const first = await join(c1, { groupId: g });
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^samsa-client-[0-9a-f-]{36}$/);
    const res = await join(c1, { groupId: g, memberId: first.memberId });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.generationId, 1);
    assert.equal(res.leader, first.memberId);
    assert.equal(res.memberId, first.memberId);
    assert.equal(res.protocolType, 'consumer');
    assert.equal(res.protocolName, 'range');
    assert.deepEqual(
      res.members.map((m) => m.memberId),
      [first.memberId],
    );
    assert.deepEqual(res.members[0]!.metadata, subscription(['t']));
    const a = assignment({ t: [0, 1, 2] });
    const s = await sync(c1, g, 1, res.memberId, [{ memberId: res.memberId, assignment: a }], {
      protocolName: 'range',
    });
    assert.equal(s.errorCode, ErrorCode.NONE);
    assert.deepEqual(s.assignment, a);
    assert.equal(s.protocolName, 'range');
    assert.equal(await heartbeat(c1, g, 1, res.memberId), ErrorCode.NONE);
  });

  it('JoinGroup v0-v3 assign the member id at once', async () => {
    for (const version of [0, 1, 2, 3]) {
      const g = gid();
      const res = await join(c1, { groupId: g, version });
      assert.equal(res.errorCode, ErrorCode.NONE, `v${version}`);
      assert.equal(res.generationId, 1);
      assert.equal(res.leader, res.memberId);
    }
  });

  it('a second member triggers a rebalance: generation 2, the first member stays leader, followers wait for the leader', async () => {
    const g = gid();
    const a = await joinNew(c1, { groupId: g });
    const aAssign = await sync(c1, g, 1, a.memberId, [
      { memberId: a.memberId, assignment: assignment({ t: [0, 1, 2] }) },
    ]);
    assert.equal(aAssign.errorCode, ErrorCode.NONE);

    const bJoin = joinNew(c2, { groupId: g });
    await eventually(async () => (await heartbeat(c1, g, 1, a.memberId)) === ErrorCode.REBALANCE_IN_PROGRESS);
    const aJoin = await join(c1, { groupId: g, memberId: a.memberId });
    const bRes = await bJoin;
    assert.equal(aJoin.errorCode, ErrorCode.NONE);
    assert.equal(bRes.errorCode, ErrorCode.NONE);
    assert.equal(aJoin.generationId, 2);
    assert.equal(bRes.generationId, 2);
    assert.equal(aJoin.leader, a.memberId);
    assert.equal(bRes.leader, a.memberId);
    assert.equal(aJoin.members.length, 2);
    assert.equal(bRes.members.length, 0);

    // The follower's sync is parked until the leader's arrives.
    let followerDone = false;
    const followerSync = sync(c2, g, 2, bRes.memberId).then((r) => {
      followerDone = true;
      return r;
    });
    await sleep(50);
    assert.equal(followerDone, false);
    const aA = assignment({ t: [0, 1] });
    const bA = assignment({ t: [2] });
    const leaderSync = await sync(c1, g, 2, a.memberId, [
      { memberId: a.memberId, assignment: aA },
      { memberId: bRes.memberId, assignment: bA },
    ]);
    assert.deepEqual(leaderSync.assignment, aA);
    assert.deepEqual((await followerSync).assignment, bA);

    // Stale generation and unknown members.
    assert.equal(await heartbeat(c1, g, 1, a.memberId), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await heartbeat(c1, g, 2, 'nobody'), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await sync(c1, g, 1, a.memberId)).errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal(
      (await sync(c1, g, 2, a.memberId, [], { protocolType: 'other' })).errorCode,
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    assert.equal(await heartbeat(c1, 'no-such-group', 1, 'x'), ErrorCode.UNKNOWN_MEMBER_ID);

    // A clean leave rebalances the survivor without waiting for a session timeout.
    const left = await leave(c2, g, [{ memberId: bRes.memberId }]);
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.members[0]!.errorCode, ErrorCode.NONE);
    assert.equal(await heartbeat(c1, g, 2, a.memberId), ErrorCode.REBALANCE_IN_PROGRESS);
    const again = await join(c1, { groupId: g, memberId: a.memberId });
    assert.equal(again.generationId, 3);
    assert.equal(again.members.length, 1);
  });

  it('a member whose session expires is removed and the group rebalances', async () => {
    const g = gid();
    const a = await joinNew(c1, { groupId: g, sessionTimeoutMs: 5_000 });
    await sync(c1, g, 1, a.memberId, [{ memberId: a.memberId, assignment: assignment({ t: [0, 1, 2] }) }]);
    const bJoin = joinNew(c2, { groupId: g, sessionTimeoutMs: 150 });
    await eventually(async () => (await heartbeat(c1, g, 1, a.memberId)) === ErrorCode.REBALANCE_IN_PROGRESS);
    await join(c1, { groupId: g, memberId: a.memberId, sessionTimeoutMs: 5_000 });
    const bRes = await bJoin;
    await Promise.all([
      sync(c1, g, 2, a.memberId, [
        { memberId: a.memberId, assignment: assignment({ t: [0, 1] }) },
        { memberId: bRes.memberId, assignment: assignment({ t: [2] }) },
      ]),
      sync(c2, g, 2, bRes.memberId),
    ]);
    // b goes silent; a keeps heartbeating and is told to rejoin once b's session ends.
    const began = Date.now();
    await eventually(
      async () => (await heartbeat(c1, g, 2, a.memberId)) === ErrorCode.REBALANCE_IN_PROGRESS,
      3_000,
    );
    assert.ok(Date.now() - began >= 100, 'not before the session timeout');
    const res = await join(c1, { groupId: g, memberId: a.memberId, sessionTimeoutMs: 5_000 });
    assert.equal(res.generationId, 3);
    assert.deepEqual(
      res.members.map((m) => m.memberId),
      [a.memberId],
    );
    assert.equal(await heartbeat(c2, g, 2, bRes.memberId), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('members that join within group.initial.rebalance.delay.ms share the first generation', async () => {
    const slow = await startInProcess({ ...overrides, 'group.initial.rebalance.delay.ms': '300' });
    const [x, y] = await Promise.all([slow.connect(), slow.connect()]);
    try {
      const g = 'delayed';
      const [ja, jb] = await Promise.all([join(x, { groupId: g }), join(y, { groupId: g })]);
      const began = Date.now();
      const [ra, rb] = await Promise.all([
        join(x, { groupId: g, memberId: ja.memberId }),
        sleep(100).then(() => join(y, { groupId: g, memberId: jb.memberId })),
      ]);
      assert.ok(Date.now() - began >= 250, 'the first rebalance waits for the delay');
      assert.equal(ra.generationId, 1);
      assert.equal(rb.generationId, 1);
      assert.equal(ra.leader, ja.memberId);
      assert.equal(ra.members.length, 2);
    } finally {
      x.close();
      y.close();
      await slow.stop(true);
    }
  });

  it('selects the protocol by vote among those every member supports', async () => {
    const g = gid();
    const meta = subscription(['t']);
    const a = join(c1, {
      groupId: g,
      version: 3,
      protocols: [
        { name: 'roundrobin', metadata: meta },
        { name: 'range', metadata: meta },
        { name: 'sticky', metadata: meta },
      ],
    });
    const first = await a;
    assert.equal(first.protocolName, 'roundrobin');
    // b and c prefer range; range wins 2 votes to 1; 'only-b' is not a candidate.
    const bJoin = join(c2, {
      groupId: g,
      version: 3,
      protocols: [
        { name: 'only-b', metadata: meta },
        { name: 'range', metadata: meta },
        { name: 'roundrobin', metadata: meta },
      ],
    });
    const cJoin = join(c3, {
      groupId: g,
      version: 3,
      protocols: [
        { name: 'range', metadata: meta },
        { name: 'roundrobin', metadata: meta },
      ],
    });
    await sleep(50);
    const aRejoin = await join(c1, {
      groupId: g,
      memberId: first.memberId,
      version: 3,
      protocols: [
        { name: 'roundrobin', metadata: meta },
        { name: 'range', metadata: meta },
        { name: 'sticky', metadata: meta },
      ],
    });
    const [bRes, cRes] = await Promise.all([bJoin, cJoin]);
    assert.equal(aRejoin.protocolName, 'range');
    assert.equal(bRes.protocolName, 'range');
    assert.equal(cRes.protocolName, 'range');
    assert.equal(aRejoin.generationId, bRes.generationId);

    // A newcomer sharing no protocol with the group, or of another protocol type, is refused.
    const none = await join(c3, { groupId: g, version: 3, protocols: [{ name: 'sticky', metadata: meta }] });
    assert.equal(none.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const otherType = await join(c3, { groupId: g, version: 3, protocolType: 'connect' });
    assert.equal(otherType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('a protocol listed twice in one JoinGroup counts once (fuzz seed 1262077317)', async () => {
    const g = gid();
    const meta = subscription(['t']);
    const twice = [
      { name: 'range', metadata: meta },
      { name: 'range', metadata: meta },
    ];
    const a = await joinNew(c1, { groupId: g, protocols: twice });
    assert.equal(a.errorCode, ErrorCode.NONE);
    assert.equal(a.protocolName, 'range');
    assert.equal(a.members.length, 1);
    const bJoin = joinNew(c2, { groupId: g, protocols: [{ name: 'range', metadata: meta }] });
    await eventually(async () => (await heartbeat(c1, g, 1, a.memberId)) === ErrorCode.REBALANCE_IN_PROGRESS);
    const [again, bRes] = await Promise.all([
      join(c1, { groupId: g, memberId: a.memberId, protocols: twice }),
      bJoin,
    ]);
    assert.equal(again.errorCode, ErrorCode.NONE);
    assert.equal(bRes.errorCode, ErrorCode.NONE);
    assert.equal(again.protocolName, 'range');
    assert.equal(again.generationId, 2);
  });

  it('refuses bad joins with Kafka error codes', async () => {
    assert.equal((await join(c1, { groupId: '' })).errorCode, ErrorCode.INVALID_GROUP_ID);
    assert.equal(
      (await join(c1, { groupId: gid(), sessionTimeoutMs: 10 })).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    assert.equal(
      (await join(c1, { groupId: gid(), sessionTimeoutMs: 600_000 })).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    assert.equal(
      (await join(c1, { groupId: gid(), memberId: 'made-up' })).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(
      (await join(c1, { groupId: gid(), protocolType: '' })).errorCode,
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    assert.equal(
      (await join(c1, { groupId: gid(), protocols: [] })).errorCode,
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    // The refused groups left nothing behind.
    const listed = (await c1.send(ApiKey.ListGroups, 5, {
      statesFilter: [],
      typesFilter: [],
    })) as ListGroupsResponse;
    assert.ok(listed.groups.every((x) => x.groupState !== 'Empty' || x.groupId.startsWith('g-')));
  });

  it('group.max.size: joins beyond it get GROUP_MAX_SIZE_REACHED and the group stays consistent', async () => {
    const g = gid();
    const conns = await Promise.all(Array.from({ length: 7 }, () => b.connect()));
    try {
      const results = await Promise.all(
        conns.map((c) => joinNew(c, { groupId: g, rebalanceTimeoutMs: 1_000 })),
      );
      const ok = results.filter((r) => r.errorCode === ErrorCode.NONE);
      const full = results.filter((r) => r.errorCode === ErrorCode.GROUP_MAX_SIZE_REACHED);
      assert.equal(ok.length + full.length, 7);
      assert.ok(ok.length <= 5, `${ok.length} members admitted`);
      assert.ok(full.length >= 2);
      const gen = Math.max(...ok.map((r) => r.generationId));
      const current = ok.filter((r) => r.generationId === gen);
      const leader = current.find((r) => r.members.length > 0)!;
      assert.equal(new Set(leader.members.map((m) => m.memberId)).size, leader.members.length);
      assert.ok(leader.members.length <= 5);
    } finally {
      for (const c of conns) c.close();
    }
  });

  it('static members: no MEMBER_ID_REQUIRED, a restart with the same instance id fences the old member id without a rebalance', async () => {
    const g = gid();
    const a = await join(c1, { groupId: g, groupInstanceId: 'inst-a' });
    assert.equal(a.errorCode, ErrorCode.NONE);
    assert.match(a.memberId, /^inst-a-/);
    await sync(c1, g, 1, a.memberId, [{ memberId: a.memberId, assignment: assignment({ t: [0, 1, 2] }) }], {
      groupInstanceId: 'inst-a',
    });
    // The same instance comes back (e.g. a restarted process) with no member id.
    const a2 = await join(c2, { groupId: g, groupInstanceId: 'inst-a' });
    assert.equal(a2.errorCode, ErrorCode.NONE);
    assert.notEqual(a2.memberId, a.memberId);
    assert.equal(a2.generationId, 1, 'no rebalance');
    assert.equal(a2.skipAssignment, true, 'the returning leader skips the assignment (KIP-814)');
    const s = await sync(c2, g, 1, a2.memberId, [], { groupInstanceId: 'inst-a' });
    assert.deepEqual(s.assignment, assignment({ t: [0, 1, 2] }), 'keeps its assignment');
    assert.equal(await heartbeat(c1, g, 1, a.memberId, 'inst-a'), ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(await heartbeat(c2, g, 1, a2.memberId, 'inst-a'), ErrorCode.NONE);
    assert.equal(await heartbeat(c2, g, 1, a2.memberId, 'inst-unknown'), ErrorCode.UNKNOWN_MEMBER_ID);
    const fenced = await join(c1, { groupId: g, memberId: a.memberId, groupInstanceId: 'inst-a' });
    assert.equal(fenced.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    // Removal by instance id alone (the admin path).
    const left = await leave(c3, g, [{ memberId: '', groupInstanceId: 'inst-a' }]);
    assert.equal(left.members[0]!.errorCode, ErrorCode.NONE);
    assert.equal(await heartbeat(c2, g, 1, a2.memberId, 'inst-a'), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('DescribeGroups and ListGroups report states, members and assignments; filters apply', async () => {
    const g = gid();
    const a = await joinNew(c1, { groupId: g });
    const aA = assignment({ t: [0, 1, 2] });
    await sync(c1, g, 1, a.memberId, [{ memberId: a.memberId, assignment: aA }]);
    const d = (await c1.send(ApiKey.DescribeGroups, 5, {
      groups: [g, 'unknown-group'],
      includeAuthorizedOperations: true,
    })) as DescribeGroupsResponse;
    const dg = d.groups[0]!;
    assert.equal(dg.errorCode, ErrorCode.NONE);
    assert.equal(dg.groupState, 'Stable');
    assert.equal(dg.protocolType, 'consumer');
    assert.equal(dg.protocolData, 'range');
    assert.equal(dg.members.length, 1);
    assert.equal(dg.members[0]!.memberId, a.memberId);
    assert.equal(dg.members[0]!.clientId, 'samsa-client');
    assert.equal(dg.members[0]!.clientHost, '/127.0.0.1');
    assert.deepEqual(dg.members[0]!.memberAssignment, aA);
    assert.deepEqual(dg.members[0]!.memberMetadata, subscription(['t']));
    assert.ok(dg.authorizedOperations > 0);
    assert.equal(d.groups[1]!.groupState, 'Dead');
    assert.equal(d.groups[1]!.errorCode, ErrorCode.NONE);

    const stable = (await c1.send(ApiKey.ListGroups, 5, {
      statesFilter: ['stable'],
      typesFilter: [],
    })) as ListGroupsResponse;
    assert.ok(
      stable.groups.some((x) => x.groupId === g && x.groupState === 'Stable' && x.groupType === 'classic'),
    );
    assert.ok(stable.groups.every((x) => x.groupState === 'Stable'));
    const empty = (await c1.send(ApiKey.ListGroups, 5, {
      statesFilter: ['Empty'],
      typesFilter: [],
    })) as ListGroupsResponse;
    assert.ok(!empty.groups.some((x) => x.groupId === g));
    const consumerType = (await c1.send(ApiKey.ListGroups, 5, {
      statesFilter: [],
      typesFilter: ['consumer'],
    })) as ListGroupsResponse;
    assert.equal(consumerType.groups.length, 0);
    const v0 = (await c1.send(ApiKey.ListGroups, 0, {})) as ListGroupsResponse;
    assert.ok(v0.groups.some((x) => x.groupId === g && x.protocolType === 'consumer'));

    await leave(c1, g, [{ memberId: a.memberId }]);
    await eventually(async () => {
      const e = (await c1.send(ApiKey.DescribeGroups, 5, {
        groups: [g],
        includeAuthorizedOperations: false,
      })) as DescribeGroupsResponse;
      return e.groups[0]!.groupState === 'Empty';
    });
  });

  it('a rejoin of a known member in CompletingRebalance with the same metadata gets the current generation', async () => {
    const g = gid();
    const a: JoinGroupResponse = await joinNew(c1, { groupId: g });
    assert.equal(a.generationId, 1);
    // No sync yet: the group waits in CompletingRebalance; a heartbeat is fine there.
    assert.equal(await heartbeat(c1, g, 1, a.memberId), ErrorCode.NONE);
    const again = await join(c1, { groupId: g, memberId: a.memberId });
    assert.equal(again.generationId, 1);
    assert.equal(again.members.length, 1);
  });
});

describe('group coordinator: a flood of joins', () => {
  it('100 members joining at once converge on one generation, each with its assignment', async () => {
    const b = await startInProcess({ ...overrides, 'group.max.size': '1000' });
    const conns = await Promise.all(Array.from({ length: 100 }, () => b.connect()));
    let done = false;
    const g = 'flood';
    const last = new Map<KafkaConnection, { memberId: string; generationId: number; assignment: string }>();
    const member = async (conn: KafkaConnection): Promise<void> => {
      let memberId = '';
      while (!done) {
        const j = await join(conn, {
          groupId: g,
          memberId,
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 10_000,
        });
        if (j.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
          memberId = j.memberId;
          continue;
        }
        if (j.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
          memberId = '';
          continue;
        }
        if (j.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
        assert.equal(j.errorCode, ErrorCode.NONE);
        memberId = j.memberId;
        // The "assignor": every member gets its own id as its assignment.
        const assignments = j.members.map((m) => ({
          memberId: m.memberId,
          assignment: Buffer.from(m.memberId),
        }));
        const s = await sync(conn, g, j.generationId, memberId, assignments);
        if (s.errorCode !== ErrorCode.NONE) continue;
        last.set(conn, { memberId, generationId: j.generationId, assignment: s.assignment.toString() });
        while (!done) {
          await sleep(50);
          const hb = await heartbeat(conn, g, j.generationId, memberId);
          if (hb !== ErrorCode.NONE) break;
        }
      }
    };
    try {
      const running = conns.map((conn) => member(conn));
      const admin = await b.connect();
      let described: DescribeGroupsResponse['groups'][number] | undefined;
      await eventually(async () => {
        const d = (await admin.send(ApiKey.DescribeGroups, 5, {
          groups: [g],
          includeAuthorizedOperations: false,
        })) as DescribeGroupsResponse;
        described = d.groups[0];
        return (
          described?.groupState === 'Stable' &&
          described.members.length === 100 &&
          last.size === 100 &&
          [...last.values()].every(
            (x) => x.generationId === Math.max(...[...last.values()].map((y) => y.generationId)),
          )
        );
      }, 30_000);
      done = true;
      await Promise.all(running);
      admin.close();
      const ids = new Set(described!.members.map((m) => m.memberId));
      assert.equal(ids.size, 100);
      for (const x of last.values()) {
        assert.ok(ids.has(x.memberId));
        assert.equal(x.assignment, x.memberId);
      }
    } finally {
      done = true;
      for (const c of conns) c.close();
      await b.stop(true);
    }
  });
});
