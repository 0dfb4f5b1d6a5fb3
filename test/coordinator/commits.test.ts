// Coordinator writes complete when committed: the ISR of a __consumer_offsets partition is made to include
// a broker (99) that never fetches, so the high watermark stays where it is. A commit then answers
// COORDINATOR_NOT_AVAILABLE after offsets.commit.timeout.ms and never shows in OffsetFetch; the leader's
// SyncGroup fails the same way and the group rebalances; a write in flight when the partition moves to
// another leader answers NOT_COORDINATOR.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../src/client/connection.js';
import { OFFSETS_TOPIC, partitionForGroup } from '../../src/coordinator/group/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { DescribeGroupsResponse } from '../../src/protocol/generated/describe-groups-response.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { assignment, commit, createTopic, eventually, fetchOffsets, joinNew, sync } from './group-client.js';
import { groupOn, setOffsetsPartitionState } from './leadership.js';

const PARTITIONS = 3;
const COMMIT_TIMEOUT_MS = 400;
const overrides = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '50',
  'offsets.topic.num.partitions': String(PARTITIONS),
  'offsets.commit.timeout.ms': String(COMMIT_TIMEOUT_MS),
};

describe('group coordinator: writes complete when committed', () => {
  let b: InProcessBroker;
  let c: KafkaConnection;
  const p = partitionForGroup('commit-anchor', PARTITIONS);

  before(async () => {
    b = await startInProcess(overrides);
    c = await b.connect();
    assert.equal(await createTopic(c, 't', 2), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.stop(true);
  });

  it('a commit that cannot be committed answers COORDINATOR_NOT_AVAILABLE after the timeout and stays invisible', async () => {
    const g = groupOn(p, PARTITIONS, 'stuck');
    let res = await commit(c, g, [{ topic: 't', partition: 0, offset: 1 }]);
    assert.equal(res.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);

    const self = b.broker.nodeId;
    setOffsetsPartitionState(b, p, { leader: self, isr: [self, 99], replicas: [self, 99] });
    const log = b.broker.replicas.partition(OFFSETS_TOPIC, p)!.log;
    const endBefore = log.logEndOffset;
    const began = Date.now();
    res = await commit(c, g, [{ topic: 't', partition: 0, offset: 2 }]);
    const waited = Date.now() - began;
    assert.equal(res.topics[0]!.partitions[0]!.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.ok(waited >= COMMIT_TIMEOUT_MS - 20, `answered after ${waited} ms`);
    assert.ok(log.logEndOffset > endBefore, 'the record was appended');
    assert.ok(log.highWatermark <= endBefore, 'and not committed');
    assert.equal(
      (await fetchOffsets(c, g)).get('t:0')?.offset,
      1,
      'OffsetFetch shows the committed offset only',
    );
  });

  it("the leader's SyncGroup fails with COORDINATOR_NOT_AVAILABLE when its assignment does not commit", async () => {
    const g = groupOn(p, PARTITIONS, 'stuck-sync');
    const a = await joinNew(c, { groupId: g, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000 });
    assert.equal(a.errorCode, ErrorCode.NONE);
    const began = Date.now();
    const s = await sync(c, g, a.generationId, a.memberId, [
      { memberId: a.memberId, assignment: assignment({ t: [0, 1] }) },
    ]);
    assert.equal(s.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.ok(Date.now() - began >= COMMIT_TIMEOUT_MS - 20);
    const d = (await c.send(ApiKey.DescribeGroups, 5, {
      groups: [g],
      includeAuthorizedOperations: false,
    })) as DescribeGroupsResponse;
    assert.equal(d.groups[0]!.groupState, 'PreparingRebalance', 'the group rebalances');
  });

  it('a write in flight when the partition moves to another leader answers NOT_COORDINATOR', async () => {
    const g = groupOn(p, PARTITIONS, 'moving');
    const log = b.broker.replicas.partition(OFFSETS_TOPIC, p)!.log;
    const endBefore = log.logEndOffset;
    const pending = commit(c, g, [{ topic: 't', partition: 1, offset: 7 }]);
    await eventually(() => log.logEndOffset > endBefore);
    const self = b.broker.nodeId;
    setOffsetsPartitionState(b, p, { leader: 99, isr: [99, self], replicas: [self, 99] });
    const res = await pending;
    assert.equal(res.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(b.broker.groups.groups.has(g), false);
  });
});
