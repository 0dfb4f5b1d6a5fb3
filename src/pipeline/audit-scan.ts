// The audit's read of one topic on one cluster: streams Fetch responses (read_committed) over an offset range per
// partition and counts records per time window, keeping nothing but the counts (WindowCounts: window -> count).
//
// Counting, batch by batch (docs/pipeline.md, "samsa audit"):
// - A batch wholly inside the range whose first timestamp (baseTimestamp) and maxTimestamp fall in one window is
//   counted by its header's recordCount, without reading its records; compressed batches are not decompressed.
//   A LogAppendTime batch gives every record its maxTimestamp, so it always qualifies.
// - Any other batch (straddling two windows, cut by the range, by --from/--to or by the group's committed offset)
//   is walked record by record with RecordCursor, which reads each record's offset and timestamp deltas and skips
//   over keys, values and headers without copying them; a compressed one is decompressed first.
// - Control batches (transaction markers) are not counted. Aborted transactional records are not counted: the fetch
//   is read_committed (isolation_level 1, so it stops at the last stable offset) and, as Kafka's consumer does,
//   the response's aborted transactions (producer id, first offset) mark the batches of that producer as aborted
//   until its abort marker.
//
// The fetch loop keeps one request in flight per partition leader, with the partitions of that leader still short
// of their end; a partition is done when its position reaches its end offset (fixed when the audit starts).

import { AbortedTransactions } from '../client/aborted-transactions.js';
import { type Cluster, KafkaError } from '../client/cluster.js';
import {
  auditEmptyFetchesMax,
  auditFetchBytesMax,
  auditFetchWaitMs,
  auditPartitionFetchBytesMax,
} from '../limits.js';
import { batchBody } from '../protocol/batch-compression.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { FetchResponse, FetchResponsePartitionData } from '../protocol/generated/fetch-response.js';
import { RecordCursor } from '../protocol/record-scan.js';
import {
  type BatchHeader,
  COMPRESSION_CODEC_MASK,
  iterateBatches,
  LOG_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
} from '../protocol/records.js';
import { WindowCounts, windowStart } from './audit-window.js';

const READ_COMMITTED = 1;

/** Records of one partition to count: offsets [start, end). */
export interface ScanRange {
  partition: number;
  start: number;
  end: number;
}

export interface ScanOptions {
  topic: string;
  ranges: ScanRange[];
  windowMs: number;
  /** Count only records with a timestamp in [fromMs, toMs). */
  fromMs?: number;
  toMs?: number;
  /** partition -> committed offset of a group: records below it are also counted as consumed. */
  consumedBelow?: Map<number, number>;
  /** Bytes per Fetch and per partition in it (limits.ts by default; tests make them small to read in many fetches). */
  fetchBytes?: number;
  partitionFetchBytes?: number;
}

export interface ScanResult {
  records: WindowCounts;
  /** null without consumedBelow. */
  consumed: WindowCounts | null;
  /** Batches counted by their header alone / walked record by record / decompressed for that. */
  batchesByHeader: number;
  batchesWalked: number;
  batchesDecompressed: number;
  bytes: number;
}

interface PartitionScan {
  partition: number;
  position: number;
  end: number;
  committed: number;
  aborted: AbortedTransactions;
  emptyFetches: number;
}

/** Counts the records of `opts.ranges` of a topic per window. */
export async function scanTopic(cluster: Cluster, opts: ScanOptions): Promise<ScanResult> {
  const result: ScanResult = {
    records: new WindowCounts(opts.windowMs),
    consumed: opts.consumedBelow === undefined ? null : new WindowCounts(opts.windowMs),
    batchesByHeader: 0,
    batchesWalked: 0,
    batchesDecompressed: 0,
    bytes: 0,
  };
  let active: PartitionScan[] = opts.ranges
    .filter((r) => r.start < r.end)
    .map((r) => ({
      partition: r.partition,
      position: r.start,
      end: r.end,
      committed: opts.consumedBelow?.get(r.partition) ?? -1,
      aborted: new AbortedTransactions(),
      emptyFetches: 0,
    }));
  const counter = new BatchCounter(opts, result);
  while (active.length > 0) {
    const info = await cluster.topic(opts.topic);
    const byLeader = new Map<number, PartitionScan[]>();
    for (const p of active) {
      const leader = info.partitions[p.partition]?.leader ?? -1;
      if (leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${opts.topic}-${p.partition}`);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    // Each leader is read until its partitions are done or one needs fresh metadata (a leader moved).
    const moved = await Promise.all(
      [...byLeader].map(([leader, parts]) => fetchLoop(cluster, info.topicId, leader, parts, counter)),
    );
    active = active.filter((p) => p.position < p.end);
    if (moved.some((m) => m)) await cluster.topic(opts.topic, true);
  }
  return result;
}

/**
 * Fetches from one leader until its partitions are done; true when metadata must be refreshed first. The next
 * request goes out before an answer is counted, at the positions the answer's batch headers lead to, so the broker
 * reads while the client counts; when counting ends elsewhere (an error, no progress) that answer is dropped.
 */
async function fetchLoop(
  cluster: Cluster,
  topicId: string,
  leader: number,
  parts: PartitionScan[],
  counter: BatchCounter,
): Promise<boolean> {
  const conn = await cluster.connection(leader);
  const topic = counter.opts.topic;
  const fetch = (at: Map<number, number>): Promise<FetchResponse> => {
    const req = conn.request<FetchResponse>(ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs: auditFetchWaitMs,
      minBytes: 1,
      maxBytes: counter.opts.fetchBytes ?? auditFetchBytesMax,
      isolationLevel: READ_COMMITTED,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          topicId,
          partitions: [...at].map(([partition, fetchOffset]) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: counter.opts.partitionFetchBytes ?? auditPartitionFetchBytesMax,
          })),
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    req.catch(() => {}); // an answer dropped unread must not become an unhandled rejection
    return req;
  };
  const positions = () =>
    new Map(parts.filter((p) => p.position < p.end).map((p) => [p.partition, p.position]));
  let asked = positions();
  let next: Promise<FetchResponse> | null = asked.size > 0 ? fetch(asked) : null;
  while (next !== null) {
    const res: FetchResponse = await next;
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, `fetch ${topic}`);
    const guess = predictPositions(res, asked, parts);
    next = guess !== null && guess.size > 0 ? fetch(guess) : null;
    if (await countAnswer(res, asked, parts, counter)) return true;
    const now = positions();
    if (guess === null || !sameEntries(now, guess)) next = null;
    if (next === null) {
      if (now.size === 0) return false;
      next = fetch(now);
      asked = now;
    } else {
      asked = guess as Map<number, number>;
    }
  }
  return false;
}

/** Counts one Fetch answer; true when a partition's leader moved. */
async function countAnswer(
  res: FetchResponse,
  asked: Map<number, number>,
  parts: PartitionScan[],
  counter: BatchCounter,
): Promise<boolean> {
  const topic = counter.opts.topic;
  let refresh = false;
  for (const t of res.responses) {
    for (const data of t.partitions) {
      const p = parts.find((x) => x.partition === data.partitionIndex);
      if (p === undefined || asked.get(p.partition) !== p.position) continue;
      if (
        data.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
        data.errorCode === ErrorCode.FENCED_LEADER_EPOCH
      ) {
        refresh = true;
        continue;
      }
      if (data.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        // Retention (or DeleteRecords) removed records below the position: they are gone, read on from the
        // log start; a position past the end means there is nothing left to read.
        if (data.logStartOffset > p.position) p.position = data.logStartOffset;
        else p.position = p.end;
        continue;
      }
      if (data.errorCode !== ErrorCode.NONE)
        throw new KafkaError(data.errorCode, `fetch ${topic}-${data.partitionIndex} at offset ${p.position}`);
      await counter.partition(p, data);
    }
  }
  return refresh;
}

/**
 * The positions counting this answer will leave the partitions at (those still short of their end), from batch
 * headers alone; null when any partition has an error or made no progress (the next request waits for counting).
 */
function predictPositions(
  res: FetchResponse,
  asked: Map<number, number>,
  parts: PartitionScan[],
): Map<number, number> | null {
  const out = new Map<number, number>();
  let answered = 0;
  for (const t of res.responses) {
    for (const data of t.partitions) {
      const p = parts.find((x) => x.partition === data.partitionIndex);
      const from = asked.get(data.partitionIndex);
      if (p === undefined || from === undefined) continue;
      if (data.errorCode !== ErrorCode.NONE) return null;
      answered++;
      let pos = from;
      for (const { header } of iterateBatches(data.records ?? Buffer.alloc(0))) {
        const last = header.baseOffset + header.lastOffsetDelta;
        if (last < pos) continue;
        if (header.baseOffset >= p.end) {
          pos = p.end;
          break;
        }
        pos = last + 1;
      }
      if (pos === from) return null;
      if (pos < p.end) out.set(p.partition, pos);
    }
  }
  return answered === asked.size ? out : null;
}

function sameEntries(a: Map<number, number>, b: Map<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

class BatchCounter {
  constructor(
    readonly opts: ScanOptions,
    private readonly result: ScanResult,
  ) {}

  /** Counts the batches of one partition's fetch answer and moves the partition's position past them. */
  async partition(p: PartitionScan, data: FetchResponsePartitionData): Promise<void> {
    const buf = data.records ?? Buffer.alloc(0);
    p.aborted.note(data.abortedTransactions);
    const before = p.position;
    for (const { pos, header } of iterateBatches(buf)) {
      const last = header.baseOffset + header.lastOffsetDelta;
      if (last < p.position) continue;
      if (header.baseOffset >= p.end) {
        p.position = p.end;
        break;
      }
      this.result.bytes += LOG_OVERHEAD + header.batchLength;
      if (p.aborted.skip(buf, pos, header)) {
        p.position = last + 1;
        continue;
      }
      await this.count(p, buf.subarray(pos, pos + LOG_OVERHEAD + header.batchLength), header, last);
      p.position = last + 1;
    }
    if (p.position > before) {
      p.emptyFetches = 0;
      return;
    }
    // Nothing readable below the end: the last stable offset may lag (an open transaction), or the range ends in
    // a gap (compaction removed the records before the end offset).
    const readable = data.lastStableOffset >= 0 ? data.lastStableOffset : data.highWatermark;
    if (p.position >= data.highWatermark) {
      p.position = p.end;
      return;
    }
    if (++p.emptyFetches >= auditEmptyFetchesMax) {
      throw new KafkaError(
        ErrorCode.UNKNOWN_SERVER_ERROR,
        `${this.opts.topic}-${p.partition}: no records readable at offset ${p.position} (last stable offset ${readable}, end ${p.end})`,
      );
    }
  }

  private async count(p: PartitionScan, batch: Buffer, header: BatchHeader, last: number): Promise<void> {
    const { fromMs, toMs, windowMs } = this.opts;
    const logAppend = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
    const first = logAppend ? header.maxTimestamp : header.baseTimestamp;
    const max = header.maxTimestamp;
    const whole =
      header.baseOffset >= p.position &&
      last < p.end &&
      (last < p.committed || header.baseOffset >= p.committed) &&
      (fromMs === undefined || first >= fromMs) &&
      (toMs === undefined || max < toMs) &&
      windowStart(first, windowMs) === windowStart(max, windowMs);
    if (whole) {
      this.result.batchesByHeader++;
      this.result.records.add(first, header.recordCount);
      if (last < p.committed) this.result.consumed?.add(first, header.recordCount);
      return;
    }
    this.result.batchesWalked++;
    if ((header.attributes & COMPRESSION_CODEC_MASK) !== 0) this.result.batchesDecompressed++;
    const body = await batchBody(batch);
    const cursor = new RecordCursor(body, 0, body.length, header.recordCount);
    while (cursor.next()) {
      const offset = header.baseOffset + cursor.offsetDelta;
      if (offset < p.position || offset >= p.end) continue;
      const ts = logAppend ? max : header.baseTimestamp + cursor.timestampDelta;
      if ((fromMs !== undefined && ts < fromMs) || (toMs !== undefined && ts >= toMs)) continue;
      this.result.records.add(ts);
      if (offset < p.committed) this.result.consumed?.add(ts);
    }
  }
}
