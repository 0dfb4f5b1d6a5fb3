// The classic -> consumer group conversion of members (consumerMembersFromClassic, Kafka's
// ConsumerGroup.fromClassicGroup) and the classic member metadata of ConsumerGroupMemberMetadata records.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsumerGroup, newMember } from '../../../src/coordinator/group/consumer/group.js';
import {
  classicGroupFromConsumer,
  consumerMembersFromClassic,
  decodeAssignmentBytes,
  downgradeRefusal,
} from '../../../src/coordinator/group/consumer/migration.js';
import { memberMetadataRecord } from '../../../src/coordinator/group/consumer/records.js';
import { ClassicGroup } from '../../../src/coordinator/group/group.js';
import { ClassicMember } from '../../../src/coordinator/group/member.js';
import { decodeStateRecord } from '../../../src/coordinator/group/records.js';
import { assignment, subscription } from '../group-client.js';

const ID = '0123456789abcdef0123456789abcdef';
const topicId = (name: string): string | undefined => (name === 't6' ? ID : undefined);

function classicGroup(): ClassicGroup {
  const g = new ClassicGroup('g', 0);
  const protocols = (topics: string[]) => [{ name: 'range', metadata: subscription(topics) }];
  g.add(new ClassicMember('a', null, 'client-a', '/10.0.0.1', 40_000, 30_000, 'consumer', protocols(['t6'])));
  g.add(
    new ClassicMember(
      'b',
      'inst-b',
      'client-b',
      '/10.0.0.2',
      50_000,
      20_000,
      'consumer',
      protocols(['t6', 'gone']),
    ),
  );
  g.transitionTo('PreparingRebalance', 0);
  g.initNextGeneration(0);
  g.transitionTo('Stable', 0);
  g.member('a')!.assignment = assignment({ t6: [0, 1, 2] });
  g.member('b')!.assignment = assignment({ t6: [3, 4, 5], gone: [0] });
  return g;
}

describe('classic members in a consumer group', () => {
  it('keep their ids, subscriptions and partitions; epoch = generation; classic metadata kept', () => {
    const members = consumerMembersFromClassic(classicGroup(), topicId);
    assert.ok(members !== null);
    const [a, b] = members;
    assert.equal(a!.memberId, 'a');
    assert.equal(a!.memberEpoch, 1);
    assert.equal(a!.previousMemberEpoch, 1);
    assert.equal(a!.rebalanceTimeoutMs, 40_000);
    assert.deepEqual(a!.subscribedTopicNames, ['t6']);
    assert.deepEqual([...(a!.assignedPartitions.get(ID) ?? [])], [0, 1, 2]);
    assert.equal(a!.classicMemberMetadata?.sessionTimeoutMs, 30_000);
    assert.equal(a!.classicMemberMetadata?.supportedProtocols[0]?.name, 'range');
    assert.equal(b!.instanceId, 'inst-b');
    assert.deepEqual(b!.subscribedTopicNames, ['t6', 'gone']);
    // A topic that no longer exists is dropped from the assignment, as Kafka does.
    assert.deepEqual([...b!.assignedPartitions.keys()], [ID]);
    assert.deepEqual([...(b!.assignedPartitions.get(ID) ?? [])], [3, 4, 5]);
  });

  it('a member whose assignment is not a consumer-protocol one: null (no conversion)', () => {
    const g = classicGroup();
    g.member('b')!.assignment = Buffer.from([0xff, 0xff, 1]);
    assert.equal(consumerMembersFromClassic(g, topicId), null);
  });

  it('ConsumerGroupMemberMetadata keeps the classic member metadata across encode/decode', () => {
    const [a] = consumerMembersFromClassic(classicGroup(), topicId)!;
    const r = memberMetadataRecord('g', 'a', a!);
    const d = decodeStateRecord(r.key, r.value);
    assert.equal(d.kind, 'consumer');
    if (d.kind !== 'consumer' || d.record.type !== 5) throw new Error('not a member metadata record');
    const cm = d.record.value?.classicMemberMetadata;
    assert.equal(cm?.sessionTimeoutMs, 30_000);
    assert.deepEqual(
      cm?.supportedProtocols.map((p) => [p.name, p.metadata.toString('hex')]),
      [['range', subscription(['t6']).toString('hex')]],
    );
    const plain = memberMetadataRecord('g', 'c', { ...a!, classicMemberMetadata: null });
    const dp = decodeStateRecord(plain.key, plain.value);
    if (dp.kind !== 'consumer' || dp.record.type !== 5) throw new Error('not a member metadata record');
    assert.equal(dp.record.value?.classicMemberMetadata, null);
  });

  it('downgrade: refused by the policy, while a consumer-protocol member stays, or beyond group.max.size', () => {
    const g = new ConsumerGroup('g');
    g.groupEpoch = 7;
    for (const m of consumerMembersFromClassic(classicGroup(), topicId)!) {
      g.updateMember(m);
      g.targetAssignment.set(m.memberId, m.assignedPartitions);
    }
    g.updateMember({ ...newMember('kip848'), subscribedTopicNames: ['t6'] });
    const ok = { consumerMigrationPolicy: 'bidirectional' as const, maxSize: 10 };
    assert.equal(downgradeRefusal(g, 'kip848', ok), null);
    assert.match(downgradeRefusal(g, 'a', ok) ?? '', /keeps members of the consumer protocol/);
    assert.match(
      downgradeRefusal(g, 'kip848', { ...ok, consumerMigrationPolicy: 'upgrade' }) ?? '',
      /online downgrade is disabled/,
    );
    assert.match(
      downgradeRefusal(g, 'kip848', { ...ok, maxSize: 1 }) ?? '',
      /greater than classic group max size/,
    );

    // The classic group: Stable, generation = group epoch, first member leads, target assignments as SyncGroup bytes.
    const classic = classicGroupFromConsumer(g, 'kip848', (id) => (id === ID ? 't6' : undefined), 0);
    assert.equal(classic.state, 'Stable');
    assert.equal(classic.generationId, 7);
    assert.equal(classic.protocolName, 'range');
    assert.equal(classic.leaderId, 'a');
    assert.deepEqual([...classic.members.keys()], ['a', 'b']);
    assert.equal(classic.member('b')!.sessionTimeoutMs, 20_000);
    assert.equal(classic.member('b')!.groupInstanceId, 'inst-b');
    const back = decodeAssignmentBytes(classic.member('b')!.assignment, topicId);
    assert.deepEqual([...(back?.get(ID) ?? [])], [3, 4, 5]);
    assert.deepEqual([...classic.subscribedTopics!].sort(), ['gone', 't6']);
  });
});
