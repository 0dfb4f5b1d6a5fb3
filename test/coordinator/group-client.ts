// Small typed wrappers over the internal client for the group coordinator tests: each sends one
// request at a chosen version and returns the decoded response.

import assert from 'node:assert/strict';
import type { KafkaConnection } from '../../src/client/connection.js';
import { OFFSETS_TOPIC } from '../../src/coordinator/group/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { encodeConsumerProtocolAssignment } from '../../src/protocol/generated/consumer-protocol-assignment.js';
import { encodeConsumerProtocolSubscription } from '../../src/protocol/generated/consumer-protocol-subscription.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { HeartbeatResponse } from '../../src/protocol/generated/heartbeat-response.js';
import type { InitProducerIdResponse } from '../../src/protocol/generated/init-producer-id-response.js';
import type { JoinGroupResponse } from '../../src/protocol/generated/join-group-response.js';
import type { LeaveGroupResponse } from '../../src/protocol/generated/leave-group-response.js';
import type { OffsetCommitResponse } from '../../src/protocol/generated/offset-commit-response.js';
import type { OffsetFetchResponse } from '../../src/protocol/generated/offset-fetch-response.js';
import type { SyncGroupResponse } from '../../src/protocol/generated/sync-group-response.js';
import type { TxnOffsetCommitResponse } from '../../src/protocol/generated/txn-offset-commit-response.js';
import type { WriteTxnMarkersResponse } from '../../src/protocol/generated/write-txn-markers-response.js';
import { Writer } from '../../src/protocol/writer.js';

export async function createTopic(conn: KafkaConnection, name: string, partitions: number): Promise<number> {
  const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  return res.topics[0]!.errorCode;
}

export function subscription(topics: string[]): Buffer {
  const w = new Writer(64);
  w.int16(1);
  encodeConsumerProtocolSubscription(w, 1, { topics, userData: null, ownedPartitions: [] });
  return w.toBuffer();
}

export function assignment(partitions: Record<string, number[]>): Buffer {
  const w = new Writer(64);
  w.int16(1);
  encodeConsumerProtocolAssignment(w, 1, {
    assignedPartitions: Object.entries(partitions).map(([topic, ps]) => ({ topic, partitions: ps })),
    userData: null,
  });
  return w.toBuffer();
}

export interface JoinOptions {
  groupId: string;
  memberId?: string;
  groupInstanceId?: string | null;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocolType?: string;
  protocols?: { name: string; metadata: Buffer }[];
  version?: number;
}

export function join(conn: KafkaConnection, o: JoinOptions): Promise<JoinGroupResponse> {
  return conn.send(ApiKey.JoinGroup, o.version ?? 9, {
    groupId: o.groupId,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 5_000,
    memberId: o.memberId ?? '',
    groupInstanceId: o.groupInstanceId ?? null,
    protocolType: o.protocolType ?? 'consumer',
    protocols: o.protocols ?? [{ name: 'range', metadata: subscription(['t']) }],
    reason: null,
  }) as Promise<JoinGroupResponse>;
}

/** Join as a new dynamic member: the MEMBER_ID_REQUIRED round trip, then the real join. */
export async function joinNew(conn: KafkaConnection, o: JoinOptions): Promise<JoinGroupResponse> {
  const first = await join(conn, o);
  if (first.errorCode !== 79) return first;
  return join(conn, { ...o, memberId: first.memberId });
}

export function sync(
  conn: KafkaConnection,
  groupId: string,
  generationId: number,
  memberId: string,
  assignments: { memberId: string; assignment: Buffer }[] = [],
  opts: {
    groupInstanceId?: string | null;
    protocolType?: string | null;
    protocolName?: string | null;
    version?: number;
  } = {},
): Promise<SyncGroupResponse> {
  return conn.send(ApiKey.SyncGroup, opts.version ?? 5, {
    groupId,
    generationId,
    memberId,
    groupInstanceId: opts.groupInstanceId ?? null,
    protocolType: opts.protocolType ?? 'consumer',
    protocolName: opts.protocolName ?? null,
    assignments,
  }) as Promise<SyncGroupResponse>;
}

export async function heartbeat(
  conn: KafkaConnection,
  groupId: string,
  generationId: number,
  memberId: string,
  groupInstanceId: string | null = null,
): Promise<number> {
  const res = (await conn.send(ApiKey.Heartbeat, 4, {
    groupId,
    generationId,
    memberId,
    groupInstanceId,
  })) as HeartbeatResponse;
  return res.errorCode;
}

export function leave(
  conn: KafkaConnection,
  groupId: string,
  members: { memberId: string; groupInstanceId?: string | null }[],
): Promise<LeaveGroupResponse> {
  return conn.send(ApiKey.LeaveGroup, 5, {
    groupId,
    members: members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId ?? null,
      reason: 'test',
    })),
  }) as Promise<LeaveGroupResponse>;
}

export async function commit(
  conn: KafkaConnection,
  groupId: string,
  offsets: { topic: string; partition: number; offset: number; metadata?: string | null }[],
  opts: { generationId?: number; memberId?: string; groupInstanceId?: string | null; version?: number } = {},
): Promise<OffsetCommitResponse> {
  const byTopic = new Map<
    string,
    {
      partitionIndex: number;
      committedOffset: number;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }[]
  >();
  for (const o of offsets) {
    const list = byTopic.get(o.topic) ?? [];
    list.push({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: 3,
      committedMetadata: o.metadata ?? null,
    });
    byTopic.set(o.topic, list);
  }
  return (await conn.send(ApiKey.OffsetCommit, opts.version ?? 9, {
    groupId,
    generationIdOrMemberEpoch: opts.generationId ?? -1,
    memberId: opts.memberId ?? '',
    groupInstanceId: opts.groupInstanceId ?? null,
    retentionTimeMs: -1,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  })) as OffsetCommitResponse;
}

/** Committed offsets of one group (OffsetFetch v8+ shape), as topic:partition -> offset. */
export async function fetchOffsets(
  conn: KafkaConnection,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null = null,
): Promise<Map<string, { offset: number; metadata: string | null; leaderEpoch: number; errorCode: number }>> {
  const res = (await conn.send(ApiKey.OffsetFetch, 9, {
    groups: [{ groupId, memberId: null, memberEpoch: -1, topics }],
    requireStable: false,
  })) as OffsetFetchResponse;
  const out = new Map<
    string,
    { offset: number; metadata: string | null; leaderEpoch: number; errorCode: number }
  >();
  for (const t of res.groups[0]!.topics) {
    for (const p of t.partitions) {
      out.set(`${t.name}:${p.partitionIndex}`, {
        offset: p.committedOffset,
        metadata: p.metadata,
        leaderEpoch: p.committedLeaderEpoch,
        errorCode: p.errorCode,
      });
    }
  }
  return out;
}

// ---- transactions ----------------------------------------------------------------------------

export interface Producer {
  producerId: number;
  producerEpoch: number;
}

export async function newProducer(c: KafkaConnection): Promise<Producer> {
  const res = (await c.send(ApiKey.InitProducerId, 4, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
  })) as InitProducerIdResponse;
  assert.equal(res.errorCode, ErrorCode.NONE);
  return { producerId: res.producerId, producerEpoch: res.producerEpoch };
}

export async function txnCommit(
  c: KafkaConnection,
  groupId: string,
  p: Producer,
  offsets: { topic: string; partition: number; offset: number }[],
  opts: { version?: number; generationId?: number; memberId?: string } = {},
): Promise<Map<string, number>> {
  const res = (await c.send(ApiKey.TxnOffsetCommit, opts.version ?? 3, {
    transactionalId: 'txn-test',
    groupId,
    producerId: p.producerId,
    producerEpoch: p.producerEpoch,
    generationIdOrMemberEpoch: opts.generationId ?? -1,
    memberId: opts.memberId ?? '',
    groupInstanceId: null,
    topics: [...new Set(offsets.map((o) => o.topic))].map((name) => ({
      name,
      partitions: offsets
        .filter((o) => o.topic === name)
        .map((o) => ({
          partitionIndex: o.partition,
          committedOffset: o.offset,
          committedLeaderEpoch: 2,
          committedMetadata: `m${o.offset}`,
        })),
    })),
  })) as TxnOffsetCommitResponse;
  const out = new Map<string, number>();
  for (const t of res.topics)
    for (const q of t.partitions) out.set(`${t.name}:${q.partitionIndex}`, q.errorCode);
  return out;
}

/** OffsetFetch v7 (one group, top-level topics) with require_stable: topic:partition -> [offset, errorCode]. */
export async function fetchStable(
  c: KafkaConnection,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
): Promise<Map<string, [number, number]>> {
  const res = (await c.send(ApiKey.OffsetFetch, 7, {
    groupId,
    topics,
    requireStable: true,
  })) as OffsetFetchResponse;
  assert.equal(res.errorCode, ErrorCode.NONE);
  const out = new Map<string, [number, number]>();
  for (const t of res.topics) {
    for (const q of t.partitions) out.set(`${t.name}:${q.partitionIndex}`, [q.committedOffset, q.errorCode]);
  }
  return out;
}

/** WriteTxnMarkers v1 for one __consumer_offsets partition, as the transaction coordinator sends it. */
export async function endTxn(
  c: KafkaConnection,
  offsetsPartition: number,
  p: Producer,
  commit: boolean,
): Promise<void> {
  const res = (await c.send(ApiKey.WriteTxnMarkers, 1, {
    markers: [
      {
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        transactionResult: commit,
        topics: [{ name: OFFSETS_TOPIC, partitionIndexes: [offsetsPartition] }],
        coordinatorEpoch: 0,
      },
    ],
  })) as WriteTxnMarkersResponse;
  assert.equal(res.markers[0]!.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls cond every 10 ms until it holds or the time is up (test-side waiting only). */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
