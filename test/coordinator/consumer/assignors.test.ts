// The broker-side assignors of consumer groups (uniform, range) and one reconciliation step (revoke before
// assign), as pure functions: balance, stickiness, different subscriptions, ranges per topic.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Assignment,
  assignmentFromList,
  assignmentSize,
} from '../../../src/coordinator/group/consumer/assignment.js';
import { rangeAssign, uniformAssign } from '../../../src/coordinator/group/consumer/assignors.js';
import { ConsumerGroup, MemberState, newMember } from '../../../src/coordinator/group/consumer/group.js';
import { reconcile } from '../../../src/coordinator/group/consumer/reconcile.js';

const T = 'a'.repeat(32);
const U = 'b'.repeat(32);
const topics = new Map([
  ['t', { topicId: T, partitions: 6 }],
  ['u', { topicId: U, partitions: 2 }],
]);
const members = (ids: string[], subs: string[] = ['t']) =>
  ids.map((memberId) => ({ memberId, topics: new Set(subs) }));
const list = (a: Assignment | undefined, topicId = T) => [...(a?.get(topicId) ?? [])].sort((x, y) => x - y);

describe('consumer group assignors', () => {
  it('uniform: balanced, every partition once, for any members and subscriptions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.subarray(['t', 'u'], { minLength: 1 }), { minLength: 1, maxLength: 7 }),
        (subs) => {
          const ms = subs.map((s, i) => ({ memberId: `m${i}`, topics: new Set(s) }));
          const out = uniformAssign(ms, topics, new Map());
          const seen = new Set<string>();
          for (const [id, a] of out) {
            for (const [t, ps] of a) {
              for (const p of ps) {
                assert.ok(!seen.has(`${t}:${p}`), 'assigned once');
                seen.add(`${t}:${p}`);
                const name = t === T ? 't' : 'u';
                assert.ok(ms.find((m) => m.memberId === id)!.topics.has(name), 'only subscribed topics');
              }
            }
          }
          const wanted = new Set(subs.flat());
          const total = (wanted.has('t') ? 6 : 0) + (wanted.has('u') ? 2 : 0);
          assert.equal(seen.size, total, 'every subscribed partition');
          if (subs.every((s) => s.length === 2)) {
            const sizes = [...out.values()].map(assignmentSize);
            assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes}`);
          }
        },
      ),
    );
  });

  it('uniform: sticky, a new member takes partitions from the others only', () => {
    const first = uniformAssign(members(['a', 'b']), topics, new Map());
    const second = uniformAssign(members(['a', 'b', 'c']), topics, first);
    for (const id of ['a', 'b']) {
      const kept = list(second.get(id)).filter((p) => list(first.get(id)).includes(p));
      assert.equal(kept.length, 2, `${id} keeps two of its three`);
    }
    assert.equal(list(second.get('c')).length, 2);
  });

  it('range: consecutive ranges per topic in member id order, the first ones one more', () => {
    const out = rangeAssign(members(['b', 'a', 'c', 'd'], ['t', 'u']), topics);
    assert.deepEqual(list(out.get('a')), [0, 1]);
    assert.deepEqual(list(out.get('b')), [2, 3]);
    assert.deepEqual(list(out.get('c')), [4]);
    assert.deepEqual(list(out.get('d')), [5]);
    assert.deepEqual(list(out.get('a'), U), [0]);
    assert.deepEqual(list(out.get('b'), U), [1]);
    assert.deepEqual(list(out.get('c'), U), []);
  });
});

describe('consumer group reconciliation', () => {
  it('revokes first, then takes what the previous owner released', () => {
    const g = new ConsumerGroup('g');
    const a = {
      ...newMember('a'),
      memberEpoch: 1,
      assignedPartitions: assignmentFromList([{ topicId: T, partitions: [0, 1, 2, 3] }]),
    };
    const b = { ...newMember('b'), memberEpoch: 0 };
    g.updateMember(a);
    g.updateMember(b);
    const targetA = assignmentFromList([{ topicId: T, partitions: [0, 1] }]);
    const targetB = assignmentFromList([{ topicId: T, partitions: [2, 3] }]);
    // b: at the new epoch, but 2 and 3 are still a's.
    const b1 = reconcile(g, b, 2, targetB, assignmentFromList([]));
    assert.equal(b1.state, MemberState.UNRELEASED_PARTITIONS);
    assert.equal(b1.memberEpoch, 2);
    assert.deepEqual(list(b1.assignedPartitions), []);
    g.updateMember(b1);
    // a: must revoke 2 and 3, stays at epoch 1.
    const a1 = reconcile(g, a, 2, targetA, null);
    assert.equal(a1.state, MemberState.UNREVOKED_PARTITIONS);
    assert.equal(a1.memberEpoch, 1);
    assert.deepEqual(list(a1.partitionsPendingRevocation), [2, 3]);
    g.updateMember(a1);
    // Still owned as long as a reports them (or reports nothing).
    assert.equal(reconcile(g, a1, 2, targetA, null), a1);
    assert.equal(
      reconcile(g, a1, 2, targetA, assignmentFromList([{ topicId: T, partitions: [0, 1, 2] }])),
      a1,
    );
    assert.equal(g.ownerOf(T, 2), 'a');
    const a2 = reconcile(g, a1, 2, targetA, assignmentFromList([{ topicId: T, partitions: [0, 1] }]));
    assert.equal(a2.state, MemberState.STABLE);
    assert.equal(a2.memberEpoch, 2);
    assert.equal(a2.previousMemberEpoch, 1);
    g.updateMember(a2);
    assert.equal(g.ownerOf(T, 2), undefined);
    const b2 = reconcile(g, b1, 2, targetB, assignmentFromList([]));
    assert.equal(b2.state, MemberState.STABLE);
    assert.deepEqual(list(b2.assignedPartitions), [2, 3]);
  });
});
