// A consumer-group member on the classic protocol (JoinGroup/SyncGroup), for the CLI and tools.
//
// API
//   const g = await GroupConsumer.join(cluster, { groupId: 'billing', topics: ['orders'] });
//   const records = await g.poll();      // fetches from the assigned partitions; rejoins on a rebalance
//   g.markConsumed(record);               // what poll() returned and the caller finished with
//   await g.commit();                     // OffsetCommit of what was marked, and of the starting position of
//                                         // each assigned partition nothing was marked in (every autoCommitIntervalMs)
//   g.assignment();                       // [{ topic, partition }]
//   await g.close();                      // commit, LeaveGroup, close the connection
//
// Protocol, as the Java consumer speaks it: FindCoordinator -> JoinGroup (protocol type "consumer", one
// protocol "range" with a ConsumerProtocolSubscription; v4+ asks for a member id first, MEMBER_ID_REQUIRED)
// -> the leader computes the range assignment for every member -> SyncGroup -> OffsetFetch for the committed
// offsets (none: autoOffsetReset) -> Fetch. A heartbeat runs every heartbeatIntervalMs while not joining;
// REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION make the next poll() commit and rejoin.

import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import {
  decodeConsumerProtocolAssignment,
  encodeConsumerProtocolAssignment,
} from '../protocol/generated/consumer-protocol-assignment.js';
import {
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolSubscription,
} from '../protocol/generated/consumer-protocol-subscription.js';
import type { FindCoordinatorResponse } from '../protocol/generated/find-coordinator-response.js';
import type { HeartbeatResponse } from '../protocol/generated/heartbeat-response.js';
import type { JoinGroupResponse } from '../protocol/generated/join-group-response.js';
import type { SyncGroupResponse } from '../protocol/generated/sync-group-response.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { type Cluster, check, KafkaError } from './cluster.js';
import type { KafkaConnection } from './connection.js';
import { Consumer, type ConsumerOptions, type ConsumerRecord } from './consumer.js';
import { commitOffsets, fetchCommitted } from './group-offsets.js';

export interface GroupOptions extends Omit<ConsumerOptions, 'bootstrap' | 'clientId' | 'connectTimeoutMs'> {
  groupId: string;
  topics: string[];
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  autoCommitIntervalMs?: number;
}

const PROTOCOL = 'range';
const SUBSCRIPTION_VERSION = 1;

function encodeVersioned(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.int16(version);
  encode(w);
  return w.toBuffer();
}

/** Kafka's RangeAssignor: per topic, partitions split in contiguous ranges over the sorted members. */
export function rangeAssign(
  members: { memberId: string; topics: string[] }[],
  partitionCounts: Map<string, number>,
): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>(members.map((m) => [m.memberId, new Map()]));
  for (const [topic, n] of partitionCounts) {
    const subs = members
      .filter((m) => m.topics.includes(topic))
      .map((m) => m.memberId)
      .sort();
    if (subs.length === 0) continue;
    const per = Math.floor(n / subs.length);
    const extra = n % subs.length;
    subs.forEach((memberId, i) => {
      const start = per * i + Math.min(i, extra);
      const count = per + (i < extra ? 1 : 0);
      const parts = Array.from({ length: count }, (_, k) => start + k);
      if (parts.length > 0) out.get(memberId)?.set(topic, parts);
    });
  }
  return out;
}

export class GroupConsumer {
  private memberId = '';
  private generationId = -1;
  private coordinator: KafkaConnection | null = null;
  private readonly consumer: Consumer;
  private assigned: { topic: string; partition: number }[] = [];
  /** Next offset to commit per "topic\0partition". */
  private readonly consumed = new Map<string, { topic: string; partition: number; offset: number }>();
  private rejoin = true;
  private joining = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private lastCommit = Date.now();
  private readonly o: Required<
    Pick<
      GroupOptions,
      'sessionTimeoutMs' | 'rebalanceTimeoutMs' | 'heartbeatIntervalMs' | 'autoCommitIntervalMs'
    >
  >;

  private constructor(
    readonly cluster: Cluster,
    private readonly opts: GroupOptions,
  ) {
    this.consumer = Consumer.on(cluster, opts);
    this.o = {
      sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: opts.rebalanceTimeoutMs ?? 30_000,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 3_000,
      autoCommitIntervalMs: opts.autoCommitIntervalMs ?? 5_000,
    };
  }

  /** Finds the coordinator, joins the group and fetches committed offsets. */
  static async join(cluster: Cluster, opts: GroupOptions): Promise<GroupConsumer> {
    const g = new GroupConsumer(cluster, opts);
    await g.ensureJoined();
    g.heartbeat = setInterval(() => g.beat(), g.o.heartbeatIntervalMs);
    g.heartbeat.unref();
    return g;
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.assigned];
  }

  get member(): { memberId: string; generationId: number } {
    return { memberId: this.memberId, generationId: this.generationId };
  }

  private async findCoordinator(): Promise<KafkaConnection> {
    const res = await this.cluster.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, {
      key: this.opts.groupId,
      keyType: 0,
      coordinatorKeys: [this.opts.groupId],
    });
    const c = res.coordinators[0] ?? res;
    check(c.errorCode, c.errorMessage);
    await this.cluster.metadata([]);
    return this.cluster.connection(c.nodeId);
  }

  private async ensureJoined(): Promise<void> {
    if (!this.rejoin) return;
    this.joining = true;
    try {
      if (this.assigned.length > 0) await this.commit().catch(() => {});
      this.coordinator ??= await this.findCoordinator();
      for (let attempt = 0; ; attempt++) {
        try {
          await this.joinOnce(this.coordinator);
          break;
        } catch (e) {
          const retriable =
            e instanceof KafkaError &&
            (e.code === ErrorCode.REBALANCE_IN_PROGRESS ||
              e.code === ErrorCode.UNKNOWN_MEMBER_ID ||
              e.code === ErrorCode.ILLEGAL_GENERATION ||
              e.code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
          if (!retriable || attempt >= 10) throw e;
          if (e.code === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      this.rejoin = false;
    } finally {
      this.joining = false;
    }
  }

  private async joinOnce(conn: KafkaConnection): Promise<void> {
    const metadata = encodeVersioned(SUBSCRIPTION_VERSION, (w) =>
      encodeConsumerProtocolSubscription(w, SUBSCRIPTION_VERSION, {
        topics: this.opts.topics,
        userData: null,
        ownedPartitions: [],
      }),
    );
    const joinBody = () => ({
      groupId: this.opts.groupId,
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      rebalanceTimeoutMs: this.o.rebalanceTimeoutMs,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: PROTOCOL, metadata }],
      reason: null,
    });
    let join = await conn.request<JoinGroupResponse>(ApiKey.JoinGroup, joinBody());
    if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = join.memberId;
      join = await conn.request<JoinGroupResponse>(ApiKey.JoinGroup, joinBody());
    }
    check(join.errorCode, `JoinGroup ${this.opts.groupId}`);
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (join.leader === join.memberId && !join.skipAssignment) {
      const members = join.members.map((m) => {
        const r = new Reader(m.metadata);
        const version = Math.min(r.int16(), 3);
        return { memberId: m.memberId, topics: decodeConsumerProtocolSubscription(r, version).topics };
      });
      const topics = [...new Set(members.flatMap((m) => m.topics))];
      const counts = new Map<string, number>();
      for (const t of await this.cluster.metadata(topics)) counts.set(t.name, t.partitions.length);
      assignments = [...rangeAssign(members, counts)].map(([memberId, byTopic]) => ({
        memberId,
        assignment: encodeVersioned(0, (w) =>
          encodeConsumerProtocolAssignment(w, 0, {
            assignedPartitions: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
            userData: null,
          }),
        ),
      }));
    }
    const sync = await conn.request<SyncGroupResponse>(ApiKey.SyncGroup, {
      groupId: this.opts.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: PROTOCOL,
      assignments,
    });
    check(sync.errorCode, `SyncGroup ${this.opts.groupId}`);
    this.assigned = [];
    if (sync.assignment.length >= 2) {
      const r = new Reader(sync.assignment);
      const version = Math.min(r.int16(), 3);
      for (const tp of decodeConsumerProtocolAssignment(r, version).assignedPartitions) {
        for (const p of tp.partitions) this.assigned.push({ topic: tp.topic, partition: p });
      }
    }
    await this.positionAssigned(conn);
  }

  /** Sets fetch positions: the committed offset, else autoOffsetReset. */
  private async positionAssigned(conn: KafkaConnection): Promise<void> {
    this.consumer.unassignAll();
    this.consumed.clear();
    if (this.assigned.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const a of this.assigned) byTopic.set(a.topic, [...(byTopic.get(a.topic) ?? []), a.partition]);
    const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    const res = await fetchCommitted(this.cluster, conn, this.opts.groupId, topics);
    check(res.errorCode, `OffsetFetch ${this.opts.groupId}`);
    const committed = new Map<string, number>();
    for (const o of res.offsets) {
      if (o.errorCode === ErrorCode.NONE && o.offset >= 0) committed.set(key(o.topic, o.partition), o.offset);
    }
    const reset = this.opts.autoOffsetReset === 'earliest' ? 'earliest' : 'latest';
    for (const a of this.assigned) {
      const offset = committed.get(key(a.topic, a.partition));
      await this.consumer.assign(a.topic, [a.partition], offset === undefined ? reset : { offset });
    }
    // Every assigned partition is committed at its position, also one that yields no record, as the
    // Java consumer's auto-commit does: the group then shows a committed offset and lag for each.
    for (const a of this.assigned) {
      const offset = this.consumer.position(a.topic, a.partition);
      this.consumed.set(key(a.topic, a.partition), { topic: a.topic, partition: a.partition, offset });
    }
  }

  private beat(): void {
    const conn = this.coordinator;
    if (conn === null || this.joining || this.rejoin) return;
    conn
      .request<HeartbeatResponse>(ApiKey.Heartbeat, {
        groupId: this.opts.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
      })
      .then(
        (res) => {
          if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
          if (res.errorCode !== ErrorCode.NONE) this.rejoin = true;
        },
        () => {
          this.rejoin = true;
        },
      );
  }

  /** One fetch round over the assigned partitions (joining or rejoining first when needed). */
  async poll(): Promise<ConsumerRecord[]> {
    await this.ensureJoined();
    if (Date.now() - this.lastCommit >= this.o.autoCommitIntervalMs) await this.commit();
    if (this.assigned.length === 0) {
      await new Promise((r) => setTimeout(r, this.opts.maxWaitMs ?? 500));
      return [];
    }
    return this.consumer.poll();
  }

  /** Marks a record as processed: the next commit stores offset + 1 for its partition. */
  markConsumed(r: { topic: string; partition: number; offset: number }): void {
    const k = key(r.topic, r.partition);
    const cur = this.consumed.get(k);
    if (cur === undefined || cur.offset < r.offset + 1) {
      this.consumed.set(k, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
    }
  }

  /** Commits the marked offsets (OffsetCommit). */
  async commit(): Promise<void> {
    this.lastCommit = Date.now();
    const conn = this.coordinator;
    if (conn === null || this.consumed.size === 0) return;
    const byTopic = new Map<string, { partitionIndex: number; committedOffset: number }[]>();
    for (const c of this.consumed.values()) {
      byTopic.set(c.topic, [
        ...(byTopic.get(c.topic) ?? []),
        { partitionIndex: c.partition, committedOffset: c.offset },
      ]);
    }
    const res = await commitOffsets(this.cluster, conn, {
      groupId: this.opts.groupId,
      generationIdOrMemberEpoch: this.generationId,
      memberId: this.memberId,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const p of res) {
      if (
        p.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
        p.errorCode === ErrorCode.ILLEGAL_GENERATION ||
        p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID
      ) {
        this.rejoin = true;
        return;
      }
      check(p.errorCode, `OffsetCommit ${p.topic}-${p.partition}`);
    }
  }

  /** Commits, leaves the group and closes the connections. */
  async close(): Promise<void> {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    try {
      if (!this.rejoin) await this.commit();
      if (this.coordinator !== null && this.memberId !== '') {
        await this.coordinator.request(ApiKey.LeaveGroup, {
          groupId: this.opts.groupId,
          memberId: this.memberId,
          members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'the consumer is closing' }],
        });
      }
    } finally {
      await this.consumer.close();
    }
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
