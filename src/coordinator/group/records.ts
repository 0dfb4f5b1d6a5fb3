// The records of the internal topic __consumer_offsets, in Apache Kafka's format, so a data folder
// reads the same to Kafka's tools (kafka-dump-log --offsets-decoder) as to Samsa.
//
// Every record has a key and a value, each `int16 version` followed by the struct of that version
// (the generated codecs, all big-endian, non-flexible except value versions >= 4):
//
//   key version 0|1  OffsetCommitKey     { group: string, topic: string, partition: int32 }
//   key version 2    GroupMetadataKey    { group: string }
//   key version 3-8, 16  records of KIP-848 consumer groups (consumer/records.ts)
//   other key versions   share and streams groups: skipped on load
//
//   OffsetCommitValue  version 3 (version 1 when the commit carried a retention time, v2-4 requests)
//                      { offset: int64, leaderEpoch: int32 (v3+), metadata: string,
//                        commitTimestamp: int64, expireTimestamp: int64 (v1 only) }
//   GroupMetadataValue version 3 { protocolType, generation, protocol?, leader?, currentStateTimestamp,
//                        members: [{ memberId, groupInstanceId?, clientId, clientHost, rebalanceTimeout,
//                        sessionTimeout, subscription: bytes, assignment: bytes }] }
//
// A null value is a tombstone: the offset or the group is deleted. Offsets committed in a transaction
// (TxnOffsetCommit) are the same records in a transactional batch carrying the producer's id and epoch; they
// take effect only once the transaction's marker (a control batch) commits them (txn-offsets.ts). Records are written as ordinary
// uncompressed v2 record batches (CRC32C over the batch, checked by the log on append and recovery).
// The group's records all go to partition abs(javaHashCode(groupId)) % partitions, so the latest
// record per key in that partition is the state (which is also what compaction keeps). When a broker
// becomes the partition's leader it reads it from its log start offset and replays it (loader.ts): last
// value per key wins, tombstones delete.

import {
  decodeGroupMetadataKey,
  encodeGroupMetadataKey,
} from '../../protocol/generated/group-metadata-key.js';
import {
  decodeGroupMetadataValue,
  encodeGroupMetadataValue,
  type GroupMetadataValue,
  type GroupMetadataValueInput,
} from '../../protocol/generated/group-metadata-value.js';
import { decodeOffsetCommitKey, encodeOffsetCommitKey } from '../../protocol/generated/offset-commit-key.js';
import {
  decodeOffsetCommitValue,
  encodeOffsetCommitValue,
} from '../../protocol/generated/offset-commit-value.js';
import { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import {
  type ConsumerGroupRecord,
  decodeConsumerGroupRecord,
  isConsumerGroupRecordType,
} from './consumer/records.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

const OFFSET_KEY_VERSION = 1;
const GROUP_KEY_VERSION = 2;
const OFFSET_VALUE_VERSION = 3;
const OFFSET_VALUE_VERSION_WITH_EXPIRY = 1;
const OFFSET_VALUE_VERSION_MAX = 4;
const GROUP_VALUE_VERSION = 3;
const GROUP_VALUE_VERSION_MAX = 4;

/** Java's String.hashCode over UTF-16 code units, with int32 overflow. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs(groupId.hashCode) % partitions: the __consumer_offsets partition of a group. */
export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHashCode(groupId);
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % partitions;
}

/** A committed offset as stored (OffsetCommitValue). */
export interface OffsetAndMetadata {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1 unless the commit asked for its own retention (OffsetCommit v2-4 retentionTimeMs). */
  expireTimestamp: number;
  /**
   * Offset of its record in __consumer_offsets (-1 until appended; not part of the record). When a transaction
   * commits, its offset replaces the committed one only if its record is the newer (Kafka's recordOffset).
   */
  recordOffset: number;
}

export type StateRecord =
  | { kind: 'offset'; group: string; topic: string; partition: number; value: OffsetAndMetadata | null }
  | { kind: 'group'; group: string; value: GroupMetadataValue | null }
  | { kind: 'consumer'; record: ConsumerGroupRecord }
  | { kind: 'other'; keyVersion: number };

export interface EncodedRecord {
  key: Buffer;
  value: Buffer | null;
}

export function offsetCommitRecord(
  group: string,
  topic: string,
  partition: number,
  value: OffsetAndMetadata | null,
): EncodedRecord {
  const k = new Writer(64);
  k.int16(OFFSET_KEY_VERSION);
  encodeOffsetCommitKey(k, OFFSET_KEY_VERSION, { group, topic, partition });
  if (value === null) return { key: k.toBuffer(), value: null };
  const version = value.expireTimestamp >= 0 ? OFFSET_VALUE_VERSION_WITH_EXPIRY : OFFSET_VALUE_VERSION;
  const v = new Writer(64 + value.metadata.length);
  v.int16(version);
  encodeOffsetCommitValue(v, version, value);
  return { key: k.toBuffer(), value: v.toBuffer() };
}

export function groupMetadataRecord(group: string, value: GroupMetadataValueInput | null): EncodedRecord {
  const k = new Writer(32);
  k.int16(GROUP_KEY_VERSION);
  encodeGroupMetadataKey(k, GROUP_KEY_VERSION, { group });
  if (value === null) return { key: k.toBuffer(), value: null };
  const v = new Writer(256);
  v.int16(GROUP_VALUE_VERSION);
  encodeGroupMetadataValue(v, GROUP_VALUE_VERSION, value);
  return { key: k.toBuffer(), value: v.toBuffer() };
}

/**
 * Decodes one record of __consumer_offsets. Buffers in the result are copies (the input may be a
 * view of a reused read buffer). Throws ProtocolDecodeError on malformed bytes.
 */
export function decodeStateRecord(key: Buffer, value: Buffer | null): StateRecord {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = decodeOffsetCommitKey(kr, keyVersion);
    if (value === null)
      return { kind: 'offset', group: k.group, topic: k.topic, partition: k.partition, value: null };
    const vr = new Reader(value);
    const version = vr.int16();
    const v = decodeOffsetCommitValue(vr, Math.min(Math.max(version, 0), OFFSET_VALUE_VERSION_MAX));
    return {
      kind: 'offset',
      group: k.group,
      topic: k.topic,
      partition: k.partition,
      value: {
        offset: v.offset,
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestamp: v.commitTimestamp,
        expireTimestamp: v.expireTimestamp,
        recordOffset: -1,
      },
    };
  }
  if (keyVersion === 2) {
    const k = decodeGroupMetadataKey(kr, keyVersion);
    if (value === null) return { kind: 'group', group: k.group, value: null };
    const vr = new Reader(value);
    const version = vr.int16();
    const v = decodeGroupMetadataValue(vr, Math.min(Math.max(version, 0), GROUP_VALUE_VERSION_MAX));
    for (const m of v.members) {
      m.subscription = Buffer.from(m.subscription);
      m.assignment = Buffer.from(m.assignment);
    }
    return { kind: 'group', group: k.group, value: v };
  }
  if (isConsumerGroupRecordType(keyVersion)) {
    return { kind: 'consumer', record: decodeConsumerGroupRecord(keyVersion, kr, value) };
  }
  return { kind: 'other', keyVersion };
}
