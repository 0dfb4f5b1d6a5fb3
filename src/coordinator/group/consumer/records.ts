// The records of KIP-848 consumer groups in __consumer_offsets, in Apache Kafka's format (the generated
// codecs of Kafka 4.4's coordinator-key/-value schemas). A key is `int16 record type` followed by the key
// struct (version 0, not flexible); a value is `int16 0` followed by the value struct (flexible). A null
// value is a tombstone. Per group (Kafka's GroupCoordinatorRecordHelpers):
//
//   type 3  ConsumerGroupMetadata            { groupId }            -> { epoch, metadataHash (tag 0) }
//   type 4  ConsumerGroupPartitionMetadata   { groupId }            -> topics (4.0 and older; 4.1+ keep the hash
//                                                                     in type 3): read and ignored, tombstoned
//                                                                     when the group is deleted
//   type 5  ConsumerGroupMemberMetadata      { groupId, memberId }  -> instance, rack, client, subscription,
//                                                                     rebalance timeout, server assignor
//   type 6  ConsumerGroupTargetAssignmentMetadata { groupId }       -> { assignmentEpoch, assignmentTimestamp }
//   type 7  ConsumerGroupTargetAssignmentMember { groupId, memberId } -> target partitions
//   type 8  ConsumerGroupCurrentMemberAssignment { groupId, memberId } -> epochs, state, assigned, pending
//                                                                     revocation
//   type 16 ConsumerGroupRegularExpression   { groupId, regex }     -> resolved topics, version, timestamp
//
// The last record per key is the state, as for the classic records (records.ts); loader.ts replays them
// through replay.ts. Partitions are by topic id.

import {
  decodeConsumerGroupCurrentMemberAssignmentKey,
  encodeConsumerGroupCurrentMemberAssignmentKey,
} from '../../../protocol/generated/consumer-group-current-member-assignment-key.js';
import {
  type ConsumerGroupCurrentMemberAssignmentValue,
  decodeConsumerGroupCurrentMemberAssignmentValue,
  encodeConsumerGroupCurrentMemberAssignmentValue,
} from '../../../protocol/generated/consumer-group-current-member-assignment-value.js';
import {
  decodeConsumerGroupMemberMetadataKey,
  encodeConsumerGroupMemberMetadataKey,
} from '../../../protocol/generated/consumer-group-member-metadata-key.js';
import {
  type ConsumerGroupMemberMetadataValue,
  decodeConsumerGroupMemberMetadataValue,
  encodeConsumerGroupMemberMetadataValue,
} from '../../../protocol/generated/consumer-group-member-metadata-value.js';
import {
  decodeConsumerGroupMetadataKey,
  encodeConsumerGroupMetadataKey,
} from '../../../protocol/generated/consumer-group-metadata-key.js';
import {
  decodeConsumerGroupMetadataValue,
  encodeConsumerGroupMetadataValue,
} from '../../../protocol/generated/consumer-group-metadata-value.js';
import {
  decodeConsumerGroupPartitionMetadataKey,
  encodeConsumerGroupPartitionMetadataKey,
} from '../../../protocol/generated/consumer-group-partition-metadata-key.js';
import {
  decodeConsumerGroupRegularExpressionKey,
  encodeConsumerGroupRegularExpressionKey,
} from '../../../protocol/generated/consumer-group-regular-expression-key.js';
import {
  decodeConsumerGroupRegularExpressionValue,
  encodeConsumerGroupRegularExpressionValue,
} from '../../../protocol/generated/consumer-group-regular-expression-value.js';
import {
  decodeConsumerGroupTargetAssignmentMemberKey,
  encodeConsumerGroupTargetAssignmentMemberKey,
} from '../../../protocol/generated/consumer-group-target-assignment-member-key.js';
import {
  decodeConsumerGroupTargetAssignmentMemberValue,
  encodeConsumerGroupTargetAssignmentMemberValue,
} from '../../../protocol/generated/consumer-group-target-assignment-member-value.js';
import {
  decodeConsumerGroupTargetAssignmentMetadataKey,
  encodeConsumerGroupTargetAssignmentMetadataKey,
} from '../../../protocol/generated/consumer-group-target-assignment-metadata-key.js';
import {
  decodeConsumerGroupTargetAssignmentMetadataValue,
  encodeConsumerGroupTargetAssignmentMetadataValue,
} from '../../../protocol/generated/consumer-group-target-assignment-metadata-value.js';
import { Reader } from '../../../protocol/reader.js';
import { Writer } from '../../../protocol/writer.js';
import type { EncodedRecord } from '../records.js';
import { type Assignment, assignmentFromList, assignmentToList } from './assignment.js';
import type { ConsumerMember } from './group.js';

export const RecordType = {
  GroupMetadata: 3,
  PartitionMetadata: 4,
  MemberMetadata: 5,
  TargetAssignmentMetadata: 6,
  TargetAssignmentMember: 7,
  CurrentMemberAssignment: 8,
  RegularExpression: 16,
} as const;

const CONSUMER_RECORD_TYPES: ReadonlySet<number> = new Set(Object.values(RecordType));

export function isConsumerGroupRecordType(keyVersion: number): boolean {
  return CONSUMER_RECORD_TYPES.has(keyVersion);
}

/** A member's subscription as written (ConsumerGroupMemberMetadataValue). */
export type MemberMetadata = Pick<
  ConsumerMember,
  | 'instanceId'
  | 'rackId'
  | 'clientId'
  | 'clientHost'
  | 'subscribedTopicNames'
  | 'subscribedTopicRegex'
  | 'rebalanceTimeoutMs'
  | 'serverAssignor'
  | 'classicMemberMetadata'
>;

/** A member's current assignment as written (ConsumerGroupCurrentMemberAssignmentValue). */
export type CurrentAssignment = Pick<
  ConsumerMember,
  'memberEpoch' | 'previousMemberEpoch' | 'state' | 'assignedPartitions' | 'partitionsPendingRevocation'
>;

export type ConsumerGroupRecord =
  | { type: 3; groupId: string; value: { epoch: number; metadataHash: number } | null }
  | { type: 4; groupId: string }
  | { type: 5; groupId: string; memberId: string; value: MemberMetadata | null }
  | { type: 6; groupId: string; value: { assignmentEpoch: number } | null }
  | { type: 7; groupId: string; memberId: string; value: Assignment | null }
  | { type: 8; groupId: string; memberId: string; value: CurrentAssignment | null }
  | {
      type: 16;
      groupId: string;
      regex: string;
      value: { topics: string[]; version: number; timestamp: number } | null;
    };

function key(type: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.int16(type);
  encode(w);
  return w.toBuffer();
}

function value(encode: (w: Writer) => void): Buffer {
  const w = new Writer(128);
  w.int16(0);
  encode(w);
  return w.toBuffer();
}

export function groupMetadataRecord(
  groupId: string,
  v: { epoch: number; metadataHash: number } | null,
): EncodedRecord {
  return {
    key: key(RecordType.GroupMetadata, (w) => encodeConsumerGroupMetadataKey(w, 0, { groupId })),
    value: v === null ? null : value((w) => encodeConsumerGroupMetadataValue(w, 0, v)),
  };
}

export function partitionMetadataTombstone(groupId: string): EncodedRecord {
  return {
    key: key(RecordType.PartitionMetadata, (w) => encodeConsumerGroupPartitionMetadataKey(w, 0, { groupId })),
    value: null,
  };
}

export function memberMetadataRecord(
  groupId: string,
  memberId: string,
  m: MemberMetadata | null,
): EncodedRecord {
  return {
    key: key(RecordType.MemberMetadata, (w) =>
      encodeConsumerGroupMemberMetadataKey(w, 0, { groupId, memberId }),
    ),
    value:
      m === null
        ? null
        : value((w) =>
            encodeConsumerGroupMemberMetadataValue(w, 0, {
              instanceId: m.instanceId,
              rackId: m.rackId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              subscribedTopicNames: m.subscribedTopicNames,
              subscribedTopicRegex: m.subscribedTopicRegex,
              rebalanceTimeoutMs: m.rebalanceTimeoutMs,
              serverAssignor: m.serverAssignor,
              classicMemberMetadata: m.classicMemberMetadata,
            }),
          ),
  };
}

export function targetMetadataRecord(
  groupId: string,
  assignmentEpoch: number | null,
  now: number,
): EncodedRecord {
  return {
    key: key(RecordType.TargetAssignmentMetadata, (w) =>
      encodeConsumerGroupTargetAssignmentMetadataKey(w, 0, { groupId }),
    ),
    value:
      assignmentEpoch === null
        ? null
        : value((w) =>
            encodeConsumerGroupTargetAssignmentMetadataValue(w, 0, {
              assignmentEpoch,
              assignmentTimestamp: now,
            }),
          ),
  };
}

export function targetMemberRecord(groupId: string, memberId: string, a: Assignment | null): EncodedRecord {
  return {
    key: key(RecordType.TargetAssignmentMember, (w) =>
      encodeConsumerGroupTargetAssignmentMemberKey(w, 0, { groupId, memberId }),
    ),
    value:
      a === null
        ? null
        : value((w) =>
            encodeConsumerGroupTargetAssignmentMemberValue(w, 0, { topicPartitions: assignmentToList(a) }),
          ),
  };
}

export function currentAssignmentRecord(
  groupId: string,
  memberId: string,
  m: CurrentAssignment | null,
): EncodedRecord {
  return {
    key: key(RecordType.CurrentMemberAssignment, (w) =>
      encodeConsumerGroupCurrentMemberAssignmentKey(w, 0, { groupId, memberId }),
    ),
    value:
      m === null
        ? null
        : value((w) =>
            encodeConsumerGroupCurrentMemberAssignmentValue(w, 0, {
              memberEpoch: m.memberEpoch,
              previousMemberEpoch: m.previousMemberEpoch,
              state: m.state,
              assignedPartitions: assignmentToList(m.assignedPartitions).map((t) => ({
                ...t,
                assignmentEpochs: null,
              })),
              partitionsPendingRevocation: assignmentToList(m.partitionsPendingRevocation).map((t) => ({
                ...t,
                assignmentEpochs: null,
              })),
            }),
          ),
  };
}

export function regexRecord(
  groupId: string,
  regex: string,
  v: { topics: string[]; version: number; timestamp: number } | null,
): EncodedRecord {
  return {
    key: key(RecordType.RegularExpression, (w) =>
      encodeConsumerGroupRegularExpressionKey(w, 0, { groupId, regularExpression: regex }),
    ),
    value: v === null ? null : value((w) => encodeConsumerGroupRegularExpressionValue(w, 0, v)),
  };
}

function fromCurrent(v: ConsumerGroupCurrentMemberAssignmentValue): CurrentAssignment {
  return {
    memberEpoch: v.memberEpoch,
    previousMemberEpoch: v.previousMemberEpoch,
    state: v.state,
    assignedPartitions: assignmentFromList(v.assignedPartitions),
    partitionsPendingRevocation: assignmentFromList(v.partitionsPendingRevocation),
  };
}

function fromMember(v: ConsumerGroupMemberMetadataValue): MemberMetadata {
  return {
    instanceId: v.instanceId,
    rackId: v.rackId,
    clientId: v.clientId,
    clientHost: v.clientHost,
    subscribedTopicNames: v.subscribedTopicNames,
    subscribedTopicRegex: v.subscribedTopicRegex,
    rebalanceTimeoutMs: v.rebalanceTimeoutMs,
    serverAssignor: v.serverAssignor,
    classicMemberMetadata:
      v.classicMemberMetadata === null
        ? null
        : {
            sessionTimeoutMs: v.classicMemberMetadata.sessionTimeoutMs,
            supportedProtocols: v.classicMemberMetadata.supportedProtocols.map((p) => ({
              name: p.name,
              metadata: p.metadata,
            })),
          },
  };
}

/**
 * Decodes a consumer group record whose key starts with `type` (kr is past the type). Throws
 * ProtocolDecodeError on malformed bytes. Values of a newer version than 0 are read as version 0 (their
 * new fields are tagged, as Kafka adds them).
 */
export function decodeConsumerGroupRecord(
  type: number,
  kr: Reader,
  valueBytes: Buffer | null,
): ConsumerGroupRecord {
  const vr = valueBytes === null ? null : new Reader(valueBytes);
  if (vr !== null) vr.int16();
  switch (type) {
    case RecordType.GroupMetadata: {
      const { groupId } = decodeConsumerGroupMetadataKey(kr, 0);
      const v = vr === null ? null : decodeConsumerGroupMetadataValue(vr, 0);
      return { type, groupId, value: v === null ? null : { epoch: v.epoch, metadataHash: v.metadataHash } };
    }
    case RecordType.PartitionMetadata:
      return { type, groupId: decodeConsumerGroupPartitionMetadataKey(kr, 0).groupId };
    case RecordType.MemberMetadata: {
      const k = decodeConsumerGroupMemberMetadataKey(kr, 0);
      const v = vr === null ? null : fromMember(decodeConsumerGroupMemberMetadataValue(vr, 0));
      return { type, groupId: k.groupId, memberId: k.memberId, value: v };
    }
    case RecordType.TargetAssignmentMetadata: {
      const { groupId } = decodeConsumerGroupTargetAssignmentMetadataKey(kr, 0);
      const v = vr === null ? null : decodeConsumerGroupTargetAssignmentMetadataValue(vr, 0);
      return { type, groupId, value: v === null ? null : { assignmentEpoch: v.assignmentEpoch } };
    }
    case RecordType.TargetAssignmentMember: {
      const k = decodeConsumerGroupTargetAssignmentMemberKey(kr, 0);
      const v = vr === null ? null : decodeConsumerGroupTargetAssignmentMemberValue(vr, 0);
      return {
        type,
        groupId: k.groupId,
        memberId: k.memberId,
        value: v === null ? null : assignmentFromList(v.topicPartitions),
      };
    }
    case RecordType.CurrentMemberAssignment: {
      const k = decodeConsumerGroupCurrentMemberAssignmentKey(kr, 0);
      const v = vr === null ? null : fromCurrent(decodeConsumerGroupCurrentMemberAssignmentValue(vr, 0));
      return { type, groupId: k.groupId, memberId: k.memberId, value: v };
    }
    case RecordType.RegularExpression: {
      const k = decodeConsumerGroupRegularExpressionKey(kr, 0);
      const v = vr === null ? null : decodeConsumerGroupRegularExpressionValue(vr, 0);
      return { type, groupId: k.groupId, regex: k.regularExpression, value: v };
    }
    default:
      throw new Error(`not a consumer group record type: ${type}`);
  }
}
