// Fetch (key 1), v4-17. Serves whole record batches straight from the segment files: no decoding,
// the bytes go into the response by reference (Writer.external). Long poll: when fewer than
// min_bytes are available the request parks on its partitions and is woken by the next append
// (never by polling), or answered at max_wait_ms. max_bytes and partition_max_bytes are honoured,
// except that the first partition with data returns at least one whole batch (KIP-74).
// Fetch sessions (KIP-227) are not kept: every response carries session id 0, which tells the
// client to send full fetch requests. v13+ names topics by id.
// Transactions: every partition reports its last stable offset; consumers with isolation_level=1
// (read_committed) read up to it and get the aborted transactions overlapping the batches returned;
// followers (replica id >= 0) read to the log end.

import type { Partition } from '../../cluster/partition.js';
import * as limits from '../../limits.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { FetchRequest } from '../../protocol/generated/fetch-request.js';
import type { FetchResponseInput } from '../../protocol/generated/fetch-response.js';
import { readInt64 } from '../../protocol/records.js';
import { fetchDenials } from '../../security/authorizer.js';
import { releaseReadBuffers } from '../../storage/read-buffers.js';
import type { Broker } from '../broker.js';
import { defineHandler, type RequestContext } from '../handler.js';

type TopicOut = NonNullable<FetchResponseInput['responses']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

const EMPTY = Buffer.alloc(0);
const READ_COMMITTED = 1;

/** Leader-epoch fencing shared by Fetch, ListOffsets and OffsetForLeaderEpoch. */
export function checkLeaderEpoch(partition: Partition, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch < 0 || currentLeaderEpoch === partition.leaderEpoch) return ErrorCode.NONE;
  return currentLeaderEpoch > partition.leaderEpoch
    ? ErrorCode.UNKNOWN_LEADER_EPOCH
    : ErrorCode.FENCED_LEADER_EPOCH;
}

interface ReadPass {
  responses: TopicOut[];
  bytes: number;
  partitions: Partition[];
  anyError: boolean;
  /** Record data per topic name, for the bytes/records-out metrics of the pass that is answered. */
  sent: { topic: string; records: Buffer }[];
  /** Read buffers the response refers to: recycled once it is written (releaseReadBuffers). */
  reads: Buffer[];
}

/** Offset after the last whole batch of records (header fields only), -1 when there is none. */
function nextOffsetOf(records: Buffer): number {
  let next = -1;
  let pos = 0;
  while (pos + 61 <= records.length) {
    next = readInt64(records, pos) + records.readInt32BE(pos + 23) + 1;
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return next;
}

/** Records in whole batches (header fields only: batchLength at +8, recordCount at +57). */
function countRecords(records: Buffer): number {
  let n = 0;
  let pos = 0;
  while (pos + 61 <= records.length) {
    n += records.readInt32BE(pos + 57);
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return n;
}

function recordTraffic(broker: Broker, pass: ReadPass): void {
  if (!broker.metrics.enabled) return;
  for (const s of pass.sent) broker.metrics.topicOut(s.topic, s.records.length, countRecords(s.records));
}

/** Who is fetching: a consumer (-1), or a follower replica with its broker id (v15+: in replica_state). */
function replicaIdOf(req: FetchRequest, version: number): number {
  return version >= 15 ? req.replicaState.replicaId : req.replicaId;
}

function unknownTopic(errorCode: number): boolean {
  return errorCode === ErrorCode.UNKNOWN_TOPIC_ID || errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
}

function readOnce(
  broker: Broker,
  req: FetchRequest,
  version: number,
  first: boolean,
  denied: ReadonlySet<string> = new Set(),
): ReadPass {
  let budget = Math.min(req.maxBytes, limits.fetchResponseBytesMax);
  let bytes = 0;
  let anyError = false;
  const partitions: Partition[] = [];
  const responses: TopicOut[] = [];
  const sent: ReadPass['sent'] = [];
  const reads: Buffer[] = [];
  const replicaId = replicaIdOf(req, version);
  const follower = replicaId >= 0;
  const now = Date.now();
  for (const ft of req.topics) {
    const name = version >= 13 ? (broker.metadataCache.topicById(ft.topicId)?.name ?? null) : ft.topic;
    const outs: PartitionOut[] = [];
    for (const fp of ft.partitions) {
      const partition =
        name === null
          ? ErrorCode.UNKNOWN_TOPIC_ID
          : denied.has(name)
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : broker.replicas.leaderFor(name, fp.partition);
      if (typeof partition === 'number') {
        // A topic this broker does not know (by name or id) is answered with its error but does not cut the long
        // poll short, as in Kafka (those partitions never reach its delayed fetch): a client that keeps asking for
        // a deleted topic asks once per max_wait_ms, and the partitions that are fine still wait for data.
        if (!unknownTopic(partition)) anyError = true;
        outs.push({
          partitionIndex: fp.partition,
          errorCode: partition,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          records: EMPTY,
        });
        continue;
      }
      partitions.push(partition);
      const log = partition.log;
      const epochError = checkLeaderEpoch(partition, fp.currentLeaderEpoch);
      if (epochError === ErrorCode.NONE && follower && first) {
        // The follower's fetch offset says how far it has the log: it may join the ISR, and the high
        // watermark may move (waking consumers and acks=all producers).
        const err = partition.updateFollowerFetchState(replicaId, fp.fetchOffset, fp.logStartOffset, now);
        if (err !== ErrorCode.NONE) {
          anyError = true;
          outs.push({
            partitionIndex: fp.partition,
            errorCode: err,
            highWatermark: -1,
            lastStableOffset: -1,
            logStartOffset: -1,
            records: EMPTY,
          });
          continue;
        }
      }
      const readCommitted = !follower && req.isolationLevel === READ_COMMITTED;
      const lastStableOffset = log.lastStableOffset;
      const base = {
        partitionIndex: fp.partition,
        highWatermark: log.highWatermark,
        lastStableOffset,
        logStartOffset: log.logStartOffset,
        abortedTransactions: (readCommitted ? [] : null) as
          | { producerId: number; firstOffset: number }[]
          | null,
        preferredReadReplica: -1,
      };
      if (epochError !== ErrorCode.NONE) {
        anyError = true;
        outs.push({ ...base, errorCode: epochError, records: EMPTY });
        continue;
      }
      const max = Math.min(fp.partitionMaxBytes, budget);
      // Followers copy the whole log; consumers see only what the ISR has (the high watermark), and
      // read_committed consumers only what no open transaction holds (the last stable offset).
      const limit = follower ? log.logEndOffset : readCommitted ? lastStableOffset : log.highWatermark;
      const res = log.read(fp.fetchOffset, Math.max(max, 0), limit, bytes === 0);
      if (res.errorCode !== ErrorCode.NONE) {
        anyError = true;
        outs.push({ ...base, errorCode: res.errorCode, records: EMPTY });
        continue;
      }
      let records: Buffer = EMPTY;
      if (res.chunks.length === 1) {
        records = res.chunks[0] as Buffer;
        reads.push(records);
      } else if (res.chunks.length > 1) {
        // Only when the read crossed a segment boundary: the copy frees the read buffers at once.
        records = Buffer.concat(res.chunks, res.bytes);
        releaseReadBuffers(res.chunks);
      }
      bytes += res.bytes;
      budget -= res.bytes;
      if (records.length > 0 && !follower) sent.push({ topic: partition.topic, records });
      if (readCommitted && records.length > 0) {
        const aborted = log.abortedTransactions(fp.fetchOffset, nextOffsetOf(records));
        if (aborted === null) {
          anyError = true;
          outs.push({ ...base, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, records: EMPTY });
          continue;
        }
        base.abortedTransactions = aborted;
      }
      outs.push({ ...base, errorCode: ErrorCode.NONE, records });
    }
    responses.push({ topic: ft.topic, topicId: ft.topicId, partitions: outs });
  }
  return { responses, bytes, partitions, anyError, sent, reads };
}

/**
 * Resolves when any of the partitions has new data for this fetcher (log end for followers, high watermark
 * for consumers; both fire on a leadership change), the deadline passes, or the client goes away.
 */
function waitForData(
  partitions: Partition[],
  follower: boolean,
  ms: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      for (const p of partitions) (follower ? p.appendWaiters : p.hwWaiters).remove(done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    timer = setTimeout(done, ms);
    for (const p of partitions) (follower ? p.appendWaiters : p.hwWaiters).add(done);
    signal.addEventListener('abort', done);
  });
}

export const fetch = defineHandler<FetchRequest, FetchResponseInput>({
  apiKey: ApiKey.Fetch,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 17,
  async handle(ctx: RequestContext, req) {
    const broker = ctx.broker;
    if (req.sessionId !== 0) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
      };
    }
    const deadline = Date.now() + Math.min(Math.max(req.maxWaitMs, 0), limits.fetchWaitMsMax);
    const follower = replicaIdOf(req, ctx.apiVersion) >= 0;
    const denied = fetchDenials(
      ctx,
      follower,
      req.topics.map((t) =>
        ctx.apiVersion >= 13 ? (broker.metadataCache.topicById(t.topicId)?.name ?? '') : t.topic,
      ),
    );
    let pass = readOnce(broker, req, ctx.apiVersion, true, denied);
    const parkedAt = performance.now();
    let parked = false;
    while (pass.bytes < req.minBytes && !pass.anyError && !ctx.signal.aborted) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      parked = true;
      await waitForData(pass.partitions, follower, left, ctx.signal);
      releaseReadBuffers(pass.reads);
      pass = readOnce(broker, req, ctx.apiVersion, false, denied);
    }
    if (parked) broker.metrics.longPollWait((performance.now() - parkedAt) / 1000);
    recordTraffic(broker, pass);
    if (pass.reads.length > 0) {
      const reads = pass.reads;
      ctx.afterResponseWritten(() => releaseReadBuffers(reads));
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: pass.responses };
  },
});
