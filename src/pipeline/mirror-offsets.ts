// Where the mirror keeps its progress: the next source offset to copy, per partition, in a consumer group.
//
// - At-least-once (default): the group on the SOURCE cluster (group.id, default samsa-mirror), keyed by the
//   source topic, committed with OffsetCommit as a simple consumer (generation -1, no member: the Java
//   consumer's commitSync after assign()), only ever for offsets the target has acknowledged. A restart may
//   copy again what was acknowledged after the last commit: at most offset.flush.interval.ms of records.
// - Exactly-once: the group on the TARGET cluster, keyed by the TARGET topic (which exists there, so the
//   coordinator accepts the partition; the metadata field names the source topic), written by TxnOffsetCommit
//   inside the transaction that wrote the copied records (BatchProducer.sendOffsetsToTransaction), as Kafka
//   Connect's exactly-once source connectors keep their offsets on the cluster they write to. On start the
//   offsets are read with require_stable, so a commit still completing is waited for.

import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinatorType, findCoordinator } from '../client/admin.js';
import { type Cluster, KafkaError } from '../client/cluster.js';
import type { KafkaConnection } from '../client/connection.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { OffsetCommitResponse } from '../protocol/generated/offset-commit-response.js';
import type { OffsetFetchResponse } from '../protocol/generated/offset-fetch-response.js';
import type { MirrorPartition } from './mirror-fetch.js';

const RETRIABLE = new Set<number>([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.UNSTABLE_OFFSET_COMMIT,
  ErrorCode.REBALANCE_IN_PROGRESS,
]);

export class GroupOffsets {
  private coordinator: KafkaConnection | null = null;

  constructor(
    private readonly cluster: Cluster,
    readonly groupId: string,
    /** Which topic name keys the offsets: the source's (at-least-once) or the target's (exactly-once). */
    readonly keyedBy: 'source' | 'target',
    private readonly retryTimeoutMs = 30_000,
  ) {}

  nameOf(p: MirrorPartition): string {
    return this.keyedBy === 'source' ? p.topic : p.targetTopic;
  }

  private async conn(): Promise<KafkaConnection> {
    if (this.coordinator === null) {
      const node = await findCoordinator(this.cluster, CoordinatorType.GROUP, this.groupId);
      this.coordinator = await this.cluster.connection(node);
    }
    return this.coordinator;
  }

  private async retrying(what: string, fn: () => Promise<number>): Promise<void> {
    const deadline = Date.now() + this.retryTimeoutMs;
    for (let pause = 20; ; pause = Math.min(500, pause * 2)) {
      const code = await fn();
      if (code === ErrorCode.NONE) return;
      if (!RETRIABLE.has(code) || Date.now() + pause > deadline) {
        throw new KafkaError(code, `${what} (group ${this.groupId})`);
      }
      if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE)
        this.coordinator = null;
      await sleep(pause);
    }
  }

  /** Every committed offset of the group, as "name\0partition" -> offset (name per keyedBy). */
  async load(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    await this.retrying('OffsetFetch', async () => {
      out.clear();
      const conn = await this.conn();
      const res = await conn.request<OffsetFetchResponse>(
        ApiKey.OffsetFetch,
        {
          groupId: this.groupId,
          topics: null,
          groups: [{ groupId: this.groupId, memberId: null, memberEpoch: -1, topics: null }],
          requireStable: true,
        },
        Math.min(9, conn.version(ApiKey.OffsetFetch)),
      );
      const group = res.groups[0];
      const code = group?.errorCode ?? res.errorCode;
      if (code !== ErrorCode.NONE) return code;
      for (const t of group?.topics ?? res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== ErrorCode.NONE) return p.errorCode;
          if (p.committedOffset >= 0) out.set(offsetKey(t.name, p.partitionIndex), p.committedOffset);
        }
      }
      return ErrorCode.NONE;
    });
    return out;
  }

  /** OffsetCommit (simple consumer) of each partition's acked offset that moved since its last commit. */
  async commit(parts: MirrorPartition[]): Promise<number> {
    const todo = parts.filter((p) => p.acked >= 0 && p.acked !== p.committed);
    if (todo.length === 0) return 0;
    const byTopic = new Map<string, MirrorPartition[]>();
    for (const p of todo) byTopic.set(this.nameOf(p), [...(byTopic.get(this.nameOf(p)) ?? []), p]);
    const offsets = new Map(todo.map((p) => [p, p.acked]));
    await this.retrying('OffsetCommit', async () => {
      const conn = await this.conn();
      const res = await conn.request<OffsetCommitResponse>(
        ApiKey.OffsetCommit,
        {
          groupId: this.groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          retentionTimeMs: -1,
          topics: [...byTopic].map(([name, ps]) => ({
            name,
            partitions: ps.map((p) => ({
              partitionIndex: p.partition,
              committedOffset: offsets.get(p) ?? p.acked,
              committedLeaderEpoch: -1,
              commitTimestamp: -1,
              committedMetadata: '',
            })),
          })),
        },
        Math.min(9, conn.version(ApiKey.OffsetCommit)),
      );
      for (const t of res.topics) {
        for (const p of t.partitions) if (p.errorCode !== ErrorCode.NONE) return p.errorCode;
      }
      return ErrorCode.NONE;
    });
    for (const [p, o] of offsets) p.committed = o;
    return todo.length;
  }
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
