// Online migration of groups between the classic and the consumer protocol (group.consumer.migration.policy)
// over real sockets against in-process brokers: a ConsumerGroupHeartbeat joining a classic group with members
// answers GROUP_ID_NOT_FOUND with Kafka's reason (upgrade disabled by the policy, another embedded protocol,
// more members than group.consumer.max.size, not Stable), and the group keeps working as a classic group.
// The upgrades that succeed: migration-online.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KafkaConnection } from '../../../src/client/connection.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import type { ConsumerGroupHeartbeatResponse } from '../../../src/protocol/generated/consumer-group-heartbeat-response.js';
import { type InProcessBroker, startInProcess } from '../../helpers/in-process.js';
import { createTopic, eventually, heartbeat, join, joinNew, subscription, sync } from '../group-client.js';

const base = {
  'group.initial.rebalance.delay.ms': '0',
  'offsets.topic.num.partitions': '1',
};

function consumerJoin(c: KafkaConnection, groupId: string): Promise<ConsumerGroupHeartbeatResponse> {
  return c.send(ApiKey.ConsumerGroupHeartbeat, 1, {
    groupId,
    memberId: 'consumer-protocol-member',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 5000,
    subscribedTopicNames: ['t6'],
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: [],
  }) as Promise<ConsumerGroupHeartbeatResponse>;
}

/** A classic group with one member (generation 1) of the given protocol type; its member id. */
async function classicGroup(c: KafkaConnection, groupId: string, protocolType = 'consumer'): Promise<string> {
  const j = await joinNew(c, {
    groupId,
    protocolType,
    protocols: [{ name: 'range', metadata: subscription(['t6']) }],
    sessionTimeoutMs: 30_000,
  });
  assert.equal(j.errorCode, ErrorCode.NONE);
  return j.memberId;
}

async function withBroker(
  overrides: Record<string, string>,
  fn: (c: KafkaConnection) => Promise<void>,
): Promise<void> {
  const b: InProcessBroker = await startInProcess({ ...base, ...overrides });
  const c = await b.connect();
  try {
    assert.equal(await createTopic(c, 't6', 6), ErrorCode.NONE);
    await fn(c);
  } finally {
    c.close();
    await b.stop(true);
  }
}

describe('classic -> consumer group migration refusals', () => {
  let b: InProcessBroker | undefined;
  let c: KafkaConnection;

  before(async () => {
    b = await startInProcess({ ...base, 'group.consumer.max.size': '1' });
    c = await b.connect();
    assert.equal(await createTopic(c, 't6', 6), ErrorCode.NONE);
  });

  after(async () => {
    c?.close();
    await b?.stop(true);
  });

  it("a group of another embedded protocol is not upgraded (Kafka's message)", async () => {
    const member = await classicGroup(c, 'g-connect', 'connect');
    const res = await consumerJoin(c, 'g-connect');
    assert.equal(res.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(
      res.errorMessage,
      'Cannot upgrade classic group g-connect to consumer group because the group does not use the consumer embedded protocol.',
    );
    // The classic group is untouched: its member syncs and heartbeats in generation 1.
    const s = await sync(c, 'g-connect', 1, member, [], { protocolType: 'connect', protocolName: 'range' });
    assert.equal(s.errorCode, ErrorCode.NONE);
    assert.equal(await heartbeat(c, 'g-connect', 1, member), ErrorCode.NONE);
  });

  it('a group larger than group.consumer.max.size is not upgraded', async () => {
    await classicGroup(c, 'g-big');
    // A second member joins (parked until the rebalance completes): the group has two members.
    const c2 = await b!.connect();
    try {
      const first = await join(c2, {
        groupId: 'g-big',
        protocols: [{ name: 'range', metadata: subscription(['t6']) }],
      });
      assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
      void join(c2, {
        groupId: 'g-big',
        memberId: first.memberId,
        protocols: [{ name: 'range', metadata: subscription(['t6']) }],
      }).catch(() => {});
      let message = '';
      await eventually(async () => {
        const res = await consumerJoin(c, 'g-big');
        assert.equal(res.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
        message = res.errorMessage ?? '';
        return /group size exceeds/.test(message);
      });
      assert.equal(
        message,
        'Cannot upgrade classic group g-big to consumer group because the group size exceeds the consumer group maximum size.',
      );
    } finally {
      c2.close();
    }
  });

  it('a group in the middle of a rebalance is not upgraded (GROUP_ID_NOT_FOUND, Stable only)', async () => {
    await classicGroup(c, 'g-one');
    const res = await consumerJoin(c, 'g-one');
    assert.equal(res.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(
      res.errorMessage,
      'Cannot upgrade classic group g-one to consumer group because the group is not stable (CompletingRebalance).',
    );
  });
});

describe('group.consumer.migration.policy', () => {
  for (const policy of ['disabled', 'downgrade']) {
    it(`${policy}: no online upgrade (Kafka's message)`, async () => {
      await withBroker({ 'group.consumer.migration.policy': policy }, async (c) => {
        await classicGroup(c, 'g-policy');
        const res = await consumerJoin(c, 'g-policy');
        assert.equal(res.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
        assert.equal(
          res.errorMessage,
          'Cannot upgrade classic group g-policy to consumer group because online upgrade is disabled.',
        );
      });
    });
  }
});
