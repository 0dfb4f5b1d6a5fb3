import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AssignmentError, assignReplicas, rackAlternatedBrokers } from '../../src/cluster/assignment.js';

function counts(values: number[]): number[] {
  const m = new Map<number, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.values()];
}

describe('replica assignment (Kafka AdminUtils)', () => {
  it("matches Kafka's documented example without racks", () => {
    // AdminUtils' comment: 5 brokers, 10 partitions, RF 3, start index 0, shift 0.
    const brokers = [0, 1, 2, 3, 4].map((id) => ({ id, rack: null }));
    const a = assignReplicas(brokers, 10, 3, { startIndex: 0, replicaShift: 0 });
    assert.deepEqual(
      a.map((r) => r[0]),
      [0, 1, 2, 3, 4, 0, 1, 2, 3, 4],
    );
    assert.deepEqual(a[0], [0, 1, 2]);
    assert.deepEqual(a[4], [4, 0, 1]);
    assert.deepEqual(a[5], [0, 2, 3]);
    assert.deepEqual(a[9], [4, 1, 2]);
  });

  it('alternates racks', () => {
    const brokers = [
      { id: 0, rack: 'rack1' },
      { id: 1, rack: 'rack3' },
      { id: 2, rack: 'rack3' },
      { id: 3, rack: 'rack2' },
      { id: 4, rack: 'rack2' },
      { id: 5, rack: 'rack1' },
    ];
    assert.deepEqual(rackAlternatedBrokers(brokers), [0, 3, 1, 5, 4, 2]);
  });

  it('refuses a replication factor above the broker count and mixed rack information', () => {
    assert.throws(
      () => assignReplicas([{ id: 1, rack: null }], 1, 2),
      (e: unknown) => e instanceof AssignmentError && /larger than available brokers: 1/.test(e.message),
    );
    assert.throws(
      () =>
        assignReplicas(
          [
            { id: 1, rack: 'a' },
            { id: 2, rack: null },
          ],
          1,
          1,
        ),
      /rack information/,
    );
  });

  it('spreads replicas and leaders evenly, never twice on a broker, over distinct racks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.nat(),
        fc.nat(),
        (n, partitions, rfWant, rackCount, start, shift) => {
          const rf = Math.min(rfWant, n);
          const brokers = Array.from({ length: n }, (_, i) => ({
            id: 100 + i,
            rack: rackCount === 0 ? null : `r${i % rackCount}`,
          }));
          const a = assignReplicas(brokers, partitions, rf, {
            startIndex: start % n,
            replicaShift: shift % n,
          });
          assert.equal(a.length, partitions);
          for (const r of a) {
            assert.equal(r.length, rf);
            assert.equal(new Set(r).size, rf, `replicas distinct: ${r}`);
            if (rackCount > 0) {
              const racks = new Set(r.map((b) => brokers.find((x) => x.id === b)?.rack));
              assert.equal(racks.size, Math.min(rf, Math.min(rackCount, n)), `racks of ${r}`);
            }
          }
          if (partitions % n === 0) {
            const leaders = counts(a.map((r) => r[0] as number));
            assert.equal(leaders.length, n, 'every broker leads');
            assert.ok(Math.max(...leaders) - Math.min(...leaders) <= 0, `leaders ${leaders}`);
          }
          if (rackCount === 0 && partitions % n === 0) {
            const all = counts(a.flat());
            assert.ok(Math.max(...all) === Math.min(...all), `replicas per broker ${all}`);
          }
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
