// The consumer group records in __consumer_offsets, byte for byte as Kafka's coordinator writes them
// (int16 record type + key struct v0; int16 0 + flexible value struct v0), and read back by the loader's
// decoder.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignmentFromList } from '../../../src/coordinator/group/consumer/assignment.js';
import {
  currentAssignmentRecord,
  groupMetadataRecord,
  targetMemberRecord,
} from '../../../src/coordinator/group/consumer/records.js';
import { decodeStateRecord } from '../../../src/coordinator/group/records.js';

const T = '0123456789abcdef0123456789abcdef';
const hex = (b: Buffer | null) => b?.toString('hex') ?? null;

describe('consumer group records', () => {
  it('ConsumerGroupMetadata: type 3, epoch, the metadata hash as tagged field 0 when set', () => {
    const r = groupMetadataRecord('g', { epoch: 5, metadataHash: 0 });
    assert.equal(hex(r.key), ['0003', '0001', '67'].join(''));
    assert.equal(hex(r.value), ['0000', '00000005', '00'].join(''));
    const h = groupMetadataRecord('g', { epoch: 5, metadataHash: 1 });
    assert.equal(hex(h.value), ['0000', '00000005', '01', '00', '08', '0000000000000001'].join(''));
    assert.deepEqual(decodeStateRecord(h.key, h.value), {
      kind: 'consumer',
      record: { type: 3, groupId: 'g', value: { epoch: 5, metadataHash: 1 } },
    });
    assert.equal(groupMetadataRecord('g', null).value, null);
  });

  it('ConsumerGroupTargetAssignmentMember: type 7, topic id and partitions (compact arrays)', () => {
    const r = targetMemberRecord('g', 'm', assignmentFromList([{ topicId: T, partitions: [1, 0] }]));
    assert.equal(hex(r.key), ['0007', '000167', '00016d'].join(''));
    assert.equal(hex(r.value), ['0000', '02', T, '03', '00000000', '00000001', '00', '00'].join(''));
    const d = decodeStateRecord(r.key, r.value);
    assert.equal(d.kind, 'consumer');
    if (d.kind === 'consumer' && d.record.type === 7) {
      assert.deepEqual([...(d.record.value?.get(T) ?? [])], [0, 1]);
    }
  });

  it('ConsumerGroupCurrentMemberAssignment: type 8, epochs, state, assigned and pending revocation', () => {
    const r = currentAssignmentRecord('g', 'm', {
      memberEpoch: 3,
      previousMemberEpoch: 2,
      state: 1,
      assignedPartitions: assignmentFromList([{ topicId: T, partitions: [4] }]),
      partitionsPendingRevocation: new Map(),
    });
    assert.equal(hex(r.key), ['0008', '000167', '00016d'].join(''));
    assert.equal(
      hex(r.value),
      ['0000', '00000003', '00000002', '01', '02', T, '02', '00000004', '00', '01', '00'].join(''),
    );
    const d = decodeStateRecord(r.key, r.value);
    assert.ok(d.kind === 'consumer' && d.record.type === 8 && d.record.value?.memberEpoch === 3);
  });
});
