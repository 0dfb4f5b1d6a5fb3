// The mirror's source side: Fetch (read_committed) from the partition leaders of the source cluster, turned
// into batches ready to be produced to the target.
//
// What a fetch round does, per partition:
// - batches that end before the position are dropped (a fetch returns the whole batch holding the position);
// - control batches (transaction markers) and batches of aborted transactions are dropped, using the
//   response's aborted_transactions list as the Java consumer's Fetcher does: a producer id enters the
//   aborted set when the batch's last offset reaches the aborted transaction's first offset, and leaves it at
//   that producer's next control batch (its abort marker);
// - every other batch is copied as it is (records, compression and timestamps untouched; its CRC is checked
//   first), unless it must be rebuilt: it starts before the position (a restart inside a batch), its offsets
//   have gaps (a compacted batch; Produce wants dense offset deltas) or it carries LogAppendTime (the target
//   would otherwise see the producer's create times; each record gets the batch's append time, as consumers
//   of the source saw it). A rebuilt batch keeps the codec.
// Errors that mean "ask again after new metadata" (a moved leader, an unknown topic) mark the partition so the
// caller refreshes metadata; OFFSET_OUT_OF_RANGE sends the partition back to the log start (records removed by
// retention before they were copied cannot be copied). Anything else throws.

import { type Cluster, KafkaError } from '../client/cluster.js';
import { buildRecordBatch, decodeBatch } from '../protocol/batch-compression.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { FetchResponse } from '../protocol/generated/fetch-response.js';
import type { ListOffsetsResponse } from '../protocol/generated/list-offsets-response.js';
import {
  type BatchHeader,
  batchCrcValid,
  COMPRESSION_CODEC_MASK,
  isControl,
  isTransactional,
  iterateBatches,
  LOG_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
} from '../protocol/records.js';

/** One mirrored partition: the same partition number on both sides. */
export interface MirrorPartition {
  topic: string;
  partition: number;
  targetTopic: string;
  /** Next source offset to fetch; -1 until resolved (the log start offset). */
  position: number;
  /** Next source offset not yet acknowledged by the target (what a commit may store). */
  acked: number;
  /** The offset last committed (-1: none yet). */
  committed: number;
  /** The source high watermark the last fetch saw (-1: none yet). */
  highWatermark: number;
}

export interface CopyBatch {
  part: MirrorPartition;
  batch: Buffer;
  records: number;
}

export interface FetchRound {
  batches: CopyBatch[];
  /** Each fetched partition's position after this round (the acked offset once its batches are written). */
  ends: Map<MirrorPartition, number>;
  /** Partitions whose leader or topic must be looked up again. */
  stale: MirrorPartition[];
}

export interface FetchOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitionMaxBytes: number;
}

/** Partition errors answered by a fresh look at metadata, then a new fetch. */
const METADATA_ERRORS = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.OFFSET_NOT_AVAILABLE,
]);

const READ_COMMITTED = 1;
const EARLIEST_TIMESTAMP = -2;

export class SourceFetcher {
  constructor(
    private readonly cluster: Cluster,
    private readonly opts: FetchOptions,
  ) {}

  /** Sets the position of partitions without one (-1) to their log start offset (ListOffsets earliest). */
  async resolve(parts: MirrorPartition[]): Promise<void> {
    const todo = parts.filter((p) => p.position < 0);
    if (todo.length === 0) return;
    const byLeader = await this.byLeader(todo);
    await Promise.all(
      [...byLeader].map(async ([leader, ps]) => {
        const conn = await this.cluster.connection(leader);
        const topics = new Map<string, MirrorPartition[]>();
        for (const p of ps) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p]);
        const res = await conn.request<ListOffsetsResponse>(ApiKey.ListOffsets, {
          replicaId: -1,
          isolationLevel: READ_COMMITTED,
          topics: [...topics].map(([name, list]) => ({
            name,
            partitions: list.map((p) => ({
              partitionIndex: p.partition,
              currentLeaderEpoch: -1,
              timestamp: EARLIEST_TIMESTAMP,
              maxNumOffsets: 1,
            })),
          })),
        });
        for (const t of res.topics) {
          for (const r of t.partitions) {
            const p = ps.find((x) => x.topic === t.name && x.partition === r.partitionIndex);
            if (p === undefined) continue;
            if (r.errorCode !== ErrorCode.NONE)
              throw new KafkaError(r.errorCode, `ListOffsets ${t.name}-${r.partitionIndex}`);
            p.position = r.offset;
            if (p.acked < 0) p.acked = r.offset;
          }
        }
      }),
    );
  }

  private async byLeader(parts: MirrorPartition[]): Promise<Map<number, MirrorPartition[]>> {
    const out = new Map<number, MirrorPartition[]>();
    for (const p of parts) {
      const info = await this.cluster.topic(p.topic);
      const leader = info.partitions[p.partition]?.leader ?? -1;
      if (leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${p.topic}-${p.partition}`);
      out.set(leader, [...(out.get(leader) ?? []), p]);
    }
    return out;
  }

  /** One Fetch per source leader, all at once; positions advance past what was returned. */
  async fetch(parts: MirrorPartition[]): Promise<FetchRound> {
    const round: FetchRound = { batches: [], ends: new Map(), stale: [] };
    const ready = parts.filter((p) => p.position >= 0);
    if (ready.length === 0) return round;
    const byLeader = await this.byLeader(ready);
    await Promise.all([...byLeader].map(([leader, ps]) => this.fetchFrom(leader, ps, round)));
    return round;
  }

  private async fetchFrom(leader: number, parts: MirrorPartition[], round: FetchRound): Promise<void> {
    const conn = await this.cluster.connection(leader);
    const topics = new Map<string, MirrorPartition[]>();
    for (const p of parts) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p]);
    const res = await conn.request<FetchResponse>(
      ApiKey.Fetch,
      {
        replicaId: -1,
        maxWaitMs: this.opts.maxWaitMs,
        minBytes: this.opts.minBytes,
        maxBytes: this.opts.maxBytes,
        isolationLevel: READ_COMMITTED,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...topics].map(([topic, ps]) => ({
          topic,
          topicId: '0'.repeat(32),
          partitions: ps.map((p) => ({
            partition: p.partition,
            currentLeaderEpoch: -1,
            fetchOffset: p.position,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: this.opts.partitionMaxBytes,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      // v13 names topics by id only; names keep this simple against every broker.
      Math.min(12, conn.version(ApiKey.Fetch)),
    );
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, 'fetch');
    for (const t of res.responses) {
      const list = topics.get(t.topic) ?? [];
      for (const r of t.partitions) {
        const p = list.find((x) => x.partition === r.partitionIndex);
        if (p === undefined) continue;
        if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          p.position = -1;
          continue;
        }
        if (METADATA_ERRORS.has(r.errorCode)) {
          round.stale.push(p);
          continue;
        }
        if (r.errorCode !== ErrorCode.NONE)
          throw new KafkaError(r.errorCode, `fetch ${t.topic}-${r.partitionIndex}`);
        p.highWatermark = r.highWatermark;
        if (r.records !== null && r.records.length > 0) {
          await this.take(p, r.records, r.abortedTransactions ?? [], round);
        }
        round.ends.set(p, p.position);
      }
    }
  }

  private async take(
    p: MirrorPartition,
    records: Buffer,
    aborted: { producerId: number; firstOffset: number }[],
    round: FetchRound,
  ): Promise<void> {
    const pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
    const abortedProducers = new Set<number>();
    let next = 0;
    for (const { pos, header } of iterateBatches(records)) {
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      if (lastOffset < p.position) continue;
      while (next < pending.length && (pending[next]?.firstOffset ?? 0) <= lastOffset) {
        abortedProducers.add(pending[next]?.producerId ?? -1);
        next++;
      }
      const end = pos + LOG_OVERHEAD + header.batchLength;
      if (isControl(header.attributes)) {
        abortedProducers.delete(header.producerId);
      } else if (isTransactional(header.attributes) && abortedProducers.has(header.producerId)) {
        // an aborted transaction's records: not copied
      } else if (header.recordCount > 0) {
        if (!batchCrcValid(records, pos, header.batchLength)) {
          throw new KafkaError(
            ErrorCode.CORRUPT_MESSAGE,
            `${p.topic}-${p.partition}: batch at offset ${header.baseOffset} fails its CRC`,
          );
        }
        const batch = records.subarray(pos, end);
        const copy = needsRebuild(header, p.position) ? await rebuild(batch, p.position) : batch;
        if (copy !== null) round.batches.push({ part: p, batch: copy, records: recordsIn(copy) });
      }
      p.position = lastOffset + 1;
    }
  }
}

function needsRebuild(h: BatchHeader, position: number): boolean {
  return (
    h.baseOffset < position ||
    h.recordCount !== h.lastOffsetDelta + 1 ||
    (h.attributes & TIMESTAMP_TYPE_MASK) !== 0
  );
}

function recordsIn(batch: Buffer): number {
  return batch.readInt32BE(57);
}

/** The records of `batch` at or after `from` in a new batch (dense offsets, CreateTime), or null if none. */
async function rebuild(batch: Buffer, from: number): Promise<Buffer | null> {
  const { header, records } = await decodeBatch(batch);
  const logAppend = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const kept = records.filter((r) => header.baseOffset + r.offsetDelta >= from);
  if (kept.length === 0) return null;
  return buildRecordBatch(
    {
      records: kept.map((r) => ({
        key: r.key,
        value: r.value,
        headers: r.headers,
        timestamp: logAppend ? header.maxTimestamp : header.baseTimestamp + r.timestampDelta,
      })),
    },
    header.attributes & COMPRESSION_CODEC_MASK,
  );
}
