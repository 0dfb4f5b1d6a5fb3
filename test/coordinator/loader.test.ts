// The group coordinator follows the leadership of __consumer_offsets partitions: an in-process broker is made
// follower of one partition (as a controller's LeaderAndIsr naming another leader would), then leader again,
// and its groups are unloaded (NOT_COORDINATOR, parked requests answered) and loaded back from the log.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import { OFFSETS_TOPIC, partitionForGroup } from '../../src/coordinator/group/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { DescribeGroupsResponse } from '../../src/protocol/generated/describe-groups-response.js';
import type { ListGroupsResponse } from '../../src/protocol/generated/list-groups-response.js';
import type { OffsetFetchResponse } from '../../src/protocol/generated/offset-fetch-response.js';
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
  sync,
} from './group-client.js';
import { groupOn, setOffsetsPartitionState } from './leadership.js';

const PARTITIONS = 3;
const overrides = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '50',
  'offsets.topic.num.partitions': String(PARTITIONS),
};

async function fetchError(c: KafkaConnection, groupId: string): Promise<number> {
  const res = (await c.send(ApiKey.OffsetFetch, 9, {
    groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }],
    requireStable: false,
  })) as OffsetFetchResponse;
  return res.groups[0]!.errorCode;
}

async function listed(c: KafkaConnection): Promise<ListGroupsResponse> {
  return (await c.send(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })) as ListGroupsResponse;
}

async function describe1(c: KafkaConnection, groupId: string): Promise<DescribeGroupsResponse['groups'][0]> {
  const res = (await c.send(ApiKey.DescribeGroups, 5, {
    groups: [groupId],
    includeAuthorizedOperations: false,
  })) as DescribeGroupsResponse;
  return res.groups[0]!;
}

describe('group coordinator: loading and unloading with the leadership of __consumer_offsets', () => {
  let b: InProcessBroker;
  const conns: KafkaConnection[] = [];
  const connect = async (): Promise<KafkaConnection> => {
    const c = await b.connect();
    conns.push(c);
    return c;
  };

  before(async () => {
    b = await startInProcess(overrides);
  });

  after(async () => {
    for (const c of conns) c.close();
    await b?.stop(true);
  });

  it('a follower answers NOT_COORDINATOR and its parked requests; leader again, it loads the groups back', async () => {
    const c = await connect();
    assert.equal(await createTopic(c, 't', 4), ErrorCode.NONE);
    const p = partitionForGroup('anchor', PARTITIONS);
    const simple = groupOn(p, PARTITIONS, 'simple');
    const stable = groupOn(p, PARTITIONS, 'stable');
    const parkedJoin = groupOn(p, PARTITIONS, 'parked-join');
    const parkedSync = groupOn(p, PARTITIONS, 'parked-sync');
    const other = groupOn((p + 1) % PARTITIONS, PARTITIONS, 'other');
    const self = b.broker.nodeId;

    // State on partition p: offsets of a simple group, a stable group with a commit, a JoinGroup parked in a
    // rebalance, a follower's SyncGroup parked until the leader's assignment. And a group elsewhere.
    await commit(c, simple, [
      { topic: 't', partition: 0, offset: 5, metadata: 'five' },
      { topic: 't', partition: 1, offset: 6 },
    ]);
    const a = await joinNew(c, { groupId: stable, sessionTimeoutMs: 30_000 });
    const aAssignment = assignment({ t: [0, 1, 2, 3] });
    await sync(c, stable, 1, a.memberId, [{ memberId: a.memberId, assignment: aAssignment }]);
    await commit(c, stable, [{ topic: 't', partition: 2, offset: 9 }], {
      generationId: 1,
      memberId: a.memberId,
    });
    await commit(c, other, [{ topic: 't', partition: 3, offset: 33 }]);

    const x = await joinNew(c, { groupId: parkedJoin, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000 });
    await sync(c, parkedJoin, 1, x.memberId, [{ memberId: x.memberId, assignment: aAssignment }]);
    const cy = await connect();
    const y = await join(cy, { groupId: parkedJoin, rebalanceTimeoutMs: 30_000 });
    assert.equal(y.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    const yJoin = join(cy, { groupId: parkedJoin, memberId: y.memberId, rebalanceTimeoutMs: 30_000 });

    const l = await joinNew(c, { groupId: parkedSync, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000 });
    await sync(c, parkedSync, 1, l.memberId, [{ memberId: l.memberId, assignment: aAssignment }]);
    const cf = await connect();
    const f1 = await join(cf, { groupId: parkedSync, rebalanceTimeoutMs: 30_000 });
    const fJoin = join(cf, { groupId: parkedSync, memberId: f1.memberId, rebalanceTimeoutMs: 30_000 });
    const lJoin = await join(c, { groupId: parkedSync, memberId: l.memberId, rebalanceTimeoutMs: 30_000 });
    const fJoined = await fJoin;
    assert.deepEqual([lJoin.errorCode, fJoined.errorCode, fJoined.generationId], [0, 0, 2]);
    assert.equal(lJoin.leader, l.memberId);
    const fSync = sync(cf, parkedSync, 2, fJoined.memberId);

    const groups = b.broker.groups.groups;
    await eventually(
      () =>
        groups.get(parkedJoin)?.member(y.memberId)?.isAwaitingJoin === true &&
        groups.get(parkedSync)?.member(fJoined.memberId)?.isAwaitingSync === true,
    );

    // Another broker (99) leads p now, at a newer leader epoch.
    setOffsetsPartitionState(b, p, { leader: 99, isr: [99, self], replicas: [self, 99] });
    assert.equal((await yJoin).errorCode, ErrorCode.NOT_COORDINATOR, 'the parked JoinGroup is answered');
    assert.equal((await fSync).errorCode, ErrorCode.NOT_COORDINATOR, 'the parked SyncGroup is answered');
    for (const g of [simple, stable, parkedJoin, parkedSync]) assert.equal(groups.get(g), undefined);
    assert.equal(b.broker.groups.offsets.hasOffsets(simple), false);

    const res = await commit(c, simple, [{ topic: 't', partition: 0, offset: 50 }]);
    assert.equal(res.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(await fetchError(c, simple), ErrorCode.NOT_COORDINATOR);
    assert.equal(await heartbeat(c, stable, 1, a.memberId), ErrorCode.NOT_COORDINATOR);
    assert.equal((await join(c, { groupId: stable })).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal((await sync(c, stable, 1, a.memberId)).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal((await describe1(c, stable)).errorCode, ErrorCode.NOT_COORDINATOR);
    const dg = (await c.send(ApiKey.DeleteGroups, 2, { groupsNames: [simple] })) as {
      results: { errorCode: number }[];
    };
    assert.equal(dg.results[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
    // Groups of other partitions are served as before; only groups of loaded partitions are listed.
    assert.equal((await fetchOffsets(c, other)).get('t:3')?.offset, 33);
    let list = await listed(c);
    assert.equal(list.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      list.groups.map((g) => g.groupId),
      [other],
    );

    // Leader again (a newer epoch): p loads from its log. A load that is overtaken (unloaded and elected
    // again before it ends) is dropped, and the newest one installs the state.
    const dropped = (): number =>
      b.logs.filter((line) => String(line.msg).startsWith('dropped the load of an offsets topic partition'))
        .length;
    const droppedBefore = dropped();
    setOffsetsPartitionState(b, p, { leader: self, isr: [self], replicas: [self, 99] });
    assert.equal(b.broker.groups.groupStatus(simple), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal(b.broker.groups.list([], []).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal(
      b.broker.groups.heartbeat(stable, a.memberId, null, 1),
      ErrorCode.NONE,
      'Kafka answers blindly',
    );
    setOffsetsPartitionState(b, p, { leader: 99, isr: [99, self], replicas: [self, 99] });
    assert.equal(b.broker.groups.groupStatus(simple), ErrorCode.NOT_COORDINATOR);
    setOffsetsPartitionState(b, p, { leader: self, isr: [self], replicas: [self, 99] });
    await eventually(async () => (await fetchError(c, simple)) === ErrorCode.NONE);
    await eventually(() => dropped() > droppedBefore);

    const got = await fetchOffsets(c, simple);
    assert.deepEqual(
      [...got].map(([k, v]) => [k, v.offset, v.metadata]),
      [
        ['t:0', 5, 'five'],
        ['t:1', 6, ''],
      ],
    );
    assert.equal((await fetchOffsets(c, stable)).get('t:2')?.offset, 9);
    const d = await describe1(c, stable);
    assert.equal(d.groupState, 'Stable');
    assert.deepEqual(
      d.members.map((m) => [m.memberId, m.memberAssignment]),
      [[a.memberId, aAssignment]],
    );
    assert.equal(await heartbeat(c, stable, 1, a.memberId), ErrorCode.NONE);
    const again = await commit(c, stable, [{ topic: 't', partition: 2, offset: 10 }], {
      generationId: 1,
      memberId: a.memberId,
    });
    assert.equal(again.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await fetchOffsets(c, stable)).get('t:2')?.offset, 10);
    // The parked joiner was never stored: the group is back as its last write left it.
    assert.deepEqual(
      (await describe1(c, parkedJoin)).members.map((m) => m.memberId),
      [x.memberId],
    );
    list = await listed(c);
    assert.equal(list.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      list.groups.map((g) => g.groupId).sort(),
      [other, parkedJoin, parkedSync, simple, stable].sort(),
    );
  });

  it('StopReplica of a partition unloads its groups', async () => {
    const c = await connect();
    const p = partitionForGroup('stop-anchor', PARTITIONS);
    const g = groupOn(p, PARTITIONS, 'stopped');
    await commit(c, g, [{ topic: 't', partition: 0, offset: 1 }]);
    assert.ok(b.broker.groups.groups.has(g));
    const rm = b.broker.replicas;
    const res = rm.stopReplicas(Math.max(rm.controllerEpoch, 0), [
      { topic: OFFSETS_TOPIC, partition: p, deletePartition: false, leaderEpoch: -1 },
    ]);
    assert.equal(res.partitions[0]?.errorCode, ErrorCode.NONE);
    assert.equal(b.broker.groups.groups.has(g), false);
    assert.equal(await fetchError(c, g), ErrorCode.NOT_COORDINATOR);
  });
});
